"""Images for live sessions: one image as a :class:`~openlive.types.Blob`, and frames streamed
at a steady rate from a folder, a video file or the screen.

:func:`to_image_blob` takes what an application has at hand: encoded bytes (JPEG, PNG or WebP,
the formats the Live API accepts; the MIME type is read from the file signature, not guessed
from a name), a path to such a file, a Pillow image (encoded as JPEG, quality 85), or a blob
as a mapping or :class:`~openlive.types.Blob`.

:func:`frames` yields blobs ``fps`` times a second, for
:meth:`AsyncSession.stream_frames <openlive.client.AsyncSession.stream_frames>` or a loop of the
application's own. Frame *k* is due at ``t0 + k / fps`` on the monotonic clock, so the rate never
drifts however long the stream; a frame that is late goes out at once and the next one is due on
the same grid. Frames whose longest side exceeds ``max_side`` are scaled down and sent as JPEG;
smaller ones are sent as they are. Decoding, scaling and capturing run on a worker thread, never
on the event loop.

Nothing here needs more than the plain install until it is used: Pillow is imported only to
scale, encode or capture (``pip install pillow``), and OpenCV only to read video files
(``pip install opencv-python-headless``; the ``embedded`` extra brings both).
"""

from __future__ import annotations

import asyncio
import functools
import io
import os
import re
import subprocess
import threading
import time
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    Callable,
    Iterable,
    Iterator,
    Mapping,
)
from pathlib import Path
from typing import Any

from ..types import Blob

__all__ = [
    "IMAGE_SUFFIXES",
    "JPEG_QUALITY",
    "SCREEN",
    "NoScreenError",
    "frames",
    "grab_screen",
    "sniff_image_type",
    "to_image_blob",
]

JPEG_QUALITY = 85
"""Quality of the JPEG frames this module encodes (Pillow images, scaled frames, screens)."""

IMAGE_SUFFIXES = (".jpeg", ".jpg", ".png", ".webp")
"""The files of a folder that :func:`frames` sends (compared without case)."""

SCREEN = "screen"
"""The :func:`frames` source that captures the screen."""

_PILLOW_HINT = "pip install pillow (the embedded extra brings it)"
_OPENCV_HINT = "pip install opencv-python-headless (the embedded extra brings it)"


class NoScreenError(RuntimeError):
    """The screen cannot be captured here (no display, or no way to grab it)."""


# ---- one image ----


def sniff_image_type(data: bytes) -> str | None:
    """The MIME type of encoded image bytes from their signature: ``image/jpeg``,
    ``image/png`` or ``image/webp``; None for anything else."""
    if data[:3] == b"\xff\xd8\xff":
        return "image/jpeg"
    if data[:4] == b"\x89PNG":
        return "image/png"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def _image_bytes_blob(data: bytes, where: str) -> Blob:
    mime = sniff_image_type(data)
    if mime is None:
        head = data[:12].hex(" ") or "nothing"
        raise ValueError(
            f"{where} is not a JPEG, PNG or WebP image (it starts with {head}); "
            "the Live API takes only those formats"
        )
    return Blob(mime_type=mime, data=data)


def _is_pil_image(value: object) -> bool:
    """A Pillow image, recognized without importing Pillow."""
    return hasattr(value, "save") and hasattr(value, "mode") and hasattr(value, "size")


def _read_image_file(path: Path) -> Blob:
    if not path.is_file():
        if path.exists():
            raise IsADirectoryError(f"{path} is not an image file")
        raise FileNotFoundError(f"no such image file: {path}")
    return _image_bytes_blob(path.read_bytes(), str(path))


def _encode_jpeg(image: Any) -> Blob:
    """A Pillow image → JPEG (RGB; transparency flattened onto white)."""
    if image.mode in ("RGBA", "LA", "PA") or (
        image.mode == "P" and "transparency" in getattr(image, "info", {})
    ):
        from PIL import Image

        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        image = flat
    elif image.mode != "RGB":
        image = image.convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=JPEG_QUALITY)
    return Blob(mime_type="image/jpeg", data=buffer.getvalue())


def to_image_blob(value: Any) -> Blob:
    """One image as a :class:`~openlive.types.Blob` for ``realtimeInput.video`` or an
    ``inlineData`` part.

    * ``bytes``: a JPEG, PNG or WebP image, its MIME type read from the signature (anything
      else raises :class:`ValueError`);
    * ``str`` or :class:`~pathlib.Path`: an image file, read and sniffed the same way (a
      missing file raises :class:`FileNotFoundError`);
    * a Pillow image: encoded as JPEG, quality 85, in RGB;
    * a :class:`~openlive.types.Blob` or a mapping (``{"data": ..., "mime_type": ...}``, either
      casing): taken as it is; a missing MIME type is sniffed from the data.
    """
    if isinstance(value, Blob):
        blob = value
    elif isinstance(value, bytes | bytearray | memoryview):
        return _image_bytes_blob(bytes(value), "the image bytes")
    elif isinstance(value, str | os.PathLike):
        return _read_image_file(Path(value))
    elif isinstance(value, Mapping):
        blob = Blob.model_validate(dict(value))
    elif hasattr(value, "model_dump") and not _is_pil_image(value):
        blob = Blob.model_validate(value.model_dump(exclude_none=True))
    elif _is_pil_image(value):
        return _encode_jpeg(value)
    else:
        raise TypeError(
            "an image is bytes, a file path, a Pillow image, a Blob or a mapping, "
            f"not {type(value).__name__}"
        )
    if not blob.mime_type:
        sniffed = _image_bytes_blob(blob.data, "the blob's data")
        blob = blob.model_copy(update={"mime_type": sniffed.mime_type})
    return blob


# ---- scaling ----


def _check_max_side(max_side: int | None) -> None:
    if max_side is not None and max_side < 1:
        raise ValueError(f"max_side must be a positive number of pixels or None, not {max_side}")


def _scaled(image: Any, max_side: int | None) -> Any:
    """``image`` shrunk (aspect kept) so its longest side is at most ``max_side``."""
    if max_side is None or max(image.size) <= max_side:
        return image
    image = image.copy()
    image.thumbnail((max_side, max_side))
    return image


def _fit(blob: Blob, max_side: int | None) -> Blob:
    """An encoded image, re-encoded as a smaller JPEG when it is larger than ``max_side``
    (unchanged otherwise, so a sharp PNG of text stays sharp)."""
    if max_side is None:
        return blob
    try:
        from PIL import Image
    except ImportError:
        raise ImportError(
            f"scaling frames to max_side needs Pillow: {_PILLOW_HINT}; "
            "or pass max_side=None to send them as they are"
        ) from None
    try:
        with Image.open(io.BytesIO(blob.data)) as image:
            if max(image.size) <= max_side:
                return blob
            image.draft("RGB", (max_side, max_side))  # JPEG: decode at a reduced scale
            return _encode_jpeg(_scaled(image, max_side))
    except OSError as exc:
        raise ValueError(f"cannot decode the {blob.mime_type} frame to scale it: {exc}") from exc


def _prepare(value: Any, max_side: int | None) -> Blob:
    """Anything :func:`to_image_blob` takes → a blob no larger than ``max_side``."""
    if _is_pil_image(value) and not isinstance(value, Blob):
        return _encode_jpeg(_scaled(value, max_side))
    return _fit(to_image_blob(value), max_side)


# ---- the screen ----


def _grab() -> Any:
    try:
        from PIL import ImageGrab
    except ImportError:
        raise NoScreenError(
            f"no screen to capture here (Pillow is missing: {_PILLOW_HINT})"
        ) from None
    try:
        return ImageGrab.grab()
    except (OSError, subprocess.CalledProcessError) as exc:
        hint = ""
        if os.name == "posix" and not (
            os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
        ):
            hint = "; DISPLAY is not set: run inside a desktop session"
        raise NoScreenError(f"no screen to capture here ({exc}{hint})") from exc


def grab_screen(max_side: int | None = 1280) -> Blob:
    """One screenshot as a JPEG blob, scaled to ``max_side`` (blocking: from async code, call
    it with :func:`asyncio.to_thread`). Raises :class:`NoScreenError` where there is no screen
    to capture (no display, or Pillow missing)."""
    _check_max_side(max_side)
    return _encode_jpeg(_scaled(_grab(), max_side))


# ---- sources ----


def _natural_key(path: Path) -> list[Any]:
    """Names compared with their numbers as numbers (``frame2`` before ``frame10``)."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", path.name)]


def _folder_images(folder: Path) -> list[Path]:
    images = [
        p
        for p in folder.iterdir()
        if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in IMAGE_SUFFIXES
    ]
    if not images:
        raise ValueError(
            f"{folder} holds no image files ({', '.join(IMAGE_SUFFIXES)}) to send as frames"
        )
    return sorted(images, key=_natural_key)


class _Video:
    """A video file read with OpenCV, sampled at ``fps``: sample *k* is the frame nearest to
    ``k / fps`` seconds into the video (repeated when ``fps`` exceeds the video's rate)."""

    def __init__(self, path: Path, fps: float, max_side: int | None) -> None:
        try:
            import cv2
        except ImportError:
            raise ImportError(f"reading video files needs OpenCV: {_OPENCV_HINT}") from None
        self._cv2 = cv2
        self.path = path
        self.fps = fps
        self.max_side = max_side
        self._capture = cv2.VideoCapture(str(path))
        if not self._capture.isOpened():
            self._capture.release()
            raise ValueError(f"{path} is neither a JPEG, PNG or WebP image nor a readable video")
        rate = float(self._capture.get(cv2.CAP_PROP_FPS) or 0.0)
        self.video_fps = rate if rate > 0 and rate == rate else 0.0
        self._closed = False
        self._index = -1
        """The index of the last frame read."""
        self._sample = 0
        self._last: Blob | None = None
        self._lock = threading.Lock()
        """Reading and releasing never overlap (a stream cancelled mid-read closes it)."""

    def next(self) -> Blob | None:
        """The next sample, or None at the end of the video."""
        with self._lock:
            if self._closed:
                return None
            return self._next()

    def _next(self) -> Blob | None:
        cv2 = self._cv2
        if self.video_fps:
            target = round(self._sample * self.video_fps / self.fps)
        else:
            target = self._index + 1  # no rate known: every frame is a sample
        self._sample += 1
        if target <= self._index and self._last is not None:
            return self._last
        while self._index < target - 1:
            if not self._capture.grab():  # skipped frames are not decoded
                return None
            self._index += 1
        ok, frame = self._capture.read()
        if not ok:
            return None
        self._index += 1
        height, width = frame.shape[:2]
        if self.max_side is not None and max(height, width) > self.max_side:
            scale = self.max_side / max(height, width)
            size = (max(1, round(width * scale)), max(1, round(height * scale)))
            frame = cv2.resize(frame, size, interpolation=cv2.INTER_AREA)
        ok, encoded = cv2.imencode(".jpg", frame, [int(cv2.IMWRITE_JPEG_QUALITY), JPEG_QUALITY])
        if not ok:
            raise ValueError(f"cannot encode frame {self._index} of {self.path} as JPEG")
        self._last = Blob(mime_type="image/jpeg", data=encoded.tobytes())
        return self._last

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._capture.release()


async def _video_frames(path: Path, fps: float, max_side: int | None) -> AsyncGenerator[Blob, None]:
    video = await asyncio.to_thread(_Video, path, fps, max_side)
    try:
        while (blob := await asyncio.to_thread(video.next)) is not None:
            yield blob
    finally:
        video.close()


async def _file_frames(path: Path, fps: float, max_side: int | None) -> AsyncGenerator[Blob, None]:
    """An image file (one frame) or a video file."""
    if not path.exists():
        raise FileNotFoundError(f"no such file or folder: {path}")
    with path.open("rb") as fh:
        head = fh.read(16)
    if sniff_image_type(head) is not None:
        yield await asyncio.to_thread(_prepare, path, max_side)
        return
    async for blob in _video_frames(path, fps, max_side):
        yield blob


async def _iterable_frames(
    items: Iterable[Any], max_side: int | None
) -> AsyncGenerator[Blob, None]:
    iterator = iter(items)
    done = object()

    def step() -> Any:
        item = next(iterator, done)
        return done if item is done else _prepare(item, max_side)

    while (blob := await asyncio.to_thread(step)) is not done:
        yield blob


async def _async_iterable_frames(
    items: AsyncIterable[Any], max_side: int | None
) -> AsyncGenerator[Blob, None]:
    async for item in items:
        yield await asyncio.to_thread(_prepare, item, max_side)


def _is_single_image(source: Any) -> bool:
    return isinstance(source, bytes | bytearray | memoryview | Blob | Mapping) or _is_pil_image(
        source
    )


def _one_pass(
    source: Any, fps: float, max_side: int | None
) -> Callable[[], AsyncGenerator[Blob, None]]:
    """A function that starts one pass over ``source`` (checked now, so bad sources fail
    before the first frame is due)."""
    if _is_single_image(source):
        return lambda: _iterable_frames([source], max_side)
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        if path.is_dir():
            images = _folder_images(path)
            return lambda: _iterable_frames(images, max_side)
        if not path.exists():
            raise FileNotFoundError(f"no such file or folder: {path}")
        return lambda: _file_frames(path, fps, max_side)
    if isinstance(source, AsyncIterable):
        replayable = source
        return lambda: _async_iterable_frames(replayable, max_side)
    if isinstance(source, Iterable):
        items: Iterable[Any] = source
        if isinstance(source, Iterator):  # one-shot: kept as it goes, for loop=True
            items = _Replay(source)
        return lambda: _iterable_frames(items, max_side)
    raise TypeError(
        "frames() takes a folder, a video or image file, 'screen', or an iterable of images, "
        f"not {type(source).__name__}"
    )


class _Replay:
    """A one-shot iterator that can be gone through again (what it gave is kept)."""

    def __init__(self, source: Iterator[Any]) -> None:
        self._source = source
        self._seen: list[Any] = []
        self._exhausted = False

    def __iter__(self) -> Iterator[Any]:
        if self._exhausted:
            yield from self._seen
            return
        for item in self._source:
            self._seen.append(item)
            yield item
        self._exhausted = True


async def _screen_frames(max_side: int | None) -> AsyncGenerator[Blob, None]:
    while True:
        yield await asyncio.to_thread(grab_screen, max_side)


async def frames(
    source: Any,
    fps: float = 1.0,
    *,
    max_side: int | None = 1280,
    loop: bool = False,
) -> AsyncGenerator[Blob, None]:
    """Image blobs from ``source``, ``fps`` a second, for ``realtimeInput.video``.

    ``source`` is one of:

    * a folder: its ``.jpg``, ``.jpeg``, ``.png`` and ``.webp`` files, sorted by name (numbers
      compared as numbers: ``frame2`` before ``frame10``);
    * a video file (read with OpenCV): the frame nearest each ``k / fps`` seconds into it;
    * an image file: one frame;
    * ``"screen"``: a screenshot every ``1 / fps`` seconds, until the consumer stops (raises
      :class:`NoScreenError` where there is no screen); a capture that comes late drops the
      missed slots rather than sending a burst;
    * an iterable or async iterable of what :func:`to_image_blob` takes (bytes, paths, Pillow
      images, blobs).

    Frames larger than ``max_side`` pixels on their longest side are scaled down and encoded
    as JPEG (``None``: sent as they are). ``loop=True`` starts the source again when it ends.
    The first frame comes at once; frame *k* is due ``k / fps`` seconds later (monotonic
    clock, no drift).
    """
    if not fps > 0:
        raise ValueError(f"fps must be a positive number of frames a second, not {fps}")
    _check_max_side(max_side)
    interval = 1.0 / fps
    live = isinstance(source, str) and source == SCREEN
    start_pass: Callable[[], AsyncGenerator[Blob, None]]
    if live:
        start_pass = functools.partial(_screen_frames, max_side)
    else:
        start_pass = _one_pass(source, fps, max_side)
    t0: float | None = None
    k = 0
    while True:
        sent = 0
        producer = start_pass()
        try:
            while True:
                now = time.monotonic()
                if t0 is None:
                    t0 = now
                due = t0 + k * interval
                if live and now > due + interval:  # late: skip the missed slots
                    k = int((now - t0) / interval)
                    due = t0 + k * interval
                if due > now:
                    await asyncio.sleep(due - now)
                try:
                    blob = await anext(producer)
                except StopAsyncIteration:
                    break
                k += 1
                sent += 1
                yield blob
        finally:
            await producer.aclose()
        if not loop or sent == 0:
            return
