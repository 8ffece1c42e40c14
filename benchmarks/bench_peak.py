"""Decoded loudness and true peak of the corpus article, chunks and whole file, and the encoder's overshoot.

Run: .venv/bin/python benchmarks/bench_peak.py [--engines local espeak]

The corpus body goes through the real pipeline (plan, synthesis, cache, assembly) in a temporary home, as
`tts-service pregen` would make it. Every chunk and the whole-article MP3 are then decoded (miniaudio) and
measured: integrated loudness (BS.1770) and true peak (4x oversampled). To see the mechanism, each call to the
MP3 encoder is watched: the true peak of the PCM that went in, and of the same MP3 decoded. Their difference
is what MP3 encoding adds to peaks, the headroom the chain must leave before encoding. The last column is
the cost of checking a chunk after encoding (decode, then true peak), per second of audio.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench_local import corpus_body

from tts_service.article import ArticleDraft
from tts_service.audio import loudness, mp3, pcm
from tts_service.config import Settings

OVERSHOOTS: list[tuple[float, float]] = []  # (pre-encode dBTP, decoded dBTP) per encoder call


def measure(audio: bytes) -> tuple[float, float]:
    """(LUFS, dBTP) of the decoded MP3."""
    samples, rate = pcm.from_int16(mp3.decode(audio)), mp3.SAMPLE_RATE
    return loudness.integrated_lufs(samples, rate), loudness.true_peak_dbtp(samples, rate)


def watch_encoder() -> None:
    """Record the true peak of every encoder input and of its decoded output (the benchmark's only hook)."""
    real = mp3.encode

    def encode(data: bytes, sample_rate: int = mp3.SAMPLE_RATE, **kwargs) -> bytes:
        out = real(data, sample_rate, **kwargs)
        before = loudness.true_peak_dbtp(pcm.from_int16(data), sample_rate)
        OVERSHOOTS.append((before, measure(out)[1]))
        return out

    mp3.encode = encode


async def run(engine: str) -> tuple[list[bytes], bytes]:
    """Make the corpus article with ``engine`` in a temporary home: (every chunk's MP3, the whole file)."""
    from tts_service.services import open_services

    with tempfile.TemporaryDirectory() as home:
        settings = Settings(home=Path(home), engine=engine, fallback_engine=None)
        async with open_services(settings) as services:
            pipeline = services.pipeline
            draft = ArticleDraft(title="corpus", text=corpus_body(), slug="corpus")
            article = await services.store.save_article(draft)
            await pipeline.generate(article)
            manifest = await pipeline.manifest(article)
            whole = await pipeline.whole(article, manifest)
            assert whole is not None
            return [services.cache.read(c.key) for c in manifest.plan.spoken], services.cache.read(whole.key)


def check_cost(chunks: list[bytes], rounds: int = 5) -> float:
    """Milliseconds per second of audio to decode a chunk and measure its true peak (median of rounds)."""
    seconds = sum(mp3.duration(audio) for audio in chunks)
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        for audio in chunks:
            loudness.true_peak_dbtp(pcm.from_int16(mp3.decode(audio)), mp3.SAMPLE_RATE)
        times.append(time.perf_counter() - started)
    return 1000 * statistics.median(times) / seconds


def report(engine: str, chunks: list[bytes], whole: bytes) -> None:
    levels, peaks = zip(*(measure(audio) for audio in chunks), strict=True)
    lufs, peak = measure(whole)
    rise = [after - before for before, after in OVERSHOOTS]
    over = sum(p > loudness.CEILING_DBTP for p in peaks)
    pre, seconds = max(before for before, _ in OVERSHOOTS), mp3.duration(whole)
    print(
        f"| {engine} | {len(chunks)} | {seconds:.0f} | {lufs:.2f} | {peak:+.2f} | {max(peaks):+.2f} "
        f"| {over} | {min(levels):.2f} .. {max(levels):.2f} | {len(OVERSHOOTS)} | {pre:+.2f} "
        f"| {statistics.median(rise):+.2f} / {max(rise):+.2f} | {check_cost(chunks):.1f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engines", nargs="+", default=["local", "espeak"])
    args = parser.parse_args()
    watch_encoder()
    print(f"Corpus body: {len(corpus_body())} characters; ceiling {loudness.CEILING_DBTP} dBTP, decoded.\n")
    print(
        "| engine | chunks | whole s | whole LUFS | whole dBTP | worst chunk dBTP | chunks over ceiling "
        "| chunk LUFS range | encodings | max pre-encode dBTP | encoder rise median / max dB "
        "| peak check ms per audio s |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for engine in args.engines:
        OVERSHOOTS.clear()
        report(engine, *asyncio.run(run(engine)))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
