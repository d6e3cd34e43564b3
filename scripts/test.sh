#!/usr/bin/env bash
# One command: install everything (test tools included), then lint, type-check and run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh --dev
. .venv/bin/activate
echo "[test] ruff" >&2
ruff check src tests benchmarks scripts
ruff format --check src tests benchmarks scripts
echo "[test] mypy --strict" >&2
mypy src
echo "[test] pytest" >&2
pytest -q -ra "$@"
