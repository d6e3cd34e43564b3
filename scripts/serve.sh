#!/usr/bin/env bash
# One command: install everything, then serve the Live API on the embedded default models.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh
exec .venv/bin/openlive serve "$@"
