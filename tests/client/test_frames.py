"""The SDK's image helpers: :func:`to_image_blob`, :func:`frames` (folders, video files, the
screen, iterables, paced at a steady rate), ``AsyncSession.stream_frames``, and the CLI's
``openlive chat --image`` and ``openlive talk --screen``."""

from __future__ import annotations

import asyncio
import io
import os
import shutil
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, features

from openlive import Client
from openlive.client import AsyncSession, NoScreenError, frames, to_image_blob
from openlive.types import Blob

from ..conftest import RunningServer
from ..helpers import start_server

SIGNATURES = {
    "JPEG": ("image/jpeg", b"\xff\xd8\xff"),
    "PNG": ("image/png", b"\x89PNG"),
    "WEBP": ("image/webp", b"RIFF"),
}


def encoded(image: Image.Image, fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


def solid(colour: tuple[int, int, int], size: tuple[int, int] = (32, 24)) -> Image.Image:
    return Image.new("RGB", size, colour)


def decode(blob: Blob) -> Image.Image:
    image = Image.open(io.BytesIO(blob.data))
    image.load()
    return image


async def collect(stream: AsyncIterator[Blob], limit: int = 1000) -> list[Blob]:
    out: list[Blob] = []
    async for blob in stream:
        out.append(blob)
        if len(out) >= limit:
            break
    return out


# ---- to_image_blob ----


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_bytes_are_sniffed_by_signature(fmt: str) -> None:
    if fmt == "WEBP" and not features.check("webp"):
        pytest.skip("this Pillow has no WebP encoder")
    data = encoded(solid((200, 30, 30)), fmt)
    mime, magic = SIGNATURES[fmt]
    assert data.startswith(magic)
    blob = to_image_blob(data)
    assert blob.mime_type == mime
    assert blob.data == data
    assert to_image_blob(bytearray(data)).mime_type == mime


def test_a_path_is_read_and_sniffed_whatever_its_name(tmp_path: Path) -> None:
    data = encoded(solid((10, 200, 10)), "PNG")
    path = tmp_path / "screenshot.jpg"  # the name lies; the bytes decide
    path.write_bytes(data)
    for value in (path, str(path)):
        blob = to_image_blob(value)
        assert blob.mime_type == "image/png"
        assert blob.data == data


def test_a_pillow_image_is_sent_as_rgb_jpeg() -> None:
    image = Image.new("RGBA", (40, 30), (0, 0, 255, 255))
    blob = to_image_blob(image)
    assert blob.mime_type == "image/jpeg"
    back = decode(blob)
    assert back.format == "JPEG" and back.mode == "RGB" and back.size == (40, 30)
    r, g, b = back.getpixel((20, 15))  # type: ignore[misc]
    assert b > 200 and r < 40 and g < 40
    clear = to_image_blob(Image.new("RGBA", (8, 8), (0, 0, 0, 0)))  # transparency → white
    assert decode(clear).getpixel((4, 4)) == (255, 255, 255)
    assert to_image_blob(Image.new("L", (8, 8), 128)).mime_type == "image/jpeg"


def test_blobs_and_mappings_pass_and_a_missing_type_is_sniffed() -> None:
    data = encoded(solid((1, 2, 3)), "PNG")
    assert to_image_blob(Blob(mime_type="image/png", data=data)).data == data
    assert to_image_blob({"data": data}).mime_type == "image/png"
    assert to_image_blob({"mimeType": "image/jpeg", "data": data}).mime_type == "image/jpeg"


def test_bytes_that_are_not_an_image_are_refused_clearly() -> None:
    with pytest.raises(ValueError, match="not a JPEG, PNG or WebP image"):
        to_image_blob(b"GIF89a\x01\x00\x01\x00")
    with pytest.raises(ValueError, match="not a JPEG, PNG or WebP image"):
        to_image_blob(b"")
    gif = io.BytesIO()
    solid((0, 0, 0)).save(gif, format="GIF")
    with pytest.raises(ValueError, match="starts with 47 49 46"):
        to_image_blob(gif.getvalue())
    with pytest.raises(TypeError, match="an image is bytes"):
        to_image_blob(42)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.png"
    with pytest.raises(FileNotFoundError, match=r"nowhere\.png"):
        to_image_blob(missing)


async def test_send_realtime_input_takes_paths_and_pillow_images(tmp_path: Path) -> None:
    """``video=`` goes through to_image_blob (checked without a server: what would be sent)."""
    sent: list[Any] = []

    async def fake_send(message: Any) -> None:
        sent.append(message)

    session = AsyncSession.__new__(AsyncSession)
    session._send = fake_send  # type: ignore[method-assign]
    path = tmp_path / "a.png"
    path.write_bytes(encoded(solid((9, 9, 9)), "PNG"))
    await session.send_realtime_input(video=path)
    await session.send_realtime_input(video=solid((9, 9, 9)))
    await session.send_realtime_input(video=path.read_bytes())
    kinds = [m.realtime_input.video.mime_type for m in sent]
    assert kinds == ["image/png", "image/jpeg", "image/png"]


# ---- frames ----


async def test_a_folder_streams_in_name_order_at_the_rate(tmp_path: Path) -> None:
    names = ["frame10.png", "frame2.png", "frame1.png", "notes.txt", ".hidden.png"]
    data = {}
    for i, name in enumerate(names):
        data[name] = encoded(solid((i * 40, 0, 0)), "PNG")
        (tmp_path / name).write_bytes(data[name])
    fps = 20.0
    start = time.monotonic()
    got = await collect(frames(tmp_path, fps=fps))
    elapsed = time.monotonic() - start
    assert [b.data for b in got] == [data["frame1.png"], data["frame2.png"], data["frame10.png"]]
    assert all(b.mime_type == "image/png" for b in got)
    assert elapsed >= (len(got) - 1) / fps - 1e-3


async def test_large_frames_are_scaled_down_small_ones_kept(tmp_path: Path) -> None:
    big = encoded(solid((0, 128, 0), (2000, 1000)), "PNG")
    small = encoded(solid((0, 0, 128), (300, 200)), "PNG")
    got = await collect(frames([big, small, solid((5, 5, 5), (1600, 1600))], fps=200))
    assert [b.mime_type for b in got] == ["image/jpeg", "image/png", "image/jpeg"]
    assert decode(got[0]).size == (1280, 640)
    assert got[1].data == small
    assert decode(got[2]).size == (1280, 1280)
    kept = await collect(frames([big], fps=200, max_side=None))
    assert kept[0].data == big
    tiny = await collect(frames([big], fps=200, max_side=100))
    assert decode(tiny[0]).size == (100, 50)


async def test_loop_starts_again_and_bad_arguments_are_refused(tmp_path: Path) -> None:
    one, two = encoded(solid((1, 1, 1)), "PNG"), encoded(solid((2, 2, 2)), "PNG")
    got = await collect(frames(iter([one, two]), fps=200, loop=True), limit=5)
    assert [b.data for b in got] == [one, two, one, two, one]
    with pytest.raises(ValueError, match="fps"):
        await collect(frames([one], fps=0))
    with pytest.raises(FileNotFoundError, match="missing"):
        await collect(frames(tmp_path / "missing"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no image files"):
        await collect(frames(tmp_path / "empty"))
    with pytest.raises(ValueError, match="not a JPEG"):
        await collect(frames([b"nonsense"], fps=200))


async def test_a_video_file_is_sampled_at_the_rate(tmp_path: Path) -> None:
    cv2 = pytest.importorskip("cv2")
    import numpy as np

    path = tmp_path / "clip.avi"
    video_fps, count = 20.0, 10
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), video_fps, (64, 48))
    assert writer.isOpened()
    for i in range(count):  # frame i is grey level 20 * i
        writer.write(np.full((48, 64, 3), 20 * i, dtype=np.uint8))
    writer.release()
    fps = 8.0
    start = time.monotonic()
    got = await collect(frames(path, fps=fps))
    elapsed = time.monotonic() - start
    assert 1 < len(got) < count  # 0.5 s of video at 8 a second: about 4 frames
    assert all(b.mime_type == "image/jpeg" for b in got)
    levels = [int(np.asarray(decode(b).convert("L")).mean()) for b in got]
    assert abs(levels[0] - 0) <= 6
    assert levels == sorted(levels) and len(set(levels)) == len(levels)
    # sample k is the frame nearest k / fps seconds in: frames 0, 2, 5, 8
    expected = [20 * round(k * video_fps / fps) for k in range(len(got))]
    assert all(abs(a - b) <= 6 for a, b in zip(levels, expected, strict=True)), levels
    assert elapsed >= (len(got) - 1) / fps - 1e-3


async def test_a_video_that_is_not_one_is_refused(tmp_path: Path) -> None:
    pytest.importorskip("cv2")
    path = tmp_path / "clip.avi"
    path.write_bytes(b"definitely not a video")
    with pytest.raises(ValueError, match="neither"):
        await collect(frames(path))


def _no_screen_env(monkeypatch: pytest.MonkeyPatch) -> None:
    if sys.platform != "linux":
        pytest.skip("the no-display case is the Linux one")
    if any(shutil.which(t) for t in ("gnome-screenshot", "grim", "spectacle")):
        pytest.skip("Pillow would capture with a screenshot tool here")
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)


async def test_the_screen_where_there_is_none_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _no_screen_env(monkeypatch)
    with pytest.raises(NoScreenError, match=r"^no screen to capture here \(.+DISPLAY"):
        await collect(frames("screen", fps=5))


async def test_the_screen_is_captured_scaled_and_paced(monkeypatch: pytest.MonkeyPatch) -> None:
    from PIL import ImageGrab

    grabs: list[float] = []

    def grab() -> Image.Image:
        grabs.append(time.monotonic())
        return solid((0, 90, 0), (2560, 1440))

    monkeypatch.setattr(ImageGrab, "grab", grab)
    fps = 25.0
    got = await collect(frames("screen", fps=fps), limit=3)
    assert [b.mime_type for b in got] == ["image/jpeg"] * 3
    assert decode(got[0]).size == (1280, 720)
    assert grabs[-1] - grabs[0] >= 2 / fps - 1e-3  # captured when due, not ahead


# ---- through a server ----


async def test_stream_frames_reaches_the_server(echo_server: RunningServer, tmp_path: Path) -> None:
    for i in range(3):
        (tmp_path / f"{i}.png").write_bytes(encoded(solid((0, 0, 80 * i)), "PNG"))
    client = Client(base_url=echo_server.http)
    config = {"response_modalities": ["TEXT"]}
    async with client.aio.live.connect(model="gemini-x", config=config) as session:
        assert await session.stream_frames(tmp_path, fps=50) == 3
        await session.send_client_content(turns="what is on the screen?")
        messages = [m async for m in session.receive()]
    assert "".join(m.text or "" for m in messages) == "echo: what is on the screen?"
    usage = next(m.usage_metadata for m in messages if m.usage_metadata is not None)
    details = {d.modality: d.token_count for d in usage.prompt_tokens_details or []}
    assert details.get("IMAGE", 0) > 0, usage  # the reply's prompt held the latest frame


async def test_the_sync_session_streams_frames_too(echo_server: RunningServer) -> None:
    images = [solid((0, 200, 0)), solid((0, 0, 200))]

    def work() -> tuple[int, str]:
        client = Client(base_url=echo_server.http)
        with client.live.connect(model="echo", config={"response_modalities": ["TEXT"]}) as s:
            sent = s.stream_frames(images, fps=50)
            s.send_client_content(turns="and now?")
            return sent, "".join(m.text or "" for m in s.receive())

    assert await asyncio.to_thread(work) == (2, "echo: and now?")


def test_chat_image_sends_the_image_with_the_question(tmp_path: Path) -> None:
    """The echo engine answers only the words, so the image's arrival shows another way: the
    server decodes every image part, and closes 1007 naming ``clientContent.turns`` when the
    bytes (a PNG signature, then garbage) are no image."""
    image = tmp_path / "screenshot.png"
    image.write_bytes(encoded(solid((200, 0, 0), (320, 200)), "PNG"))
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"not really" * 20)
    server = start_server(tmp_path, "--model", "echo", "--no-tls", "--echo-delay", "0.1")
    try:
        cmd = [sys.executable, "-m", "openlive.cli.main", "chat", "--url", server.http_url]

        def run(*args: str, lines: str | None = None) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [*cmd, *args], input=lines, capture_output=True, text=True, timeout=60
            )

        asked = run("--image", str(image), "what does this say?")
        chatted = run("--image", str(image), "--image", str(image), lines="one?\ntwo?\n/quit\n")
        refused = run("--image", str(bad), lines="one?\ntwo?\nthree?\n/quit\n")
        missing = run("--image", str(tmp_path / "gone.png"), "hello")
    finally:
        server.stop()
    assert asked.returncode == 0, asked.stderr
    assert asked.stdout.strip() == "echo: what does this say?"
    assert chatted.returncode == 0, chatted.stderr
    assert "model> echo: one?" in chatted.stdout and "model> echo: two?" in chatted.stdout
    assert "sent with your first message" in chatted.stderr
    assert refused.returncode == 1, refused.stderr
    assert "session closed: 1007 clientContent" in refused.stderr
    assert missing.returncode != 0
    assert "gone.png" in missing.stderr and "Traceback" not in missing.stderr


def test_talk_screen_without_a_screen_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _no_screen_env(monkeypatch)
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "openlive.cli.main",
            "talk",
            "--url",
            "http://127.0.0.1:9",
            "--screen",
            "--input",
            str(tmp_path / "question.wav"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert result.returncode == 2, result.stderr
    assert "no screen to capture here" in result.stderr
    assert "Traceback" not in result.stderr
