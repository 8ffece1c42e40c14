"""Speed of assembling a 10-minute article MP3 from 150 cached 4 s chunks, from memory and from disk.

Run: .venv/bin/python benchmarks/bench_assemble.py [--repeat 15]

The chunks are 150 different 4 s tones encoded once with lameenc (24 kHz mono 48 kbps, as the service
encodes). "assemble" parses every frame, checks the format, adds silence and ID3 tags and builds the
timeline. The baseline, run interleaved with it, is a plain b"".join of the same chunks: the floor for any
concatenation (no parsing, no pauses, a broken timeline). Figures are medians of warm runs.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import lameenc
import numpy as np

from tts_service.audio.assemble import Piece, Tags, assemble

RATE = 24000
PIECES = 150
SECONDS = 4.0
TAGS = Tags("基准文章", "语音播报", "2024-05-01")


def chunks() -> list[bytes]:
    """150 distinct 4 s tones, encoded like mp3.encode(pcm, 24000)."""
    out = []
    t = np.arange(round(SECONDS * RATE)) / RATE
    for i in range(PIECES):
        pcm = (0.4 * np.sin(2 * np.pi * (200 + 4 * i) * t) * 32767).astype("<i2").tobytes()
        encoder = lameenc.Encoder()
        encoder.set_bit_rate(48)
        encoder.set_in_sample_rate(RATE)
        encoder.set_channels(1)
        encoder.set_quality(2)
        out.append(bytes(encoder.encode(pcm) + encoder.flush()))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    data = chunks()
    with tempfile.TemporaryDirectory() as tmp:
        paths = [Path(tmp) / f"{i:03}.mp3" for i in range(PIECES)]
        for path, chunk in zip(paths, data, strict=True):
            path.write_bytes(chunk)

        def from_disk() -> list[bytes]:
            return [path.read_bytes() for path in paths]

        cases: dict[str, Callable[[], object]] = {
            'memory: b"".join (baseline)': lambda: b"".join(data),
            "memory: assemble": lambda: assemble(_pieces(data), tags=TAGS),
            'disk: read + b"".join (baseline)': lambda: b"".join(from_disk()),
            "disk: read + assemble": lambda: assemble(_pieces(from_disk()), tags=TAGS),
        }
        timings: dict[str, list[float]] = {name: [] for name in cases}
        _, _, total = assemble(_pieces(data), tags=TAGS)  # warm: silence encoding is cached once
        for _ in range(args.repeat):
            for name, run in cases.items():
                start = time.perf_counter()
                run()
                timings[name].append(time.perf_counter() - start)
    size = sum(map(len, data))
    print(f"{PIECES} x {SECONDS:g} s chunks, {size / 1e6:.2f} MB, article {total:.1f} s", end="; ")
    print(f"{args.repeat} runs, medians\n")
    print("| case | ms per article | vs its baseline |")
    print("|---|---|---|")
    medians = {name: statistics.median(values) * 1000 for name, values in timings.items()}
    for name, ms in medians.items():
        base = next(m for n, m in medians.items() if n.startswith(name.split(":")[0]))  # same source's floor
        print(f"| {name} | {ms:.2f} | {ms / base:.1f}x |")


def _pieces(data: list[bytes]) -> list[Piece]:
    return [Piece(chunk, i // 10) for i, chunk in enumerate(data)]


if __name__ == "__main__":
    main()
