"""First byte and total time of a 1,000-character text on the local voice: streamed (POST /v1/audio/speech,
sentence by sentence) against non-streamed (POST /api/tts, the whole MP3 made first), cold and cached.

Run: .venv/bin/python benchmarks/bench_openai.py [--rounds 5 --chars 1000]

The text is the first sentences of the demo article, up to --chars characters. In each round, each mode gets
a server of its own (`tts-service serve`, TTS_ENGINE=local) on a fresh TTS_HOME, so its first request is
cold (nothing cached; the voice already loaded, as on any running server: a short warm-up request first);
then the same request again, cached. The two modes run one after the other, their order swapped every round.
Times are measured by the client over loopback: the first byte of the body, and the last. Medians over the
rounds, and the ratios taken within each round.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

CLI = str(Path(sys.executable).with_name("tts-service"))
TOKEN = "bench-editor-token-0123456789"
DEMO = Path(__file__).resolve().parent.parent / "tts_service" / "demo" / "demo-article.md"


def text_of(chars: int) -> str:
    """Whole sentences of the demo article's body, up to ``chars`` characters."""
    lines = DEMO.read_text(encoding="utf-8").splitlines()[1:]  # the title is not read here
    body = "".join(line.strip() for line in lines if line.strip() and not re.match(r"(作者|日期)：", line))
    body = re.sub(r"[#*>`]", "", body)
    out = ""
    for sentence in re.findall(r"[^。！？]+[。！？]", body):
        if len(out) + len(sentence) > chars:
            break
        out += sentence
    return out


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """`tts-service serve` on a fresh home (the derived model files shared, made once)."""

    def __init__(self, root: Path, models: Path, name: str) -> None:
        self.home = root / name
        self.home.mkdir()
        (self.home / "models").symlink_to(models)
        self.port = free_port()
        env = {**os.environ, "TTS_HOME": str(self.home), "TTS_ENGINE": "local", "TTS_EDITOR_TOKEN": TOKEN}
        env |= {"TTS_TTS_MAX_CHARS": "5000", "TTS_ACCESS_LOG": "0"}
        self.log = (self.home / "serve.log").open("wb")
        self.proc = subprocess.Popen(
            [CLI, "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.2)
        raise RuntimeError("server did not start")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)
        self.log.close()


def timed(url: str, body: dict[str, object]) -> tuple[float, float, int]:
    """(seconds to the first body byte, seconds to the last, bytes) of one POST."""
    headers = {"Authorization": f"Bearer {TOKEN}"}
    started = time.perf_counter()
    first, size = None, 0
    with httpx.stream("POST", url, json=body, headers=headers, timeout=600) as response:
        response.raise_for_status()
        for data in response.iter_bytes():
            if data and first is None:
                first = time.perf_counter() - started
            size += len(data)
    return first or 0.0, time.perf_counter() - started, size


def measure(server: Server, mode: str, text: str) -> dict[str, tuple[float, float, int]]:
    if mode == "streamed":
        url, body = f"{server.url}/v1/audio/speech", {"model": "local", "voice": "baker", "input": text}
    else:
        url, body = f"{server.url}/api/tts", {"text": text}
    timed(f"{server.url}/api/tts", {"text": "预热一下。"})  # the voice loaded, as on a running server
    return {"cold": timed(url, body), "cached": timed(url, body)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--chars", type=int, default=1000)
    args = parser.parse_args()
    text = text_of(args.chars)
    print(f"text: {len(text)} characters, {len(re.findall('[。！？]', text))} sentences")
    root = Path(tempfile.mkdtemp(prefix="bench-openai-"))
    models = root / "models"
    models.mkdir()
    results: dict[str, dict[str, list[tuple[float, float, int]]]] = {}
    try:
        for n in range(args.rounds):
            modes = ["streamed", "whole"] if n % 2 == 0 else ["whole", "streamed"]
            for mode in modes:
                server = Server(root, models, f"r{n}-{mode}")
                try:
                    for state, figures in measure(server, mode, text).items():
                        results.setdefault(mode, {}).setdefault(state, []).append(figures)
                finally:
                    server.stop()
                    shutil.rmtree(server.home / "audio_cache", ignore_errors=True)
            print(
                f"round {n + 1}: "
                + "; ".join(
                    f"{m} {s} first {results[m][s][-1][0]:.2f} s total {results[m][s][-1][1]:.2f} s"
                    for m in results
                    for s in results[m]
                ),
                flush=True,
            )
    finally:
        shutil.rmtree(root, ignore_errors=True)
    report(results)


def report(results: dict[str, dict[str, list[tuple[float, float, int]]]]) -> None:
    print("\n| mode | state | first byte (s) | total (s) | bytes |\n|---|---|---|---|---|")
    for mode in ("streamed", "whole"):
        for state in ("cold", "cached"):
            runs = results[mode][state]
            first = statistics.median(r[0] for r in runs)
            total = statistics.median(r[1] for r in runs)
            print(f"| {mode} | {state} | {first:.3f} | {total:.3f} | {runs[0][2]} |")
    for state in ("cold", "cached"):
        s, w = results["streamed"][state], results["whole"][state]
        first = statistics.median(a[0] / b[0] for a, b in zip(s, w, strict=True))
        total = statistics.median(a[1] / b[1] for a, b in zip(s, w, strict=True))
        print(
            f"{state}: streamed/whole first byte {first:.3f}x, total {total:.3f}x (medians of round ratios)"
        )
    for mode in ("streamed", "whole"):
        c, h = results[mode]["cold"], results[mode]["cached"]
        ratio = statistics.median(b[1] / a[1] for a, b in zip(c, h, strict=True))
        print(f"{mode}: cached/cold total {ratio:.3f}x")


if __name__ == "__main__":
    main()
