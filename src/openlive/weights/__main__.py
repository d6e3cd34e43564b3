"""``python -m openlive.weights``: assemble and verify the embedded weights now."""

from __future__ import annotations

import sys

from ..errors import WeightsError
from .assemble import EMBEDDED_LLM, ensure_weights


def main() -> int:
    try:
        path = ensure_weights(EMBEDDED_LLM)
    except WeightsError as exc:
        print(f"openlive: {exc}", file=sys.stderr)
        return 1
    print(f"openlive: {EMBEDDED_LLM.name} ready at {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
