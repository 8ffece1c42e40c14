"""A/B: the time the app takes to answer its hot requests, this checkout against another commit, in process.

Run: .venv/bin/python benchmarks/bench_ab.py --base REV [--head REV] [--rounds 5 --requests 300]

For the checkout (or --head REV) and for --base REV (each REV unpacked with `git archive`), a subprocess
with that tree first on PYTHONPATH (and this checkout's virtualenv) builds the app with ``create_app`` and
runs its lifespan. The first time, in a TTS_HOME of its own that later rounds reuse, it adds the demo
article through the API (engine espeak, no fallback) and waits until its audio is ready. It then times
--requests sequential GETs of each target through httpx's ASGI transport (no sockets: the app's own cost):
the index, the demo page, its manifest, the feed and a chunk MP3. Rounds alternate the two trees, so both
see the same machine; the script prints each target's median time per request over rounds and the ratio
head / base.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGETS = ("/", "/articles/demo", "/api/articles/demo/audio", "/feed.xml", "chunk")

DRIVER = r"""
import asyncio, json, sys, time
from pathlib import Path
import httpx
from tts_service.config import Settings
from tts_service.web import create_app

TOKEN = "ab-benchmark-token-0123456789"

async def main(home, requests):
    settings = Settings(home=Path(home), engine="espeak", fallback_engine=None, editor_token=TOKEN)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
            if (await http.get("/api/articles/demo")).status_code == 404:
                text = (Path(sys.argv[3]) / "tts_service" / "demo" / "demo-article.md").read_text("utf-8")
                title, _, body = text.partition("\n")
                body = {"title": title.lstrip("# "), "text": body.strip(), "slug": "demo"}
                auth = {"Authorization": f"Bearer {TOKEN}"}
                assert (await http.post("/api/articles", json=body, headers=auth)).status_code == 201
            while (manifest := (await http.get("/api/articles/demo/audio")).json())["status"] != "ready":
                await asyncio.sleep(0.2)
            paths = {t: t for t in ("/", "/articles/demo", "/api/articles/demo/audio", "/feed.xml")}
            paths["chunk"] = httpx.URL(manifest["chunks"][0]["url"]).path
            times = {}
            for name, path in paths.items():
                for _ in range(20):  # warm: caches, code paths
                    assert (await http.get(path)).status_code == 200, path
                started = time.perf_counter()
                for _ in range(requests):
                    await http.get(path)
                times[name] = (time.perf_counter() - started) / requests * 1e6
            print(json.dumps(times))

asyncio.run(main(sys.argv[1], int(sys.argv[2])))
"""


def run(tree: Path, home: Path, requests: int) -> dict[str, float]:
    env = {"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-c", DRIVER, str(home), str(requests), str(tree)],
        env=env,
        cwd=home,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"the run in {tree} failed:\n{done.stderr[-3000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def source_tree(rev: str, into: Path) -> Path:
    """The source of ``rev``, unpacked under ``into`` with `git archive` (no git metadata touched, nothing
    to clean up but ``into``): what the A/B benchmarks put first on PYTHONPATH."""
    tree = into / f"tree-{rev}"
    tree.mkdir()
    archive = subprocess.run(["git", "archive", rev], cwd=ROOT, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    return tree


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base", required=True, help="the commit to compare with (e.g. a tag or hash)")
    parser.add_argument("--head", help="a commit to measure instead of this checkout")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-ab-") as tmp:
        revisions = {"base": args.base, "checkout": args.head}
        trees = {name: source_tree(rev, Path(tmp)) if rev else ROOT for name, rev in revisions.items()}
        homes = {name: Path(tmp) / f"home-{name}" for name in trees}
        for home in homes.values():
            home.mkdir()
        results: dict[str, list[dict[str, float]]] = {name: [] for name in trees}
        for round_ in range(args.rounds):
            for name in trees if round_ % 2 == 0 else reversed(list(trees)):
                results[name].append(run(trees[name], homes[name], args.requests))
            print(f"round {round_ + 1}/{args.rounds} done", file=sys.stderr)
    head = args.head or "checkout"
    print(f"base {args.base}, head {head}: median µs per request over {args.rounds} rounds")
    print(f"{'target':28} {'base µs':>9} {'head µs':>9} {'ratio':>7}")
    for target in TARGETS:
        b = statistics.median(r[target] for r in results["base"])
        c = statistics.median(r[target] for r in results["checkout"])
        print(f"{target:28} {b:9.0f} {c:9.0f} {c / b:7.2f}")


if __name__ == "__main__":
    main()
