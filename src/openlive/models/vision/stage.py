"""The embedded vision stage: one frame in, :class:`FrameFacts` out, as text for the LLM.

:meth:`VisionStage.describe` scales a decoded frame to the working resolution of its
``mediaResolution`` (:func:`~.frames.fit_frame`), reads its text (:class:`~.ocr.TextReader`)
and measures it (:func:`~.scene.scene_facts`). It is synchronous and CPU-bound: the session
runtime calls it on a scheduler thread, never on the event loop. An unchanged frame (a screen
shared at 1 fps mostly is) costs only a hash: facts are cached by a BLAKE2b digest of the
pixels halved in size (a few milliseconds at 1080p), a small LRU. Every result says what it cost
(:attr:`FrameFacts.seconds`, and the OCR and measuring parts of the first computation), and
the stage keeps running totals (:meth:`VisionStage.stats`).

:meth:`FrameFacts.as_context` is what the LLM reads, e.g.::

    [screen frame 1280x720, mostly text]
    Text on screen, top to bottom:
    1. File Edit View Terminal Help
    2. Error: File not found: report.pdf
    3. OK
    Text placement: line 1 top left; lines 2-3 middle.
    Text colours: line 1 black on light grey; line 2 red on white; line 3 black on light grey.
    Colours: background white; black 4% (top); red 2% (middle); blue under 1% (middle right).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from .frames import decode_frame, fit_frame, frame_tokens, normalize_resolution
from .ocr import TextLine, TextReader, ocr_available, scale_box
from .scene import ColourShare, LineColours, SceneFacts, TextBlock, scene_facts

if TYPE_CHECKING:
    from PIL import Image

__all__ = ["FrameFacts", "VisionStage"]

MAX_CONTEXT_LINES = 40
MAX_CONTEXT_CHARS = 2400


@dataclass(frozen=True)
class FrameFacts:
    """What the vision stage found in one frame.

    ``width``/``height`` are the frame's, ``work_width``/``work_height`` the size it was
    read at; text boxes are in frame pixels. ``seconds`` is what this call cost;
    ``ocr_seconds`` and ``scene_seconds`` are the parts of the computation (the first one,
    when ``cached``)."""

    width: int
    height: int
    work_width: int
    work_height: int
    resolution: str
    tokens: int
    lines: tuple[TextLine, ...]
    scene: SceneFacts
    seconds: float
    ocr_seconds: float
    scene_seconds: float
    cached: bool
    digest: str
    text_read: bool = True
    """False when no OCR package is installed: the text was not looked for."""

    @property
    def size(self) -> tuple[int, int]:
        return self.width, self.height

    @property
    def text(self) -> str:
        """All text read, one line per row, top to bottom."""
        return "\n".join(line.text for line in self.lines)

    @property
    def colours(self) -> tuple[ColourShare, ...]:
        return self.scene.colours

    @property
    def layout(self) -> tuple[TextBlock, ...]:
        return self.scene.blocks

    @property
    def kind(self) -> str:
        return self.scene.kind

    def as_context(
        self,
        label: str = "image",
        *,
        max_lines: int = MAX_CONTEXT_LINES,
        max_chars: int = MAX_CONTEXT_CHARS,
    ) -> str:
        """A compact plain-text description for the LLM: size and kind, the text read (in
        reading order, numbered, cut at ``max_lines`` lines or ``max_chars`` characters),
        where the text is, and the dominant colours by name."""
        out = [f"[{label} {self.width}x{self.height}, {self.scene.kind}]"]
        if self.lines:
            where = "on screen" if "screen" in label else "in the image"
            out.append(f"Text {where}, top to bottom:")
            used = 0
            shown = 0
            for number, line in enumerate(self.lines[:max_lines], 1):
                entry = f"{number}. {line.text}"
                if used + len(entry) > max_chars and shown:
                    break
                out.append(entry)
                used += len(entry) + 1
                shown += 1
            if shown < len(self.lines):
                out.append(f"(... {len(self.lines) - shown} more lines not shown)")
            out.append(_placement(self.layout, shown))
            if styles := _line_colours(self.scene.line_colours[:shown]):
                out.append(styles)
        else:
            out.append("No readable text." if self.text_read else "Text not read (no OCR).")
        out.append(_colours(self.scene))
        return "\n".join(out)


def _runs(label: str, values: list[str]) -> str:
    """Numbered lines with the same value together: ``"<label>: line 1 top left; lines 2-4
    middle."``"""
    runs: list[tuple[int, int, str]] = []
    for number, value in enumerate(values, 1):
        if runs and runs[-1][2] == value:
            runs[-1] = (runs[-1][0], number, value)
        else:
            runs.append((number, number, value))
    parts = [
        f"line {first} {value}" if first == last else f"lines {first}-{last} {value}"
        for first, last, value in runs
    ]
    return f"{label}: " + "; ".join(parts) + "."


def _placement(blocks: tuple[TextBlock, ...], shown: int) -> str:
    """Where the numbered lines are, by the block each belongs to, runs of lines in one place
    together: ``"Text placement: line 1 top left; lines 2-4 middle."``"""
    where = {index: block.position for block in blocks for index in block.indices}
    return _runs("Text placement", [where.get(index, "") for index in range(shown)])


def _line_colours(colours: tuple[LineColours, ...]) -> str:
    """The lines' colours, runs of lines alike together (``"Text colours: line 1 white on
    red; lines 2-4 black on light grey."``), when not all lines look alike (then the line
    says nothing the colours below do not)."""
    looks = [f"{c.text} on {c.background}" if c.text else f"on {c.background}" for c in colours]
    return _runs("Text colours", looks) if len(set(looks)) > 1 else ""


def _percent(share: float) -> str:
    return "under 1%" if share < 0.01 else f"{round(share * 100)}%"


def _colours(scene: SceneFacts) -> str:
    parts = []
    if scene.background:
        parts.append(f"background {scene.background}")
    for colour in scene.colours:
        if colour.name == scene.background:
            continue
        parts.append(f"{colour.name} {_percent(colour.share)} ({colour.position})")
    if not parts:
        return "Colours: mixed, none dominant."
    return "Colours: " + "; ".join(parts) + "."


def _fingerprint(image: Image.Image, level: str) -> str:
    """A BLAKE2b digest of the pixels, halved in each direction (a 2x2 box average: 4 ms for
    1920x1080, where hashing every pixel takes 16 ms and scaling to the working size 27 ms),
    with the size and resolution level."""
    sample = image.reduce(2) if min(image.size) >= 64 else image
    head = f"{level}:{image.width}x{image.height}:".encode()
    return hashlib.blake2b(head + sample.tobytes(), digest_size=16).hexdigest()


class VisionStage:
    """Frames to :class:`FrameFacts`, with OCR on ``threads`` onnxruntime threads.

    ``ocr=False`` measures colours and layout only (no text reading, no OCR package
    needed); ``ocr=None`` (the default) reads text when an OCR package is installed
    (:func:`~.ocr.ocr_available`), ``ocr=True`` insists (loading raises
    :class:`~openlive.errors.EngineError` without one).
    ``cache_size`` frames' facts are kept by pixel digest. Thread-safe; calls are
    serialised on the OCR engine."""

    def __init__(
        self,
        threads: int = 1,
        *,
        reader: TextReader | None = None,
        ocr: bool | None = None,
        cache_size: int = 16,
    ) -> None:
        if reader is None and (ocr or (ocr is None and ocr_available())):
            reader = TextReader(threads)
        self.reader = reader
        self.cache_size = max(0, cache_size)
        self._cache: OrderedDict[str, FrameFacts] = OrderedDict()
        self._lock = threading.Lock()
        self._frames = 0
        self._hits = 0
        self._seconds = 0.0
        self._worst = 0.0

    def load(self) -> None:
        """Load the OCR models now rather than on the first frame."""
        if self.reader is not None:
            self.reader.load()

    def describe_frame(
        self, data: object, mime_type: object, resolution: object = None, *, where: str = "image"
    ) -> FrameFacts:
        """Decode an encoded frame (:func:`~.frames.decode_frame`: raises
        :class:`~openlive.errors.InvalidArgument` for a bad one) and describe it; the
        decoding is counted in :attr:`FrameFacts.seconds`."""
        start = time.perf_counter()
        image = decode_frame(data, mime_type, where=where)
        decoded = time.perf_counter() - start
        facts = self.describe(image, resolution)
        return replace(facts, seconds=facts.seconds + decoded)

    def describe(self, image: Image.Image, resolution: object = None) -> FrameFacts:
        """Facts about a decoded RGB frame at ``mediaResolution`` ``resolution``."""
        start = time.perf_counter()
        level = normalize_resolution(resolution)
        rgb = image if image.mode == "RGB" else image.convert("RGB")
        digest = _fingerprint(rgb, level)
        with self._lock:
            known = self._cache.get(digest)
            if known is not None:
                self._cache.move_to_end(digest)
        if known is not None:
            seconds = time.perf_counter() - start
            self._count(seconds, hit=True)
            return replace(known, seconds=seconds, cached=True)

        work = fit_frame(rgb, level)
        factor = image.width / work.width
        read_start = time.perf_counter()
        lines = self.reader.read(work) if self.reader is not None else []
        ocr_seconds = time.perf_counter() - read_start
        scene_start = time.perf_counter()
        scene = scene_facts(work, lines)
        scene_seconds = time.perf_counter() - scene_start
        if factor != 1:
            lines = [line.scaled(factor) for line in lines]
            scene = replace(
                scene,
                width=image.width,
                height=image.height,
                blocks=tuple(replace(b, box=scale_box(b.box, factor)) for b in scene.blocks),
            )
        seconds = time.perf_counter() - start
        facts = FrameFacts(
            width=image.width,
            height=image.height,
            work_width=work.width,
            work_height=work.height,
            resolution=level,
            tokens=frame_tokens(level),
            lines=tuple(lines),
            scene=scene,
            seconds=seconds,
            ocr_seconds=ocr_seconds,
            scene_seconds=scene_seconds,
            cached=False,
            digest=digest,
            text_read=self.reader is not None,
        )
        with self._lock:
            if self.cache_size:
                self._cache[digest] = facts
                while len(self._cache) > self.cache_size:
                    self._cache.popitem(last=False)
        self._count(seconds, hit=False)
        return facts

    def _count(self, seconds: float, *, hit: bool) -> None:
        with self._lock:
            self._frames += 1
            self._hits += hit
            self._seconds += seconds
            self._worst = max(self._worst, seconds)

    def stats(self) -> dict[str, float]:
        """Frames described, cache hits, total and worst seconds, mean seconds a frame."""
        with self._lock:
            frames = self._frames
            return {
                "frames": frames,
                "cache_hits": self._hits,
                "seconds": round(self._seconds, 4),
                "worst_seconds": round(self._worst, 4),
                "mean_seconds": round(self._seconds / frames, 4) if frames else 0.0,
            }
