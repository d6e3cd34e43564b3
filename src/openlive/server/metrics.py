"""Prometheus metrics, served at ``/metrics`` (documented in ``docs/operations.md``).

Each :class:`App` keeps its own :class:`~prometheus_client.CollectorRegistry`, so several
servers in one process (tests) count apart. Events are counted as they happen: the runtimes
report through :class:`~openlive.runtime.SessionObserver`, which :class:`ServerMetrics`
implements; the connection reports refusals. What has a current value (sessions and
connections open, queue depths, model state, loop lag, readiness) is read at scrape time.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from websockets.protocol import State

from .. import __version__
from ..runtime import SessionObserver

if TYPE_CHECKING:
    from .app import App

__all__ = ["CONTENT_TYPE", "LATENCY_BUCKETS", "QUEUES", "ServerCollector", "ServerMetrics"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
"""The content type of ``/metrics``: the Prometheus text exposition format (0.0.4), which
:func:`~prometheus_client.generate_latest` writes."""

LATENCY_BUCKETS = (0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 30.0)
"""Bucket bounds (seconds) of the first-reply latency histograms."""

QUEUES = ("outbox", "audio_in", "speech_text", "speech_audio")
"""The per-session queues sampled: server messages awaiting the writer, audio chunks awaiting
voice activity detection, reply text awaiting synthesis, synthesized audio awaiting playback."""


class ServerMetrics(SessionObserver):
    """The server's metrics: counters and histograms fed by events, plus a collector that
    reads the server's current state at scrape time."""

    def __init__(self, app: App) -> None:
        self.registry = CollectorRegistry()
        registry = self.registry
        self.sessions_started = Counter(
            "openlive_sessions_started",
            "Sessions opened (setup accepted), by method",
            ["method"],
            registry=registry,
        )
        self.closes = Counter(
            "openlive_session_closes",
            "Sessions ended or refused, by WebSocket close code",
            ["code"],
            registry=registry,
        )
        self.turns = Counter(
            "openlive_turns_completed",
            "Model turns completed (turnComplete sent), by response modality",
            ["modality"],
            registry=registry,
        )
        self.function_calls = Counter(
            "openlive_tool_calls",
            "Function calls sent to clients in toolCall messages",
            registry=registry,
        )
        self.text_first_reply = Histogram(
            "openlive_text_first_reply_seconds",
            "From the start of a reply's generation to its first text sent",
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.voice_first_reply = Histogram(
            "openlive_voice_first_reply_seconds",
            "From the end of the user's speech detected to the first reply audio sent",
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        for modality in ("text", "audio"):
            self.turns.labels(modality=modality)
        registry.register(ServerCollector(app))

    def exposition(self) -> bytes:
        """Every metric, in the Prometheus text format."""
        return generate_latest(self.registry)

    # ---- reported by the server ----

    def session_started(self, method: str) -> None:
        self.sessions_started.labels(method=method).inc()

    def session_refused(self, code: int) -> None:
        self.closes.labels(code=str(code)).inc()

    def voice_reply(self, seconds: float) -> None:
        self.voice_first_reply.observe(seconds)

    # ---- reported by the runtimes (SessionObserver) ----

    def first_text(self, seconds: float) -> None:
        self.text_first_reply.observe(seconds)

    def turn_completed(self, modality: str) -> None:
        self.turns.labels(modality=modality).inc()

    def tool_calls(self, count: int) -> None:
        self.function_calls.inc(count)

    def session_ended(self, code: int) -> None:
        self.closes.labels(code=str(code)).inc()


class ServerCollector:
    """What the server holds now, read at each scrape."""

    def __init__(self, app: App) -> None:
        self.app = app

    def collect(self) -> Iterator[Metric]:
        app = self.app
        yield _gauge("openlive_build_info", "The openlive version serving", 1, version=__version__)
        yield _gauge("openlive_sessions_open", "Sessions being served", app.scheduler.sessions)
        yield _gauge(
            "openlive_sessions_max",
            "Sessions served at once (max_sessions)",
            app.scheduler.max_sessions,
        )
        open_connections = sum(1 for ws in list(app.connections) if ws.state is not State.CLOSED)
        yield _gauge(
            "openlive_connections_open",
            "WebSocket connections open (handshakes included)",
            open_connections,
        )
        yield _gauge(
            "openlive_connections_max",
            "Connections accepted at once (max_connections)",
            app.config.max_connections,
        )
        refused = CounterMetricFamily(
            "openlive_connections_refused",
            "Handshakes refused with HTTP 503 (max_connections reached)",
            value=app.refused_connections,
        )
        yield refused
        yield from self._queues()
        loaded = GaugeMetricFamily(
            "openlive_model_loaded",
            "Each engine's model: 1 loaded and ready, 0 not (loading, failed or not loaded yet)",
            labels=["model", "engine"],
        )
        loading = GaugeMetricFamily(
            "openlive_model_loading",
            "1 while an engine's model is loading",
            labels=["model", "engine"],
        )
        for row in app.registry.listing():
            if "ready" not in row:  # aliases, the gemini-* row: no engine of their own
                continue
            labels = [str(row["name"]), str(row["engine"])]
            loaded.add_metric(labels, 1.0 if row["ready"] else 0.0)
            loading.add_metric(labels, 1.0 if row.get("loading") else 0.0)
        yield loaded
        yield loading
        lag = GaugeMetricFamily(
            "openlive_event_loop_lag_seconds",
            "How late the event loop ran: worst since start, p50 and p99 of the recent probes",
            labels=["stat"],
        )
        for stat, ms in app.loop_monitor.describe().items():
            lag.add_metric([stat], ms / 1000)
        yield lag
        ran = CounterMetricFamily(
            "openlive_compute_seconds",
            "Seconds of model work by kind: recognition, reply (first tokens), continuation, "
            "urgent, interim, prefill hold the compute slot; synthesis runs beside it",
            labels=["kind"],
        )
        waited = CounterMetricFamily(
            "openlive_compute_wait_seconds",
            "Seconds model work waited to run, by kind",
            labels=["kind"],
        )
        for kind, (run_s, wait_s) in app.scheduler.usage().items():
            ran.add_metric([kind], run_s)
            waited.add_metric([kind], wait_s)
        yield ran
        yield waited
        ready, _ = app.readiness()
        yield _gauge("openlive_ready", "1 when the server takes sessions (/readyz 200)", ready)
        yield _gauge("openlive_draining", "1 while the server drains", app.draining)

    def _queues(self) -> Iterator[Metric]:
        totals = dict.fromkeys(QUEUES, 0)
        deepest = dict.fromkeys(QUEUES, 0)
        for runtime in list(self.app.runtimes):
            if runtime.ended:
                continue
            for queue, depth in runtime.queue_depths().items():
                totals[queue] = totals.get(queue, 0) + depth
                deepest[queue] = max(deepest.get(queue, 0), depth)
        total = GaugeMetricFamily(
            "openlive_queue_items",
            "Items waiting in the sessions' queues, summed over sessions",
            labels=["queue"],
        )
        most = GaugeMetricFamily(
            "openlive_queue_items_max",
            "Items waiting in the deepest session's queue",
            labels=["queue"],
        )
        for queue in totals:
            total.add_metric([queue], totals[queue])
            most.add_metric([queue], deepest[queue])
        yield total
        yield most


def _gauge(name: str, documentation: str, value: float, **labels: str) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation, labels=list(labels))
    family.add_metric(list(labels.values()), float(value))
    return family
