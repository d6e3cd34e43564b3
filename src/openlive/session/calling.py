"""The calling half of a Live session: the model's function calls and their results (spec §8.3).

* Every call the model makes is checked against its declaration (an undeclared function, or
  arguments its schema refuses: the call is dropped with a note), given an id and sent in one
  ``toolCall`` with the others of its round.
* BLOCKING: the turn pauses until every such call is answered, then goes on with another round.
* NON_BLOCKING: the call runs in the background and outlives its turn; the history answers it
  at once with :data:`STARTED` and the turn goes on. Each result is handled by
  ``functionResponses[].scheduling``: ``INTERRUPT`` (stop the current reply, answer now),
  ``WHEN_IDLE`` (the default: answer once the current reply ends) or ``SILENT`` (history only).
  A turn goes on by itself after starting such calls for at most :data:`MAX_ROUNDS` rounds.
* ``willContinue: true`` (NON_BLOCKING only) keeps the call running for more results; its
  timeout restarts.
* A call repeated within a turn (same function, same arguments) is dropped, and the next round
  answers in words only.
* Timeouts: a call unanswered in time is cancelled (``toolCallCancellation``) and answered with
  an error; a BLOCKING call's turn goes on, a NON_BLOCKING call's error gets no reply of its own.
* An interruption cancels the calls its turn still owes, BLOCKING or NON_BLOCKING (the client
  is told, the history says so); NON_BLOCKING calls of earlier turns keep running. Results that
  were waiting for the turn to end join the history.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from ..errors import InvalidArgument
from ..types import (
    Blob,
    Content,
    FunctionCall,
    FunctionResponse,
    Part,
    ServerMessage,
    Tool,
    ToolCall,
    ToolCallCancellation,
    ToolResponse,
)
from .events import (
    Action,
    FunctionCalls,
    Send,
    StartGeneration,
    ToolSpec,
    ToolTimeout,
    WatchToolCalls,
)
from .state import ActiveTurn, BackgroundCall, DeferredResult, SessionState
from .tools import allowed_tools, check_arguments, declared_tools

if TYPE_CHECKING:
    from .events import GenerationRequest

__all__ = ["MAX_ROUNDS", "SCHEDULINGS", "STARTED", "TIMED_OUT", "Calling"]

MAX_ROUNDS = 8
"""Generation rounds after which a turn no longer goes on by itself after starting NON_BLOCKING
calls (a model that starts one in every round would never stop): the turn ends there and a
note is logged. Rounds that follow the client's answers to BLOCKING calls are not limited."""

STARTED: dict[str, object] = {
    "status": "started",
    "note": "running in the background; the result will be sent when it is ready",
}
"""What the history answers a NON_BLOCKING call with at once, so the model can go on."""

SCHEDULINGS = ("INTERRUPT", "WHEN_IDLE", "SILENT")
TIMED_OUT = {"error": "the function gave no result in time; it was cancelled"}


class Calling:
    """Mixed into :class:`~openlive.session.machine.LiveSession`."""

    state: SessionState

    if TYPE_CHECKING:
        # turn mechanics, provided by LiveSession

        def _request(
            self, turn_id: int, pending_user: str | None = None, continuation: str = ""
        ) -> GenerationRequest: ...

        def _begin_reply(self, now: float) -> list[Action]: ...

        def _interrupt(
            self, *, send: bool, now: float | None, spare: frozenset[str] = frozenset()
        ) -> list[Action]: ...

        def _note(self, message: str) -> list[Action]: ...

    def _tools(self) -> tuple[tuple[ToolSpec, ...], str]:
        setup = self.state.setup
        return allowed_tools(setup, declared_tools(setup.tools))

    def _function_calls(self, turn: ActiveTurn, event: FunctionCalls) -> list[Action]:
        """The model calls functions: each call checked against its declaration (a call to an
        undeclared function, or with arguments its schema refuses, is dropped), given an id
        and sent as ``toolCall`` (one message for all of them). A BLOCKING call pauses the
        turn until it is answered; a NON_BLOCKING call runs in the background: the history
        answers it at once with a placeholder (:data:`STARTED`) and the turn goes on."""
        tools, _ = self._tools()
        actions: list[Action] = []
        calls: list[tuple[FunctionCall, bool]] = []
        for call in event.calls:
            spec = next((t for t in tools if t.name == call.name), None)
            problem = (
                f"{call.name} is not a declared function"
                if spec is None
                else check_arguments(spec.parameters, call.args)
            )
            if spec is None or problem is not None:
                actions.extend(self._note(f"dropped a call the model made: {problem}"))
                continue
            signature = f"{call.name} {json.dumps(call.args, sort_keys=True)}"
            if signature in turn.made:
                turn.repeated = True
                actions.extend(self._note(f"dropped a repeated call: {signature}"))
                continue
            turn.made.append(signature)
            call_id = f"call-{self.state.session_id[:8]}-{self.state.next_call_id}"
            self.state.next_call_id += 1
            calls.append(
                (FunctionCall(id=call_id, name=call.name, args=dict(call.args)), spec.blocking)
            )
        if not calls:
            return actions
        parts = [Part(text=turn.sent_text)] if turn.sent_text else []
        parts += [Part(function_call=c) for c, _ in calls]
        self.state.history.append(Content(role="model", parts=parts))
        turn.sent_text = ""  # in the history now; what follows the answers is added at the end
        turn.spoken = []
        started = [c for c, blocking in calls if not blocking]
        if started:
            placeholders = [
                Part(
                    function_response=FunctionResponse(id=c.id, name=c.name, response=dict(STARTED))
                )
                for c in started
            ]
            self.state.history.append(Content(role="user", parts=placeholders))
            for c in started:
                self.state.background[c.id or ""] = BackgroundCall(
                    name=c.name, turn_id=turn.turn_id
                )
            turn.started_background = True
        turn.calls.update({c.id or "": c.name for c, blocking in calls if blocking})
        sent = [c for c, _ in calls]
        actions.append(Send(ServerMessage(tool_call=ToolCall(function_calls=sent))))
        actions.append(WatchToolCalls(turn.turn_id, tuple(c.id or "" for c in sent)))
        return actions

    def _answer_calls(self, turn: ActiveTurn, answers: list[FunctionResponse]) -> list[Action]:
        """Answers join the history; once every BLOCKING call is answered the turn continues."""
        for answer in answers:
            turn.calls.pop(answer.id or "", None)
        self.state.history.append(
            Content(role="user", parts=[Part(function_response=a) for a in answers])
        )
        if turn.calls:
            return []
        return self._next_round(turn)

    def _next_round(self, turn: ActiveTurn) -> list[Action]:
        """The turn goes on with another generation round (after the calls of the last)."""
        turn.llm_done = False
        turn.started_background = False
        turn.rounds += 1
        return [StartGeneration(self._request(turn.turn_id))]

    def _tool_timeout(self, event: ToolTimeout, now: float) -> list[Action]:
        """Calls unanswered in time are cancelled (``toolCallCancellation``). A BLOCKING call
        of the current turn is answered with an error and its turn goes on; a NON_BLOCKING
        call (when this is its latest timer) gets an error result in the history (after the
        current turn, if one is running) and no reply of its own."""
        turn = self.state.turn
        owed = turn.calls if turn is not None and turn.turn_id == event.turn_id else {}
        background = self.state.background
        blocking = [i for i in event.ids if i in owed]
        running = [i for i in event.ids if i in background and background[i].watch == event.watch]
        if not blocking and not running:
            return []
        cancel = ToolCallCancellation(ids=blocking + running)
        actions: list[Action] = [Send(ServerMessage(tool_call_cancellation=cancel))]
        expired = [
            (
                FunctionResponse(id=i, name=background.pop(i).name, response=dict(TIMED_OUT)),
                "SILENT",
            )
            for i in running
        ]
        actions.extend(self._background_results(expired, now))
        if blocking:
            assert turn is not None
            answers = [
                FunctionResponse(id=i, name=owed[i], response=dict(TIMED_OUT)) for i in blocking
            ]
            actions.extend(self._answer_calls(turn, answers))
        return actions

    def _background_results(
        self,
        results: list[tuple[FunctionResponse, str]],
        now: float,
        spare: frozenset[str] = frozenset(),
    ) -> list[Action]:
        """NON_BLOCKING results, in order, each by its scheduling. With no turn running a
        result joins the history at once and, unless ``SILENT``, a reply begins (one for all
        the results given together). During a turn, ``INTERRUPT`` stops it (as a barge-in
        would; ``spare``: calls that interruption must not cancel) and is answered now;
        ``WHEN_IDLE`` and ``SILENT`` wait for the turn to end (:meth:`_complete`)."""
        actions: list[Action] = []
        landed: list[FunctionResponse] = []
        reply = False
        for result, scheduling in results:
            if self.state.turn is not None and scheduling == "INTERRUPT":
                actions.extend(self._interrupt(send=True, now=now, spare=spare))
            if self.state.turn is None:
                landed.append(result)
                reply = reply or scheduling != "SILENT"
            else:
                deferred = DeferredResult(response=result, reply=scheduling == "WHEN_IDLE")
                self.state.deferred.append(deferred)
        if landed:
            parts = [Part(function_response=r) for r in landed]
            self.state.history.append(Content(role="user", parts=parts))
        if reply:
            actions.extend(self._begin_reply(now))
        return actions

    def _tool_response(self, tr: ToolResponse, now: float) -> list[Action]:
        """Results for the calls still owed, each by id. A BLOCKING call's answer continues its
        turn once every call is answered. A NON_BLOCKING call's result ends the call, or with
        ``willContinue: true`` keeps it running (its timeout restarts); either way the result
        is handled by its ``scheduling`` (:meth:`_background_results`)."""
        responses = tr.function_responses or []
        turn = self.state.turn
        owed = turn.calls if turn is not None else {}
        background = self.state.background
        if not owed and not background:
            ids = [r.id or r.name for r in responses]
            raise InvalidArgument(
                f"toolResponse for {', '.join(ids) or 'nothing'}: no tool call is pending"
            )
        answers: list[FunctionResponse] = []
        results: list[tuple[FunctionResponse, str, bool]] = []
        done: set[str] = set()  # answered in this message: no more results for them
        for r in responses:
            if not r.id:
                raise InvalidArgument(
                    f"toolResponse for {r.name or 'a function'} has no id; answer each call "
                    "with the id its toolCall gave"
                )
            if r.id in done or (r.id not in owed and r.id not in background):
                pending = [i for i in [*owed, *background] if i not in done]
                raise InvalidArgument(
                    f"toolResponse id {r.id} matches no pending call "
                    f"(pending: {', '.join(pending) or 'none'})"
                )
            blocking = r.id in owed
            name = owed[r.id] if blocking else background[r.id].name
            if r.name and r.name != name:
                raise InvalidArgument(
                    f"toolResponse id {r.id} names {r.name}, but that call was to {name}"
                )
            scheduling = _scheduling(r)
            result = FunctionResponse(
                id=r.id, name=name, response=dict(r.response or {}), parts=_parts(r)
            )
            if blocking:
                if r.will_continue:
                    raise InvalidArgument(
                        "toolResponse willContinue is only for NON_BLOCKING functions; "
                        f"{name} is BLOCKING"
                    )
                answers.append(result)
                done.add(r.id)
            else:
                results.append((result, scheduling, bool(r.will_continue)))
                if not r.will_continue:
                    done.add(r.id)
        actions: list[Action] = []
        if answers:
            assert turn is not None
            actions.extend(self._answer_calls(turn, answers))
        for result, _, more in results:
            call_id = result.id or ""
            if more:
                call = background[call_id]
                call.watch += 1
                actions.append(WatchToolCalls(call.turn_id, (call_id,), call.watch))
            else:
                del background[call_id]
        spare = frozenset(r.id or "" for r, _, _ in results)  # an answer does not cancel its call
        scheduled = [(r, scheduling) for r, scheduling, _ in results]
        actions.extend(self._background_results(scheduled, now, spare))
        return actions

    def _cancel_calls(
        self, turn: ActiveTurn, *, send: bool, spare: frozenset[str] = frozenset()
    ) -> list[Action]:
        """The turn is interrupted: the calls it made that are still owed are cancelled,
        BLOCKING or NON_BLOCKING (but not those in ``spare``); NON_BLOCKING calls of earlier
        turns keep running. The history says so, and with ``send`` the client is told."""
        actions: list[Action] = []
        cancelled = dict(turn.calls)
        turn.calls = {}
        for call_id, call in list(self.state.background.items()):
            if call.turn_id == turn.turn_id and call_id not in spare:
                cancelled[call_id] = call.name
                del self.state.background[call_id]
        if cancelled:
            # results no longer wanted: the client is told, the history says so
            error = {"error": "cancelled: the user interrupted"}
            self.state.history.append(
                Content(
                    role="user",
                    parts=[
                        Part(function_response=FunctionResponse(id=i, name=n, response=error))
                        for i, n in cancelled.items()
                    ],
                )
            )
            if send:
                cancel = ToolCallCancellation(ids=list(cancelled))
                actions.append(Send(ServerMessage(tool_call_cancellation=cancel)))
        return actions

    def _flush_deferred(self) -> bool:
        """The results that waited for the turn to end join the history; True when one of
        them wants a reply (``WHEN_IDLE``)."""
        deferred, self.state.deferred = self.state.deferred, []
        if deferred:
            parts = [Part(function_response=d.response) for d in deferred]
            self.state.history.append(Content(role="user", parts=parts))
        return any(d.reply for d in deferred)

    def _update_tools(self, tools: list[Tool]) -> None:
        """``contextUpdate.tools``: the declarations replace the setup's (1007 for a bad one)."""
        kept = [t for t in tools if not t.is_empty()]
        update = self.state.setup.model_copy(update={"tools": kept or None})
        allowed_tools(update, declared_tools(update.tools))
        self.state.setup = update


def _scheduling(response: FunctionResponse) -> str:
    """When a NON_BLOCKING result is answered (``WHEN_IDLE`` unless said); 1007 for a value
    that is not a scheduling."""
    value = (response.scheduling or "WHEN_IDLE").upper()
    if value == "SCHEDULING_UNSPECIFIED":
        return "WHEN_IDLE"
    if value not in SCHEDULINGS:
        raise InvalidArgument(
            f"toolResponse id {response.id}: scheduling {response.scheduling} is not one of "
            "INTERRUPT, WHEN_IDLE (the default), SILENT"
        )
    return value


def _parts(response: FunctionResponse) -> list[dict[str, Any]] | None:
    """A response's ``parts`` (inline data such as an image the function produced), checked:
    each needs ``inlineData`` with a MIME type and base64 data."""
    if not response.parts:
        return None
    for i, part in enumerate(response.parts):
        inline = (
            part.get("inlineData") or part.get("inline_data") if isinstance(part, dict) else None
        )
        try:
            blob = Blob.model_validate(inline)
        except ValidationError:
            blob = None
        if blob is None or not blob.mime_type:
            raise InvalidArgument(
                f"toolResponse {response.name or response.id} parts[{i}] must be inlineData "
                "with a mimeType and base64 data"
            )
    return list(response.parts)
