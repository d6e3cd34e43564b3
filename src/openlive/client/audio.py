"""SDK audio helpers: send a WAV/PCM stream at real-time pace, collect the spoken reply."""

from __future__ import annotations

import asyncio
import importlib.util
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..audio.rates import OUTPUT_RATE, SPEECH_RATE
from ..types import ServerMessage

if TYPE_CHECKING:
    from ..audio.pcm import Floats

__all__ = ["AudioCollector", "pcm_chunks", "send_audio"]

# numpy (and soxr, to resample) come with the `audio` extra, not with a plain install: the SDK
# imports without them and only these helpers, when called, need them.
_AUDIO_EXTRA_HINT = "needs numpy and soxr: pip install 'openlive[audio]'"


def _require_numpy(what: str) -> None:
    if importlib.util.find_spec("numpy") is None:
        raise ModuleNotFoundError(f"{what} {_AUDIO_EXTRA_HINT}", name="numpy")


def pcm_chunks(
    source: str | Path | bytes | Floats, rate: int = SPEECH_RATE, chunk_ms: int = 100
) -> Iterator[bytes]:
    """16 kHz PCM16 chunks of ``chunk_ms`` from a WAV path, raw PCM16 bytes at ``rate``, or
    float samples at ``rate``."""
    _require_numpy("pcm_chunks")
    from ..audio.pcm import float_to_pcm16, pcm16_to_float, read_wav, resample

    if isinstance(source, str | Path):
        samples, rate = read_wav(source)
    elif isinstance(source, bytes):
        samples = pcm16_to_float(source)
    else:
        samples = source
    pcm = float_to_pcm16(resample(samples, rate, SPEECH_RATE))
    step = SPEECH_RATE * chunk_ms // 1000 * 2
    for i in range(0, len(pcm), step):
        yield pcm[i : i + step]


async def send_audio(
    session: Any,
    source: str | Path | bytes | Floats,
    *,
    rate: int = SPEECH_RATE,
    chunk_ms: int = 100,
    realtime: bool = True,
    trailing_silence_ms: int = 0,
) -> float:
    """Stream audio as ``realtimeInput.audio`` chunks, paced like a microphone when
    ``realtime``; then ``trailing_silence_ms`` of silence (lets the server hear the end of
    speech). Returns the monotonic time at which the last non-silent chunk was sent."""
    started = time.monotonic()
    sent = 0.0
    end_of_speech = started
    chunks = list(pcm_chunks(source, rate, chunk_ms))
    silence = [bytes(SPEECH_RATE * chunk_ms // 1000 * 2)] * (trailing_silence_ms // chunk_ms)
    for i, chunk in enumerate([*chunks, *silence]):
        if realtime:
            delay = started + sent - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
        await session.send_realtime_input(
            audio={"data": chunk, "mime_type": f"audio/pcm;rate={SPEECH_RATE}"}
        )
        sent += len(chunk) / 2 / SPEECH_RATE
        if i == len(chunks) - 1:
            end_of_speech = time.monotonic()
    return end_of_speech


class AudioCollector:
    """Gathers the reply audio and transcripts of a session's messages."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.input_transcript: list[str] = []
        self.output_transcript: list[str] = []
        self.text: list[str] = []
        self.first_audio_at: float | None = None
        self.interrupted = False

    def add(self, message: ServerMessage) -> None:
        sc = message.server_content
        if sc is None:
            return
        if sc.model_turn is not None:
            for part in sc.model_turn.parts:
                blob = part.inline_data
                if blob is not None and (blob.mime_type or "").startswith("audio/"):
                    if self.first_audio_at is None:
                        self.first_audio_at = time.monotonic()
                    self.chunks.append(blob.data)
                elif part.text and not part.thought:
                    self.text.append(part.text)
        if sc.input_transcription is not None and sc.input_transcription.text:
            self.input_transcript.append(sc.input_transcription.text)
        if sc.output_transcription is not None and sc.output_transcription.text:
            self.output_transcript.append(sc.output_transcription.text)
        if sc.interrupted:
            self.interrupted = True

    @property
    def pcm(self) -> bytes:
        return b"".join(self.chunks)

    @property
    def seconds(self) -> float:
        return len(self.pcm) / 2 / OUTPUT_RATE

    def samples(self) -> Floats:
        _require_numpy("AudioCollector.samples")
        from ..audio.pcm import pcm16_to_float

        return pcm16_to_float(self.pcm)

    def save(self, path: str | Path) -> None:
        _require_numpy("AudioCollector.save")
        from ..audio.pcm import write_wav

        write_wav(path, self.pcm, OUTPUT_RATE)

    async def collect_turn(self, session: Any) -> AudioCollector:
        """Add messages from ``session.receive()`` until the turn completes."""
        async for message in session.receive():
            self.add(message)
        return self
