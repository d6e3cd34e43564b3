"""``openlive talk``: a voice conversation from the terminal.

From a WAV file to a WAV file (``--input question.wav --output answer.wav``), or live with the
microphone and speaker when the machine has them (``sounddevice`` and PortAudio). Transcripts
print as they arrive. ``--screen [FPS]`` shares the screen beside the voice, FPS frames a second
(default 1); where there is no screen to capture the command says so and exits 2.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import queue
import ssl
import sys
from typing import Any

from ..client import AsyncSession, AudioCollector, Client, NoScreenError, grab_screen, send_audio
from ..errors import LiveConnectionClosed
from ..types import ServerMessage

__all__ = ["talk_command"]


def _config(args: argparse.Namespace) -> dict[str, Any]:
    modalities = ["TEXT", "AUDIO"] if args.text else ["AUDIO"]
    config: dict[str, Any] = {
        "response_modalities": modalities,
        "input_audio_transcription": {},
        "output_audio_transcription": {},
    }
    speech: dict[str, Any] = {}
    if args.voice:
        speech["voice_config"] = {"prebuilt_voice_config": {"voice_name": args.voice}}
    if args.language:
        speech["language_code"] = args.language
    if speech:
        config["speech_config"] = speech
    if args.system:
        config["system_instruction"] = args.system
    return config


def _show(message: ServerMessage, out: AudioCollector) -> None:
    before = (len(out.input_transcript), len(out.output_transcript))
    out.add(message)
    if len(out.input_transcript) > before[0]:
        print(f"you>   {out.input_transcript[-1]}", flush=True)
    if len(out.output_transcript) > before[1]:
        print(f"model> {out.output_transcript[-1]}", flush=True)
    sc = message.server_content
    if sc is not None and sc.interrupted:
        print("model> [interrupted]", flush=True)


async def _share_screen(session: AsyncSession, fps: float) -> None:
    """Stream the screen until cancelled; a screen that goes away is reported, not raised."""
    try:
        await session.stream_frames("screen", fps)
    except NoScreenError as exc:
        print(f"openlive talk: screen sharing stopped: {exc}", file=sys.stderr)
    except LiveConnectionClosed:
        pass  # the conversation reports the close


def _start_screen(args: argparse.Namespace, session: AsyncSession) -> asyncio.Task[None] | None:
    if args.screen is None:
        return None
    print(f"sharing the screen, {args.screen:g} frames a second", file=sys.stderr)
    return asyncio.create_task(_share_screen(session, args.screen), name="openlive-screen")


async def _stop(task: asyncio.Task[None] | None) -> None:
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _from_file(args: argparse.Namespace, client: Client) -> int:
    out = AudioCollector()
    async with client.aio.live.connect(model=args.model, config=_config(args)) as session:
        screen = _start_screen(args, session)
        try:
            sender = asyncio.create_task(
                send_audio(session, args.input, realtime=not args.fast, trailing_silence_ms=1500)
            )
            async for message in session.receive():
                _show(message, out)
            await sender
        finally:
            await _stop(screen)
    out.save(args.output)
    print(f"saved {out.seconds:.1f} s of reply audio to {args.output}", file=sys.stderr)
    return 0 if out.chunks else 1


async def _live(args: argparse.Namespace, client: Client) -> int:
    try:
        import numpy as np
        import sounddevice as sd  # type: ignore[import-not-found,unused-ignore]
    except (ImportError, OSError) as exc:
        print(
            f"openlive talk: no microphone support here ({exc}); install sounddevice and "
            "PortAudio, or use --input question.wav --output answer.wav",
            file=sys.stderr,
        )
        return 2
    try:
        sd.query_devices(kind="input")
        sd.query_devices(kind="output")
    except Exception as exc:
        print(f"openlive talk: no sound device ({exc}); use --input/--output", file=sys.stderr)
        return 2
    loop = asyncio.get_running_loop()
    mic: asyncio.Queue[bytes] = asyncio.Queue()
    speaker: queue.Queue[bytes] = queue.Queue()
    pending = bytearray()

    def on_mic(data: Any, frames: int, when: Any, status: Any) -> None:
        loop.call_soon_threadsafe(mic.put_nowait, bytes(data))

    def on_speaker(data: Any, frames: int, when: Any, status: Any) -> None:
        need = len(data)
        while len(pending) < need and not speaker.empty():
            pending.extend(speaker.get_nowait())
        chunk = bytes(pending[:need]).ljust(need, b"\0")
        del pending[:need]
        data[:] = chunk

    out = AudioCollector()
    async with client.aio.live.connect(model=args.model, config=_config(args)) as session:
        print("listening; Ctrl-C to stop", file=sys.stderr)

        async def send() -> None:
            while True:
                await session.send_realtime_input(
                    audio={"data": await mic.get(), "mime_type": "audio/pcm;rate=16000"}
                )

        sender = asyncio.create_task(send())
        with (
            sd.RawInputStream(
                samplerate=16000, channels=1, dtype="int16", blocksize=1600, callback=on_mic
            ),
            sd.RawOutputStream(
                samplerate=24000, channels=1, dtype="int16", blocksize=2400, callback=on_speaker
            ),
        ):
            screen = _start_screen(args, session)
            try:
                async for message in session.stream():
                    _show(message, out)
                    data = message.data
                    if data:
                        speaker.put(data)
                    sc = message.server_content
                    if sc is not None and sc.interrupted:  # stop playing the old reply
                        while not speaker.empty():
                            speaker.get_nowait()
                        pending.clear()
            finally:
                sender.cancel()
                await _stop(screen)
    del np
    return 0


def talk_command(args: argparse.Namespace) -> int:
    missing = [m for m in ("numpy", "soxr") if importlib.util.find_spec(m) is None]
    if missing:
        print(
            f"openlive talk needs numpy and soxr ({', '.join(missing)} missing); "
            "install the audio extra: pip install 'openlive[audio]'",
            file=sys.stderr,
        )
        return 2
    screen = getattr(args, "screen", None)
    if screen is not None:
        if not screen > 0:
            print(f"openlive talk: --screen takes a rate above 0, not {screen:g}", file=sys.stderr)
            return 2
        try:
            grab_screen()  # fail here, clearly, rather than mid-conversation
        except NoScreenError as exc:
            print(f"openlive talk: --screen: {exc}", file=sys.stderr)
            return 2
    client = Client(base_url=args.url, api_key=args.api_key, ssl=ssl.create_default_context())
    try:
        if args.input:
            return asyncio.run(_from_file(args, client))
        return asyncio.run(_live(args, client))
    except LiveConnectionClosed as exc:
        hint = " (is `openlive serve` running? set --url)" if exc.code == 1006 else ""
        print(f"openlive talk: session closed: {exc.code} {exc.reason}{hint}", file=sys.stderr)
        return 1
    except FileNotFoundError as exc:
        print(f"openlive talk: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0
