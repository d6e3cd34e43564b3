"""Speech recognition: word error rate and latency of Whisper base (int8) and Moonshine base-en.

``python -m benchmarks.asr_eval [--quick]``

The audio is made at run time: short utterances (1-5 s: numbers, names, questions) spoken by
several espeak-ng voices (accents, pitches, speeds) and a few by the project's Piper voice,
resampled to 16 kHz. Every recognizer hears every utterance once, interleaved utterance by
utterance so background load on the machine hits them alike, after one warm-up call each.

Word error rate is computed after normalizing both sides: lower case, no punctuation, numbers
written as words ("5:30" -> "five thirty", "3rd" -> "third", "2024" -> "two thousand twenty
four"), "and" dropped inside a number, hyphens as spaces. Latency is the wall time of one
``transcribe(samples, "en")`` call (what the voice path waits for after the utterance's end).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from openlive.audio import SPEECH_RATE, read_wav, resample
from openlive.audio.pcm import OUTPUT_RATE, Floats
from openlive.models.speech.asr import AsrBackend, WhisperAsr

from ._common import percentile
from ._moonshine import MoonshineAsr

TEXTS = [
    "What is the capital of France?",
    "Call me at 5:30 on March 3rd.",
    "Hello Maria, how are you today?",
    "Set a timer for 15 minutes.",
    "How far is the moon from the earth?",
    "My flight leaves at 7:45 tomorrow morning.",
    "Can you tell me a joke about cats?",
    "Please send 250 dollars to David.",
    "What's the weather like in London this weekend?",
    "Remind me to call John on Friday.",
    "Turn off the lights in the kitchen.",
    "Who wrote the novel Pride and Prejudice?",
    "The meeting moved to room 42.",
    "Add eggs, milk and bread to my shopping list.",
    "How many people live in Tokyo?",
    "Book a table for 4 at 8 o'clock.",
    "Is it going to rain in Berlin on Sunday?",
    "Translate good morning into Spanish.",
    "What happened in the year 1969?",
    "Play some jazz music, please.",
    "Thank you, that was very helpful.",
    "Why is the sky blue?",
    "Sarah and Michael are coming to dinner at 6.",
    "Spell the word necessary.",
    "What is 12 times 8?",
    "I was born on the 21st of July.",
]
ESPEAK_VOICES = [
    ("en-us", 160, 50),
    ("en-gb+f3", 150, 60),
    ("en-us+m3", 170, 45),
    ("en-gb-x-rp+f2", 145, 55),
    ("en-us+f4", 175, 65),
    ("en-gb-scotland+m2", 150, 40),
    ("en-029", 155, 50),
]
PIPER_TEXTS = [
    "What is the capital of France?",
    "Call me at 5:30 on March 3rd.",
    "Who wrote the novel Pride and Prejudice?",
    "Please send 250 dollars to David.",
    "Is it going to rain in Berlin on Sunday?",
]


@dataclass
class Utterance:
    text: str
    voice: str
    samples: Floats

    @property
    def seconds(self) -> float:
        return self.samples.size / SPEECH_RATE


def espeak(text: str, voice: str, speed: int, pitch: int) -> Floats:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "speech.wav"
        subprocess.run(
            ["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "-w", str(out), text],
            check=True,
            capture_output=True,
            timeout=30,
        )
        samples, rate = read_wav(out)
    return resample(samples, rate, SPEECH_RATE)


def make_audio(quick: bool) -> list[Utterance]:
    from openlive.models.speech.tts import PiperTts

    texts = TEXTS[:8] if quick else TEXTS
    utterances = [
        Utterance(text, f"espeak {voice}", espeak(text, voice, speed, pitch))
        for i, text in enumerate(texts)
        for voice, speed, pitch in [ESPEAK_VOICES[i % len(ESPEAK_VOICES)]]
    ]
    piper = PiperTts(threads=1)
    for text in PIPER_TEXTS[:2] if quick else PIPER_TEXTS:
        audio = resample(piper.synthesize(text), OUTPUT_RATE, SPEECH_RATE)
        utterances.append(Utterance(text, "piper joe", audio))
    return utterances


# --- normalization and word error rate ------------------------------------------------------

_ONES = [
    *("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"),
    *("eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen"),
    *("eighteen", "nineteen"),
]
_TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_ORDINAL = {
    "one": "first",
    "two": "second",
    "three": "third",
    "five": "fifth",
    "eight": "eighth",
    "nine": "ninth",
    "twelve": "twelfth",
}
_NUMBER_WORDS = set(_ONES) | set(_TENS[2:]) | {"hundred", "thousand", "million"}


def number_words(n: int) -> str:
    if n < 20:
        return _ONES[n]
    if n < 100:
        return _TENS[n // 10] + ("" if n % 10 == 0 else " " + _ONES[n % 10])
    if n < 1000:
        rest = "" if n % 100 == 0 else " " + number_words(n % 100)
        return _ONES[n // 100] + " hundred" + rest
    if n < 1_000_000:
        rest = "" if n % 1000 == 0 else " " + number_words(n % 1000)
        return number_words(n // 1000) + " thousand" + rest
    return " ".join(_ONES[int(d)] for d in str(n))


def ordinal_words(n: int) -> str:
    words = number_words(n).split()
    last = words[-1]
    if last in _ORDINAL:
        words[-1] = _ORDINAL[last]
    elif last.endswith("y"):
        words[-1] = last[:-1] + "ieth"
    else:
        words[-1] = last + "th"
    return " ".join(words)


def _year(n: int) -> str:
    if 1100 <= n < 2000 and n % 100:
        return f"{number_words(n // 100)} {number_words(n % 100)}"
    return number_words(n)


def normalize(text: str) -> list[str]:
    text = text.lower().replace("\u2019", "'")
    text = re.sub(r"\$(\d+)", r"\1 dollars", text)
    text = re.sub(r"(\d+)%", r"\1 percent", text)
    text = re.sub(
        r"\b(\d{1,2})[:.](\d{2})\b",
        lambda m: (
            number_words(int(m.group(1)))
            + ("" if m.group(2) == "00" else " " + number_words(int(m.group(2))))
        ),
        text,
    )
    text = re.sub(r"\b(\d+)(st|nd|rd|th)\b", lambda m: ordinal_words(int(m.group(1))), text)
    text = re.sub(r"\b(\d{4})\b", lambda m: _year(int(m.group(1))), text)
    text = re.sub(r"(\d+),(\d{3})\b", r"\1\2", text)
    text = re.sub(r"\b\d+\b", lambda m: number_words(int(m.group(0))), text)
    text = text.replace("o'clock", "").replace("-", " ")
    text = text.replace("what's", "what is")
    words = re.sub(r"[^a-z' ]+", " ", text).replace("'", "").split()
    kept = [
        w
        for i, w in enumerate(words)
        if not (
            w == "and"
            and 0 < i < len(words) - 1
            and words[i - 1] in _NUMBER_WORDS
            and words[i + 1] in _NUMBER_WORDS
        )
    ]
    return kept


def edit_distance(ref: list[str], hyp: list[str]) -> int:
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        prev, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (r != h))
    return row[-1]


# --- the run --------------------------------------------------------------------------------


@dataclass
class Result:
    name: str
    errors: int = 0
    words: int = 0
    wrong: int = 0
    """Utterances with at least one word error."""
    latencies: list[float] | None = None
    rtf: list[float] | None = None


def as_served(utterances: list[Utterance]) -> list[Utterance]:
    """Each utterance as the server hands it to recognition: its words trimmed, 300 ms of
    prefix padding before and the 100 ms of silence a speculative recognition sees after,
    over a faint room noise (-54 dBFS)."""
    rng = np.random.default_rng(3)
    out = []
    for u in utterances:
        loud = np.flatnonzero(np.abs(u.samples) > 0.01)
        words = u.samples[loud[0] : loud[-1] + 1] if loud.size else u.samples
        lead = np.zeros(int(0.3 * SPEECH_RATE), np.float32)
        trail = np.zeros(int(0.1 * SPEECH_RATE), np.float32)
        audio = np.concatenate([lead, words, trail]).astype(np.float32)
        audio += rng.normal(0, 10 ** (-54 / 20), audio.size).astype(np.float32)
        out.append(Utterance(u.text, u.voice, audio))
    return out


def run(quick: bool, shipped: bool, served: bool = False, whisper_only: bool = False) -> None:
    utterances = make_audio(quick)
    if served:
        utterances = as_served(utterances)
    seconds = [u.seconds for u in utterances]
    print(
        f"{len(utterances)} utterances, {min(seconds):.1f}-{max(seconds):.1f} s "
        f"(median {percentile(seconds, 50):.1f} s)"
    )
    recognizers: list[tuple[str, Callable[[], AsrBackend]]] = [
        ("Whisper base int8, 1 thread", lambda: WhisperAsr(threads=1)),
        ("Whisper base int8, 2 threads", lambda: WhisperAsr(threads=2)),
        ("Moonshine base-en, 1 thread", lambda: MoonshineAsr(threads=1)),
        ("Moonshine base-en, 2 threads", lambda: MoonshineAsr(threads=2)),
    ]
    if whisper_only:
        recognizers = [r for r in recognizers if r[0].startswith("Whisper")]
    if shipped:
        recognizers.append(("Moonshine base-en as shipped (.ort), 2 threads", lambda: _shipped(2)))
    backends: list[tuple[Result, AsrBackend]] = []
    for name, make in recognizers:
        backend = make()
        started = time.perf_counter()
        backend.transcribe(utterances[0].samples, "en")  # loads, and warms up
        print(f"{name}: loaded and warmed up in {time.perf_counter() - started:.1f} s")
        backends.append((Result(name, latencies=[], rtf=[]), backend))
    mistakes: dict[str, list[str]] = {r.name: [] for r, _ in backends}
    for u in utterances:
        ref = normalize(u.text)
        for result, backend in backends:
            started = time.perf_counter()
            text = backend.transcribe(u.samples, "en")
            elapsed = time.perf_counter() - started
            assert result.latencies is not None and result.rtf is not None
            result.latencies.append(elapsed)
            result.rtf.append(elapsed / u.seconds)
            errors = edit_distance(ref, normalize(text))
            result.errors += errors
            result.words += len(ref)
            if errors:
                result.wrong += 1
                mistakes[result.name].append(f"  [{u.voice}] {u.text!r} -> {text!r}")
    for _, backend in backends:
        backend.close()
    print()
    print("| recognizer | WER | utterances with an error | latency p50 ms | p95 ms | RTF p50 |")
    print("|---|---|---|---|---|---|")
    for result, _ in backends:
        assert result.latencies is not None and result.rtf is not None
        print(
            f"| {result.name} | {100 * result.errors / result.words:.1f}% "
            f"({result.errors}/{result.words} words) | {result.wrong}/{len(utterances)} "
            f"| {1000 * percentile(result.latencies, 50):.0f} "
            f"| {1000 * percentile(result.latencies, 95):.0f} "
            f"| {percentile(result.rtf, 50):.3f} |"
        )
    print()
    for name, lines in mistakes.items():
        if lines and "as shipped" not in name:
            print(f"{name}:")
            print("\n".join(lines))


def _shipped(threads: int) -> AsrBackend:
    return MoonshineAsr(threads=threads, fold=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10 utterances instead of 31")
    parser.add_argument(
        "--shipped",
        action="store_true",
        help="also run Moonshine's .ort files as shipped (int8 weights dequantized every call)",
    )
    parser.add_argument(
        "--as-served",
        action="store_true",
        help="300 ms of padding before, 100 ms of silence after, faint noise (what the server "
        "recognizes)",
    )
    parser.add_argument("--whisper-only", action="store_true", help="skip Moonshine")
    args = parser.parse_args()
    np.seterr(all="ignore")
    run(args.quick, args.shipped, args.as_served, args.whisper_only)


if __name__ == "__main__":
    main()
