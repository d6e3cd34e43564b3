#!/usr/bin/env bash
# One command: install everything (test tools included), then lint, type-check and run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh --dev
. .venv/bin/activate
echo "[test] ruff" >&2
ruff check src tests benchmarks scripts examples
ruff format --check src tests benchmarks scripts examples
echo "[test] mypy --strict" >&2
mypy src
# the examples: each folder on its own (the same file names in two folders)
for folder in examples/python-genai examples/openlive examples/assets; do mypy --strict "$folder"; done
echo "[test] pytest" >&2
pytest -q -ra "$@"
