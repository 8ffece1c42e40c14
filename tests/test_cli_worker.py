"""``tts-service worker``'s command line: what it refuses, in one line each (the worker itself:
test_worker.py and test_cluster.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

CLI = str(Path(sys.executable).with_name("tts-service"))


def _worker(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TTS_")}
    return subprocess.run(
        [CLI, "worker", *args],
        env={**clean, "TTS_HOME": str(tmp_path), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_worker_without_redis_says_what_it_needs(tmp_path: Path) -> None:
    done = _worker(tmp_path)
    assert done.returncode == 1
    assert done.stderr.strip().endswith(
        "error: a worker needs the task queue: set TTS_REDIS_URL (redis://host:6379/0)"
    )


def test_an_unknown_queue_is_refused(tmp_path: Path, redis_url: str) -> None:
    done = _worker(tmp_path, "--queues", "interactive,urgent", TTS_REDIS_URL=redis_url)
    assert done.returncode == 1
    assert "unknown queue(s) ['urgent']; the queues are interactive, bulk" in done.stderr


def test_concurrency_must_be_positive(tmp_path: Path) -> None:
    done = _worker(tmp_path, "--concurrency", "0")
    assert done.returncode == 2 and "--concurrency" in done.stderr
