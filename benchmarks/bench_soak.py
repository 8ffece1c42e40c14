"""Soak: the server's memory (RSS) over minutes of readers, long edits and /api/tts while jobs run.

Run: .venv/bin/python benchmarks/bench_soak.py [--minutes 10 --engine local --readers 6 --source DIR]

In a temporary TTS_HOME it adds the demo article (`tts-service seed`) and starts `tts-service serve` (one
uvicorn process, as shipped) on a free 127.0.0.1 port, with TTS_PUBLIC_TTS=1, an editor token and the
chosen engine (`local` by default, as in production; `espeak` costs far less CPU). ``--source DIR`` runs
the server from another checkout of the project (its `tts_service/` and `templates/`), e.g. an older
commit unpacked with `git archive`, with this checkout's virtualenv.

1. Warm-up: the demo's audio is made and assembled; each reader request below is made a few times; three
   long articles are added; a few /api/tts calls. Then 20 s of quiet, and the RSS after warm-up is the
   median of the samples in those 20 s.
2. Soak, for --minutes, all at once:
   - readers (--readers loops, each waiting 0.2-0.8 s between requests): the index, the demo page, the
     demo's manifest, a chunk MP3 and the whole-article MP3 with Range, the stable audio URL (302), a long
     article's page and its manifest (about 3,000 chunks at 100,000 characters);
   - an editor: every --edit-every seconds a PUT of one of the three long articles, with new text each time
     (every sentence numbered anew, 20,000 to --max-chars characters), so every plan differs; each PUT
     starts that revision's generation job;
   - /api/tts without a token (public) every --tts-every seconds, with a new short text each time;
   - so generation jobs run throughout (the long articles' jobs, one per PUT).
3. Idle: --idle seconds with no requests at all (jobs may still run), then the RSS again.

RSS is VmRSS from /proc/<pid>/status every --sample seconds; the peak is VmHWM. Requests that fail (an
exception or timeout, or a 5xx) are errors; 429 from /api/tts (its per-client rate limit) and its 503 `busy`
with Retry-After (its bounded queue is full) are counted but expected. The script prints the RSS after
warm-up, the peak, at the end of the soak and after the idle time, the ratio end / warm-up, a time series
(one line per --print-every seconds), and request and error counts by kind. --json PATH writes every sample
and count too.

Diagnostics (off by default, both through a small bootstrap, so the server's code is untouched):
--tracemalloc starts the server under tracemalloc and prints the 15 sources of Python memory that grew most
between the end of warm-up and the end of the soak (it slows the server down); --trim calls glibc's
malloc_trim(0) in the server after the idle time and samples RSS again, which shows how much of the RSS was
freed memory not yet given back to the system. --env NAME=VALUE passes settings to the server
(e.g. MALLOC_ARENA_MAX=2, TTS_PLAN_CACHE_MB=16).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus" / "academy-international-cooperation-2020.txt"
TOKEN = "bench-soak-editor-token-0123456789"
EDITOR = {"Authorization": f"Bearer {TOKEN}"}
LONG_SLUGS = ("soak-long-1", "soak-long-2", "soak-long-3")
MB = 1024  # VmRSS is in kB
# Runs in the server process before the CLI: optional tracemalloc snapshots (SIGUSR1) and malloc_trim
# (SIGUSR2), so that the benchmark can look inside without any change to the server's code.
BOOTSTRAP = """\
import ctypes, os, signal, sys, tracemalloc
def snapshot(signum, frame):
    n = len([p for p in os.listdir(os.environ["SOAK_DIR"]) if p.startswith("snap-")])
    tracemalloc.take_snapshot().dump(os.path.join(os.environ["SOAK_DIR"], f"snap-{n}.pickle"))
def trim(signum, frame):
    ctypes.CDLL("libc.so.6").malloc_trim(0)
if os.environ.get("SOAK_TRACEMALLOC"):
    tracemalloc.start(int(os.environ["SOAK_TRACEMALLOC"]))
signal.signal(signal.SIGUSR1, snapshot)
signal.signal(signal.SIGUSR2, trim)
from tts_service.cli import app
sys.argv[0] = "tts-service"
app()
"""


# Texts -------------------------------------------------------------------------------------------------


def clauses() -> list[str]:
    """Clauses of the corpus speech, or a few stock ones without it."""
    text = (
        CORPUS.read_text(encoding="utf-8")
        if CORPUS.exists()
        else (
            "社区读书会将于本周六上午在图书馆二楼举行，欢迎附近居民报名参加，现场提供大字版资料和导读设备。"
            "市民可以拨打服务热线咨询，工作人员将在三个工作日内回复，请大家相互转告。"
        )
    )
    pieces = (p.strip() for p in re.split(r"[，。；！？、：,;!?\n]", text))
    return list(dict.fromkeys(p for p in pieces if 6 <= len(p) <= 40 and re.search(r"[\u4e00-\u9fff]", p)))


class Texts:
    """New text every time: sentences numbered by a running counter, so no two are the same."""

    def __init__(self, seed: int = 1) -> None:
        self.pool, self.rnd, self.count = clauses(), random.Random(seed), 0

    def sentence(self) -> str:
        self.count += 1
        return f"第{self.count}条，{self.rnd.choice(self.pool)}。"

    def article(self, chars: int) -> str:
        """About ``chars`` characters, five sentences to a paragraph."""
        lines, length = [], 0
        while length < chars:
            line = "".join(self.sentence() for _ in range(5))
            lines.append(line)
            length += len(line) + 1
        return "\n".join(lines)[:chars]


# The server --------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """`tts-service serve` from ``source`` in a temporary TTS_HOME, with its log in a file."""

    def __init__(self, home: Path, source: Path, engine: str, extra_env: dict[str, str], tracemalloc: int):
        self.home, self.port = home, free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("TTS_")}
        path = os.pathsep.join(filter(None, [str(source), env.get("PYTHONPATH")]))
        env |= {
            "TTS_HOME": str(home),
            "TTS_EDITOR_TOKEN": TOKEN,
            "TTS_ENGINE": engine,
            "PYTHONPATH": path,
            "TTS_PUBLIC_TTS": "1",
            "TTS_PUBLIC_TTS_PER_MINUTE": "40",
            "SOAK_DIR": str(home),
        }
        if tracemalloc:
            env["SOAK_TRACEMALLOC"] = str(tracemalloc)
        self.env = env | extra_env
        self.log = home / "server.log"
        self.proc: subprocess.Popen | None = None

    def cli(self, *args: str) -> list[str]:
        return [sys.executable, "-c", BOOTSTRAP, *args]

    def start(self) -> None:
        subprocess.run(self.cli("seed"), env=self.env, check=True, capture_output=True, cwd=self.home)
        cmd = self.cli("serve", "--host", "127.0.0.1", "--port", str(self.port))
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                cmd, env=self.env, stdout=out, stderr=subprocess.STDOUT, cwd=self.home
            )
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited: {self.log.read_text(errors='replace')[-3000:]}")
            try:
                httpx.get(f"{self.base}/api/articles", timeout=5)
                return
            except httpx.TransportError:
                time.sleep(0.5)
        raise RuntimeError("the server did not come up in 300 s")

    def memory(self) -> dict[str, int]:
        """VmRSS and VmHWM of the server, kB."""
        assert self.proc is not None
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        return {k: int(v) for k, v in re.findall(r"^(VmRSS|VmHWM):\s+(\d+) kB$", status, re.M)}

    def signal(self, signum: int) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signum)

    def server_errors(self) -> list[str]:
        text = self.log.read_text(errors="replace")
        return [
            line for line in text.splitlines() if re.search(r'Traceback|"level": "(ERROR|CRITICAL)"', line)
        ]

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# Load --------------------------------------------------------------------------------------------------


def _code(response: httpx.Response) -> str | None:
    try:
        return response.json().get("code")
    except ValueError:
        return None


class Tally:
    """Requests by kind: status counts, errors (exceptions, timeouts, 5xx) and the slowest answer."""

    def __init__(self) -> None:
        self.statuses: dict[str, Counter] = defaultdict(Counter)
        self.errors: dict[str, Counter] = defaultdict(Counter)
        self.slowest: dict[str, float] = defaultdict(float)

    async def request(
        self, client: httpx.AsyncClient, kind: str, method: str, url: str, **kw
    ) -> httpx.Response | None:
        started = time.monotonic()
        try:
            response = await client.request(method, url, **kw)
        except httpx.HTTPError as exc:
            self.errors[kind][type(exc).__name__] += 1
            return None
        finally:
            self.slowest[kind] = max(self.slowest[kind], time.monotonic() - started)
        self.statuses[kind][response.status_code] += 1
        if response.status_code == 503 and response.headers.get("retry-after") and _code(response) == "busy":
            return response  # a refusal by design (the bounded queue of /api/tts), counted, not an error
        if response.status_code >= 500:
            self.errors[kind][f"HTTP {response.status_code}"] += 1
        return response


async def read_once(client: httpx.AsyncClient, tally: Tally, rnd: random.Random) -> None:
    """One reader's pass over what a reader's browser and an app fetch."""
    await tally.request(client, "index", "GET", "/")
    await tally.request(client, "demo page", "GET", "/articles/demo")
    manifest = await tally.request(client, "demo manifest", "GET", "/api/articles/demo/audio")
    audio = manifest.json() if manifest is not None and manifest.status_code == 200 else {}
    chunks = [c["url"] for c in audio.get("chunks", []) if c.get("url")]
    if chunks:
        await tally.request(
            client, "chunk MP3 (Range)", "GET", rnd.choice(chunks), headers={"Range": "bytes=200-"}
        )
    if audio.get("url"):
        start = rnd.randrange(0, 200_000)
        headers = {"Range": f"bytes={start}-{start + 65535}"}
        await tally.request(client, "whole MP3 (Range)", "GET", audio["url"], headers=headers)
    await tally.request(client, "stable audio URL", "GET", "/articles/demo/audio.mp3")
    slug = rnd.choice(LONG_SLUGS)
    await tally.request(client, "long page", "GET", f"/articles/{slug}")
    await tally.request(client, "long manifest", "GET", f"/api/articles/{slug}/audio")


async def reader(client: httpx.AsyncClient, tally: Tally, seed: int, until: float) -> None:
    rnd = random.Random(seed)
    while time.monotonic() < until:
        await read_once(client, tally, rnd)
        await asyncio.sleep(rnd.uniform(0.2, 0.8))


async def editor(client: httpx.AsyncClient, tally: Tally, texts: Texts, args, until: float) -> None:
    """PUT the long articles in turn, new text of 20,000 to --max-chars characters each time."""
    n = 0
    while time.monotonic() < until:
        slug = LONG_SLUGS[n % len(LONG_SLUGS)]
        text = texts.article(texts.rnd.randint(min(20_000, args.max_chars), args.max_chars))
        draft = {"title": f"长文 {slug} 第{n}版", "text": text}
        await tally.request(
            client, "PUT long article", "PUT", f"/api/articles/{slug}", json=draft, headers=EDITOR
        )
        n += 1
        await asyncio.sleep(args.edit_every)


async def speaker(client: httpx.AsyncClient, tally: Tally, texts: Texts, every: float, until: float) -> None:
    """A public caller every ``every`` seconds, whether or not earlier calls have been answered (as the
    public at large would); a call not answered in 60 s is given up (a ReadTimeout error)."""
    calls: set[asyncio.Task] = set()
    while time.monotonic() < until:
        text = "".join(texts.sentence() for _ in range(texts.rnd.randint(1, 3)))
        call = tally.request(client, "POST /api/tts", "POST", "/api/tts", json={"text": text}, timeout=60)
        calls.add(asyncio.create_task(call))
        await asyncio.sleep(every)
    for task in calls:
        task.cancel()  # still waiting when the soak ends: given up, not counted
    await asyncio.gather(*calls, return_exceptions=True)


async def sampler(server: Server, series: list, t0: float, every: float, until: float) -> None:
    while time.monotonic() < until:
        series.append((round(time.monotonic() - t0, 1), server.memory()["VmRSS"]))
        await asyncio.sleep(every)


def log(message: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {message}", file=sys.stderr, flush=True)


# Phases ------------------------------------------------------------------------------------------------


async def wait_ready(client: httpx.AsyncClient, slug: str, seconds: float) -> None:
    """Poll an article's manifest (which starts its job) until its audio is ready and assembled."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        audio = (await client.get(f"/api/articles/{slug}/audio")).json()
        if audio.get("status") == "ready" and audio.get("url"):
            return
        if audio.get("status") == "failed":
            raise RuntimeError(f"the audio of {slug} failed: {audio.get('error')}")
        await asyncio.sleep(1)
    raise RuntimeError(f"the audio of {slug} was not ready in {seconds} s")


async def warm_up(client: httpx.AsyncClient, tally: Tally, texts: Texts, args) -> None:
    """Every code path once or more (models, dictionaries, templates, plans), and the long articles.

    /api/tts first: its sentences queue behind every chunk of a running job, and the long articles' jobs
    start as soon as they are added.
    """
    await wait_ready(client, "demo", 900)
    log("warm-up: the demo's audio is ready")
    for _ in range(3):
        await tally.request(client, "POST /api/tts", "POST", "/api/tts", json={"text": texts.sentence()})
    for slug in LONG_SLUGS:
        draft = {"title": f"长文 {slug}", "slug": slug, "text": texts.article(args.max_chars)}
        response = await client.post("/api/articles", json=draft, headers=EDITOR)
        response.raise_for_status()
    rnd = random.Random(0)
    for _ in range(3):
        await read_once(client, tally, rnd)
    log(f"warm-up: {sum(c.total() for c in tally.statuses.values())} requests answered")


async def quiet_rss(server: Server, series: list, t0: float, seconds: float, every: float) -> int:
    """Sample for ``seconds`` with no requests; the median RSS (kB) of those samples."""
    start = len(series)
    await sampler(server, series, t0, every, time.monotonic() + seconds)
    return int(statistics.median(rss for _, rss in series[start:]))


@dataclass
class Clients:
    """One connection pool per kind of caller, so that callers left waiting (/api/tts behind a job) never
    take the readers' connections."""

    readers: httpx.AsyncClient
    editor: httpx.AsyncClient
    public: httpx.AsyncClient

    @classmethod
    async def open(cls, stack: AsyncExitStack, base: str, readers: int) -> Clients:
        def client(connections: int) -> httpx.AsyncClient:
            limits = httpx.Limits(max_connections=connections)
            return httpx.AsyncClient(base_url=base, timeout=120, limits=limits)

        pools = (client(readers + 2), client(4), client(100))
        return cls(*[await stack.enter_async_context(pool) for pool in pools])


async def soak(clients: Clients, server: Server, tally: Tally, texts: Texts, args, series, t0) -> None:
    until = time.monotonic() + args.minutes * 60
    tasks = [reader(clients.readers, tally, seed, until) for seed in range(args.readers)]
    tasks.append(editor(clients.editor, tally, texts, args, until))
    tasks.append(speaker(clients.public, tally, texts, args.tts_every, until))
    tasks.append(sampler(server, series, t0, args.sample, until))
    await asyncio.gather(*tasks)


async def job_counts(client: httpx.AsyncClient) -> dict[str, int]:
    """Generation jobs by state, from the server's /metrics."""
    response = await client.get("/metrics", headers=EDITOR)
    if response.status_code != 200:
        return {}
    found = re.findall(r'^tts_jobs\{state="(\w+)"\}\s+(\S+)$', response.text, re.M)
    return {state: int(float(value)) for state, value in found}


async def after_soak(server: Server, clients: Clients, args, series: list, t0: float) -> dict[str, int]:
    """RSS at the end, after the idle time and (--trim) after malloc_trim, and the peak (kB)."""
    rss = {"end": server.memory()["VmRSS"]}
    log(f"RSS at the end of the soak: {rss['end'] / MB:.0f} MB; idle for {args.idle:g} s")
    if args.tracemalloc:
        server.signal(signal.SIGUSR1)
    rss["idle"] = await quiet_rss(server, series, t0, args.idle, args.sample)
    if args.trim:
        server.signal(signal.SIGUSR2)
        rss["trimmed"] = await quiet_rss(server, series, t0, 5, 1)
    rss["peak"] = server.memory()["VmHWM"]
    return rss


async def run(server: Server, args) -> dict:
    """Warm-up, soak, idle; the figures."""
    texts, tally, series, marks = Texts(), Tally(), [], {}
    async with AsyncExitStack() as stack:
        clients = await Clients.open(stack, server.base, args.readers)
        t0 = time.monotonic()
        await warm_up(clients.editor, tally, texts, args)
        marks["warm-up done"] = round(time.monotonic() - t0)
        rss = {"warm-up": await quiet_rss(server, series, t0, 20, args.sample)}
        log(f"RSS after warm-up: {rss['warm-up'] / MB:.0f} MB; soak for {args.minutes:g} min")
        if args.tracemalloc:
            server.signal(signal.SIGUSR1)
        marks["soak start"] = round(time.monotonic() - t0)
        await soak(clients, server, tally, texts, args, series, t0)
        marks["soak end"] = round(time.monotonic() - t0)
        rss |= await after_soak(server, clients, args, series, t0)
        jobs = await job_counts(clients.editor)
    return {"rss_kB": rss, "series": series, "marks": marks, "tally": tally, "jobs": jobs}


# Report ------------------------------------------------------------------------------------------------


def tracemalloc_growth(home: Path, top: int = 15) -> list[str]:
    """The sources of Python memory that grew most from the first snapshot to the last: by line, or by
    whole traceback (innermost frame last) when the server kept more than one frame."""
    import tracemalloc

    snaps = sorted(home.glob("snap-*.pickle"), key=lambda p: int(p.stem.split("-")[1]))
    if len(snaps) < 2:
        return []
    first, last = (tracemalloc.Snapshot.load(str(p)) for p in (snaps[0], snaps[-1]))
    ignore = [tracemalloc.Filter(False, p) for p in ("<frozen importlib._bootstrap*>", "<unknown>")]
    by = "traceback" if last.traceback_limit > 1 else "lineno"
    stats = last.filter_traces(ignore).compare_to(first.filter_traces(ignore), by)[:top]
    if by == "lineno":
        return [str(stat) for stat in stats]
    lines = []
    for stat in stats:
        lines.append(f"{stat.size_diff / 2**20:+.1f} MiB in {stat.count_diff:+d} blocks:")
        lines += [f"    {frame.filename}:{frame.lineno}" for frame in stat.traceback]
    return lines


def series_lines(series: list[tuple[float, int]], marks: dict[str, int], every: float) -> list[str]:
    """One line per ``every`` seconds: the last sample of each interval."""
    lines, next_t = [], 0.0
    for t, rss in series:
        if t >= next_t:
            phase = "warm-up" if t < marks["soak start"] else "soak" if t <= marks["soak end"] else "idle"
            lines.append(f"  {t:7.0f} s  {rss / MB:7.0f} MB  {phase}")
            next_t = t + every
    return lines


def summary(result: dict, args, log_errors: list[str], growth: list[str]) -> str:
    rss, tally = result["rss_kB"], result["tally"]
    out = [
        f"bench_soak: {args.minutes:g} min, engine {args.engine}, source {args.source}, readers "
        f"{args.readers}, a PUT every {args.edit_every:g} s (up to {args.max_chars:,} characters), "
        f"/api/tts every {args.tts_every:g} s; server env {args.env or '-'}"
    ]
    figures = [
        f"after warm-up {rss['warm-up'] / MB:.0f} MB",
        f"peak (VmHWM) {rss['peak'] / MB:.0f} MB",
        f"end of soak {rss['end'] / MB:.0f} MB",
        f"after {args.idle:g} s idle {rss['idle'] / MB:.0f} MB",
    ]
    if "trimmed" in rss:
        figures.append(f"after malloc_trim {rss['trimmed'] / MB:.0f} MB")
    out.append("RSS: " + ", ".join(figures))
    out.append(
        f"ratio end / warm-up: {rss['end'] / rss['warm-up']:.2f}; after idle / warm-up: "
        f"{rss['idle'] / rss['warm-up']:.2f}"
    )
    out.append(f"phases (s from start): {result['marks']}")
    out.append("RSS over time:")
    out += series_lines(result["series"], result["marks"], args.print_every)
    out.append("requests (warm-up included): kind: statuses; errors; slowest")
    for kind in sorted(tally.statuses.keys() | tally.errors.keys()):
        statuses = ", ".join(f"{s}: {n}" for s, n in sorted(tally.statuses[kind].items()))
        errors = ", ".join(f"{e}: {n}" for e, n in tally.errors[kind].items()) or "none"
        out.append(f"  {kind}: {statuses}; errors {errors}; slowest {tally.slowest[kind]:.1f} s")
    total = sum(tally.statuses[k].total() for k in tally.statuses)
    failed = sum(tally.errors[k].total() for k in tally.errors)
    out.append(f"total {total} answered, {failed} errors; jobs by state at the end: {result['jobs']}")
    out.append(
        f"server log: {len(log_errors)} error lines" + "".join(f"\n  {line[:300]}" for line in log_errors[:5])
    )
    if growth:
        out.append("tracemalloc, growth from the end of warm-up to the end of the soak:")
        out += [f"  {line}" for line in growth]
    return "\n".join(out)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="length of the soak")
    parser.add_argument("--engine", default="local", help="the server's TTS_ENGINE (local, espeak)")
    parser.add_argument(
        "--source", type=Path, default=ROOT, help="checkout whose tts_service/ the server runs"
    )
    parser.add_argument("--readers", type=int, default=6, help="concurrent reader loops")
    parser.add_argument(
        "--edit-every", type=float, default=3.0, help="seconds between PUTs of a long article"
    )
    parser.add_argument("--max-chars", type=int, default=100_000, help="longest edited article")
    parser.add_argument("--tts-every", type=float, default=2.0, help="seconds between POST /api/tts calls")
    parser.add_argument("--sample", type=float, default=5.0, help="seconds between RSS samples")
    parser.add_argument("--idle", type=float, default=60.0, help="quiet seconds after the soak")
    parser.add_argument("--print-every", type=float, default=30.0, help="seconds per line of the time series")
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE", help="server environment")
    parser.add_argument("--tracemalloc", type=int, default=0, metavar="FRAMES", help="trace Python memory")
    parser.add_argument("--trim", action="store_true", help="malloc_trim(0) after the idle time")
    parser.add_argument("--json", type=Path, help="write the samples and counts here")
    parser.add_argument("--keep", action="store_true", help="keep the temporary TTS_HOME (printed)")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    extra_env = dict(item.split("=", 1) for item in args.env)
    home = Path(tempfile.mkdtemp(prefix="bench-soak-"))
    server = Server(home, args.source.resolve(), args.engine, extra_env, args.tracemalloc)
    try:
        server.start()
        try:
            result = asyncio.run(run(server, args))
        finally:
            server.stop()
        print(summary(result, args, server.server_errors(), tracemalloc_growth(home)))
        if args.json:
            tally = result.pop("tally")
            result["requests"] = {k: dict(v) for k, v in tally.statuses.items()}
            result["errors"] = {k: dict(v) for k, v in tally.errors.items()}
            args.json.write_text(json.dumps(result, indent=1, default=str), encoding="utf-8")
    finally:
        if args.keep:
            print(f"TTS_HOME kept: {home}", file=sys.stderr)
        else:
            subprocess.run(["rm", "-rf", str(home)], check=False)


if __name__ == "__main__":
    main()
