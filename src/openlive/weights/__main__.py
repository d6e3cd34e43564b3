"""``python -m openlive.weights``: assemble and verify the embedded weights now."""

from __future__ import annotations

import sys

from ..errors import WeightsError
from .assemble import EMBEDDED_LLM, SILERO_VAD, WHISPER_BASE, ensure_weights


def main() -> int:
    for spec in (EMBEDDED_LLM, WHISPER_BASE, SILERO_VAD):
        try:
            path = ensure_weights(spec)
        except WeightsError as exc:
            print(f"openlive: {exc}", file=sys.stderr)
            return 1
        print(f"openlive: {spec.name} ready at {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
