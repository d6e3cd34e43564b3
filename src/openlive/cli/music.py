"""``openlive music``: render live music from a server to a WAV file (and the speaker).

``openlive music "lo-fi hip hop piano" --bpm 80 --seconds 30 --output lofi.wav`` opens a live
music session (``BidiGenerateMusic``), sets the prompts (the first argument, weight 1, plus any
``--prompt "text:weight"``) and the generation config, plays, and writes the first ``--seconds``
of the stream as a 48 kHz stereo 16-bit WAV. A progress line on stderr shows the seconds
received. Where ``sounddevice`` finds an output device the music also plays on the speaker as it
arrives (``--no-play`` turns that off); elsewhere the file is all. A session the server refuses
or ends prints its close code and reason and exits 1; Ctrl-C stops early and saves what has
arrived.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import queue
import ssl
import sys
import wave
from pathlib import Path
from typing import Any

from ..client import Client
from ..client.music import AsyncMusicSession
from ..errors import LiveConnectionClosed

__all__ = ["music_command", "parse_prompt"]

RATE = 48000
CHANNELS = 2
FRAME_BYTES = 2 * CHANNELS
IDLE_TIMEOUT_S = 30.0
"""How long to wait for the next message before giving up on the server."""


def parse_prompt(value: str) -> tuple[str, float]:
    """``"text:weight"`` → ``(text, weight)``; without a numeric ``:weight`` the weight is 1."""
    text, sep, tail = value.rpartition(":")
    if sep:
        try:
            return text.strip(), float(tail)
        except ValueError:
            pass
    return value.strip(), 1.0


def _config(args: argparse.Namespace) -> dict[str, Any]:
    config: dict[str, Any] = {
        "bpm": args.bpm,
        "scale": args.scale.upper() if args.scale else None,
        "density": args.density,
        "brightness": args.brightness,
        "seed": args.seed,
    }
    return {key: value for key, value in config.items() if value is not None}


class _Speaker:
    """Live playback through ``sounddevice`` where an output device exists."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.queue: queue.Queue[bytes] = queue.Queue()
        self.pending = bytearray()

    @classmethod
    def open(cls) -> _Speaker | None:
        """A started speaker, or None where there is no playback device."""
        try:
            import sounddevice as sd  # type: ignore[import-not-found,unused-ignore]

            sd.query_devices(kind="output")
        except Exception:  # no module, no PortAudio or no device: just write the file
            return None
        speaker = cls(None)

        def fill(data: Any, frames: int, when: Any, status: Any) -> None:
            need = len(data)
            while len(speaker.pending) < need and not speaker.queue.empty():
                speaker.pending.extend(speaker.queue.get_nowait())
            data[:] = bytes(speaker.pending[:need]).ljust(need, b"\0")
            del speaker.pending[:need]

        try:
            stream = sd.RawOutputStream(
                samplerate=RATE, channels=CHANNELS, dtype="int16", blocksize=4800, callback=fill
            )
            stream.start()
        except Exception:
            return None
        speaker.stream = stream
        return speaker

    def play(self, pcm: bytes) -> None:
        self.queue.put(pcm)

    async def drain(self) -> None:
        """Wait until what was queued has played."""
        while not self.queue.empty() or self.pending:
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.1)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.stream.stop()
            self.stream.close()


def _progress(done: float, total: float) -> None:
    sys.stderr.write(f"\rrendering: {done:5.1f} / {total:.1f} s")
    sys.stderr.flush()


async def _render(
    session: AsyncMusicSession,
    pcm: bytearray,
    total_bytes: int,
    seconds: float,
    speaker: _Speaker | None,
) -> None:
    """Add the stream's audio to ``pcm`` until it holds ``total_bytes``."""
    stream = session.receive()
    while len(pcm) < total_bytes:
        try:
            message = await asyncio.wait_for(anext(stream), IDLE_TIMEOUT_S)
        except StopAsyncIteration:
            break
        except TimeoutError:
            print(f"\nopenlive music: no music for {IDLE_TIMEOUT_S:g} s", file=sys.stderr)
            break
        if message.filtered_prompt is not None:
            fp = message.filtered_prompt
            print(f"\nprompt {fp.text!r} filtered: {fp.filtered_reason}", file=sys.stderr)
        if message.warning:
            print(f"\nwarning: {message.warning}", file=sys.stderr)
        audio = message.audio[: total_bytes - len(pcm)]
        if audio:
            pcm.extend(audio)
            if speaker is not None:
                speaker.play(audio)
            _progress(len(pcm) / (RATE * FRAME_BYTES), seconds)


def _write(path: str, pcm: bytes) -> None:
    with wave.open(path, "wb") as wav:
        wav.setnchannels(CHANNELS)
        wav.setsampwidth(2)
        wav.setframerate(RATE)
        wav.writeframes(pcm)


async def _music(args: argparse.Namespace) -> int:
    prompts = [(args.text, 1.0), *(parse_prompt(p) for p in args.prompt)]
    client = Client(base_url=args.url, api_key=args.api_key, ssl=ssl.create_default_context())
    total_bytes = round(args.seconds * RATE) * FRAME_BYTES
    folder = Path(args.output).resolve().parent
    if not folder.is_dir():
        print(f"openlive music: --output: no folder {folder}", file=sys.stderr)
        return 2
    pcm = bytearray()
    interrupted = False
    speaker = None if args.no_play else _Speaker.open()
    try:
        async with client.aio.live.music.connect(model=args.model) as session:
            shown = ", ".join(f"{t!r}:{w:g}" for t, w in prompts)
            where = "the speaker and " if speaker is not None else ""
            print(f"playing {shown} to {where}{args.output}", file=sys.stderr)
            config = _config(args)
            if config:
                await session.set_music_generation_config(config=config)
            await session.set_weighted_prompts(prompts=prompts)
            await session.play()
            _progress(0.0, args.seconds)
            try:
                await _render(session, pcm, total_bytes, args.seconds, speaker)
            except asyncio.CancelledError:  # Ctrl-C: keep what has arrived
                interrupted = True
            finally:
                sys.stderr.write("\n")
            if speaker is not None and not interrupted:
                await speaker.drain()
    finally:
        if speaker is not None:
            speaker.close()
    _write(args.output, bytes(pcm))
    got = len(pcm) / (RATE * FRAME_BYTES)
    stopped = "stopped; " if interrupted else ""
    print(f"{stopped}saved {got:.1f} s of 48 kHz stereo audio to {args.output}", file=sys.stderr)
    return 0 if pcm else 1


def music_command(args: argparse.Namespace) -> int:
    if not args.seconds > 0:
        print(f"openlive music: --seconds must be above 0, not {args.seconds:g}", file=sys.stderr)
        return 2
    try:
        return asyncio.run(_music(args))
    except LiveConnectionClosed as exc:
        hint = " (is `openlive serve` running? set --url)" if exc.code == 1006 else ""
        print(f"openlive music: session closed: {exc.code} {exc.reason}{hint}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"openlive music: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
