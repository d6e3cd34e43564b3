"""Media fed to Chromium's fake capture devices in the console tests: a spoken question for the
microphone (a WAV, espeak-ng's voice, not the server's) and a screen for the camera (a Y4M
file, the raw video format Chromium's fake video capture reads)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from openlive.audio import SPEECH_RATE, write_wav

from ..speech import espeak

__all__ = ["question_wav", "screen_y4m"]


def question_wav(path: Path, text: str, voice: str = "en-us+m3") -> Path:
    """``text`` spoken by espeak-ng, with half a second of silence before it and three after
    (the fake microphone plays the file once, from when capture starts)."""
    speech = espeak(text, voice, 160)
    silence = np.zeros(SPEECH_RATE // 2, dtype=np.float32)
    tail = np.zeros(3 * SPEECH_RATE, dtype=np.float32)
    write_wav(path, np.concatenate([silence, speech, tail]), SPEECH_RATE)
    return path


def screen_y4m(path: Path, image: Image.Image, frames: int = 2) -> Path:
    """``image`` as a Y4M video of a few identical frames (4:2:0, full range), which the fake
    camera plays in a loop."""
    width, height = image.size
    width, height = width - width % 2, height - height % 2
    ycbcr = np.asarray(image.convert("RGB").crop((0, 0, width, height)).convert("YCbCr"))
    y = ycbcr[:, :, 0]
    cb = ycbcr[::2, ::2, 1]
    cr = ycbcr[::2, ::2, 2]
    frame = b"FRAME\n" + y.tobytes() + cb.tobytes() + cr.tobytes()
    header = f"YUV4MPEG2 W{width} H{height} F1:1 Ip A1:1 C420jpeg\n".encode()
    path.write_bytes(header + frame * frames)
    return path
