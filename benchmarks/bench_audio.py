"""Audio files without nginx: `tts-service serve` against nginx, a bare Starlette FileResponse, a base commit.

Run: .venv/bin/python benchmarks/bench_audio.py [--base REV ...] [--rounds 3 --duration 5 --connections 50]
Needs wrk and nginx (Debian: apt-get install -y --no-install-recommends wrk nginx); installs nothing itself.

In a temporary TTS_HOME it seeds the demo article and pre-generates its audio, then starts, each on a free
127.0.0.1 port, with bench_http.py's machinery (the same nginx config, read from README.md):
- `tts-service serve` of this checkout;
- for each ``--base REV``, `tts-service serve` of REV (``git archive``, first on PYTHONPATH), same home;
- a bare Starlette app under the same uvicorn (uvloop, httptools) whose one route is ``FileResponse`` of the
  same file: the framework's own file path, no middleware;
- nginx serving audio_cache/ with README.md's location block.
wrk loads each target on each server in turn, interleaved, for N rounds: a chunk's MP3 (57.7 kB), the same
with ``Range: bytes=1000-1999``, and the whole-article MP3 (2.06 MB). Every server must answer with the same
bytes (checked first). Ratios are per round against nginx and against the first base; medians over rounds.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

from bench_ab import source_tree
from bench_http import CLI, HOST, Servers, has_fast_stack, print_round, run_wrk

ROOT = Path(__file__).resolve().parents[1]
# The bare app: Starlette's FileResponse for /audio/{key}.mp3, and /api/articles for Servers' start-up probe.
_BARE = """
import sys, uvicorn
from pathlib import Path
from starlette.applications import Starlette
from starlette.responses import FileResponse, JSONResponse
from starlette.routing import Route

root = Path(sys.argv[1])

async def audio(request):
    key = request.path_params["key"]
    return FileResponse(root / key[:2] / f"{key}.mp3", media_type="audio/mpeg")

async def probe(request):
    return JSONResponse([])

app = Starlette(routes=[
    Route("/audio/{key}.mp3", audio, methods=["GET", "HEAD"]), Route("/api/articles", probe),
])
uvicorn.run(app, host=sys.argv[3], port=int(sys.argv[5]), log_level="warning")
"""
TARGETS = {"chunk MP3": {}, "chunk MP3, Range": {"Range": "bytes=1000-1999"}, "whole-article MP3": {}}


def fetch(url: str, headers: dict[str, str]) -> bytes:
    request = urllib.request.Request(url, headers={"Host": HOST, **headers})
    with urllib.request.urlopen(request, timeout=30) as response:  # loopback URLs built here
        return response.read()


def prepare(servers: Servers, bases: dict[str, Path]) -> dict[str, str]:
    """Seed, pre-generate, start every server; the target paths (same bytes on every server)."""
    for command in (["seed"], ["pregen", "demo"]):
        subprocess.run([CLI, *command], env=servers.env, check=True, capture_output=True)
    servers.start_app("tts-service serve", [CLI, "serve"])
    for rev, tree in bases.items():
        servers.start_app(f"base {rev}", ["env", f"PYTHONPATH={tree}", CLI, "serve"])
    bare = [sys.executable, "-c", _BARE, str(servers.home / "audio_cache")]
    servers.start_app("bare Starlette FileResponse", bare)
    servers.start_nginx(b"")
    ours = servers.urls["tts-service serve"]
    audio = json.loads(fetch(f"{ours}/api/articles/demo/audio", {}))
    assert audio["status"] == "ready", audio["status"]
    chunk = audio["chunks"][0]["url"].removeprefix(f"http://{HOST}")
    paths = {"chunk MP3": chunk, "chunk MP3, Range": chunk}
    paths["whole-article MP3"] = audio["url"].removeprefix(f"http://{HOST}")
    for name, path in paths.items():
        bodies = {fetch(url + path, TARGETS[name]) for url in servers.urls.values()}
        assert len(bodies) == 1, f"{name}: the servers disagree"
        print(f"{name}: {path} ({len(bodies.pop()):,} bytes)", file=sys.stderr)
    return paths


def measure(servers: Servers, paths: dict[str, str], args: argparse.Namespace) -> dict:
    """wrk on every (target, server), interleaved, ``args.rounds`` times: results by (target, server)."""
    results: dict[tuple[str, str], list[dict]] = {}
    for round_no in range(args.rounds):
        for target, path in paths.items():
            for server, url in servers.urls.items():
                result = run_wrk(url + path, args, TARGETS[target])
                results.setdefault((target, server), []).append(result)
                print_round(round_no, target, server, result)
    return results


def report(results: dict, names: list[str], args: argparse.Namespace) -> None:
    stack = "uvloop + httptools" if has_fast_stack() else "asyncio + h11"
    print(
        f"wrk -t{args.threads} -c{args.connections} -d{args.duration}s, {args.rounds} rounds, medians;"
        f" the Python servers run on {stack}.\n"
    )
    base = next((name for name in names if name.startswith("base ")), None)
    print("| target | server | req/s | p99 ms | req/s vs nginx |" + (" req/s vs base |" if base else ""))
    print("|---|---|---|---|---|" + ("---|" if base else ""))
    for target in TARGETS:
        nginx = results[(target, "nginx")]
        for server in names:
            runs = results[(target, server)]
            errors = sorted({e for r in runs for e in r["errors"]})
            label = f"{server} ({', '.join(errors)})" if errors else server
            row = (
                f"| {target} | {label} | {statistics.median(r['rps'] for r in runs):,.0f}"
                f" | {statistics.median(r['p99'] for r in runs):.1f} | {_ratio(runs, nginx):.3f}x |"
            )
            print(row + (f" {_ratio(runs, results[(target, base)]):.2f}x |" if base else ""))


def _ratio(runs: list[dict], baseline: list[dict]) -> float:
    """The median over rounds of this server's requests a second over the baseline's in the same round."""
    return statistics.median(r["rps"] / b["rps"] for r, b in zip(runs, baseline, strict=True))


# --in-process: the app's own cost per request, without sockets and without wrk taking CPU from it. A
# subprocess per tree (this checkout or a base, first on PYTHONPATH) builds the app (espeak engine: nothing
# heavy to warm) with its access log going to a file, then times GET of one chunk through the whole ASGI app,
# every middleware included. Trees alternate, round by round.
_CHILD = """
import asyncio, json, statistics, sys, time
import uvloop
from tts_service.logs import configure_logging
from tts_service.web import create_app

async def main(key, requests):
    configure_logging()
    app = create_app()
    path = f"/audio/{key}.mp3"
    scope = {"type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"}, "http_version": "1.1",
             "method": "GET", "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
             "root_path": "", "headers": [(b"host", b"reader.example")], "client": ("127.0.0.1", 1),
             "server": ("127.0.0.1", 80)}
    statuses = set()
    async def receive():
        await asyncio.sleep(3600)
    async def send(message):
        if message["type"] == "http.response.start":
            statuses.add(message["status"])
    async with app.router.lifespan_context(app):
        for _ in range(requests // 10):  # warm: the file in memory, the code paths taken
            await app(dict(scope), receive, send)
        rounds = []
        for _ in range(5):
            start = time.perf_counter()
            for _ in range(requests):
                await app(dict(scope), receive, send)
            rounds.append((time.perf_counter() - start) / requests * 1e6)
    assert statuses == {200}, statuses
    print(json.dumps(statistics.median(rounds)))

uvloop.run(main(sys.argv[1], int(sys.argv[2])))
"""


def in_process(home: Path, bases: dict[str, Path], args: argparse.Namespace) -> None:
    """Microseconds per request of each tree's app, in process: a table, ratios against the first base."""
    subprocess.run([CLI, "seed"], env={**_env(home), "TTS_ENGINE": "espeak"}, check=True, capture_output=True)
    subprocess.run([CLI, "pregen", "demo"], env=_env(home), check=True, capture_output=True)
    # A sentence's file: the median size of the demo's files under 200 kB (the whole article is 2 MB).
    chunks = sorted((p.stat().st_size, p) for p in (home / "audio_cache").glob("*/*.mp3"))
    size, path = [c for c in chunks if c[0] < 200_000][len(chunks) // 2]
    trees = {"this checkout": ROOT, **{f"base {rev}": tree for rev, tree in bases.items()}}
    got: dict[str, list[float]] = {name: [] for name in trees}
    for _ in range(args.rounds):
        for name, tree in trees.items():
            env = {**_env(home), "TTS_ENGINE": "espeak", "PYTHONPATH": str(tree)}
            cmd = [sys.executable, "-c", _CHILD, path.stem, str(args.requests)]
            with (home / "access.log").open("ab") as log:
                # cwd: not this checkout, which `python -c` would put first on sys.path
                done = subprocess.run(cmd, env=env, cwd=home, stdout=subprocess.PIPE, stderr=log, check=True)
            got[name].append(json.loads(done.stdout))
    rounds = f"{args.rounds} rounds of {args.requests} requests"
    print(f"In process: GET of one chunk ({size:,} bytes) through the whole app, {rounds}, medians\n")
    first = f"base {args.base[0]}" if args.base else None
    print("| tree | µs per request | requests a second on one core |" + (" vs first base |" if first else ""))
    print("|---|---|---|" + ("---|" if first else ""))
    for name, values in got.items():
        us = statistics.median(values)
        ratio = f" {statistics.median(got[first]) / us:.2f}x |" if first else ""
        print(f"| {name} | {us:.0f} | {1e6 / us:,.0f} |{ratio}")


def _env(home: Path) -> dict[str, str]:
    return {**{k: v for k, v in os.environ.items() if not k.startswith("TTS_")}, "TTS_HOME": str(home)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", action="append", default=[], help="also serve this commit (repeatable)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--in-process", action="store_true", help="time the app in process, no HTTP")
    parser.add_argument("--requests", type=int, default=2000, help="requests per timing (--in-process)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-audio-") as tmp:
        home = Path(tmp) / "home"
        home.mkdir(mode=0o700)
        bases = {rev: source_tree(rev, Path(tmp)) for rev in args.base}
        if args.in_process:
            in_process(home, bases, args)
            return
        servers = Servers(home)
        try:
            results = measure(servers, prepare(servers, bases), args)
        finally:
            servers.close()
    report(results, list(servers.urls), args)


if __name__ == "__main__":
    main()
