"""``tts-service worker``: the task queue's worker (TTS_REDIS_URL), on any machine of the deployment."""

from __future__ import annotations

from typing import Annotated

import typer

from tts_service.cli_errors import user_errors
from tts_service.config import Settings
from tts_service.logs import configure_logging
from tts_service.taskqueue import QUEUES


def worker(
    concurrency: Annotated[
        int, typer.Option(min=1, help="Chunks made at once (threads, and engine calls, in this process).")
    ] = 1,
    queues: Annotated[
        str, typer.Option(help="The queues to take tasks from, comma-separated; interactive is always first.")
    ] = ",".join(QUEUES),
) -> None:
    """Make audio for the task queue (TTS_REDIS_URL) until stopped (SIGTERM: the chunks in hand finish)."""
    from tts_service import worker as worker_process

    chosen = tuple(name.strip() for name in queues.split(",") if name.strip())
    with user_errors():
        settings = Settings()
        configure_logging()
        worker_process.run(settings, concurrency=concurrency, queues=chosen)
