"""End of turn: fixed silence against silence plus the smart-turn model, on speech with pauses.

Utterances are spoken by espeak-ng voices the server does not use (several voices, pitches and
speeds; the server speaks with Piper "joe"), generated at run time, 16 kHz, with 0.5 s of
silence before, ~2 s after, and a faint noise floor (-70 dBFS) throughout:

* complete: questions and statements that end, three of them two sentences long (the pause
  between the sentences is not the end of the turn);
* paused: the same kinds of sentence with real silence (600-1200 ms, espeak-ng's SSML
  ``<break>``, so the words before it keep their mid-sentence intonation) inside a clause:
  "I'd like to book a table for … four people", "my number is five five five … one two three
  four", hesitations "so um … I think".

Each utterance goes through the real Silero VAD at real-time chunking (100 ms chunks, 32 ms
frames) and the project's ``Endpointer``, then through each rule:

* ``fixed N``: the turn ends after N ms of silence (the ``silenceDurationMs`` rule);
* ``S/T/C``: at S ms of silence ask smart-turn (the utterance from 300 ms before its start up
  to now); commit when p >= T, else ask again every 192 ms of further silence, and commit at C
  ms of silence whatever the model says. A commit waits for the model's answer: the call's CPU
  time is added (its latency on a free core; wall times on the shared machine are printed).
* ``+ text R``: as the server does, the utterance is also recognized R ms into each silence
  (Whisper base, the speculative transcript a reply is written from); a transcript that ends a
  sentence (``. ? !``, not ``...``, not after a word no sentence ends on) counts as
  "finished" too, once it is ready (its wall time on this machine is added) and the silence
  has reached the floor. ``(marks only)``: any final mark counts, the rule before.
* ``+ veto`` (the server's rule): a transcript that stops on a word no utterance ends on
  ("a table for") overrules the model's "finished" for that silence, and a "finished" waits
  for the transcript on its way.

Reported per rule: early cuts (a commit before the speaker's last word: inside a pause for the
paused set, anywhere before the end for the complete set), the wait from the true end of speech
(last sample of the synthesized words, so the VAD's hangover counts) to the commit on complete
utterances (and how many of those the cap ended), and the model's calls and CPU per utterance.

    python -m benchmarks.endpointing [--quick]
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from benchmarks._common import machine, percentile
from openlive.audio import SPEECH_RATE, read_wav, resample
from openlive.models.speech.asr import WhisperAsr
from openlive.models.speech.turn import SmartTurn
from openlive.models.speech.vad import FRAME, VadModel
from openlive.session.activity import (
    FRAME_MS,
    SEMANTIC_ASK_MS,
    SEMANTIC_CAP_MS,
    SEMANTIC_FLOOR_MS,
    SEMANTIC_THRESHOLD,
    ActivityChange,
    Endpointer,
    EndpointerSettings,
)
from openlive.session.listening import (
    SENTENCE_ENDS,
    SPECULATE_AFTER_MS,
    dangles,
    ends_sentence,
)

COMPLETE = [
    "What time does the museum open tomorrow?",
    "Can you book me a table for four people tonight?",
    "How far is the airport from the city centre?",
    "Is it going to rain this weekend?",
    "What is the capital of Australia?",
    "Could you remind me to call my sister at six?",
    "I'd like to book a table for four people.",
    "My phone number is five five five, one two three four.",
    "Please turn off the lights in the kitchen.",
    "I think we should leave before the traffic gets bad.",
    "That sounds great, thank you very much.",
    "The meeting has been moved to Thursday afternoon.",
    # two sentences: the pause between them is not the end (espeak-ng: 128-416 ms)
    "I have a question. What is the capital of Spain?",
    "Hi there. Can you tell me what time it is?",
    "Thanks. Now tell me a joke about cats.",
]

PAUSED = [
    "I'd like to book a table for | four people.",
    "My number is five five five | one two three four.",
    "So um | I think we should take the train.",
    "Can you tell me what time the | museum opens?",
    "I want to order a large pizza with | mushrooms and olives.",
    "The thing is | I'm not sure I can make it on Friday.",
    "Send a message to | my brother saying I'll be late.",
    "We could go to the beach or | maybe the mountains.",
    "What's the weather like in | San Francisco today?",
    "Well uh | I was wondering if you could help me with | my homework.",
    "My address is twenty two | Baker Street.",
    "I need to buy eggs, milk and | some bread.",
]
"""``|`` marks a pause."""

VOICES = [
    ("en-us", 150, 50),
    ("en-gb+f3", 170, 60),
    ("en-us+m3", 135, 40),
    ("en-gb-x-rp+f4", 185, 70),
    ("en-us+f2", 160, 55),
    ("en-gb-scotland+m1", 145, 45),
]
"""(voice, words per minute, pitch); never Piper's "joe", the server's own voice."""

PAUSES_MS = [600, 800, 1000, 1200]
LEAD_S, TRAIL_S = 0.5, 2.0
CHUNK = SPEECH_RATE // 10
REASK_FRAMES = EndpointerSettings().reask_ms // FRAME_MS  # 192 ms
PREFIX_FRAMES = EndpointerSettings().prefix_frames


@dataclass
class Utterance:
    text: str
    voice: str
    paused: bool
    audio: np.ndarray
    speech_end_ms: float
    vad: list[float] = field(default_factory=list)


def speak(ssml: str, voice: str, speed: int, pitch: int) -> np.ndarray:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "speech.wav"
        command = ["espeak-ng", "-m", "-v", voice, "-s", str(speed), "-p", str(pitch)]
        subprocess.run([*command, "-w", str(out), ssml], check=True, capture_output=True)
        samples, rate = read_wav(out)
    return resample(samples, rate, SPEECH_RATE).astype(np.float32)


def make_set(per_text: int, rng: np.random.Generator) -> list[Utterance]:
    out: list[Utterance] = []
    pauses = itertools.cycle(PAUSES_MS)
    for paused, texts in ((False, COMPLETE), (True, PAUSED)):
        for i, text in enumerate(texts):
            for k in range(per_text):
                voice, speed, pitch = VOICES[(i + 2 * k + paused) % len(VOICES)]
                pieces = [p.strip() for p in text.split("|")]
                ssml = f' <break time="{next(pauses)}ms"/> '.join(pieces)
                words = speak(f"<speak>{ssml}</speak>", voice, speed, pitch)
                loud = np.flatnonzero(np.abs(words) > 0.01)
                words = words[: loud[-1] + 1]
                lead = np.zeros(int(LEAD_S * SPEECH_RATE), dtype=np.float32)
                trail = np.zeros(int(TRAIL_S * SPEECH_RATE), dtype=np.float32)
                audio = np.concatenate([lead, words, trail])
                audio += rng.normal(0, 10 ** (-70 / 20), audio.size).astype(np.float32)
                end_ms = 1000 * (lead.size + words.size) / SPEECH_RATE
                out.append(Utterance(text, f"{voice} {speed}", paused, audio, end_ms))
    return out


def run_vad(model: VadModel, utterances: list[Utterance]) -> float:
    """Each utterance's per-frame speech probabilities, fed at real-time chunking; returns the
    VAD's CPU time per second of audio."""
    spent, heard = 0.0, 0.0
    for u in utterances:
        stream = model.stream()
        started = time.process_time()
        for at in range(0, u.audio.size, CHUNK):
            u.vad.extend(stream.probabilities(u.audio[at : at + CHUNK]))
        spent += time.process_time() - started
        heard += u.audio.size / SPEECH_RATE
    return spent / heard


class Oracle:
    """smart-turn's answers, memoized by (utterance, start frame, frame): the rules ask the same
    questions."""

    def __init__(self, model: SmartTurn) -> None:
        self.model = model
        self.answers: dict[tuple[int, int, int], tuple[float, float]] = {}
        self.wall: list[float] = []

    def ask(self, index: int, u: Utterance, start: int, frame: int) -> tuple[float, float]:
        """(probability, the call's CPU time in ms: its latency on a free core)."""
        key = (index, start, frame)
        if key not in self.answers:
            begin = max(0, start - PREFIX_FRAMES) * FRAME
            wall, cpu = time.perf_counter(), time.thread_time()
            p = self.model.probability(u.audio[begin : (frame + 1) * FRAME])
            self.answers[key] = (p, 1000 * (time.thread_time() - cpu))
            self.wall.append(1000 * (time.perf_counter() - wall))
        return self.answers[key]


class Transcripts:
    """Whisper base's transcripts of each utterance so far, memoized like :class:`Oracle`."""

    def __init__(self, model: WhisperAsr) -> None:
        self.model = model
        self.answers: dict[tuple[int, int, int], tuple[str, float]] = {}

    def ask(self, index: int, u: Utterance, start: int, frame: int) -> tuple[str, float]:
        """(text, the recognition's wall time in ms)."""
        key = (index, start, frame)
        if key not in self.answers:
            begin = max(0, start - PREFIX_FRAMES) * FRAME
            wall = time.perf_counter()
            text = self.model.transcribe(u.audio[begin : (frame + 1) * FRAME], "en")
            self.answers[key] = (text, 1000 * (time.perf_counter() - wall))
        return self.answers[key]


@dataclass(frozen=True)
class Rule:
    silence_ms: int
    """Fixed rule: the silence; semantic rule: the cap C."""
    ask_ms: int | None = None
    threshold: float = 0.5
    floor_ms: int = 0
    """The shortest silence a "finished" answer may end (the shipped rule has one)."""
    text_ms: int | None = None
    """Recognize this far into a silence; a transcript that ends a sentence ends the turn."""
    marks_only: bool = False
    """The transcript rule before: any final mark ends a sentence, even after "for" or "the"."""
    veto: bool = False
    """A transcript stopping on a word no utterance ends on ("a table for") overrules the
    model's "finished" (the cap still ends the turn)."""

    @property
    def name(self) -> str:
        if self.ask_ms is None:
            return f"fixed {self.silence_ms}"
        floor = f" floor {self.floor_ms}" if self.floor_ms else ""
        text = f" + text {self.text_ms}" if self.text_ms is not None else ""
        text += " (marks only)" if self.marks_only else ""
        text += " + veto" if self.veto else ""
        return f"smart {self.ask_ms}/{self.threshold:g}/{self.silence_ms}{floor}{text}"


@dataclass
class Outcome:
    commit_ms: float | None
    capped: bool = False
    calls: int = 0
    model_ms: float = 0.0
    recognitions: int = 0
    ended_by: str = ""
    """What ended the turn: "silence" (the fixed rule or the cap), "model" or "text"."""
    heard: str = ""
    """The last transcript taken in a silence."""


SHIPPED = Rule(
    SEMANTIC_CAP_MS,
    SEMANTIC_ASK_MS,
    SEMANTIC_THRESHOLD,
    SEMANTIC_FLOOR_MS,
    SPECULATE_AFTER_MS,
    veto=True,
)
"""The server's default rule (``EndpointerSettings`` with the semantic rule)."""


def marked(text: str) -> bool:
    """The transcript rule before the dangling-word check: a final mark, not an ellipsis."""
    text = text.rstrip()
    return text.endswith(SENTENCE_ENDS) and not text.endswith(("..", "\u2026"))


def simulate(
    rule: Rule, index: int, u: Utterance, oracle: Oracle, transcripts: Transcripts | None
) -> Outcome:
    ep = Endpointer(EndpointerSettings(silence_ms=rule.silence_ms))
    ask_frames = None if rule.ask_ms is None else -(-rule.ask_ms // FRAME_MS)
    text_frames = None if rule.text_ms is None else max(1, -(-rule.text_ms // FRAME_MS))
    out = Outcome(None)
    finished_voice = -1  # the model said "finished" at this last voiced frame
    text_at: tuple[int, float] | None = None  # (last voiced frame, when a final text is ready)
    veto_at: tuple[int, float] | None = None  # (last voiced frame, when a dangling text is ready)

    heard_at: tuple[int, float] | None = None  # (last voiced frame, when its text is ready)

    def vetoed(at_ms: float) -> bool:
        return veto_at is not None and veto_at[0] == ep.last_voice and at_ms >= veto_at[1]

    def pending(at_ms: float) -> bool:
        """With the veto (as the server does), the model's "finished" waits for the
        transcript on its way: the reply is written from it anyway."""
        return (
            rule.veto
            and heard_at is not None
            and heard_at[0] == ep.last_voice
            and at_ms < heard_at[1]
        )

    for frame, p in enumerate(u.vad):
        change = ep.push(p)
        if change is ActivityChange.ENDED:
            out.commit_ms = (frame + 1) * FRAME_MS
            out.capped = ask_frames is not None
            out.ended_by = "silence"
            return out
        if ask_frames is None or not ep.speaking:
            continue
        quiet = ep.silence_frames()
        now_ms = (frame + 1) * FRAME_MS
        if (
            finished_voice == ep.last_voice
            and quiet * FRAME_MS >= rule.floor_ms
            and not vetoed(now_ms)
            and not pending(now_ms)
        ):
            out.commit_ms = now_ms
            out.ended_by = "model"
            return out
        if text_frames is not None and transcripts is not None and quiet == text_frames:
            text, ms = transcripts.ask(index, u, ep.started_at, frame)
            out.recognitions += 1
            out.heard = text
            ends = marked(text) if rule.marks_only else ends_sentence(text)
            text_at = (ep.last_voice, now_ms + ms) if ends else None
            veto_at = (ep.last_voice, now_ms + ms) if rule.veto and dangles(text) else None
            heard_at = (ep.last_voice, now_ms + ms)
        if (
            text_at is not None
            and text_at[0] == ep.last_voice
            and quiet * FRAME_MS >= rule.floor_ms
            and now_ms >= text_at[1]
        ):
            out.commit_ms = now_ms
            out.ended_by = "text"
            return out
        if quiet >= ask_frames and (quiet - ask_frames) % REASK_FRAMES == 0:
            prob, ms = oracle.ask(index, u, ep.started_at, frame)
            out.calls += 1
            out.model_ms += ms
            if prob >= rule.threshold:
                done = now_ms + ms
                if quiet * FRAME_MS + ms >= rule.floor_ms and not (vetoed(done) or pending(done)):
                    out.commit_ms = now_ms + ms
                    out.ended_by = "model"
                    return out
                finished_voice = ep.last_voice
    return out


def row(rule: Rule, results: list[tuple[Utterance, Outcome]]) -> dict[str, float]:
    paused = [(u, o) for u, o in results if u.paused]
    complete = [(u, o) for u, o in results if not u.paused]

    def early(group: list[tuple[Utterance, Outcome]]) -> float:
        cut = [o for u, o in group if o.commit_ms is not None and o.commit_ms < u.speech_end_ms]
        return 100 * len(cut) / len(group)

    waits = [
        o.commit_ms - u.speech_end_ms
        for u, o in complete
        if o.commit_ms is not None and o.commit_ms >= u.speech_end_ms
    ]
    missed = sum(o.commit_ms is None for _, o in results)
    capped = [o.capped for u, o in complete if o.commit_ms and o.commit_ms >= u.speech_end_ms]
    return {
        "early_paused": early(paused),
        "early_complete": early(complete),
        "wait_mean": statistics.fmean(waits) if waits else float("nan"),
        "wait_p50": percentile(waits, 50),
        "wait_p95": percentile(waits, 95),
        "calls": statistics.fmean(o.calls for _, o in results),
        "model_ms": statistics.fmean(o.model_ms for _, o in results),
        "recognitions": statistics.fmean(o.recognitions for _, o in results),
        "capped": 100 * statistics.fmean(capped) if capped else 0.0,
        "missed": missed,
    }


def latency(model: SmartTurn, audio: np.ndarray, calls: int = 50) -> str:
    """p50/p95 of ``calls`` calls on an 8 s window: wall time, and CPU time (the wall time on a
    free core; on a shared machine the wall time also counts the wait for a core)."""
    for _ in range(3):
        model.probability(audio)
    wall, cpu = [], []
    for _ in range(calls):
        w, c = time.perf_counter(), time.thread_time()
        model.probability(audio)
        cpu.append(1000 * (time.thread_time() - c))
        wall.append(1000 * (time.perf_counter() - w))
    return (
        f"wall p50 {percentile(wall, 50):.0f} ms, p95 {percentile(wall, 95):.0f} ms; "
        f"CPU p50 {percentile(cpu, 50):.0f} ms, p95 {percentile(cpu, 95):.0f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="one voice per sentence")
    args = parser.parse_args()
    started = time.perf_counter()
    utterances = make_set(1 if args.quick else 3, np.random.default_rng(7))
    n_paused = sum(u.paused for u in utterances)
    vad_cost = run_vad(VadModel(), utterances)
    model = SmartTurn()
    cost = latency(model, utterances[0].audio[-8 * SPEECH_RATE :])
    oracle = Oracle(model)
    transcripts = Transcripts(WhisperAsr(threads=2))

    rules = [Rule(300), Rule(500), Rule(800)]
    rules += [
        Rule(cap, ask, threshold)
        for ask in (160, 200)
        for threshold in (0.5, 0.7, 0.8, 0.9)
        for cap in (800, 1200, 1500)
    ]
    rules += [Rule(1200, 160, threshold, 288) for threshold in (0.5, 0.8)]  # with a floor
    # with the speculative transcript as a second signal (threshold 1.01: the text alone)
    rules += [
        Rule(1200, 160, threshold, 288, text)
        for threshold in (0.8, 0.9, 0.95, 0.98, 1.01)
        for text in (64, 96, 160)
    ]
    # a longer floor: the pause between two sentences is often longer than a comma's
    rules += [
        Rule(1200, 160, threshold, floor, 64)
        for threshold in (0.95, 1.01)
        for floor in (352, 416, 480)
    ]
    # the transcript rule before the dangling-word check, beside the same rules with it
    rules += [
        Rule(1200, 160, threshold, floor, 64, marks_only=True)
        for threshold in (0.95, 1.01)
        for floor in (288, 416)
    ]
    # the transcript's dangling last word overruling the model
    rules += [
        Rule(1200, 160, threshold, floor, 64, veto=True)
        for threshold in (0.8, 0.9, 0.95)
        for floor in (288, 352, 416)
    ]
    if SHIPPED not in rules:
        rules.append(SHIPPED)
    outcomes = {
        r: [(u, simulate(r, i, u, oracle, transcripts)) for i, u in enumerate(utterances)]
        for r in rules
    }
    rows = {r: row(r, results) for r, results in outcomes.items()}
    asr = [ms for _, ms in transcripts.answers.values()]
    cpu = [ms for _, ms in oracle.answers.values()]

    print(f"# Endpointing ({machine()}, {time.perf_counter() - started:.0f} s)\n")
    print(
        f"{len(utterances) - n_paused} complete and {n_paused} paused utterances, "
        f"{len(VOICES)} espeak-ng voices; Silero VAD {1000 * vad_cost:.1f} ms CPU per s of audio"
    )
    print(f"smart-turn, one intra-op thread, 8 s window, 50 calls: {cost}")
    print(
        f"during the eval ({len(cpu)} calls): CPU p50 {percentile(cpu, 50):.0f} ms, "
        f"p95 {percentile(cpu, 95):.0f} ms; wall p50 {percentile(oracle.wall, 50):.0f} ms, "
        f"p95 {percentile(oracle.wall, 95):.0f} ms (a smart commit waits for the call's CPU time)"
    )
    print(
        f"Whisper base on the utterance so far ({len(asr)} calls): wall p50 "
        f"{percentile(asr, 50):.0f} ms, p95 {percentile(asr, 95):.0f} ms\n"
    )
    print(
        "| rule (S/T/C) | early cut, paused | early cut, complete | wait mean | wait p50 "
        "| wait p95 | ended by the cap | model calls / utt | model CPU / utt "
        "| recognitions / utt |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r, m in rows.items():
        capped = f"{m['capped']:.0f}%" if r.ask_ms else "-"
        print(
            f"| {r.name} | {m['early_paused']:.0f}% | {m['early_complete']:.0f}% "
            f"| {m['wait_mean']:.0f} ms | {m['wait_p50']:.0f} ms | {m['wait_p95']:.0f} ms "
            f"| {capped} | {m['calls']:.1f} "
            f"| {m['model_ms']:.0f} ms | {m['recognitions']:.1f} |"
            + (f" {m['missed']:.0f} missed" if m["missed"] else "")
        )
    smart = [r for r in rules if r.ask_ms is not None]
    frontier = [
        r
        for r in rules
        if not any(
            rows[o]["early_paused"] <= rows[r]["early_paused"]
            and rows[o]["wait_mean"] < rows[r]["wait_mean"]
            for o in rules
        )
    ]
    frontier.sort(key=lambda r: rows[r]["wait_mean"])
    print("\nno rule cuts less and waits less than: " + ", ".join(r.name for r in frontier))
    today = rows[Rule(500)]  # silenceDurationMs's default
    ceiling = today["wait_mean"] + FRAME_MS
    best = min(
        [r for r in smart if rows[r]["wait_mean"] <= ceiling] or smart,
        key=lambda r: (rows[r]["early_paused"], rows[r]["wait_mean"]),
    )
    print(
        f"fewest cuts of paused speech among smart rules waiting on average no longer than "
        f"today's fixed 500 ms (+ one frame, {ceiling:.0f} ms): "
        f"{best.name}"
    )
    print(f"\nearly cuts of the shipped rule, {SHIPPED.name} (what ended the turn; transcript):")
    for u, o in outcomes[SHIPPED]:
        if o.commit_ms is not None and o.commit_ms < u.speech_end_ms:
            kind = "paused" if u.paused else "complete"
            print(f"  {kind:8} {u.voice:18} {u.text!r}: {o.ended_by}; heard {o.heard!r}")


if __name__ == "__main__":
    main()
