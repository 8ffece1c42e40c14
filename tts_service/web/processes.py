"""Several web processes on one socket: ``tts-service serve --workers N`` (N > 1).

uvicorn's own supervisor binds the socket once and runs N children on it, restarting any that dies. Each
child is a fresh interpreter (multiprocessing's spawn), so it gets the app by import string and builds it
from the environment (``app_from_environment``), as ``tts-service serve`` builds its app from ``Settings()``.

What the processes share is what every process of a deployment shares: the store (jobs are claimed there,
one active job per revision, so any process may start or resume one), the audio store, Redis when
TTS_REDIS_URL is set (the per-client limits), and the store's generation (``tts_service.changes``), which
keeps each process's page cache fresh. Metrics are the one new thing to share: prometheus-client's
multiprocess mode, in a directory under TTS_HOME that the parent empties at start and the children write
(``tts_service.metrics``).
"""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

import uvicorn
from fastapi import FastAPI
from prometheus_client.multiprocess import mark_process_dead
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import Multiprocess

from tts_service.config import Settings
from tts_service.logs import uvicorn_log_config
from tts_service.metrics import MULTIPROC_ENV
from tts_service.web.app import create_app
from tts_service.web.server import head_deadline_protocol

# Seconds a child has to answer the supervisor's health check before it is killed as hung. uvicorn's 5 s
# is too short here: a child answers only once it has imported the service (numpy, jieba, the engines),
# which takes 4 s on an idle 2-core machine and over 5 s on a busy one: children were killed while still
# starting, again and again. The cost: a child that hangs, or dies just after a check began, is noticed
# this much later.
HEALTH_CHECK_SECONDS = 20


def app_from_environment() -> FastAPI:
    """The app of one child process, from the settings in its environment (uvicorn's factory)."""
    return create_app(Settings())


class ServiceConfig(uvicorn.Config):
    """uvicorn's config, with the service's HTTP protocol (a request head deadline).

    The config is pickled to each child, and the protocol class ``head_deadline_protocol`` makes is built
    at run time (it carries the deadline), so it cannot be: each child builds its own when it loads.
    """

    def __init__(self, settings: Settings, host: str, port: int, workers: int) -> None:
        super().__init__(
            "tts_service.web.processes:app_from_environment",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            # As in build_server: JSON lines, and the app logs each request itself.
            log_config=uvicorn_log_config(access=settings.access_log),
            access_log=False,
            timeout_worker_healthcheck=HEALTH_CHECK_SECONDS,
        )
        self.head_timeout = settings.header_timeout

    def load(self) -> None:
        self.http = head_deadline_protocol(self.head_timeout)  # in the child, just before uvicorn loads
        super().load()


class Supervisor(Multiprocess):
    """uvicorn's supervisor, which also forgets a dead child's live gauges (prometheus-client)."""

    def __init__(self, config: uvicorn.Config, sockets: list[socket.socket], metrics_dir: Path) -> None:
        super().__init__(config, sockets)
        self.metrics_dir = metrics_dir
        self._pids: set[int] = set()

    def keep_subprocess_alive(self) -> None:
        # Every turn of the supervisor's loop, after signals (a SIGHUP restart, SIGTTOU) were handled: any
        # child gone since the last turn, for whatever reason, is dead now.
        super().keep_subprocess_alive()
        pids = {process.pid for process in self.processes if process.pid is not None}
        for pid in self._pids - pids:
            mark_process_dead(pid, str(self.metrics_dir))  # type: ignore[no-untyped-call]
        self._pids = pids

    @property
    def failed_to_start(self) -> bool:
        """Whether a child exited because the app could not start (then the supervisor stops them all)."""
        return any(process.exitcode == STARTUP_FAILURE for process in self.processes)


def fresh_metrics_dir(settings: Settings) -> Path:
    """``TTS_HOME/metrics``, emptied of an earlier run's files, and named in the environment the children
    inherit (prometheus-client reads it when it is imported, so before any child starts)."""
    where = settings.home / "metrics"
    where.mkdir(parents=True, exist_ok=True)
    for old in where.glob("*.db"):  # only prometheus-client's files: never anything else put there
        old.unlink()
    os.environ[MULTIPROC_ENV] = str(where)
    return where


def serve_processes(settings: Settings, host: str, port: int, workers: int) -> None:
    """Serve with ``workers`` processes until stopped; exit 3 if the app failed to start in a child."""
    metrics_dir = fresh_metrics_dir(settings)
    config = ServiceConfig(settings, host, port, workers)
    supervisor = Supervisor(config, [config.bind_socket()], metrics_dir)
    try:
        supervisor.run()
    except KeyboardInterrupt:
        pass
    if supervisor.failed_to_start:
        sys.exit(STARTUP_FAILURE)
