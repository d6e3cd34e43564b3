"""``python -m openlive.weights [NAME ...]``: assemble and verify embedded weights now.

With no names: the default embedded models (LLM, Whisper, VAD, end-of-turn model). With names:
those embedded LLMs of the catalog (``--list`` shows them and the speech models)."""

from __future__ import annotations

import sys

from ..errors import ConfigError, WeightsError
from .assemble import SILERO_VAD, SMART_TURN, WHISPER_BASE, WeightSpec, ensure_weights

SPEECH_MODELS: tuple[tuple[WeightSpec, str], ...] = (
    (WHISPER_BASE, "speech recognition (Whisper base, multilingual)"),
    (SILERO_VAD, "voice activity detection (Silero VAD 6.2.3, from the silero-vad wheel)"),
    (SMART_TURN, "end of turn (smart-turn v3.2, from the pipecat-ai 1.14.0 wheel)"),
)
"""Fetched with the default LLM when no name is given."""


def main(argv: list[str] | None = None) -> int:
    from ..models.llm.catalog import DEFAULT_LLM, LLM_CATALOG, llm_choice

    args = sys.argv[1:] if argv is None else argv
    if args == ["--list"]:
        for name, choice in LLM_CATALOG.items():
            mark = " (default)" if name == DEFAULT_LLM else ""
            print(f"{name}{mark}: {choice.summary}")
        print("speech models (always fetched):")
        for spec, summary in SPEECH_MODELS:
            print(f"  {spec.name}: {summary}")
        return 0
    specs: list[WeightSpec]
    try:
        specs = (
            [llm_choice(name).weights for name in args]
            if args
            else [llm_choice(DEFAULT_LLM).weights, *(spec for spec, _ in SPEECH_MODELS)]
        )
    except ConfigError as exc:
        print(f"openlive: {exc}", file=sys.stderr)
        return 2
    for spec in specs:
        try:
            path = ensure_weights(spec)
        except WeightsError as exc:
            print(f"openlive: {exc}", file=sys.stderr)
            return 1
        print(f"openlive: {spec.name} ready at {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
