"""Screens and pictures rendered with Pillow for the vision tests: an error dialog, a note,
a coloured shape. DejaVu Sans (Debian ``fonts-dejavu-core``, installed by
``scripts/install.sh``) where present, else Pillow's bundled font."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

FONTS = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
)


def font(size: int) -> Any:
    for path in FONTS:
        if Path(path).is_file():
            return ImageFont.truetype(path, size)
    return ImageFont.load_default(size)


def error_dialog(message: str, size: tuple[int, int] = (1280, 720)) -> Image.Image:
    """A desktop with a modal error dialog: title bar, message, OK button."""
    image = Image.new("RGB", size, (58, 110, 165))
    draw = ImageDraw.Draw(image)
    w, h = size
    left, top, right, bottom = w // 2 - 300, h // 2 - 110, w // 2 + 300, h // 2 + 110
    draw.rectangle((left, top, right, bottom), fill=(240, 240, 240), outline=(80, 80, 80))
    draw.rectangle((left, top, right, top + 36), fill=(200, 40, 40))
    draw.text((left + 14, top + 7), "Application Error", font=font(18), fill="white")
    draw.text((left + 24, top + 70), message, font=font(20), fill="black")
    draw.rectangle(
        (right - 120, bottom - 56, right - 24, bottom - 20),
        fill=(225, 225, 225),
        outline=(60, 60, 60),
    )
    draw.text((right - 86, bottom - 50), "OK", font=font(18), fill="black")
    return image


def note(text: str, size: tuple[int, int] = (1024, 576)) -> Image.Image:
    """A plain window with one line of large text."""
    image = Image.new("RGB", size, "white")
    ImageDraw.Draw(image).text((60, size[1] // 2 - 20), text, font=font(36), fill="black")
    return image


def shape(colour: tuple[int, int, int], size: tuple[int, int] = (640, 480)) -> Image.Image:
    """A filled square of ``colour`` on white."""
    image = Image.new("RGB", size, "white")
    w, h = size
    ImageDraw.Draw(image).rectangle((w // 4, h // 4, 3 * w // 4, 3 * h // 4), fill=colour)
    return image
