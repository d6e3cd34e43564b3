"""Fault injection: conditions hosted Live APIs produce, on demand, for testing clients.

Two ways to ask for them (documented in docs/faults.md):

* the ``faults`` server setting applies a plan to every session, timed from its start:
  ``goaway_after=S`` (goAway with the notice, then the connection ends), ``close_after=S``
  (close 1011 at S seconds; ``close_after=S:CODE`` another code), ``stall_after=S:D`` (no
  output for D seconds from S), ``drop_after=S`` (the TCP connection is cut, no close frame);
* the echo engine's directives in a user turn, ``[[fault goaway 5]]``, ``[[fault close 1011]]``,
  ``[[fault stall 3]]``, ``[[fault drop]]``, applied in the middle of that turn's reply.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ConfigError

__all__ = ["FAULT_KINDS", "PlannedFault", "parse_fault_plan"]

FAULT_KINDS = ("goaway", "close", "stall", "drop")


@dataclass(frozen=True, slots=True)
class PlannedFault:
    at: float
    """Seconds after the connection's session starts."""
    kind: str
    value: float = 0.0


_DEFAULTS = {"goaway": 10.0, "close": 1011.0, "stall": 5.0, "drop": 0.0}


def parse_fault_plan(text: str) -> tuple[PlannedFault, ...]:
    """``goaway_after=30,close_after=60:1011,stall_after=10:3,drop_after=20`` (the goAway
    notice is the ``goaway_notice_seconds`` setting unless given as ``goaway_after=S:N``)."""
    plan: list[PlannedFault] = []
    for item in (p.strip() for p in text.split(",")):
        if not item:
            continue
        name, _, spec = item.partition("=")
        kind = name.strip().removesuffix("_after")
        if kind not in FAULT_KINDS or not name.strip().endswith("_after") or not spec:
            raise ConfigError(
                f"faults: cannot read {item!r}; use goaway_after=S, close_after=S[:CODE], "
                "stall_after=S[:SECONDS], drop_after=S"
            )
        at_text, _, value_text = spec.partition(":")
        try:
            at = float(at_text)
            value = float(value_text) if value_text else _DEFAULTS[kind]
        except ValueError:
            raise ConfigError(f"faults: {item!r} needs numbers") from None
        if at < 0 or value < 0:
            raise ConfigError(f"faults: {item!r} must not be negative")
        if kind == "close" and not (
            value == 1000 or 3000 <= value <= 4999 or 1007 <= value <= 1014
        ):
            raise ConfigError(f"faults: {item!r}: not a close code a server may send")
        plan.append(PlannedFault(at, kind, value))
    return tuple(plan)
