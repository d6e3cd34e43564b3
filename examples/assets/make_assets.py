"""Re-create the examples' input files (they are shipped, so this is only needed to change them).

* ``question.wav``: "What is the capital of France?" spoken by espeak-ng (a voice other than
  the server's Piper voice), 16 kHz mono PCM16: the spoken question of 02_audio.
* ``coffee.wav``: "I would like a cup of coffee with milk.", the same way: the
  English speech that 09_translation turns into Spanish.
* ``error_dialog.png``: a 960x540 screenshot of an error dialog, drawn with Pillow and the DejaVu
  fonts: the shared screen of 04_screen_sharing.

Run: ``.venv/bin/python examples/assets/make_assets.py`` (needs the ``espeak-ng`` program, numpy,
soxr and Pillow, all installed by ``scripts/install.sh``).
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from openlive.audio import SPEECH_RATE, read_wav, resample, write_wav

HERE = Path(__file__).resolve().parent
FONTS = Path("/usr/share/fonts/truetype/dejavu")


def speak(text: str, path: Path, voice: str = "en-us", speed: int = 155) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "speech.wav"
        subprocess.run(
            ["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(raw), text], check=True
        )
        samples, rate = read_wav(raw)
    write_wav(path, resample(samples, rate, SPEECH_RATE), SPEECH_RATE)


def error_dialog(path: Path) -> None:
    image = Image.new("RGB", (960, 540), (30, 80, 160))  # a blue desktop
    draw = ImageDraw.Draw(image)
    bold = ImageFont.truetype(str(FONTS / "DejaVuSans-Bold.ttf"), 26)
    regular = ImageFont.truetype(str(FONTS / "DejaVuSans.ttf"), 24)
    draw.rectangle((180, 140, 780, 400), fill=(245, 245, 245), outline=(90, 90, 90), width=2)
    draw.rectangle((180, 140, 780, 190), fill=(200, 40, 40))  # the title bar
    draw.text((200, 150), "Application Error", font=bold, fill=(255, 255, 255))
    draw.text((210, 230), "Error: File not found: report.pdf", font=regular, fill=(20, 20, 20))
    draw.text((210, 270), "It may have been moved or deleted.", font=regular, fill=(20, 20, 20))
    draw.rectangle((650, 340, 760, 385), fill=(220, 220, 220), outline=(90, 90, 90), width=2)
    draw.text((688, 348), "OK", font=bold, fill=(20, 20, 20))
    image.save(path, optimize=True)


if __name__ == "__main__":
    speak("What is the capital of France?", HERE / "question.wav")
    speak("I would like a cup of coffee with milk.", HERE / "coffee.wav")
    error_dialog(HERE / "error_dialog.png")
    for name in ("question.wav", "coffee.wav", "error_dialog.png"):
        print(f"{name}: {(HERE / name).stat().st_size} bytes")
