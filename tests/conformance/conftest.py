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
