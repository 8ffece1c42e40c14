"""kill -9 in the middle of pre-generation, the job finishes at the next start, nothing torn is served."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from helpers import AUTH, TOKEN, LiveServer, _cli, backend_env, decode, read_rows

from tts_service import upkeep
from tts_service.config import Settings

pytestmark = pytest.mark.e2e

# Sixty different sentences: long enough (espeak, two workers) to be killed half way through.
TEXT = "\n\n".join(
    "".join(f"第{p}段第{s}句，讲的是编号{p * 10 + s}的事情。" for s in range(6)) for p in range(10)
)


@pytest.fixture
def backend(every_backend: str) -> str:
    return every_backend


def job_row(settings: Settings, job_id: int = 1) -> dict | None:
    """Read a job straight from the database, as another process sees it."""
    rows = read_rows(settings, "SELECT * FROM jobs WHERE id = :id", id=job_id)
    return rows[0] if rows else None


def wait_for(predicate, timeout: float = 60, step: float = 0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise AssertionError("timed out")


def assert_every_file_whole(home: Path) -> None:
    """Every finished cache file decodes to its end; only temp files may be partial (never served)."""
    for path in upkeep.cache_files(home / "audio_cache"):
        if path.suffix == ".part":
            assert path.name.startswith("."), path
            continue
        assert upkeep.check_file(path, path.stat().st_size, None, None) is None, path


def test_kill_9_during_cli_pregen_then_resume(tmp_path: Path, settings: Settings) -> None:
    env = LiveServer(tmp_path, TTS_ENGINE="espeak", **backend_env(settings)).env
    doc = tmp_path / "long.txt"
    doc.write_text("长文章\n\n" + TEXT, encoding="utf-8")
    cli = _cli()
    subprocess.run([cli, "add", str(doc), "--slug", "long"], env=env, check=True, capture_output=True)

    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    proc = subprocess.Popen([cli, "pregen", "long"], env=env, **quiet)
    try:
        wait_for(lambda: (row := job_row(settings)) and row["done"] >= 5)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    row = job_row(settings)
    assert row["status"] == "running" and 5 <= row["done"] < row["total"] == 60

    verify = subprocess.run([cli, "cache", "verify"], env=env, capture_output=True, text=True)
    assert verify.returncode == 0, verify.stdout
    assert_every_file_whole(tmp_path)

    again = subprocess.run([cli, "pregen", "long"], env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert "job 1 long: done, 60/60 chunks" in again.stdout  # the same job, finished
    row = job_row(settings)
    assert (row["status"], row["done"], row["total"]) == ("done", 60, 60)
    verify = subprocess.run([cli, "cache", "verify"], env=env, capture_output=True, text=True)
    assert verify.returncode == 0 and "61 ok, 0 bad" in verify.stdout, verify.stdout  # 60 chunks + whole


def test_kill_9_of_the_server_then_restart(tmp_path: Path, settings: Settings) -> None:
    server = LiveServer(tmp_path, TTS_ENGINE="espeak", **backend_env(settings)).start()
    try:
        body = {"title": "长文章", "slug": "long", "text": TEXT}
        assert httpx.post(f"{server.url}/api/articles", json=body, headers=AUTH).status_code == 201
        started = httpx.post(f"{server.url}/api/articles/long/audio", headers=AUTH)
        assert started.json()["job"]["id"] == 1
        assert started.headers["Location"] == f"{server.url}/api/jobs/1"
        wait_for(lambda: (row := job_row(settings)) and row["done"] >= 5)
        server.kill()
        row = job_row(settings)
        assert row["status"] == "running" and row["done"] < 60
        assert_every_file_whole(tmp_path)

        server.start()  # same home: it takes the job over at start-up
        job_url = f"{server.url}/api/jobs/1"  # a new port
        job = wait_for(lambda: (j := httpx.get(job_url, headers=AUTH).json())["status"] != "running" and j)
        assert (job["id"], job["done"], job["total"], job["error"]) == (1, 60, 60, None)
        manifest = httpx.get(f"{server.url}/api/articles/long/audio").json()
        assert manifest["status"] == "ready"
        for chunk in manifest["chunks"]:  # every chunk served decodes whole
            seconds, rms = decode(httpx.get(chunk["url"]).content)
            assert seconds == pytest.approx(chunk["duration"], abs=0.06) and rms > 0.01
        whole = httpx.get(f"{server.url}/articles/long/audio.mp3", follow_redirects=True)
        assert decode(whole.content)[0] == pytest.approx(manifest["duration"], abs=0.1)
        assert TOKEN not in (tmp_path / "server.log").read_text()
    finally:
        server.stop()
