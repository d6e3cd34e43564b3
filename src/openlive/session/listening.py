"""The listening half of a Live session: endpointing, utterances and their transcripts.

Voice activity probabilities (from the runtime's VAD) come in; decisions go out: where each
audio chunk is kept, when an utterance begins and ends, when to recognize speculatively (a
silence has begun and may hold) or for an interim transcript. Every utterance that ends is
owed exactly one final transcript, so no turn waits forever.
"""

from __future__ import annotations

import re

from .activity import FRAME_MS, ActivityChange, Endpointer, EndpointerSettings
from .events import (
    Action,
    BeginUtterance,
    CancelSpeculation,
    EndUtterance,
    RecognizePartial,
    ScoreTurn,
    Speculate,
    StoreAudio,
    TurnScore,
)
from .state import SessionState

__all__ = [
    "ENDS_AFTER",
    "MAX_UTTERANCE_S",
    "NEVER_LAST",
    "NOT_LAST_IN_STATEMENT",
    "PARTIAL_EVERY_S",
    "SPECULATE_AFTER_MS",
    "Listening",
    "dangles",
    "ends_sentence",
]

MAX_UTTERANCE_S = 28.0
"""A longer utterance is cut and recognized (Whisper reads at most 30 s)."""
PARTIAL_EVERY_S = 1.0
SPECULATE_AFTER_MS = 64
"""Recognition starts this long into a silence, before the turn is committed: when the
silence holds the finished transcript is used (the only audio since is silence); when speech
resumes it is thrown away. (The runtime holds it back to 160 ms while replies use the
compute: ``runtime.voice_in.BUSY_SPECULATION_DELAY_S``.)"""

SENTENCE_ENDS = (".", "?", "!", "\u3002", "\uff1f", "\uff01")
"""Marks a recognizer writes at the end of a sentence (also the CJK full-width ones)."""


NEVER_LAST = (
    frozenset({"a", "an", "the", "my", "your", "our", "their", "its", "every"})
    | frozenset({"and", "or", "but", "nor", "because", "than", "whether"})
    | frozenset({"um", "uh", "er", "erm", "uhm"})
)
"""English words a finished utterance does not end on, whatever mark a recognizer writes
after them: articles and possessives, conjunctions, hesitations ("I'd like a table for the."
is a pause, not an end)."""
NOT_LAST_IN_STATEMENT = frozenset({"for", "to", "with", "of", "at", "from", "about", "into"})
"""Prepositions that end a question now and then ("Where are you from?") but rarely a
statement: before ``.`` or ``!`` they mean the speaker paused mid-clause ("I'd like to book a
table for." is what a recognizer writes at the pause in "a table for... four people").
Particles that end commands ("turn it on", "log in", "switch it off") are not here."""
ENDS_AFTER = {
    "to": frozenset({"like", "love", "want", "need", "have", "has", "used", "going", "able"}),
    "of": frozenset({"kind", "sort"}),
}
"""The words before which a listed word does end an utterance ("I'd love to.", "Kind of.")."""
_WORDS = re.compile(r"[^\W_]+(?:'[^\W_]+)*")
_QUESTION = re.compile(r"[?\uff1f][!?\uff01\uff1f\"'\u2019\u201d)\]]*$")


def dangles(text: str) -> bool:
    """Whether an English transcript stops on a word an utterance does not end on
    (:data:`NEVER_LAST`; :data:`NOT_LAST_IN_STATEMENT` unless it asks a question, or after
    the words of :data:`ENDS_AFTER`), whatever mark follows: the speaker paused mid-clause."""
    words = _WORDS.findall(text.replace("\u2019", "'"))
    if not words:
        return False
    last = words[-1].lower()
    before = words[-2].lower() if len(words) > 1 else ""
    if last == "a" and words[-1] == "A" and len(words) > 1:
        return False  # the letter: "The answer is A."
    if last in ENDS_AFTER and before in ENDS_AFTER[last]:
        return False
    if last in NEVER_LAST:
        return True
    return last in NOT_LAST_IN_STATEMENT and not _QUESTION.search(text.rstrip())


def ends_sentence(text: str, english: bool = True) -> bool:
    """Whether a transcript ends a sentence: words, then a final mark, not a trailing
    ellipsis (which a recognizer writes where the speaker trails off), and, in English
    (``english``), not after a word a sentence does not end on (:func:`dangles`)."""
    text = text.rstrip()
    if not text.endswith(SENTENCE_ENDS) or text.endswith(("..", "\u2026")):
        return False
    if not _WORDS.search(text):
        return False  # a mark alone: noise, not a sentence
    return not (english and dangles(text))


class Listening:
    """Mixed into :class:`~openlive.session.machine.LiveSession`."""

    state: SessionState
    _settings: tuple[object, bool, EndpointerSettings] | None = None
    """The settings last read and what they were read from: a setup is replaced, never
    changed in place, so they are read again only when it is (not on every audio chunk)."""

    def _endpointer(self) -> Endpointer:
        setup, semantic = self.state.setup, self.state.voice.semantic
        known = self._settings
        if known is None or known[0] is not setup or known[1] != semantic:
            known = self._settings = (
                setup,
                semantic,
                EndpointerSettings.from_setup(setup, semantic),
            )
        return Endpointer(known[2], self.state.voice.endpoint)

    def _auto_activity(self) -> bool:
        ric = self.state.setup.realtime_input_config
        aad = ric.automatic_activity_detection if ric else None
        return not (aad and aad.disabled)

    def _speech_began(self, now: float) -> list[Action]:
        """Hook for the session: the user started speaking (barge-in)."""
        del now
        return []

    def _voice_activity(self, probabilities: tuple[float, ...], now: float) -> list[Action]:
        v = self.state.voice
        endpointer = self._endpointer()
        actions: list[Action] = []
        ended = False
        for probability in probabilities:
            change = endpointer.push(probability)
            if change is ActivityChange.STARTED:
                actions.extend(self._begin_utterance())
                actions.extend(self._speech_began(now))
            elif change is ActivityChange.ENDED:
                ended = True
                break
        actions.append(StoreAudio("utterance" if v.collecting else "prefix"))
        if v.collecting:
            v.collected_s += len(probabilities) * FRAME_MS / 1000
        if ended:
            actions.extend(self._end_utterance())
        elif v.collecting and (v.collected_s > MAX_UTTERANCE_S or self._finished(endpointer)):
            endpointer.force_end()  # too long for recognition, or the model said it ended
            actions.extend(self._end_utterance())
        elif v.collecting:
            actions.extend(self._maybe_speculate(endpointer))
            actions.extend(self._maybe_score(endpointer))
            actions.extend(self._maybe_partial(endpointer))
        return actions

    def _maybe_score(self, endpointer: Endpointer) -> list[Action]:
        """Under the semantic rule: ask the end-of-turn model ``ask_ms`` into a silence, and
        again every ``reask_ms`` while it holds (one question at a time), until it says the
        user has finished or the transcript says they have not (either holds for the rest of
        the silence: asking again would only take CPU from recognition and replies)."""
        v, settings = self.state.voice, endpointer.settings
        if not settings.semantic or v.score_pending:
            return []
        if endpointer.last_voice in (v.finished_voice, v.paused_voice):
            return []
        silence_ms = endpointer.silence_frames() * FRAME_MS
        if silence_ms < settings.ask_ms:
            return []
        if v.scored_voice == endpointer.last_voice and silence_ms < (
            v.scored_at_ms + settings.reask_ms
        ):
            return []
        v.scored_voice, v.scored_at_ms, v.score_pending = endpointer.last_voice, silence_ms, True
        return [ScoreTurn(v.utterance, endpointer.last_voice)]

    def _turn_score(self, event: TurnScore) -> list[Action]:
        """The end-of-turn model's answer: the turn ends now if the user has finished and has
        not spoken since the question."""
        v = self.state.voice
        v.score_pending = False
        if event.probability < 0:
            v.semantic = False  # no model: the fixed silence rule from now on
            return []
        if not v.collecting or event.utterance != v.utterance:
            return []
        endpointer = self._endpointer()
        if not endpointer.speaking or endpointer.last_voice != event.last_voice:
            return []
        if event.probability < endpointer.settings.finish_threshold:
            return []
        v.finished_voice = event.last_voice
        if not self._finished(endpointer):
            return []  # it ends when the silence reaches the floor, unless speech comes first
        endpointer.force_end()
        return self._end_utterance()

    def _speculative_text(self, text: str) -> list[Action]:
        """The transcript taken early in a silence: under the semantic rule, one that ends a
        sentence says the user has finished, as the end-of-turn model can (the turn then ends
        when the silence reaches the floor, unless speech comes first); in English, one that
        stops on a word no utterance ends on ("a table for") says they have not, over the
        model's "finished" (the silence cap still ends the turn)."""
        v = self.state.voice
        endpointer = self._endpointer()
        if not (endpointer.settings.semantic and endpointer.settings.text_ends):
            return []
        if not v.collecting or not endpointer.speaking:
            return []
        if v.speculated_voice < 0 or v.speculated_voice != endpointer.last_voice:
            return []  # taken before the user went on
        v.heard_voice = endpointer.last_voice
        english = self._english()
        if english and dangles(text):
            v.paused_voice = endpointer.last_voice
            return []
        if ends_sentence(text, english):
            v.finished_voice = endpointer.last_voice
        if not self._finished(endpointer):
            return []
        endpointer.force_end()
        return self._end_utterance()

    def _english(self) -> bool:
        """Whether the user speaks English, or no language is set (the transcript's words are
        read for :func:`dangles` only then)."""
        setup = self.state.setup
        iat = setup.input_audio_transcription
        codes = iat.language_codes if iat and iat.language_codes else None
        speech = setup.generation_config.speech_config if setup.generation_config else None
        code = codes[0] if codes else speech.language_code if speech else None
        return not code or code.lower().startswith("en")

    def _finished(self, endpointer: Endpointer) -> bool:
        """The model (or the transcript) said the user has finished, nobody spoke since, the
        silence has reached the semantic rule's floor (a comma's pause is shorter), and, when
        the transcript is a signal, it is in and does not stop mid-clause (the reply waits
        for it anyway)."""
        v = self.state.voice
        if v.finished_voice < 0 or v.finished_voice != endpointer.last_voice:
            return False
        voice = endpointer.last_voice
        if endpointer.settings.text_ends and v.speculated_voice == voice != v.heard_voice:
            return False  # its transcript is on its way
        if v.paused_voice == voice:
            return False
        return endpointer.silence_frames() * FRAME_MS >= endpointer.settings.floor_ms

    def _manual_audio(self, seconds: float) -> list[Action]:
        """Audio inside activityStart/activityEnd: all of it belongs to the utterance."""
        v = self.state.voice
        if not v.collecting:
            return []
        v.collected_s += seconds
        actions: list[Action] = [StoreAudio("utterance")]
        if v.collected_s > MAX_UTTERANCE_S:
            actions.extend(self._end_utterance())
        return actions

    def _begin_utterance(self) -> list[Action]:
        v = self.state.voice
        v.utterance += 1
        v.collecting = True
        v.collected_s = v.partial_at_s = 0.0
        v.partial_pending = False
        v.speculated_voice = -1
        v.scored_voice = v.finished_voice = -1
        return [BeginUtterance(v.utterance)]

    def _end_utterance(self) -> list[Action]:
        v = self.state.voice
        if not v.collecting:
            return []
        v.collecting = False
        v.partial_pending = False
        actions: list[Action] = []
        reuse = v.speculated_voice >= 0 and v.speculated_voice == v.endpoint.last_voice
        if v.speculated_voice >= 0 and not reuse:
            actions.append(CancelSpeculation(v.utterance))
        v.speculated_voice = -1
        v.recognizing.append(v.utterance)
        actions.append(EndUtterance(v.utterance, reuse_speculation=reuse))
        return actions

    def _flushed(self) -> list[Action]:
        """``audioStreamEnd``: whatever is being said is complete."""
        if not self.state.voice.collecting:
            return []
        self._endpointer().force_end()
        return self._end_utterance()

    def _maybe_speculate(self, endpointer: Endpointer) -> list[Action]:
        v = self.state.voice
        if v.speculated_voice >= 0 and endpointer.last_voice != v.speculated_voice:
            v.speculated_voice = -1  # the user went on speaking
            return [CancelSpeculation(v.utterance)]
        if v.speculated_voice >= 0:
            return []
        if endpointer.silence_frames() * FRAME_MS < SPECULATE_AFTER_MS:
            return []
        if endpointer.settings.silence_ms <= SPECULATE_AFTER_MS:
            return []
        v.speculated_voice = endpointer.last_voice
        return [Speculate(v.utterance)]

    def _maybe_partial(self, endpointer: Endpointer) -> list[Action]:
        v = self.state.voice
        if v.partial_pending or endpointer.silence_frames() > 2:
            return []  # the user may be done: keep the compute slot free for the final pass
        if v.collected_s - v.partial_at_s < PARTIAL_EVERY_S:
            return []
        v.partial_at_s = v.collected_s
        v.partial_pending = True
        return [RecognizePartial(v.utterance)]
