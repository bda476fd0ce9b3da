"""Prometheus metrics (prometheus-client). One registry per app, so tests stay independent.

Under gunicorn with several workers, `cds-service serve` sets PROMETHEUS_MULTIPROC_DIR and
`/metrics` aggregates every worker's numbers.
"""
from __future__ import annotations

import os

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest, multiprocess


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

    def exposition(self) -> tuple[bytes, str]:
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            return generate_latest(registry), CONTENT_TYPE_LATEST
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
