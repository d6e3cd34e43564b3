"""The embedded vision stage on real rendered images: an error dialog, a paragraph, a code
editor with a sidebar, shapes and a bar chart drawn with Pillow in a TrueType font, read by
the bundled PP-OCR models (no mocks) and measured; JPEG, PNG and WebP frames decode, changed
frames change the facts, unchanged ones come from the cache, and bad frames are refused with
a clear 1007 reason. The OCR tests run with either OCR package (rapidocr or
rapidocr-onnxruntime) and skip when neither is installed."""

from __future__ import annotations

import io
import re
import struct
import textwrap
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("PIL")
pytest.importorskip("numpy")

from PIL import Image, ImageDraw, ImageFont

from openlive.errors import InvalidArgument
from openlive.models.vision import (
    FrameFacts,
    TextLine,
    VisionStage,
    colour_name,
    decode_frame,
    fit_frame,
    frame_tokens,
    join_rows,
    normalize_resolution,
    ocr_available,
    position_words,
    reading_order,
    scene_facts,
    work_size,
)

FONTS = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",  # Debian fonts-dejavu-core
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
)
BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"


def font(size: int, bold: bool = False) -> Any:
    """DejaVu Sans where installed, else Pillow's bundled TrueType default font."""
    if bold and Path(BOLD).exists():
        return ImageFont.truetype(BOLD, size)
    for path in FONTS:
        if Path(path).exists():
            return ImageFont.truetype(path, size)
    return ImageFont.load_default(size)


# --- rendered images ---------------------------------------------------------------------


def error_dialog(message: str = "Error: File not found: report.pdf") -> Image.Image:
    """A 1280x720 desktop with a title bar, a faint window and a modal error dialog."""
    image = Image.new("RGB", (1280, 720), (236, 236, 236))
    draw = ImageDraw.Draw(image)
    draw.rectangle([0, 0, 1279, 30], fill=(45, 45, 55))
    draw.text((12, 7), "Documents - Viewer", font=font(14), fill="white")
    dialog = (390, 240, 890, 470)
    draw.rectangle(dialog, fill="white", outline=(120, 120, 120), width=2)
    draw.rectangle([392, 242, 888, 278], fill=(200, 40, 40))
    draw.text((408, 250), "Something went wrong", font=font(16, bold=True), fill="white")
    draw.text((420, 320), message, font=font(20), fill=(20, 20, 20))
    draw.rounded_rectangle([760, 405, 870, 450], radius=6, fill=(0, 110, 210))
    draw.text((798, 415), "OK", font=font(20, bold=True), fill="white")
    return image


PARAGRAPH = (
    "Vision in openlive turns each shared frame into plain text. The words on the screen "
    "are read line by line, the main colours are named, and the layout is described, so "
    "that a small language model can answer questions about what the user sees."
)


def paragraph() -> Image.Image:
    image = Image.new("RGB", (1000, 400), "white")
    draw = ImageDraw.Draw(image)
    for row, line in enumerate(textwrap.wrap(PARAGRAPH, 62)):
        draw.text((40, 40 + row * 34), line, font=font(22), fill=(30, 30, 30))
    return image


def square(colour: tuple[int, int, int]) -> Image.Image:
    image = Image.new("RGB", (640, 480), "white")
    ImageDraw.Draw(image).rectangle([220, 140, 420, 340], fill=colour)
    return image


def circle(colour: tuple[int, int, int]) -> Image.Image:
    image = Image.new("RGB", (640, 480), "white")
    ImageDraw.Draw(image).ellipse([200, 120, 440, 360], fill=colour)
    return image


CHART = (("Jan", 180, (40, 90, 220)), ("Feb", 280, (255, 140, 0)), ("Mar", 230, (40, 170, 60)))


def bar_chart() -> Image.Image:
    image = Image.new("RGB", (900, 560), "white")
    draw = ImageDraw.Draw(image)
    draw.text((300, 20), "Monthly sales", font=font(30, bold=True), fill="black")
    base = 470
    draw.line([(100, 80), (100, base), (820, base)], fill="black", width=2)
    for value in (0, 100, 200, 300):
        y = base - value
        draw.text((40, y - 10), str(value), font=font(18), fill="black")
    for index, (label, value, colour) in enumerate(CHART):
        left = 170 + index * 220
        draw.rectangle([left, base - value, left + 110, base - 1], fill=colour)
        draw.text((left + 30, base + 15), label, font=font(22), fill="black")
    return image


CODE = [
    "def load_report(path):",
    "    with open(path) as handle:",
    "        data = handle.read()",
    "    if not data:",
    '        raise ValueError("empty report")',
    "    return parse(data)",
]


def editor() -> Image.Image:
    """A 1280x720 code editor: menu bar, dark file sidebar, numbered code, status bar."""
    image = Image.new("RGB", (1280, 720), (250, 250, 250))
    draw = ImageDraw.Draw(image)
    draw.rectangle([0, 0, 1279, 30], fill=(40, 44, 52))
    draw.text((10, 8), "File  Edit  Selection  View  Help", font=font(14), fill="white")
    draw.rectangle([0, 31, 220, 695], fill=(37, 37, 38))
    for row, name in enumerate(["main.py", "viewer.py", "report.py", "README.md"]):
        draw.text((16, 50 + row * 26), name, font=font(14), fill=(204, 204, 204))
    for row, line in enumerate(CODE * 2):
        draw.text((240, 50 + row * 20), f"{row + 1:>3}  {line}", font=font(14), fill=(30, 30, 30))
    draw.rectangle([0, 696, 1279, 719], fill=(0, 122, 204))
    draw.text((10, 699), "Ln 5, Col 12  UTF-8  Python", font=font(14), fill="white")
    return image


def encode(image: Image.Image, fmt: str, **options: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


# --- helpers -------------------------------------------------------------------------------


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def overlap(expected: str, got: str) -> float:
    """Share of the expected words that were read (tolerates a slip or two)."""
    want = words(expected)
    have = set(words(got))
    return sum(word in have for word in want) / len(want)


@pytest.fixture(scope="module")
def stage() -> Iterator[VisionStage]:
    if not ocr_available():
        pytest.skip("needs an OCR package with bundled models: rapidocr or rapidocr-onnxruntime")
    vision = VisionStage(threads=2)
    vision.load()
    yield vision


@pytest.fixture(scope="module")
def dialog_facts(stage: VisionStage) -> FrameFacts:
    return stage.describe(error_dialog())


# --- OCR on rendered images ----------------------------------------------------------------


def test_reads_the_error_dialog(dialog_facts: FrameFacts) -> None:
    text = dialog_facts.text
    assert overlap("Error: File not found: report.pdf", text) >= 0.8, text
    assert "ok" in words(text), text
    assert overlap("Something went wrong", text) >= 0.66, text
    message = next(line for line in dialog_facts.lines if "found" in line.text.lower())
    assert message.confidence > 0.8
    # boxes are in frame pixels: the message sits in the dialog, in the middle of the screen
    left, top, right, bottom = message.box
    assert 400 <= left < 460 and 300 <= top < 340 and right > 600 and bottom < 360
    context = dialog_facts.as_context("screen frame")
    assert context.startswith("[screen frame 1280x720, ")
    assert "Text on screen, top to bottom:" in context
    assert "report.pdf" in context.lower() or overlap("report pdf", context) == 1
    assert "Text placement: line 1 top left; lines 2-4 middle." in context
    # the dialog's red title bar and blue button are small but named
    assert "red 2% (middle)" in context and "blue under 1% (middle)" in context
    # and each line's colours tell the title bar and the button from the message
    assert "line 2 white on red; line 3 black on white; line 4 white on blue." in context


def test_reads_a_paragraph_in_order(stage: VisionStage) -> None:
    facts = stage.describe(paragraph())
    assert overlap(PARAGRAPH, facts.text) >= 0.9, facts.text
    assert facts.kind == "mostly text"
    expected_lines = textwrap.wrap(PARAGRAPH, 62)
    assert len(facts.lines) == len(expected_lines), facts.text
    for line, expected in zip(facts.lines, expected_lines, strict=True):
        assert overlap(expected, line.text) >= 0.75, (line.text, expected)
    tops = [line.box[1] for line in facts.lines]
    assert tops == sorted(tops)
    assert [block.lines for block in facts.layout] == [len(expected_lines)]
    assert facts.layout[0].position.startswith("top")
    # every line black on white: no line of colours that says nothing
    assert {(c.text, c.background) for c in facts.scene.line_colours} == {("black", "white")}
    assert "Text colours" not in facts.as_context()


def test_reads_the_bar_chart_and_names_its_colours(stage: VisionStage) -> None:
    facts = stage.describe(bar_chart())
    text = facts.text
    assert overlap("Monthly sales", text) == 1, text
    assert overlap("Jan Feb Mar", text) >= 0.66, text
    assert overlap("100 200 300", text) >= 0.66, text
    names = [colour.name for colour in facts.colours]
    assert facts.scene.background == "white"
    for expected in ("blue", "orange", "green"):
        assert expected in names, names
    assert facts.kind == "graphics with text"
    context = facts.as_context()
    assert "orange" in context and "Monthly sales" in context


def test_reads_an_editor_column_by_column(stage: VisionStage) -> None:
    facts = stage.describe(editor())
    texts = [line.text for line in facts.lines]
    assert overlap("File Edit Selection View Help", texts[0]) >= 0.8, texts
    # the sidebar is read as a column of its own, not interleaved with the code beside it
    files = [index for index, text in enumerate(texts) if re.search(r"\.(py|md)$", text)]
    assert len(files) == 4 and files == list(range(files[0], files[0] + 4)), texts
    code = [text for text in texts if re.match(r"\d+ ", text)]
    assert len(code) >= 10, texts
    assert overlap('5 raise ValueError("empty report")', "\n".join(code)) == 1, texts
    assert overlap("Ln 5, Col 12 UTF-8 Python", texts[-1]) >= 0.8, texts
    assert facts.scene.background == "white"  # not the dark sidebar along the border
    assert "black" in [colour.name for colour in facts.colours]


def test_a_jpeg_frame_reads_like_the_png(stage: VisionStage) -> None:
    frame = decode_frame(encode(error_dialog(), "JPEG", quality=70), "image/jpeg")
    facts = stage.describe(frame)
    assert overlap("Error: File not found: report.pdf", facts.text) >= 0.8, facts.text


# --- colours and shapes --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("image", "name", "share"),
    [
        (square((220, 20, 30)), "red", 0.13),
        (circle((30, 80, 220)), "blue", 0.147),
        (square((30, 160, 60)), "green", 0.13),
        (circle((250, 210, 0)), "yellow", 0.147),
    ],
    ids=["red square", "blue circle", "green square", "yellow circle"],
)
def test_names_the_colour_of_a_shape(image: Image.Image, name: str, share: float) -> None:
    scene = scene_facts(image)
    assert scene.background == "white"
    shape = [colour for colour in scene.colours if colour.name != "white"]
    assert shape[0].name == name, scene.colours
    assert shape[0].share == pytest.approx(share, abs=0.02)
    assert shape[0].position == "middle"
    assert scene.kind == "flat graphics"


def test_the_stage_says_what_colour_a_shape_is(stage: VisionStage) -> None:
    facts = stage.describe(square((220, 20, 30)))
    assert facts.lines == ()  # a shape is not text
    context = facts.as_context()
    assert "No readable text." in context
    assert "Colours: background white; red 13% (middle)." in context


def test_colour_names() -> None:
    cases = {
        (255, 0, 0): "red",
        (128, 0, 0): "dark red",
        (0, 0, 255): "blue",
        (0, 120, 215): "blue",
        (0, 0, 128): "dark blue",
        (173, 216, 230): "light blue",
        (0, 128, 0): "green",
        (0, 100, 0): "dark green",
        (255, 255, 0): "yellow",
        (255, 165, 0): "orange",
        (128, 0, 128): "purple",
        (255, 192, 203): "pink",
        (139, 69, 19): "brown",
        (0, 255, 255): "cyan",
        (255, 255, 255): "white",
        (240, 240, 240): "white",
        (200, 200, 200): "light grey",
        (128, 128, 128): "grey",
        (64, 64, 64): "dark grey",
        (10, 10, 10): "black",
    }
    assert {rgb: colour_name(rgb) for rgb in cases} == cases


def test_position_words() -> None:
    assert position_words(0.1, 0.1) == "top left"
    assert position_words(0.5, 0.5) == "middle"
    assert position_words(0.9, 0.5) == "middle right"
    assert position_words(0.5, 0.9) == "bottom"


def test_kinds_of_image() -> None:
    assert scene_facts(Image.new("RGB", (320, 200), (0, 0, 80))).kind == "blank"
    noise = Image.effect_noise((320, 240), 80).convert("RGB")
    gradient = Image.linear_gradient("L").resize((320, 240)).convert("RGB")
    photo = Image.merge("RGB", (noise.getchannel(0), gradient.getchannel(0), noise.getchannel(0)))
    scene = scene_facts(photo)
    assert scene.kind == "photo-like"
    assert scene.flatness < 0.5


# --- reading order -------------------------------------------------------------------------


def test_rows_are_joined_left_to_right_and_ordered_top_to_bottom() -> None:
    pieces = [
        TextLine("OK", (800, 410, 840, 440), 0.99),
        TextLine("Edit", (60, 5, 95, 25), 0.9),
        TextLine("File", (10, 6, 45, 26), 0.95),
        TextLine("Cancel", (600, 412, 680, 442), 0.97),
        TextLine("Error: not found", (100, 300, 400, 330), 0.98),
    ]
    lines = join_rows(pieces)
    assert [line.text for line in lines] == ["File Edit", "Error: not found", "Cancel | OK"]
    assert lines[0].box == (10, 5, 95, 26)
    assert lines[0].confidence == pytest.approx((0.95 * 4 + 0.9 * 4) / 8, abs=1e-3)


def test_columns_are_read_one_after_the_other_and_tables_row_by_row() -> None:
    def piece(text: str, left: int, top: int, width: int = 100) -> TextLine:
        return TextLine(text, (left, top, left + width, top + 20), 0.9)

    menu = piece("File Edit View", 10, 0, 300)
    sidebar = [piece(name, 10, 40 + 30 * row) for row, name in enumerate(["src", "tests", "docs"])]
    document = [piece(f"line {row}", 200, 40 + 24 * row, 400) for row in range(5)]
    status = piece("Ln 1, Col 1", 10, 300, 200)
    lines = reading_order([status, *document, menu, *sidebar])
    assert [line.text for line in lines] == [
        "File Edit View",
        *["src", "tests", "docs"],
        *[f"line {row}" for row in range(5)],
        "Ln 1, Col 1",
    ]
    table = [
        piece(text, 10 + 200 * column, 24 * row)
        for row, cells in enumerate([["Name", "Age"], ["Alice", "31"], ["Bob", "45"]])
        for column, text in enumerate(cells)
    ]
    assert [line.text for line in reading_order(table)] == ["Name | Age", "Alice | 31", "Bob | 45"]


# --- frames: decoding, limits, resolution, tokens ------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "mime", "options"),
    [
        ("JPEG", "image/jpeg", {"quality": 85}),
        ("PNG", "image/png", {}),
        ("WEBP", "image/webp", {"quality": 85}),
        ("WEBP", "image/webp", {"lossless": True}),
    ],
)
def test_jpeg_png_and_webp_decode(fmt: str, mime: str, options: dict[str, Any]) -> None:
    original = bar_chart()
    frame = decode_frame(encode(original, fmt, **options), mime, where="realtimeInput.video")
    assert frame.mode == "RGB"
    assert frame.size == original.size
    assert scene_facts(frame).background == "white"
    names = [colour.name for colour in scene_facts(frame).colours]
    assert {"blue", "orange", "green"} <= set(names)


def test_transparency_and_grey_and_mislabels() -> None:
    rgba = Image.new("RGBA", (64, 48), (0, 0, 0, 0))
    ImageDraw.Draw(rgba).rectangle([16, 12, 47, 35], fill=(255, 0, 0, 255))
    frame = decode_frame(encode(rgba, "PNG"), "image/png")
    assert frame.mode == "RGB"
    assert frame.getpixel((0, 0)) == (255, 255, 255)  # transparent -> white
    assert frame.getpixel((30, 20)) == (255, 0, 0)
    grey = decode_frame(encode(Image.new("L", (10, 10), 128), "PNG"), "image/png")
    assert grey.getpixel((5, 5)) == (128, 128, 128)
    # a PNG labelled image/jpeg (clients mislabel) decodes as what it is; MIME parameters
    # and case are ignored
    assert decode_frame(encode(square((0, 0, 255)), "PNG"), "IMAGE/JPEG; q=1").size == (640, 480)


def reason_of(data: object, mime: object, **limits: int) -> str:
    with pytest.raises(InvalidArgument) as info:
        decode_frame(data, mime, where="realtimeInput.video", **limits)
    error = info.value
    assert error.code == 1007
    assert len(error.reason.encode()) <= 123 and not error.reason.endswith("..."), error.reason
    return error.reason


def test_bad_frames_are_refused_with_a_clear_reason() -> None:
    png = encode(square((255, 0, 0)), "PNG")
    assert reason_of(b"definitely not an image", "image/png") == (
        "realtimeInput.video: image/png data is not a decodable PNG image"
    )
    assert "image/webp data is not a decodable WebP image" in reason_of(b"\x00" * 64, "image/webp")
    truncated = reason_of(png[: len(png) // 2], "image/png")
    assert truncated.startswith(
        "realtimeInput.video: image/png data is not a decodable PNG image ("
    )
    jpeg = encode(square((255, 0, 0)), "JPEG")
    assert reason_of(jpeg[:300], "image/jpeg").startswith(
        "realtimeInput.video: image/jpeg data is not a decodable JPEG image ("
    )
    assert reason_of(b"", "image/png") == "realtimeInput.video: image/png data is empty"


def test_wrong_types_are_refused() -> None:
    png = encode(square((255, 0, 0)), "PNG")
    assert reason_of(png, "image/gif") == (
        "realtimeInput.video: image/gif is not supported; send image/jpeg, image/png or image/webp"
    )
    assert "audio/pcm is not supported" in reason_of(png, "audio/pcm;rate=16000")
    assert "mimeType is missing" in reason_of(png, None)
    assert "mimeType is missing" in reason_of(png, "")
    gif = encode(Image.new("P", (8, 8)), "GIF")
    assert reason_of(gif, "image/png") == (
        "realtimeInput.video: image/png data is a GIF image; send JPEG, PNG or WebP"
    )
    bmp = encode(Image.new("RGB", (8, 8)), "BMP")
    assert "is a BMP image" in reason_of(bmp, "image/jpeg")
    assert reason_of("iVBORw0KGgo=", "image/png") == (
        "realtimeInput.video: image data must be bytes, not str"
    )
    assert "not NoneType" in reason_of(None, "image/png")


def test_oversize_frames_are_refused() -> None:
    big = b"\x89PNG\r\n\x1a\n" + bytes(10 * 1024 * 1024)
    assert reason_of(big, "image/png") == (
        "realtimeInput.video: a 10.0 MiB image is over the 10.0 MiB frame limit"
    )
    png = encode(square((255, 0, 0)), "PNG")
    assert "frame limit" in reason_of(png, "image/png", max_bytes=1000)
    assert reason_of(png, "image/png", max_pixels=2_000_000 // 8) == (
        "realtimeInput.video: a 640x480 image is over the 0.25 megapixel frame limit"
    )


def test_a_decompression_bomb_is_refused_before_decoding() -> None:
    """PNG headers claiming 3.6 gigapixels and 72 megapixels, over a few bytes."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", 60000, 60000, 8, 2, 0, 0, 0)
    bomb = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 1000))
        + chunk(b"IEND", b"")
    )
    assert reason_of(bomb, "image/png") == (
        "realtimeInput.video: the image is over the 40 megapixel frame limit"
    )
    header = struct.pack(">IIBBBBB", 9000, 8000, 8, 2, 0, 0, 0)  # under Pillow's own guard
    bomb = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")
    assert reason_of(bomb, "image/png") == (
        "realtimeInput.video: a 9000x8000 image is over the 40 megapixel frame limit"
    )


def test_resolution_sets_work_size_and_tokens() -> None:
    assert frame_tokens(None) == frame_tokens("MEDIA_RESOLUTION_MEDIUM") == 258
    assert frame_tokens("MEDIA_RESOLUTION_HIGH") == 258
    assert frame_tokens("MEDIA_RESOLUTION_LOW") == 66
    assert normalize_resolution("MEDIA_RESOLUTION_UNSPECIFIED") == "MEDIA_RESOLUTION_MEDIUM"
    assert normalize_resolution("low") == "MEDIA_RESOLUTION_LOW"
    assert work_size(1920, 1080) == (1280, 720)
    assert work_size(1920, 1080, "MEDIA_RESOLUTION_LOW") == (768, 432)
    assert work_size(1920, 1080, "MEDIA_RESOLUTION_HIGH") == (1920, 1080)
    assert work_size(640, 480, "MEDIA_RESOLUTION_LOW") == (640, 480)  # never enlarged
    assert work_size(1080, 2400) == (576, 1280)  # a phone screen, portrait
    image = square((255, 0, 0))
    assert fit_frame(image) is image
    with pytest.raises(InvalidArgument, match="mediaResolution 'ULTRA'"):
        normalize_resolution("ULTRA")


# --- the stage: changes, cache, cost -------------------------------------------------------


def test_a_changed_frame_changes_the_facts(stage: VisionStage, dialog_facts: FrameFacts) -> None:
    changed = stage.describe(error_dialog("Error: Disk is full: backup.zip"))
    assert not changed.cached
    assert changed.digest != dialog_facts.digest
    assert overlap("Disk is full backup zip", changed.text) >= 0.75, changed.text
    assert "report" not in changed.text.lower()
    red = stage.describe(square((220, 20, 30)))
    green = stage.describe(square((30, 160, 60)))
    assert "red" in red.as_context() and "green" not in red.as_context()
    assert "green" in green.as_context() and "red" not in green.as_context()


def test_an_unchanged_frame_comes_from_the_cache(
    stage: VisionStage, dialog_facts: FrameFacts
) -> None:
    again = stage.describe(error_dialog())  # a new, equal image
    assert again.cached
    assert again.digest == dialog_facts.digest
    assert again.lines == dialog_facts.lines
    assert again.as_context() == dialog_facts.as_context()
    assert again.seconds < dialog_facts.seconds / 5
    assert again.ocr_seconds == dialog_facts.ocr_seconds  # the cost of the first reading
    stats = stage.stats()
    assert stats["cache_hits"] >= 1 and stats["frames"] >= 2


def test_resolution_changes_the_work_size_and_tokens(stage: VisionStage) -> None:
    frame = error_dialog().resize((1920, 1080), Image.Resampling.LANCZOS)
    facts = stage.describe(frame, "MEDIA_RESOLUTION_LOW")
    assert (facts.width, facts.height) == (1920, 1080)
    assert (facts.work_width, facts.work_height) == (768, 432)
    assert facts.tokens == 66
    assert overlap("Error: File not found: report.pdf", facts.text) >= 0.6, facts.text
    # boxes are given in frame pixels, whatever size the frame was read at
    message = next(line for line in facts.lines if "found" in line.text.lower())
    assert 600 <= message.box[0] < 700 and 450 <= message.box[1] < 520, message.box


def test_per_frame_cost_is_reported(stage: VisionStage, dialog_facts: FrameFacts) -> None:
    assert 0 < dialog_facts.ocr_seconds < dialog_facts.seconds
    assert 0 < dialog_facts.scene_seconds < dialog_facts.seconds
    assert dialog_facts.seconds < 20  # generous: ~1 s on 2 cores


def test_encoded_frames_are_decoded_and_described(
    stage: VisionStage, dialog_facts: FrameFacts
) -> None:
    png = encode(error_dialog(), "PNG")
    facts = stage.describe_frame(png, "image/png", where="realtimeInput.video")
    assert facts.cached and facts.digest == dialog_facts.digest  # the same pixels
    assert overlap("Error: File not found: report.pdf", facts.text) >= 0.8
    with pytest.raises(InvalidArgument, match=r"realtimeInput\.video: image/png data is empty"):
        stage.describe_frame(b"", "image/png", where="realtimeInput.video")


def test_long_text_is_cut_for_the_context() -> None:
    lines = tuple(
        TextLine(f"row {n} of a long log file", (10, n * 20, 400, n * 20 + 16), 0.9)
        for n in range(100)
    )
    image = Image.new("RGB", (800, 2000), "white")
    scene = scene_facts(image, lines)
    facts = FrameFacts(
        800,
        2000,
        576,
        1440,
        "MEDIA_RESOLUTION_MEDIUM",
        258,
        lines,
        scene,
        0.5,
        0.4,
        0.1,
        False,
        "0" * 32,
    )
    context = facts.as_context("screen frame", max_lines=40, max_chars=10_000)
    assert "40. row 39 of a long log file" in context and "41. row" not in context
    assert "(... 60 more lines not shown)" in context
    short = facts.as_context(max_chars=300)
    assert "(... " in short and len(short) < 800
    assert short.splitlines()[1] == "Text in the image, top to bottom:"


def test_without_ocr_the_stage_still_measures() -> None:
    facts = VisionStage(ocr=False).describe(circle((30, 80, 220)))
    assert facts.lines == () and not facts.text_read
    assert "Text not read (no OCR)." in facts.as_context()
    assert "blue 15% (middle)" in facts.as_context()
