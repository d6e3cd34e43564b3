"""Image frames: decode, check, scale to the working resolution, count tokens.

A frame arrives as bytes with a MIME type (``realtimeInput.video``, ``mediaChunks``,
``inlineData`` parts). :func:`decode_frame` trusts the bytes, not the label: the format is
sniffed from the file signature and Pillow is only allowed to open that one format (so a
mislabelled JPEG sent as ``image/png`` still decodes, while a GIF, a BMP or random bytes are
refused, and none of Pillow's other decoders is ever reached). Limits are checked before
pixels are decoded: :data:`MAX_FRAME_BYTES` of encoded data and :data:`MAX_FRAME_PIXELS`
pixels (a guard against decompression bombs). Every refusal is
:class:`~openlive.errors.InvalidArgument` (close 1007) with a short reason naming the field.

The decoded image is RGB: transparency is flattened onto white, palette, grey, 16-bit and
CMYK images are converted, the first frame of an animated PNG or WebP is used, and a JPEG's
EXIF orientation is applied (camera frames).

**Working resolution.** ``mediaResolution`` sets the longest side the vision stage works at
(:data:`WORK_MAX_SIDE`; frames are only ever scaled down). The sizes were chosen by reading
rendered UI text (DejaVu Sans, 11-15 px, the size of menus and terminal text) with the
embedded OCR: at 1280 px a 1280x720 screenshot is read at its own pixels with few slips,
and 12-14 px text on a 1920x1080 screen is still mostly right; at 1024 px 12 px text on a
1080p screen is badly misread; at 768 px only larger text (15 px and up on 720p) reads
well. ``HIGH`` reads a 1080p screen at its own pixels, at about twice the cost of
``MEDIUM``.

**Tokens.** :func:`frame_tokens` is the rule charged in ``usageMetadata`` per frame: 258
tokens at the default and at ``MEDIUM`` and ``HIGH``, 66 at ``LOW``. These are the hosted
API's documented per-frame video rates (258 tokens a frame at 1 fps at the default
resolution; the resolution enum's 256 and 64 tokens plus two framing tokens); ``HIGH``
re-frames within the same budget there, so it costs the same here.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

from ...errors import InvalidArgument

if TYPE_CHECKING:
    from PIL import Image

__all__ = [
    "DEFAULT_RESOLUTION",
    "MAX_FRAME_BYTES",
    "MAX_FRAME_PIXELS",
    "MEDIA_RESOLUTIONS",
    "SUPPORTED_MIME_TYPES",
    "TOKENS_PER_FRAME",
    "WORK_MAX_SIDE",
    "decode_frame",
    "fit_frame",
    "frame_tokens",
    "normalize_resolution",
    "sniff_format",
    "work_size",
]

MAX_FRAME_BYTES = 10 * 1024 * 1024
"""Largest encoded frame accepted (10 MiB; a 4K PNG screenshot is typically 2-8 MiB)."""

MAX_FRAME_PIXELS = 40_000_000
"""Largest decoded frame accepted, in pixels (an 8K frame, 7680x4320, is 33 million)."""

SUPPORTED_MIME_TYPES: dict[str, str] = {
    "image/jpeg": "JPEG",
    "image/jpg": "JPEG",  # a common misspelling, accepted
    "image/png": "PNG",
    "image/webp": "WEBP",
}
"""MIME type -> the Pillow format it names."""

DEFAULT_RESOLUTION = "MEDIA_RESOLUTION_MEDIUM"
MEDIA_RESOLUTIONS = ("MEDIA_RESOLUTION_LOW", "MEDIA_RESOLUTION_MEDIUM", "MEDIA_RESOLUTION_HIGH")

WORK_MAX_SIDE: dict[str, int] = {
    "MEDIA_RESOLUTION_LOW": 768,
    "MEDIA_RESOLUTION_MEDIUM": 1280,
    "MEDIA_RESOLUTION_HIGH": 1920,
}
"""Longest side (pixels) the vision stage works at, per ``mediaResolution``."""

TOKENS_PER_FRAME: dict[str, int] = {
    "MEDIA_RESOLUTION_LOW": 66,
    "MEDIA_RESOLUTION_MEDIUM": 258,
    "MEDIA_RESOLUTION_HIGH": 258,
}
"""Tokens charged per image frame, per ``mediaResolution`` (the default is ``MEDIUM``)."""

_NAMES = {"JPEG": "JPEG", "PNG": "PNG", "WEBP": "WebP", "GIF": "GIF", "BMP": "BMP"}


def sniff_format(data: bytes) -> str | None:
    """The image format ``data`` really holds, from its signature: ``"JPEG"``, ``"PNG"``,
    ``"WEBP"``, an unsupported one worth naming (``"GIF"``, ``"BMP"``), or None."""
    if data[:3] == b"\xff\xd8\xff":
        return "JPEG"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "PNG"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    if data[:2] == b"BM":
        return "BMP"
    return None


def normalize_resolution(resolution: object) -> str:
    """``mediaResolution`` as one of :data:`MEDIA_RESOLUTIONS`: None, ``""`` and
    ``MEDIA_RESOLUTION_UNSPECIFIED`` mean the default (``MEDIUM``); an enum member is read by
    its value; anything else is :class:`InvalidArgument`."""
    value = getattr(resolution, "value", resolution)
    if value is None or value in ("", "MEDIA_RESOLUTION_UNSPECIFIED"):
        return DEFAULT_RESOLUTION
    if isinstance(value, str):
        name = value.strip().upper()
        if not name.startswith("MEDIA_RESOLUTION_"):
            name = "MEDIA_RESOLUTION_" + name
        if name in WORK_MAX_SIDE:
            return name
    raise InvalidArgument(
        f"mediaResolution {value!r} is not one of MEDIA_RESOLUTION_LOW, _MEDIUM, _HIGH"
    )


def frame_tokens(resolution: object = None) -> int:
    """Tokens one image frame counts for at ``resolution`` (see the module docstring)."""
    return TOKENS_PER_FRAME[normalize_resolution(resolution)]


def work_size(width: int, height: int, resolution: object = None) -> tuple[int, int]:
    """The size a ``width`` x ``height`` frame is scaled to: longest side at most the
    resolution's :data:`WORK_MAX_SIDE`, aspect ratio kept, never enlarged."""
    limit = WORK_MAX_SIDE[normalize_resolution(resolution)]
    longest = max(width, height)
    if longest <= limit:
        return width, height
    scale = limit / longest
    return max(1, round(width * scale)), max(1, round(height * scale))


def fit_frame(image: Image.Image, resolution: object = None) -> Image.Image:
    """``image`` scaled down to its :func:`work_size` (the same object when it fits)."""
    from PIL import Image

    size = work_size(image.width, image.height, resolution)
    if size == image.size:
        return image
    return image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)


def _refuse(where: str, message: str) -> InvalidArgument:
    return InvalidArgument(f"{where}: {message}")


def _mib(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MiB"


def decode_frame(
    data: object,
    mime_type: object,
    *,
    where: str = "image",
    max_bytes: int = MAX_FRAME_BYTES,
    max_pixels: int = MAX_FRAME_PIXELS,
) -> Image.Image:
    """Decode one image frame into an RGB Pillow image, checking type, size and content.

    ``where`` names the field in error reasons (``"realtimeInput.video"``). Raises
    :class:`InvalidArgument` for data that is not bytes, an unsupported or missing MIME type,
    a frame over ``max_bytes`` or ``max_pixels``, and bytes that are not a decodable image of
    a supported format."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise _refuse(where, f"image data must be bytes, not {type(data).__name__}")
    raw = bytes(data)
    mime = mime_type.split(";", 1)[0].strip().lower() if isinstance(mime_type, str) else ""
    if not mime:
        raise _refuse(where, "mimeType is missing; send image/jpeg, image/png or image/webp")
    declared = SUPPORTED_MIME_TYPES.get(mime)
    if declared is None:
        raise _refuse(where, f"{mime} is not supported; send image/jpeg, image/png or image/webp")
    if not raw:
        raise _refuse(where, f"{mime} data is empty")
    if len(raw) > max_bytes:
        raise _refuse(where, f"a {_mib(len(raw))} image is over the {_mib(max_bytes)} frame limit")
    actual = sniff_format(raw)
    if actual is None:
        raise _refuse(where, f"{mime} data is not a decodable {_NAMES[declared]} image")
    if actual not in ("JPEG", "PNG", "WEBP"):
        raise _refuse(where, f"{mime} data is a {_NAMES[actual]} image; send JPEG, PNG or WebP")
    return _open(raw, actual, mime, where, max_pixels)


def _open(raw: bytes, fmt: str, mime: str, where: str, max_pixels: int) -> Image.Image:
    from PIL import Image, ImageOps

    what = f"{mime} data is not a decodable {_NAMES[fmt]} image"
    try:
        image = Image.open(io.BytesIO(raw), formats=[fmt])
        width, height = image.size
        if width * height > max_pixels:
            raise _refuse(
                where,
                f"a {width}x{height} image is over the {max_pixels / 1_000_000:g} megapixel "
                "frame limit",
            )
        if getattr(image, "n_frames", 1) > 1:
            image.seek(0)
        image.load()
        upright: Image.Image = image
        if fmt == "JPEG":
            upright = ImageOps.exif_transpose(image)
        return _to_rgb(upright)
    except InvalidArgument:
        raise
    except Image.DecompressionBombError as exc:  # Pillow's own guard, at 179 megapixels
        raise _refuse(
            where, f"the image is over the {max_pixels / 1_000_000:g} megapixel frame limit"
        ) from exc
    except (OSError, ValueError, SyntaxError, EOFError, IndexError) as exc:
        raise _refuse(where, f"{what} ({_short(exc)})") from exc


def _short(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text if len(text) <= 40 else text[:37] + "..."


def _to_rgb(image: Image.Image) -> Image.Image:
    from PIL import Image

    if image.mode == "RGB":
        return image
    has_alpha = image.mode in ("RGBA", "LA", "La", "RGBa", "PA") or (
        image.mode == "P" and "transparency" in image.info
    )
    if has_alpha:
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16/32-bit grey: scale to 8 bits rather than clipping
        wide = image.convert("I")
        extrema: Any = wide.getextrema()
        scale = 255 / max(255, int(extrema[1]))
        image = wide.point(lambda v: v * scale).convert("L")
    return image.convert("RGB")
