"""Test helpers shared by several test modules."""

from __future__ import annotations

import array
import asyncio
import errno
import importlib.util
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import httpx
import miniaudio

from tts_service.audio import loudness, pcm
from tts_service.audio import mp3 as mp3_format
from tts_service.engines import Engine, Prosody, Synthesis

REPO_ROOT = Path(__file__).resolve().parents[1]
DATA = REPO_ROOT / "tests" / "data"  # the polyphone test set, saved pages for import
CORPUS_DIR = REPO_ROOT.parent / "shared" / "corpus"
ARTIFACTS = REPO_ROOT / "test-artifacts" / "screenshots"
# Debian's Chromium, driven by Playwright (no browser is downloaded).
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]
AXE_JS = Path(importlib.util.find_spec("axe_playwright_python").submodule_search_locations[0]) / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
CORPUS = CORPUS_DIR / "academy-international-cooperation-2020.txt"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
# What a README server block needs around it: an http context, with everything nginx writes kept in the
# test's directory. {user}: as root, the workers stay root to read pytest's 0700 directories.
NGINX_MAIN_CONF = """\
worker_processes 1;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log;
{user}
events {{ worker_connections 64; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log {tmp}/access.log;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
{site}
}}
"""
TOKEN = "test-editor-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def free_port() -> int:
    """A TCP port free on the loopback interface now (for a server a test starts)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def corpus_body() -> str:
    """The speech's body paragraphs from the corpus page (2019年… to …强大动能!)."""
    lines = [line.strip() for line in CORPUS.read_text(encoding="utf-8").splitlines()]
    start = next(i for i, line in enumerate(lines) if line.startswith("2019年是"))
    end = next(i for i, line in enumerate(lines) if line.endswith("强大动能!"))
    return "\n\n".join(line for line in lines[start : end + 1] if line)


def decode(mp3: bytes) -> tuple[float, float]:
    """Decode MP3 bytes; return (seconds, RMS level on a 0..1 scale)."""
    sound = miniaudio.decode(mp3, output_format=miniaudio.SampleFormat.SIGNED16, nchannels=1)
    samples = array.array("h", sound.samples)
    rms = math.sqrt(sum(s * s for s in samples) / max(1, len(samples))) / 32768
    return len(samples) / sound.sample_rate, rms


MPEG2_L3_KBPS = (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160)
MPEG2_RATES = (22050, 24000, 16000)


def frame_formats(mp3: bytes) -> set[tuple[int, int, int]]:
    """Walk every frame header (which must all be MPEG-2 Layer III); the set of (rate, kbps, channels)."""
    formats, pos = set(), 0
    while pos < len(mp3):
        header = int.from_bytes(mp3[pos : pos + 4], "big")
        assert header >> 21 == 0x7FF, f"no frame sync at byte {pos}"
        assert (header >> 19) & 3 == 2 and (header >> 17) & 3 == 1, f"not MPEG-2 Layer III at byte {pos}"
        kbps, rate = MPEG2_L3_KBPS[(header >> 12) & 15], MPEG2_RATES[(header >> 10) & 3]
        formats.add((rate, kbps, 1 if (header >> 6) & 3 == 3 else 2))
        pos += 72_000 * kbps // rate + ((header >> 9) & 1)
    return formats


def loudness_of(mp3: bytes) -> tuple[float, float]:
    """(integrated LUFS, true peak dBTP) of the decoded MP3."""
    samples = pcm.from_int16(mp3_format.decode(mp3))
    rate = mp3_format.SAMPLE_RATE
    return loudness.integrated_lufs(samples, rate), loudness.true_peak_dbtp(samples, rate)


def axe_problems(page) -> list:
    """axe-core's WCAG 2.2 A/AA violations on the page, as (rule, first targets); needs bypass_csp=True."""
    page.add_script_tag(path=str(AXE_JS))
    result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_TAGS)
    assert len(result["passes"]) > 10  # axe really ran
    return [(v["id"], [n["target"] for n in v["nodes"]][:3]) for v in result["violations"]]


# Every file Python opens while ``opened()`` records, from any thread: an audit hook, so nothing is patched.
_opens: list[str] | None = None


def _audit(event: str, args: tuple) -> None:
    if event == "open" and _opens is not None and isinstance(args[0], str | os.PathLike):
        _opens.append(os.fspath(args[0]))


sys.addaudithook(_audit)


@contextmanager
def opened() -> Iterator[list[str]]:
    """The paths of the files opened in the ``with`` block, in order (one entry per open)."""
    global _opens
    _opens = found = []
    try:
        yield found
    finally:
        _opens = None


@asynccontextmanager
async def open_pipeline(settings, **engines):
    """A pipeline over a fresh store under ``settings.home``, with ``engines`` replacing engines by name;
    built and closed as the service builds and closes it (``open_services``)."""
    from tts_service.services import open_services

    async with open_services(settings, engines=engines) as services:
        yield services.pipeline


@contextmanager
def queue_worker(
    settings: Any, engine: Any, *, concurrency: int = 1, queues: tuple[str, ...] | None = None, **more: Any
) -> Iterator[Any]:
    """``tts-service worker``'s machinery (worker.QueueWorker) in this process, for ``settings`` with
    TTS_REDIS_URL, its espeak engine (and any in ``more``) replaced by name."""
    from tts_service.taskqueue import QUEUES
    from tts_service.worker import QueueWorker

    running = QueueWorker(
        settings, concurrency=concurrency, queues=queues or QUEUES, engines={"espeak": engine, **more}
    )
    running.start()
    try:
        yield running
    finally:
        running.stop(grace=5)


class WorkerProcess:
    """``tts-service worker`` in a subprocess with its own TTS_HOME, its log (emptied) there."""

    def __init__(self, home: Path, env: dict[str, str], *args: str) -> None:
        home.mkdir(parents=True, exist_ok=True)
        self.home, self.log_path = home, home / "worker.log"
        self.log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            [_cli(), "worker", *args],
            env={**env, "TTS_HOME": str(home)},
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def stop(self) -> None:
        """SIGTERM: the chunks in hand finish; killed if it has not stopped within a minute."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()

    def kill(self) -> None:
        """SIGKILL: nothing of the worker's runs again."""
        self.proc.kill()
        self.proc.wait()
        self.log.close()


class CountingEngine:
    """Wraps a real engine and counts what it is asked to say."""

    def __init__(self, inner: Engine, delay: float = 0.0) -> None:
        self.inner, self.delay = inner, delay  # delay: seconds each call takes first (a slow engine)
        self.name, self.version, self.voices = inner.name, inner.version, inner.voices
        self.default_voice, self.max_chunk_chars = inner.default_voice, inner.max_chunk_chars
        self.reads_marks = getattr(inner, "reads_marks", False)  # as the engine it wraps (utterance.say)
        self.calls: list[str] = []
        self.finished: list[str] = []  # calls that ran to the end (not cancelled)

    async def synthesize(self, text: str, voice: str, prosody: Prosody) -> Synthesis:
        self.calls.append(text)
        if self.delay:
            await asyncio.sleep(self.delay)
        result = await self.inner.synthesize(text, voice, prosody)
        self.finished.append(text)
        return result


# The settings that say where a deployment's state lives, as the environment variables a process reads.
_WHERE = ("database_url", "audio_store", "s3_endpoint_url", "s3_region", "s3_path_style", "audio_base_url")


def backend_env(settings: Any) -> dict[str, str]:
    """TTS_* variables that put another process (``tts-service``) on the same database and audio store
    as ``settings`` (the test's backend)."""
    env: dict[str, str] = {}
    for name in _WHERE:
        value = getattr(settings, name, None)
        if value is None:
            continue
        value = value.get_secret_value() if hasattr(value, "get_secret_value") else value
        env[f"TTS_{name.upper()}"] = str(int(value) if isinstance(value, bool) else value)
    return env


def read_rows(settings: Any, sql: str, **params: Any) -> list[dict[str, Any]] | None:
    """Rows straight from the database of ``settings``, as another process sees them; None before the
    schema exists. SQLite is opened read-only, so that looking never creates the file."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import OperationalError, ProgrammingError
    from sqlalchemy.pool import NullPool

    location = settings.database
    url = f"sqlite:///file:{location}?mode=ro&uri=true" if isinstance(location, Path) else location
    url = url.replace("postgresql://", "postgresql+psycopg://", 1)
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return [dict(row._mapping) for row in conn.execute(text(sql), params)]
    except (OperationalError, ProgrammingError):  # no file, or not migrated yet
        return None
    finally:
        engine.dispose()


class LiveServer:
    """``tts-service serve`` in a subprocess on a free port: the real uvicorn, the real app."""

    def __init__(self, home: Path, workers: int = 1, **env: str) -> None:
        self.home = home
        self.workers = workers  # web processes (`serve --workers`)
        shipped = {k: v for k, v in os.environ.items() if not k.startswith("TTS_")}  # default engine etc.
        self.env = {**shipped, "TTS_HOME": str(home), "TTS_EDITOR_TOKEN": TOKEN, **env}
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = ""

    def cli(self, *args: str) -> str:
        """Run another tts-service command against the same home."""
        done = subprocess.run([_cli(), *args], env=self.env, capture_output=True, text=True, check=True)
        return done.stdout

    def start(self, timeout: float = 30) -> LiveServer:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        self.log = (self.home / "server.log").open("ab")
        self.proc = subprocess.Popen(
            [_cli(), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(self.workers)],
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {(self.home / 'server.log').read_text()}")
            try:
                if httpx.get(f"{self.url}/api/articles", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError("server did not come up")

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as in a crash or an OOM kill."""
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait()
        self.log.close()
        self.proc = None

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.log.close()


def _cli() -> str:
    return str(Path(sys.executable).with_name("tts-service"))


def lame_encode(samples, rate: int = 24000, bitrate: int = 48, channels: int = 1) -> bytes:
    """Float samples encoded as the service encodes chunks (lameenc, CBR, quality 2), in any format."""
    import lameenc
    import numpy as np

    encoder = lameenc.Encoder()
    encoder.set_bit_rate(bitrate)
    encoder.set_in_sample_rate(rate)
    encoder.set_out_sample_rate(rate)
    encoder.set_channels(channels)
    encoder.set_quality(2)
    pcm = (np.repeat(samples, channels) * 32767).astype("<i2").tobytes()
    return bytes(encoder.encode(pcm) + encoder.flush())


def mount_tmpfs(path: Path, size: str) -> bool:
    """Mount a tmpfs of ``size`` (e.g. "2m") at ``path``; False where this machine does not allow it."""
    path.mkdir(parents=True, exist_ok=True)
    mount = ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)]
    return subprocess.run(mount, capture_output=True, check=False).returncode == 0


def unmount(path: Path) -> None:
    subprocess.run(["umount", "-l", str(path)], check=True)


def fill_disk(filler: Path) -> None:
    """Write ``filler`` until the disk under it is full (ENOSPC).

    Unbuffered: a buffered file would hold the bytes of the write that failed and fail again when closed,
    whenever the free space was not a whole number of blocks.
    """
    with open(filler, "wb", buffering=0) as out:
        try:
            while True:
                out.write(b"\0" * 65536)  # a short write fills the disk; the next one raises
        except OSError as exc:
            assert exc.errno == errno.ENOSPC, exc


# The API as an app uses it ----------------------------------------------------------------------------

ARTICLE = {"title": "社区图书馆", "text": "今天开馆。欢迎大家！\n\n第二段只有一句。", "slug": "lib"}


async def create(client: httpx.AsyncClient, body: dict = ARTICLE) -> httpx.Response:
    return await client.post("/api/articles", json=body, headers=AUTH)


async def wait_ready(client: httpx.AsyncClient, slug: str) -> dict:
    """Poll the manifest as an app would, until generation ends."""
    async with asyncio.timeout(30):
        while True:
            manifest = (await client.get(f"/api/articles/{slug}/audio")).json()
            if manifest["status"] != "pending":
                return manifest
            await asyncio.sleep(0.1)


def wait_until(page: Any, expression: str, timeout: float = 30_000) -> None:
    """Playwright's page.wait_for_function, without the eval() in the page that the pages' policy refuses."""
    deadline = time.monotonic() + timeout / 1000
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"timed out waiting for {expression}"
        page.wait_for_timeout(50)


def body_font_px(page: Any) -> float:
    """The article body's text size in the page, in CSS pixels."""
    return float(
        page.evaluate("parseFloat(getComputedStyle(document.querySelector('.article-body p')).fontSize)")
    )


START = 1_700_000_000.0  # 2023-11-14 22:13:20 UTC: 6,400 s before midnight


class Clock:
    """A clock that stands still until a test moves ``now``: for limits counted per minute and per UTC day."""

    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now
