"""The context window: how big the conversation is, and compression (spec §4.1, §8.4).

Sizes come from the engine's own counts. Every round reports how many tokens its prompt took
(:class:`~openlive.session.events.GenerationDone`); the core knows which history entries that
prompt held, so each entry gets the tokens it added (entries that joined together share the
difference between two counts in proportion to their length), and what is not history (system
instruction, tools, chat template) is the rest. Entries not yet counted (the reply just
written, input waiting for its reply) are estimated from their length at the tokens-per-
character ratio the counts showed; the next count replaces the estimate.

``setup.contextWindowCompression`` ``{triggerTokens, slidingWindow: {targetTokens}}``:

* ``triggerTokens`` defaults to 80 % of the model's context window, ``targetTokens`` to half
  the trigger. A trigger beyond the window cannot be honoured: 80 % of the window is used (and
  half of that as the target, if the target was above it).
* When a turn ends, and before a reply starts, a conversation above the trigger loses its
  oldest turns, whole, until it is at or below the target: a turn is the user's input with the
  model's reply and the function calls and responses between them; a call is never separated
  from its response. The latest turn is always kept. The system instruction and tools are not
  history and always stay. Calls still owed (BLOCKING calls awaiting their response,
  NON_BLOCKING calls still running, results waiting for the reply to end) stay too: when their
  turn goes, the call and the answers it already has are kept, at the start of the history,
  so the result that comes later still follows its call.
* A prompt the engine finds too big for its window (:class:`~openlive.errors.ContextOverflow`,
  before anything is generated: a huge ``clientContent``, say) makes the session drop older
  turns the same way and generate again, once per round. Without compression, or when even
  the latest turn alone does not fit, the session closes with 1011 and a reason giving both
  sizes: the window is a limit of the model the server runs, not a fault of any one message
  (every message was valid), and the same conversation would fit a bigger model.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import TYPE_CHECKING

from ..errors import InvalidArgument, ServerFault, SessionError
from ..types import Content, Part, Setup
from .events import Action, GenerationDone, GenerationFailed, Note, StartGeneration
from .state import ActiveTurn, SessionState

if TYPE_CHECKING:
    from .events import GenerationRequest

__all__ = [
    "DEFAULT_WINDOW",
    "TRIGGER_SHARE",
    "Window",
    "check_compression",
    "compression_limits",
    "cut_points",
]

TRIGGER_SHARE = 0.8
"""The default ``triggerTokens``: this share of the model's context window."""
DEFAULT_WINDOW = 32768
"""Assumed when the engine has not said how big its window is."""
INLINE_TOKENS = 8
"""Estimate of an inline image or audio part until the engine's count comes in."""


def check_compression(setup: Setup) -> None:
    """1007, naming the field, for values that cannot be honoured."""
    cwc = setup.context_window_compression
    if cwc is None:
        return
    trigger = cwc.trigger_tokens
    target = cwc.sliding_window.target_tokens if cwc.sliding_window else None
    if trigger is not None and trigger <= 0:
        raise InvalidArgument(
            f"setup.contextWindowCompression.triggerTokens must be positive, got {trigger}"
        )
    if target is not None and target < 0:
        raise InvalidArgument(
            "setup.contextWindowCompression.slidingWindow.targetTokens must not be negative, "
            f"got {target}"
        )
    if trigger is not None and target is not None and target > trigger:
        raise InvalidArgument(
            f"setup.contextWindowCompression.slidingWindow.targetTokens ({target}) must not "
            f"exceed triggerTokens ({trigger})"
        )


def compression_limits(setup: Setup, context_window: int) -> tuple[int, int] | None:
    """``(trigger, target)`` in tokens for a model with this window (0: unknown), or None
    when the session does not compress."""
    cwc = setup.context_window_compression
    if cwc is None:
        return None
    window = context_window or DEFAULT_WINDOW
    default = int(window * TRIGGER_SHARE)
    trigger = cwc.trigger_tokens or default
    target = cwc.sliding_window.target_tokens if cwc.sliding_window else None
    if trigger > window:
        trigger = default
        if target is not None and target > trigger:
            target = None
    return trigger, (trigger // 2 if target is None else target)


def _call_key(part: Part) -> str | None:
    """The id a call or response part is matched by (its name when it has no id)."""
    item = part.function_call or part.function_response
    if item is None:
        return None
    return item.id or f"name:{item.name}"


def cut_points(history: list[Content], pinned: Collection[str] = ()) -> list[int]:
    """Where the history may start after dropping its oldest turns: indices of a user entry
    (not a function response) that follows a model entry, such that no call before the cut is
    answered after it (calls in ``pinned``, still owed, excepted: they are carried)."""
    blocked = [False] * (len(history) + 1)
    calls: dict[str, int] = {}
    for i, content in enumerate(history):
        for part in content.parts:
            if part.function_call is not None:
                fc = part.function_call
                calls[fc.id or f"name:{fc.name}"] = i
            elif part.function_response is not None:
                fr = part.function_response
                key = fr.id or f"name:{fr.name}"
                start = calls.get(key)
                if start is not None and key not in pinned:
                    for j in range(start + 1, i + 1):
                        blocked[j] = True
    points: list[int] = []
    for i, content in enumerate(history):
        if i == 0 or blocked[i] or content.role == "model":
            continue
        if any(p.function_response is not None for p in content.parts):
            continue
        if history[i - 1].role == "model":
            points.append(i)
    return points


def _chars(content: Content) -> int:
    """A history entry's length in characters (what token estimates scale)."""
    total = 0
    for part in content.parts:
        if part.text is not None:
            total += len(part.text)
        elif part.function_call is not None:
            fc = part.function_call
            total += len(fc.name or "") + len(json.dumps(fc.args or {}))
        elif part.function_response is not None:
            fr = part.function_response
            total += len(fr.name or "") + len(json.dumps(fr.response or {}))
    return total


def _inline(content: Content) -> int:
    return sum(1 for p in content.parts if p.inline_data is not None)


def _share(total: int, weights: list[int]) -> list[int]:
    """``total`` split in proportion to ``weights`` (integers that add up to ``total``)."""
    if not weights:
        return []
    whole = sum(weights)
    if whole <= 0:
        weights, whole = [1] * len(weights), len(weights)
    out = [total * w // whole for w in weights]
    out[-1] += total - sum(out)
    return out


def _carried(dropped: list[Content], pinned: set[str]) -> list[Content]:
    """What stays of dropped turns: the calls still owed and the answers they already have
    (a NON_BLOCKING call's placeholder), each entry with those parts only."""
    if not pinned:
        return []
    out: list[Content] = []
    for content in dropped:
        parts = [p for p in content.parts if _call_key(p) in pinned]
        if parts:
            out.append(Content(role=content.role, parts=parts))
    return out


class Window:
    """Mixed into :class:`~openlive.session.machine.LiveSession`: the context's size and
    compression."""

    state: SessionState

    if TYPE_CHECKING:
        # provided by LiveSession

        def _request(
            self, turn_id: int, pending_user: str | None = None, continuation: str = ""
        ) -> GenerationRequest: ...

        def fail(self, exc: SessionError) -> list[Action]: ...

    # ---- sizes ----

    def _estimate(self, content: Content) -> int:
        w = self.state.window
        return max(1, round(_chars(content) * w.ratio)) + INLINE_TOKENS * _inline(content)

    def _sizes(self) -> list[int]:
        """Tokens of each history entry (counted or estimated), as long as the history."""
        w = self.state.window
        history = self.state.history
        if len(w.sizes) > len(history):
            del w.sizes[len(history) :]
            w.measured = min(w.measured, len(history))
        w.sizes.extend(self._estimate(c) for c in history[len(w.sizes) :])
        return w.sizes

    def context_tokens(self) -> int:
        """The conversation's size in tokens, as the next prompt would hold it."""
        return self.state.window.overhead + sum(self._sizes())

    def _asked(self, turn_id: int) -> None:
        """A round's request holds the whole history as it is now."""
        turn = self.state.turn
        if turn is not None and turn.turn_id == turn_id:
            self.state.window.asked = len(self.state.history)

    def _measure(self, prompt_tokens: int, context_window: int) -> None:
        """The engine counted ``prompt_tokens`` for the request of the current round."""
        w = self.state.window
        if context_window > 0:
            w.context_window = context_window
        if prompt_tokens <= 0:
            return
        sizes = self._sizes()
        n = min(w.asked, len(sizes))
        if n <= w.measured:
            w.measured = n
            w.overhead = max(0, prompt_tokens - sum(sizes[:n]))
            return
        new = sizes[w.measured : n]
        if w.measured == 0:
            w.overhead = max(0, prompt_tokens - sum(new))
        rest = prompt_tokens - w.overhead - sum(sizes[: w.measured])
        if rest < 0:  # the instruction or tools shrank (contextUpdate)
            w.overhead = max(0, w.overhead + rest)
            rest = 0
        sizes[w.measured : n] = _share(rest, new)
        chars = sum(_chars(c) for c in self.state.history[w.measured : n])
        if rest > 0 and chars > 0:
            w.ratio = min(2.0, max(0.02, rest / chars))
        w.measured = n

    def _measure_done(self, done: GenerationDone) -> None:
        self._measure(done.prompt_tokens, done.context_window)

    # ---- compression ----

    def _pinned(self) -> set[str]:
        """Calls still owed: their turns stay."""
        pinned = set(self.state.background)
        if self.state.turn is not None:
            pinned.update(self.state.turn.calls)
        pinned.update(d.response.id or f"name:{d.response.name}" for d in self.state.deferred)
        return pinned

    def _drop_to(self, target: int) -> tuple[int, int]:
        """Drop the oldest whole turns until the context is at or below ``target`` (or as far
        as allowed: the latest turn and turns with calls owed stay). Returns the turns and
        tokens dropped."""
        w = self.state.window
        history = self.state.history
        sizes = self._sizes()
        pinned = self._pinned()
        points = cut_points(history, pinned)
        if not points:
            return 0, 0
        total = w.overhead + sum(sizes)
        cut = points[-1]
        for point in points:
            kept = sum(self._estimate(c) for c in _carried(history[:point], pinned))
            if total - sum(sizes[:point]) + kept <= target:
                cut = point
                break
        carried = _carried(history[:cut], pinned)
        carried_sizes = [self._estimate(c) for c in carried]
        tokens = sum(sizes[:cut]) - sum(carried_sizes)
        turns = 1 + sum(1 for p in points if p < cut)
        history[:cut] = carried
        sizes[:cut] = carried_sizes
        w.measured = len(carried) + max(0, w.measured - cut)
        w.asked = len(carried) + max(0, w.asked - cut)
        w.dropped_turns += turns
        return turns, tokens

    def _compress(self) -> list[Action]:
        """Compression after a turn or before a reply: above the trigger, down to the target."""
        limits = compression_limits(self.state.setup, self.state.window.context_window)
        if limits is None or self.state.closed:
            return []
        trigger, target = limits
        before = self.context_tokens()
        if before <= trigger:
            return []
        turns, tokens = self._drop_to(target)
        if not turns:
            return [Note(f"context of {before} tokens is above {trigger}; no turn can be dropped")]
        return [
            Note(
                f"context window compression: dropped the {turns} oldest turn(s) "
                f"({tokens} tokens); {before} -> {before - tokens} tokens"
            )
        ]

    def _overflow(self, turn: ActiveTurn, failed: GenerationFailed) -> list[Action]:
        """The round's prompt does not fit the model: drop older turns and generate the round
        again (once), or close with a reason that says so."""
        w = self.state.window
        self._measure(failed.prompt_tokens, failed.context_window)
        size = failed.prompt_tokens or self.context_tokens()
        window = w.context_window
        limits = compression_limits(self.state.setup, window)
        shown = f"{window} tokens" if window else "its size unknown"
        if limits is None:
            return self.fail(
                ServerFault(
                    f"the conversation ({size} tokens) no longer fits the model's context "
                    f"window ({shown}); enable contextWindowCompression"
                )
            )
        attempt = [turn.turn_id, turn.rounds]
        turns = 0
        notes: list[Action] = []
        if w.retried != attempt:
            turns, tokens = self._drop_to(min(limits[1], size - 1))
            if turns:
                notes.append(
                    Note(
                        f"prompt of {size} tokens overflowed the context window: dropped the "
                        f"{turns} oldest turn(s) ({tokens} tokens), generating again"
                    )
                )
        if not turns:
            return self.fail(
                ServerFault(
                    f"the latest turn ({size} tokens) does not fit the model's context "
                    f"window ({shown}), even with compression"
                )
            )
        w.retried = attempt
        request = self._request(turn.turn_id, continuation=turn.sent_text)
        return [*notes, StartGeneration(request)]
