"""A deployment on several machines, as processes on this one: `tts-service serve` twice and `tts-service
worker` twice, each worker with a TTS_HOME of its own, all on the suite's real PostgreSQL, SeaweedFS and
Redis. Engine calls are counted by a wrapper around the real espeak-ng, first on PATH: each call appends the
TTS_HOME of the worker that made it."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from edge_double import EdgeDouble
from helpers import AUTH, LiveServer, backend_env, decode, open_pipeline
from helpers import WorkerProcess as Worker
from pydantic import SecretStr

from tts_service.article import ArticleDraft
from tts_service.config import Settings
from tts_service.states import JobStatus

pytestmark = pytest.mark.e2e
TESTS = Path(__file__).parent
_WRAPPER = """#!/bin/sh
case "$*" in *--version*) exec {real} "$@";; esac
echo "$TTS_HOME" >> "$ESPEAK_CALLS"
if [ -n "$ESPEAK_DELAY" ]; then sleep "$ESPEAK_DELAY"; fi
exec {real} "$@"
"""


@pytest.fixture
def backend() -> str:
    return "cloud"  # PostgreSQL and S3: what several machines share


@pytest.fixture
def cluster_env(settings: Settings, redis_url: str, tmp_path: Path) -> dict[str, str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    wrapper = bin_dir / "espeak-ng"
    real = subprocess.run(["sh", "-c", "command -v espeak-ng"], capture_output=True, text=True, check=True)
    wrapper.write_text(_WRAPPER.format(real=real.stdout.strip()))
    wrapper.chmod(0o755)
    shipped = {k: v for k, v in os.environ.items() if not k.startswith("TTS_")}
    return {
        **shipped,
        **backend_env(settings),
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "ESPEAK_CALLS": str(tmp_path / "calls.log"),
        "TTS_REDIS_URL": redis_url,
        "TTS_ENGINE": "espeak",
        "TTS_WORKER_LOST_AFTER": "2",
    }


@pytest.fixture
def cluster(cluster_env: dict[str, str], tmp_path: Path) -> Iterator[list[LiveServer]]:
    webs = [LiveServer(tmp_path / f"web{n}", **cluster_env) for n in (1, 2)]
    for web in webs:
        web.home.mkdir()
        web.start(timeout=60)
    yield webs
    for web in webs:
        web.stop()


def _calls(env: dict[str, str]) -> Counter[str]:
    path = Path(env["ESPEAK_CALLS"])
    return Counter(path.read_text().split()) if path.exists() else Counter()


def _wait_ready(http: httpx.Client, slug: str, seconds: float = 120) -> dict:
    deadline = time.monotonic() + seconds
    while True:
        # As an app polls (which also moves a bulk job a reader asks for up to interactive).
        manifest = http.get(f"/api/articles/{slug}/audio").json()
        if manifest["status"] != "pending":
            return manifest
        assert time.monotonic() < deadline, f"still pending at {manifest['progress']:.0%}"
        time.sleep(0.25)


def _article(count: int) -> str:
    digits = "零一二三四五六七八九"
    sentences = [f"集群里的第{digits[n // 10]}{digits[n % 10]}句话。" for n in range(count)]
    return "\n\n".join("".join(sentences[i : i + 6]) for i in range(0, count, 6))


def test_two_workers_make_one_article_and_it_is_assembled_once(
    cluster: list[LiveServer], cluster_env: dict[str, str], tmp_path: Path
) -> None:
    env = {**cluster_env, "ESPEAK_DELAY": "0.05"}
    workers = [Worker(tmp_path / f"worker{n}", env) for n in (1, 2)]
    try:
        with httpx.Client(base_url=cluster[0].url, headers=AUTH, timeout=30) as first:
            created = first.post("/api/articles", json={"title": "集群", "text": _article(60)})
            assert created.status_code == 201, created.text
            slug = created.json()["slug"]
        with httpx.Client(base_url=cluster[1].url, timeout=30) as second:  # the other web process answers
            assert (
                "音频生成中" in second.get(f"/articles/{slug}").text
            )  # its page, now in that process's cache
            manifest = _wait_ready(second, slug)
            assert manifest["status"] == "ready", manifest
            assert len(manifest["chunks"]) == 60
            for chunk in manifest["chunks"]:
                audio = second.get(chunk["url"])
                assert audio.status_code == 200
                assert decode(audio.content)[0] == pytest.approx(chunk["duration"], abs=0.05)
            whole = second.get(manifest["url"])
            assert whole.status_code == 200 and decode(whole.content)[0] > 10
            # The workers wrote the audio, in other processes: the cached page follows the store.
            deadline = time.monotonic() + 10
            while "音频已就绪" not in (page := second.get(f"/articles/{slug}").text):
                assert time.monotonic() < deadline, "the page still shows the audio pending"
                time.sleep(0.2)
            assert "音频生成中" not in page
    finally:
        for worker in workers:
            worker.stop()
    calls = _calls(env)
    assert calls[str(workers[0].home)] > 0 and calls[str(workers[1].home)] > 0, calls  # both did part
    assert sum(calls.values()) == 60  # every chunk made once
    logs = "".join(w.log_path.read_text() for w in workers)
    assert logs.count(" done: 60 chunks") == 1  # the whole file assembled once, by one worker


def test_a_killed_worker_s_chunks_are_made_by_another(
    cluster: list[LiveServer], cluster_env: dict[str, str], tmp_path: Path
) -> None:
    env = {**cluster_env, "ESPEAK_DELAY": "0.3"}
    doomed = Worker(tmp_path / "doomed", env)
    survivor = Worker(tmp_path / "survivor", env)
    try:
        with httpx.Client(base_url=cluster[0].url, headers=AUTH, timeout=30) as http:
            slug = http.post("/api/articles", json={"title": "崩溃", "text": _article(24)}).json()["slug"]
            deadline = time.monotonic() + 60
            while _calls(env)[str(doomed.home)] < 3:  # mid-article, a chunk in its hands
                assert time.monotonic() < deadline
                time.sleep(0.05)
            doomed.kill()
            manifest = _wait_ready(http, slug)
            assert manifest["status"] == "ready", manifest
        verified = subprocess.run(
            [str(Path(sys.executable).with_name("tts-service")), "cache", "verify"],
            env={**env, "TTS_HOME": str(tmp_path / "verify")},
            capture_output=True,
            text=True,
        )
        assert verified.returncode == 0, verified.stdout + verified.stderr
        # No torn object, and no object without its record, whatever the worker was doing when it died.
        assert "0 bad" in verified.stdout and " 0 not recorded" in verified.stdout, verified.stdout
    finally:
        survivor.stop()
        if doomed.proc.poll() is None:
            doomed.kill()
    calls = _calls(env)
    # Each chunk once, apart from the one the killed worker had in flight (it ran one at a time).
    assert 24 <= sum(calls.values()) <= 24 + 1, calls
    assert calls[str(survivor.home)] > 0


async def test_the_edge_bound_holds_across_workers(
    settings: Settings, cluster_env: dict[str, str], edge_double: EdgeDouble, tmp_path: Path
) -> None:
    """TTS_EDGE_CONCURRENCY=2 for the deployment: two workers of three threads each, and the edge double
    (Microsoft's service, in this process) never answers more than two requests at once."""
    edge_double.delay = 0.3
    ca = tmp_path / "edge-ca.pem"
    edge_double.ca.cert_pem.write_to_path(str(ca))
    env = {**cluster_env, "TTS_ENGINE": "edge", "TTS_FALLBACK_ENGINE": "espeak", "TTS_EDGE_CONCURRENCY": "2"}
    env["PYTHONPATH"] = os.pathsep.join([str(TESTS), env.get("PYTHONPATH", "")])
    workers = []
    for n in (1, 2):
        home = tmp_path / f"edge-worker{n}"
        home.mkdir()
        command = [sys.executable, str(TESTS / "edge_worker.py"), str(edge_double.port), str(ca)]
        with (home / "worker.log").open("ab") as log:  # the worker has its own copy of the descriptor
            workers.append(
                await asyncio.create_subprocess_exec(
                    *command, "--concurrency", "3", env={**env, "TTS_HOME": str(home)}, stdout=log, stderr=log
                )
            )
    queued = settings.model_copy(update={"redis_url": SecretStr(env["TTS_REDIS_URL"]), "engine": "edge"})
    try:
        async with open_pipeline(queued) as pipeline:
            article = await pipeline.publish(ArticleDraft(title="边缘", text=_article(12), slug="edge"))
            job = await pipeline.jobs.latest("edge", article.revision)
            done = await asyncio.wait_for(pipeline.wait(job, poll=0.1), 120)
        assert (done.status, done.engine, done.fallback) == (JobStatus.DONE, "edge", None)
        assert len(edge_double.requests) == 12  # each chunk once,
        assert edge_double.max_concurrent == 2  # two at a time across both workers: the bound, met and held
    finally:
        for proc in workers:
            proc.send_signal(signal.SIGTERM)
        for proc in workers:
            await asyncio.wait_for(proc.wait(), 30)
