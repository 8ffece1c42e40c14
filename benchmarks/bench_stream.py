"""Time to first byte of an uncached article's audio, streamed while the local voice makes it.

Run: .venv/bin/python benchmarks/bench_stream.py [--articles 5]

Starts `tts-service serve` (default engine: the local voice) on a free loopback port with a fresh TTS_HOME,
then for each round adds a new article (different text, so nothing is cached), and times
GET /articles/{slug}/audio.mp3 to its first audio byte and to its last. Side by side, as the baseline, the
same request for an article whose audio is already made (a redirect, then the cached file).
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

CLI = str(Path(sys.executable).with_name("tts-service"))
TOKEN = "bench-token"
PARAGRAPHS = [
    "第{n}期社区读书会将于本周六上午九点在图书馆二楼举行，欢迎附近居民报名参加。",
    "本期活动的主题是家乡的河流，主讲人将带领大家回顾这条河两岸几十年来的变化。",
    "活动现场提供大字版资料和语音导读设备，行动不便的读者可以提前预约志愿者接送。",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def first_and_last_byte(client: httpx.Client, url: str) -> tuple[float, float, int]:
    t0 = time.perf_counter()
    first, size = None, 0
    with client.stream("GET", url, follow_redirects=True) as response:
        response.raise_for_status()
        for block in response.iter_bytes():
            if block and first is None:
                first = time.perf_counter() - t0
            size += len(block)
    return first or 0.0, time.perf_counter() - t0, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("TTS_")}
        env |= {"TTS_HOME": home, "TTS_EDITOR_TOKEN": TOKEN}
        server = subprocess.Popen(
            [CLI, "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            base = f"http://127.0.0.1:{port}"
            with httpx.Client(
                base_url=base, timeout=120, headers={"Authorization": f"Bearer {TOKEN}"}
            ) as client:
                for _ in range(300):
                    try:
                        client.get("/api/articles")
                        break
                    except httpx.TransportError:
                        time.sleep(0.1)
                rows = {"cached article (baseline)": [], "uncached article, streamed": []}
                for n in range(args.articles):
                    text = "\n".join(p.format(n=n + 1) for p in PARAGRAPHS)
                    slug = f"bench-{n}"
                    client.post("/api/articles", json={"title": f"读书会 {n}", "text": text, "slug": slug})
                    rows["uncached article, streamed"].append(
                        first_and_last_byte(client, f"/articles/{slug}/audio.mp3")
                    )
                    while client.get(f"/api/articles/{slug}/audio").json()["url"] is None:
                        time.sleep(0.1)
                    rows["cached article (baseline)"].append(
                        first_and_last_byte(client, f"/articles/{slug}/audio.mp3")
                    )
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(f"{args.articles} articles of 3 sentences (~110 characters), local voice, medians (max)\n")
    print("| request | first byte s | last byte s | bytes |")
    print("|---|---|---|---|")
    for name, runs in rows.items():
        first = [r[0] for r in runs]
        last = [r[1] for r in runs]
        print(
            f"| {name} | {statistics.median(first):.3f} ({max(first):.3f}) | "
            f"{statistics.median(last):.3f} ({max(last):.3f}) | {runs[0][2]} |"
        )


if __name__ == "__main__":
    main()
