"""Out-of-range generation values are refused at setup (1007) with the wire name of the field."""

from __future__ import annotations

from typing import Any

import pytest

from openlive.errors import InvalidArgument
from openlive.session import review_setup
from openlive.types import Setup


def setup_with(**generation: Any) -> Setup:
    return Setup.model_validate(
        {"model": "models/echo", "generationConfig": {"responseModalities": ["TEXT"], **generation}}
    )


@pytest.mark.parametrize(
    ("field", "value", "needle"),
    [
        ("maxOutputTokens", -5, "generationConfig.maxOutputTokens must be positive, got -5"),
        ("maxOutputTokens", 0, "generationConfig.maxOutputTokens must be positive, got 0"),
        ("temperature", -0.1, "generationConfig.temperature must be in [0, 2], got -0.1"),
        ("temperature", 2.5, "generationConfig.temperature must be in [0, 2], got 2.5"),
        ("topP", -0.01, "generationConfig.topP must be in [0, 1], got -0.01"),
        ("topP", 1.5, "generationConfig.topP must be in [0, 1], got 1.5"),
        ("topK", 0, "generationConfig.topK must be at least 1, got 0"),
        ("topK", -3.0, "generationConfig.topK must be at least 1, got -3"),
        ("candidateCount", 2, "generationConfig.candidateCount must be 1"),
        ("candidateCount", 0, "generationConfig.candidateCount must be 1"),
        ("presencePenalty", 2.0, "generationConfig.presencePenalty must be in [-2, 2), got 2"),
        ("presencePenalty", -2.5, "generationConfig.presencePenalty must be in [-2, 2)"),
        ("frequencyPenalty", 3, "generationConfig.frequencyPenalty must be in [-2, 2), got 3"),
        ("frequencyPenalty", -9, "generationConfig.frequencyPenalty must be in [-2, 2)"),
        ("temperature", float("nan"), "generationConfig.temperature must be in [0, 2], got nan"),
        ("topP", float("inf"), "generationConfig.topP must be in [0, 1], got inf"),
    ],
)
def test_out_of_range_is_refused_with_the_wire_name(field: str, value: Any, needle: str) -> None:
    with pytest.raises(InvalidArgument) as info:
        review_setup(setup_with(**{field: value}))
    assert info.value.code == 1007
    assert needle in str(info.value)


@pytest.mark.parametrize(
    "generation",
    [
        {"temperature": 0.0, "topP": 0.0, "topK": 1, "maxOutputTokens": 1},
        {"temperature": 2.0, "topP": 1.0, "topK": 40.0, "maxOutputTokens": 8192},
        {"presencePenalty": -2.0, "frequencyPenalty": 1.99},
        {"candidateCount": 1, "seed": -7},
        {"seed": 0},
    ],
)
def test_values_on_the_edges_are_accepted(generation: dict[str, Any]) -> None:
    assert review_setup(setup_with(**generation)) == []
