"""``tts-service serve --workers 2``: two real uvicorn processes on one socket, with Redis and without.

Which process answers a request is the kernel's choice, so the tests send each request on a fresh
connection and read who answered from the processes' own metric files (prometheus-client's multiprocess
mode keeps one file per process id under TTS_HOME/metrics): a claim about "both processes" is checked, not
assumed.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import httpx
import pytest
from helpers import AUTH, LiveServer, free_port, read_rows
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families
from redis_server import RedisServer

from tts_service.config import Settings
from tts_service.states import JobStatus

pytestmark = pytest.mark.e2e
T = TypeVar("T")

LIMIT = 3  # TTS_PUBLIC_TTS_PER_MINUTE
CHANGES_POLL = 0.5  # TTS_CHANGES_POLL, the default
HEAD_TIMEOUT = 1.0  # TTS_HEADER_TIMEOUT
OLD, NEW = "旧的文字在这里。第二句不变。", "新的文字在这里。第二句不变。"  # told apart by their first 4


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, redis_server: RedisServer) -> Iterator[LiveServer]:
    """Two web processes sharing Redis (TTS_REDIS_URL): the per-client limits are counted there. With Redis,
    synthesis (POST /api/tts too) is the task queue's, so one `tts-service worker` runs beside them."""
    redis_server.flush()
    live = LiveServer(
        tmp_path_factory.mktemp("two-processes"),
        workers=2,
        TTS_ENGINE="espeak",
        TTS_REDIS_URL=redis_server.url,
        TTS_PUBLIC_TTS="1",
        TTS_PUBLIC_TTS_PER_MINUTE=str(LIMIT),
        TTS_HEADER_TIMEOUT=str(HEAD_TIMEOUT),
    ).start()
    with (live.home / "worker.log").open("ab") as log:
        cli = str(Path(sys.executable).with_name("tts-service"))
        worker = subprocess.Popen([cli, "worker"], env=live.env, stdout=log, stderr=subprocess.STDOUT)
    yield live
    worker.terminate()
    worker.wait(timeout=30)
    live.stop()


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """Two web processes without Redis: jobs run in-process, in whichever process starts them."""
    live = LiveServer(
        tmp_path_factory.mktemp("two-local-processes"),
        workers=2,
        TTS_ENGINE="espeak",
        TTS_CHANGES_POLL=str(CHANGES_POLL),
    ).start()
    yield live
    live.stop()


def answered(home: Path, route: str, status: str | None = None) -> dict[int, float]:
    """Requests to ``route`` (with ``status``) each process has counted, by process id, from its file."""
    counts = {}
    for path in (home / "metrics").glob("counter_*.db"):
        pid = int(path.stem.removeprefix("counter_"))
        counts[pid] = sum(
            sample.value
            for family in MultiProcessCollector.merge([str(path)])
            for sample in family.samples
            if sample.name == "tts_http_requests_total"
            and sample.labels["route"] == route
            and status in (None, sample.labels["status"])
        )
    return {pid: count for pid, count in counts.items() if count}


def live_pids(home: Path) -> set[int]:
    """The processes whose live gauge file exists: running children (a dead one's is removed)."""
    files = (home / "metrics").glob("gauge_livemostrecent_*.db")
    return {int(path.stem.rpartition("_")[2]) for path in files}


def scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """/metrics on a fresh connection: every sample, by (name, sorted labels)."""
    response = httpx.get(f"{url}/metrics", headers=AUTH)
    assert response.status_code == 200
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }


def until_both(home: Path, route: str, send: Callable[[], T], at_least: int = 1, tries: int = 60) -> list[T]:
    """Call ``send()`` until each of the two processes has answered ``at_least`` more requests to
    ``route``; the answers."""
    start = answered(home, route)
    answers = []
    for _ in range(tries):
        answers.append(send())
        now = answered(home, route)
        if len(now) == 2 and all(now[pid] - start.get(pid, 0) >= at_least for pid in now):
            return answers
    raise AssertionError(f"not both processes answered {route}: {answered(home, route)}")


def test_the_public_limit_holds_across_the_processes(server: LiveServer) -> None:
    def speak() -> int:
        return httpx.post(f"{server.url}/api/tts", json={"text": "你好。"}, timeout=30).status_code

    statuses = until_both(server.home, "/api/tts", speak)  # both processes answered calls
    statuses += [speak() for _ in range(3 * LIMIT - len(statuses))]
    # Together they allowed LIMIT calls, as one process would have (each alone would allow LIMIT).
    assert statuses == [200] * LIMIT + [429] * (len(statuses) - LIMIT)


def test_metrics_add_up_the_processes(server: LiveServer) -> None:
    route = "/api/articles"
    key = ("tts_http_requests_total", (("method", "GET"), ("route", route), ("status", "200")))
    before = scrape(server.url).get(key, 0)
    sent = 20
    for _ in range(sent):
        assert httpx.get(f"{server.url}{route}").status_code == 200
    time.sleep(0.2)  # a process counts a request just after its last byte is sent
    per_process = answered(server.home, route)
    assert len(per_process) == 2, per_process  # both processes counted some of them
    # Whichever process answers /metrics (both do, below), it reports every process's requests.
    for samples in until_both(server.home, "/metrics", lambda: scrape(server.url)):
        assert samples[key] == sum(per_process.values()) >= before + sent
        jobs = {labels: value for (name, labels), value in samples.items() if name == "tts_jobs"}
        # One value per state (the freshest), not one per process.
        assert len(jobs) == len(JobStatus) and all(len(labels) == 1 for labels in jobs)


def wait_for_audio(url: str, slug: str, text: str) -> None:
    """Until the article's audio, for the revision with ``text``, is made and its whole MP3 assembled."""
    deadline = time.monotonic() + 60
    while True:
        manifest = httpx.get(f"{url}/api/articles/{slug}/audio").json()
        said = "".join(chunk["text"] for chunk in manifest["chunks"])
        if manifest["status"] == "ready" and manifest["url"] and text[:4] in said:
            return
        assert manifest["status"] != "failed", manifest
        assert time.monotonic() < deadline, manifest
        time.sleep(0.2)


def test_an_edit_through_one_process_shows_on_the_other(local: LiveServer) -> None:
    article = {"title": "社区图书馆", "text": OLD, "slug": "lib"}
    assert httpx.post(f"{local.url}/api/articles", json=article, headers=AUTH).status_code == 201
    wait_for_audio(local.url, "lib", OLD)
    page = f"{local.url}/articles/lib"
    # Both processes have the page in memory: each answered it at least twice (the second from memory).
    before = until_both(local.home, "/articles/{slug}", lambda: httpx.get(page), at_least=2)
    assert all(OLD[:4] in answer.text for answer in before)

    edit = httpx.put(f"{local.url}/api/articles/lib", json={**article, "text": NEW}, headers=AUTH)
    assert edit.status_code == 200
    edited = time.monotonic()
    wait_for_audio(local.url, "lib", NEW)
    # The page is settled again (audio and whole file made), so each process would serve it from memory.
    # Past the one staleness there is (a process sees another's writes within TTS_CHANGES_POLL), both
    # show the new text, not the copy they kept.
    time.sleep(max(0.0, edited + 2 * CHANGES_POLL - time.monotonic()))
    after = until_both(local.home, "/articles/{slug}", lambda: httpx.get(page), at_least=2)
    assert all(NEW[:4] in answer.text and OLD[:4] not in answer.text for answer in after)
    # One job per revision, made once, though pages were opened on both processes while it ran.
    rows = read_rows(Settings(home=local.home), "SELECT revision, status FROM jobs WHERE slug = 'lib'")
    assert sorted((row["revision"], row["status"]) for row in rows or []) == [(1, "done"), (2, "done")]


def test_the_processes_keep_the_head_deadline(server: LiveServer) -> None:
    """The children run the service's HTTP protocol, which each builds from the config it is sent (one
    config for all), not uvicorn's default one: a trickled head is cut off."""
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        start = time.monotonic()
        sock.sendall(b"GET /api/articles HTTP/1.1\r\nHost: t\r\n")  # and never the blank line
        reply = b""
        while chunk := sock.recv(4096):
            reply += chunk
    assert reply.startswith(b"HTTP/1.1 408 ") and time.monotonic() - start < HEAD_TIMEOUT + 2


def job_of(home: Path, slug: str) -> dict:
    """The article's one job, as the store has it."""
    rows = read_rows(Settings(home=home), "SELECT * FROM jobs WHERE slug = :slug", slug=slug)
    assert rows is not None and len(rows) == 1, rows
    return rows[0]


def test_a_killed_process_is_replaced_and_its_job_finished(local: LiveServer) -> None:
    """kill -9 of the child running a job: the supervisor starts another, which takes the job over (as a
    restarted server would); the dead child's live gauge goes, what it counted stays."""
    route = "/api/articles"
    key = ("tts_http_requests_total", (("method", "GET"), ("route", route), ("status", "200")))
    before = scrape(local.url)[key]
    pids = live_pids(local.home)
    assert len(pids) == 2, pids
    text = "".join(f"这是长文章的第{n}句话。" for n in range(1, 61))
    article = {"title": "长文章", "text": text, "slug": "long"}
    assert httpx.post(f"{local.url}/api/articles", json=article, headers=AUTH).status_code == 201
    job = job_of(local.home, "long")
    victim = int(job["owner"].split(":")[1])  # host:pid:nonce
    assert victim in pids and job["status"] in ("queued", "running")
    os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while (now := live_pids(local.home)) == pids or len(now) < 2:
        assert time.monotonic() < deadline, f"no replacement for {victim}: {now}"
        time.sleep(0.1)
    assert victim not in now and len(now - pids) == 1  # its live gauge is gone; a new process took over
    assert scrape(local.url)[key] >= before  # what the dead process counted still counts
    deadline = time.monotonic() + 60
    while (job := job_of(local.home, "long"))["status"] != "done":
        assert job["status"] != "failed" and time.monotonic() < deadline, job
        time.sleep(0.2)
    assert int(job["owner"].split(":")[1]) in now - pids  # the replacement finished it


def test_a_start_up_failure_exits_non_zero(tmp_path: Path) -> None:
    """The default engine cannot run (no espeak-ng on PATH): every child fails to start, and so does the
    command (uvicorn's status 3), instead of restarting children for ever."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TTS_")}
    env |= {"TTS_HOME": str(tmp_path), "TTS_ENGINE": "espeak", "PATH": str(Path(sys.executable).parent)}
    cli = str(Path(sys.executable).with_name("tts-service"))
    args = [cli, "serve", "--host", "127.0.0.1", "--port", str(free_port()), "--workers", "2"]
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 3, done.stderr[-2000:]
    assert "failed to start" in done.stdout + done.stderr
