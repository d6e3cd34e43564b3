"""What seeing costs: the vision stage per frame, and a text session's latency while other
sessions share their screens.

1. **Per frame**, in process: the embedded stage (decode, scale, OCR, scene facts) on rendered
   screens of 1280x720 and 1920x1080 at each ``mediaResolution``, every frame different (a
   counter changes its text, so nothing comes from the cache), then the same frame again
   (cached).
2. **Beside conversations**: ``openlive serve`` on its embedded stack; one session asks text
   questions (time to first text) while N other sessions stream changing screens at 1 frame a
   second, against the same questions with no frames streaming (the baseline), rounds
   interleaved in one run; the server's event-loop lag and its frame counts at the end.

    python -m benchmarks.vision [--frames 12] [--sharers 2] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import time
import urllib.request
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from benchmarks._common import loop_lag, machine, percentile, start_openlive
from openlive import Client
from openlive.models.vision.stage import VisionStage

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
QUESTIONS = [
    "What is the capital of France?",
    "Name three primary colors.",
    "What is 12 times 12?",
    "Who wrote Romeo and Juliet?",
]


def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.truetype(FONT, size) if Path(FONT).is_file() else ImageFont.load_default()


def screen(k: int, size: tuple[int, int]) -> bytes:
    """A desktop-like screen: a title bar, a dozen lines of text, a dialog; ``k`` changes it."""
    w, h = size
    image = Image.new("RGB", size, (245, 245, 245))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, w, 32), fill=(50, 50, 60))
    draw.text((12, 6), f"Terminal - build #{k}", font=font(16), fill="white")
    for i in range(12):
        line = f"[{k:04d}.{i:02d}] compiling module_{i}.py ... ok ({k * 7 + i} ms)"
        draw.text((20, 50 + i * 24), line, font=font(15), fill=(20, 20, 20))
    draw.rectangle((w // 2 - 260, h // 2, w // 2 + 260, h // 2 + 140), fill="white", outline="red")
    draw.text(
        (w // 2 - 240, h // 2 + 40),
        f"Error {k}: disk quota exceeded",
        font=font(20),
        fill=(180, 0, 0),
    )
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def stage_costs(frames: int) -> None:
    stage = VisionStage(threads=1)  # as the server runs it
    stage.load()
    stage.describe_frame(screen(0, (1280, 720)), "image/jpeg")  # warm-up
    print("vision stage per frame (decode + scale + OCR + scene facts, 1 thread as served), ms:")
    for size in ((1280, 720), (1920, 1080)):
        for level in ("MEDIA_RESOLUTION_LOW", "MEDIA_RESOLUTION_MEDIUM", "MEDIA_RESOLUTION_HIGH"):
            costs: list[float] = []
            lines = 0
            for k in range(1, frames + 1):
                data = screen(k * 1000 + size[0], size)
                facts = stage.describe_frame(data, "image/jpeg", level)
                costs.append(facts.seconds * 1000)
                lines = len(facts.lines)
            again = stage.describe_frame(data, "image/jpeg", level)
            print(
                f"  {size[0]}x{size[1]} {level.removeprefix('MEDIA_RESOLUTION_'):<6}: "
                f"p50 {percentile(costs, 50):6.0f}  p95 {percentile(costs, 95):6.0f}  "
                f"(n={frames}, {lines} text lines read); the same frame again "
                f"{again.seconds * 1000:.0f}"
            )


async def ask(url: str) -> list[float]:
    """One session asking QUESTIONS: seconds to the first text of each answer."""
    config = {"response_modalities": ["TEXT"], "temperature": 0.0, "max_output_tokens": 32}
    out: list[float] = []
    async with Client(base_url=url).aio.live.connect(model="gemini-2.0-flash", config=config) as s:
        for question in QUESTIONS:
            start = time.perf_counter()
            first = None
            await s.send_client_content(turns=question)
            async for m in s.receive():
                if first is None and m.text:
                    first = time.perf_counter() - start
                if m.server_content and m.server_content.turn_complete:
                    break
            out.append(first or float("nan"))
    return out


async def share(url: str, stop: asyncio.Event, offset: int) -> int:
    """A session streaming a changing 1280x720 screen at 1 frame a second."""
    sent = 0
    config = {"response_modalities": ["TEXT"]}
    async with Client(base_url=url).aio.live.connect(model="gemini-2.0-flash", config=config) as s:
        start = time.monotonic()
        while not stop.is_set():
            await s.send_realtime_input(video=screen(offset + sent, (1280, 720)))
            sent += 1
            delay = start + sent - time.monotonic()
            if delay > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), delay)
    return sent


async def beside(url: str, sharers: int, rounds: int) -> None:
    await ask(url)  # warm-up
    alone: list[float] = []
    shared: list[float] = []
    frames = 0
    for r in range(rounds):
        alone += await ask(url)
        stop = asyncio.Event()
        streams = [
            asyncio.create_task(share(url, stop, 100_000 * (r + 1) + 10_000 * i))
            for i in range(sharers)
        ]
        await asyncio.sleep(1.5)  # the screens are streaming before the first question
        shared += await ask(url)
        stop.set()
        frames += sum(await asyncio.gather(*streams))

    def line(values: list[float]) -> str:
        ms = [v * 1000 for v in values]
        return f"p50 {percentile(ms, 50):5.0f} ms  p95 {percentile(ms, 95):5.0f} ms  (n={len(ms)})"

    print(f"text turn, time to first text ({machine()}), embedded engine, rounds interleaved:")
    print(f"  no frames streaming          : {line(alone)}")
    print(f"  {sharers} sessions sharing screens : {line(shared)}  ({frames} frames sent)")
    ratio = percentile(shared, 50) / percentile(alone, 50)
    print(f"  p50 ratio, with frames / without: {ratio:.2f}")
    with urllib.request.urlopen(url + "/healthz", timeout=10) as response:
        vision = json.load(response)["vision"]
    print(
        f"  server vision stage: {vision['frames']} frames described, {vision['skipped']} "
        f"skipped (a newer frame came first), mean {vision['mean_seconds'] * 1000:.0f} ms, "
        f"worst {vision['worst_seconds'] * 1000:.0f} ms"
    )
    print(loop_lag(url))


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--frames", type=int, default=12, help="frames per size and level")
    parser.add_argument("--sharers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    began = time.monotonic()
    stage_costs(args.frames)
    server = start_openlive("--no-tls")
    try:
        await beside(server.url, args.sharers, args.rounds)
    finally:
        server.stop()
    print(f"  run took {time.monotonic() - began:.0f} s")


if __name__ == "__main__":
    asyncio.run(main())
