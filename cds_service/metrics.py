"""Prometheus metrics (prometheus-client). One registry per app, so tests stay independent.

Under gunicorn with several workers, `cds-service serve` sets PROMETHEUS_MULTIPROC_DIR and
`/metrics` aggregates every worker's numbers.
"""
from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "cds_requests_total", "HTTP requests by endpoint, service and status", ["endpoint", "service", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "cds_request_duration_seconds", "Request latency by endpoint and service", ["endpoint", "service"],
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
            registry=self.registry,
        )
        self.cards = Counter(
            "cds_cards_issued_total", "Cards issued by rule and indicator", ["rule", "indicator"], registry=self.registry
        )
        # Site governance (issue 13): cards logged but not returned, and lockout reads that failed open.
        self.cards_silent = Counter(
            "cds_cards_silent_total", "Cards of silent rules: logged, not returned", ["rule"], registry=self.registry
        )
        self.cards_suppressed = Counter(
            "cds_cards_suppressed_total", "Cards locked out after feedback: logged, not returned", ["rule"],
            registry=self.registry,
        )
        self.lockout_fail_open = Counter(
            "cds_lockout_unavailable_total", "Lockout reads that failed or timed out: the cards were shown",
            ["reason"], registry=self.registry,
        )
        self.fhir_fetches = Counter(
            "cds_fhir_fetches_total", "Prefetch keys fetched from the FHIR server, by outcome", ["resource_type", "outcome"],
            registry=self.registry,
        )
        self.auth_failures = Counter(
            "cds_auth_failures_total", "Refused authentications by reason", ["reason"], registry=self.registry
        )
        self.feedback = Counter(
            "cds_feedback_total", "Feedback items stored, by outcome", ["outcome"], registry=self.registry
        )

        # The card log (docs/operations.md): rows waiting, rows lost, and failed writes.
        self.card_log_pending = Gauge(
            "card_log_pending", "Card log rows not yet written to the database", multiprocess_mode="livesum",
            registry=self.registry,
        )
        self.card_log_dropped = Counter(
            "card_log_dropped", "Card log rows dropped, by reason", ["reason"], registry=self.registry
        )
        self.card_log_write_failures = Counter(
            "card_log_write_failures", "Card log writes that failed (each is retried)", registry=self.registry
        )

    # the CardLog's metrics interface
    def pending(self, count: int) -> None:
        self.card_log_pending.set(count)

    def dropped(self, reason: str, count: int) -> None:
        self.card_log_dropped.labels(reason).inc(count)

    def write_failed(self) -> None:
        self.card_log_write_failures.inc()

    def count_card(self, rule: str, indicator: str, status: str) -> None:
        if status == "silent":
            self.cards_silent.labels(rule).inc()
        elif status == "suppressed":
            self.cards_suppressed.labels(rule).inc()
        else:
            self.cards.labels(rule, indicator).inc()

    def exposition(self) -> tuple[bytes, str]:
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            return generate_latest(registry), CONTENT_TYPE_LATEST
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
