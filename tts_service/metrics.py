"""Prometheus metrics of one app: requests, synthesis time per engine, cache hits, job states.

One process (``tts-service serve``, the tests): each app counts in a registry of its own. Several web
processes (``serve --workers N``): prometheus-client's multiprocess mode, where every process writes its
values to files in ``PROMETHEUS_MULTIPROC_DIR`` and ``/metrics``, whichever process answers, adds up all
of them.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from tts_service.keys import ApiKey
from tts_service.states import JobStatus

# Anything else a client sends as a method is counted as "other", so that it cannot add label values.
HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# A sentence takes from tens of milliseconds (espeak-ng) to tens of seconds (a slow network).
SYNTHESIS_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0)
# Where prometheus-client keeps the values of several processes. It reads this variable once, when it is
# imported, to decide where values live: set, every process of the deployment shares its values there.
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def shared_dir() -> str | None:
    """The multiprocess directory this process writes its values to, or None (values in memory)."""
    return os.environ.get(MULTIPROC_ENV) or None


class Metrics:
    """The metrics of one app, in a registry of their own.

    Not the global default registry: every ``create_app`` (and tests build many) would register the same
    names again, and two apps in one process would count into each other. In multiprocess mode the
    metrics are still made in this registry (one app per process there), but rendered from every
    process's files.
    """

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._shared_dir = shared_dir()
        self._requests = Counter(
            "tts_http_requests",
            "HTTP requests answered, by route template and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self._request_seconds = Histogram(
            "tts_http_request_seconds",
            "Time to answer an HTTP request, until its body was sent.",
            ["route"],
            registry=self.registry,
        )
        self._synthesis_seconds = Histogram(
            "tts_synthesis_seconds",
            "Time an engine took to synthesise one chunk.",
            ["engine"],
            buckets=SYNTHESIS_BUCKETS,
            registry=self.registry,
        )
        self._cache = Counter(
            "tts_cache_requests",
            "Chunk audio looked up in the cache, by hit or miss.",
            ["result"],
            registry=self.registry,
        )
        # The store's counts, set by the process answering /metrics just before it renders: the freshest
        # value is the most recent one, from a process still alive (dead ones are marked by the supervisor).
        self._jobs = Gauge(
            "tts_jobs",
            "Generation jobs by state.",
            ["state"],
            registry=self.registry,
            multiprocess_mode="livemostrecent",
        )
        # The request series by (method, route, status): as many as the labels allow, no more.
        self._series: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}
        for result in ("hit", "miss"):  # present (at 0) from the start, so rates work from the first scrape
            self._cache.labels(result)
        for state in JobStatus:
            self._jobs.labels(state)

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one answered request; ``route`` is the route's path template, never the raw path."""
        method = method if method in HTTP_METHODS else "other"
        series = self._series.get((method, route, status))
        if series is None:  # labels() is a locked lookup: once per series, not once per request
            series = (self._requests.labels(method, route, str(status)), self._request_seconds.labels(route))
            self._series[(method, route, status)] = series
        series[0].inc()
        series[1].observe(seconds)

    def observe_synthesis(self, engine: str, seconds: float) -> None:
        """Record how long ``engine`` took to synthesise one chunk."""
        self._synthesis_seconds.labels(engine).observe(seconds)

    def cache(self, hit: bool) -> None:
        """Count one cache lookup of a chunk's audio."""
        self._cache.labels("hit" if hit else "miss").inc()

    def set_jobs(self, counts: Mapping[JobStatus, int]) -> None:
        """Set the job gauge from the store's counts; a state missing from ``counts`` has no jobs."""
        for state in JobStatus:
            self._jobs.labels(state).set(counts.get(state, 0))

    def render(self) -> bytes:
        """Every metric in the Prometheus text format (its content type: ``CONTENT_TYPE_LATEST``); with
        several processes, the sum of every process's counters and histograms."""
        if self._shared_dir is None:
            return generate_latest(self.registry)
        collected = CollectorRegistry()  # fresh each time: a collector reads the files when asked
        MultiProcessCollector(collected, path=self._shared_dir)  # type: ignore[no-untyped-call]
        return generate_latest(collected)


class _KeyUsage(Collector):
    """API keys' usage as the store holds it: the whole deployment's, whichever process answers."""

    def __init__(self, keys: Iterable[ApiKey]) -> None:
        self.keys = list(keys)

    def collect(self) -> Iterator[Metric]:
        for name, help_text, field in (
            ("tts_api_key_requests", "Requests made with each API key (and accepted).", "requests"),
            ("tts_api_key_characters", "Characters of text spoken for each API key.", "chars"),
            (
                "tts_api_key_cache_hits",
                "Chunks of each API key's requests served from the cache.",
                "cache_hits",
            ),
        ):
            family = CounterMetricFamily(name, help_text, labels=["key"])
            for key in self.keys:
                family.add_metric([key.name], getattr(key, field))
            yield family


def api_key_metrics(keys: Iterable[ApiKey]) -> bytes:
    """The usage of ``keys`` (``ApiKeys.list``, revoked ones too: a counter that vanished would read as a
    reset) in Prometheus's text format: ``tts_api_key_requests_total{key="name"}`` and the like."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_KeyUsage(keys))
    return generate_latest(registry)
