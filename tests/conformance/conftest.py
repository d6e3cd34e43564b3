from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ..helpers import ServerProcess, start_server


@pytest.fixture(scope="package")
def echo_serve(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """``openlive serve --model echo`` as a separate process (what users run)."""
    tmp: Path = tmp_path_factory.mktemp("echo-serve")
    server = start_server(tmp, "--model", "echo", env={"OPENLIVE_ECHO_DELAY": "0.05"})
    yield server
    server.stop()


@pytest.fixture(scope="package")
def question_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A spoken question (the project's own TTS), 16 kHz PCM16 WAV."""
    from openlive.audio import SPEECH_RATE, write_wav

    from ..speech import piper_lines

    path = tmp_path_factory.mktemp("speech") / "question.wav"
    write_wav(path, piper_lines({"q": "What is the capital of France?"})["q"], SPEECH_RATE)
    return path
