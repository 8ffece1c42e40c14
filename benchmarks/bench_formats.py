"""Encode speed of the speech API's output formats (tts_service/audio/formats.py) against WAV, on speech.

Run: .venv/bin/python benchmarks/bench_formats.py [--seconds 60 --rounds 5] [--quality] [--corpus DIR]
(DIR: the corpus's *.txt files; default ../shared/corpus)

The input is what the endpoint will feed: the local voice reads corpus sentences until there are --seconds
of audio; each sentence is made into a chunk as the service makes them (chunk.encode: 48 kbps MP3), decoded
again with formats.decode_mp3 and followed by a 0.25 s pause. Every round encodes all of it in each format
in turn (interleaved), streaming, one feed() per sentence and one per pause; the figures are medians over
the rounds, each ratio taken within its round against that round's WAV. "decode_mp3" is the endpoint's
other per-sentence cost, given for scale.

--quality instead encodes the same speech with Opus and AAC at several bitrates and prints, for each, the
bitrate got and its log-spectral distance to the input: the energy-weighted mean |dB| difference of 20 ms
STFT bins from 100 Hz to 10 kHz, in frames within 40 dB of the loudest. 0 is identical. For scale, the
same speech is encoded again as the chunks were (48 kbps MP3): the loss one more MP3 generation adds.
"""

from __future__ import annotations

import argparse
import io
import re
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import av
import numpy as np
from scipy import signal

from tts_service.audio import chunk, formats, pcm
from tts_service.audio.formats import FORMATS, OUTPUT_RATE, decode_mp3, encoder
from tts_service.engines.baker_model import SAMPLE_RATE
from tts_service.engines.local import LocalEngine

ROOT = Path(__file__).resolve().parents[1]
PAUSE = np.zeros(round(0.25 * OUTPUT_RATE), dtype=np.float32)


def sentences(corpus: Path) -> list[str]:
    """Corpus sentences of 8 to 60 characters, in file order."""
    out: list[str] = []
    for path in sorted(corpus.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        out += [s.strip() for s in re.split(r"(?<=[。！？])", text) if 8 <= len(s.strip()) <= 60]
    return out


def speech(corpus: Path, seconds: float) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """(chunk decodes, the voice before encoding) for sentences until ``seconds`` with pauses."""
    engine = LocalEngine(Path(tempfile.mkdtemp()))
    decoded: list[np.ndarray] = []
    raw: list[np.ndarray] = []
    try:
        for text in sentences(corpus):
            voice = engine.render(text)
            raw.append(voice)
            decoded.append(decode_mp3(chunk.encode(voice, SAMPLE_RATE)))
            if sum(d.size + PAUSE.size for d in decoded) >= seconds * OUTPUT_RATE:
                break
    finally:
        engine.close()
    return decoded, raw


def encode_all(fmt: str, pieces: list[np.ndarray]) -> int:
    """Stream ``pieces`` through a fresh encoder, each followed by a pause; the bytes written."""
    enc = encoder(fmt, streaming=True)
    size = 0
    for piece in pieces:
        size += len(enc.feed(piece)) + len(enc.feed(PAUSE))
    return size + len(enc.finish())


def speed(pieces: list[np.ndarray], mp3s: list[bytes], rounds: int) -> None:
    seconds = sum(p.size + PAUSE.size for p in pieces) / OUTPUT_RATE
    cases: dict[str, Callable[[], int]] = {fmt: (lambda fmt=fmt: encode_all(fmt, pieces)) for fmt in FORMATS}
    cases["decode_mp3 (the input)"] = lambda: sum(decode_mp3(m).size for m in mp3s)
    times: dict[str, list[float]] = {name: [] for name in cases}
    ratios: dict[str, list[float]] = {name: [] for name in cases}
    sizes: dict[str, int] = {}
    for run in cases.values():
        run()  # warm: imports, codec tables
    for _ in range(rounds):
        for name, run in cases.items():
            start = time.perf_counter()
            sizes[name] = run()
            times[name].append(time.perf_counter() - start)
        for name in cases:
            ratios[name].append(times[name][-1] / times["wav"][-1])
    print(f"{seconds:.1f} s of speech in {len(pieces)} sentences, {rounds} interleaved rounds, medians\n")
    print("| format | ms per 60 s of audio | x real time | vs wav | kbps |")
    print("|---|---|---|---|---|")
    for name in cases:
        ms = statistics.median(times[name]) * 1000 * 60 / seconds
        kbps = f"{sizes[name] * 8 / seconds / 1000:.1f}" if name in FORMATS else "-"
        ratio = statistics.median(ratios[name])
        print(f"| {name} | {ms:.1f} | {60_000 / ms:.0f} | {ratio:.1f}x | {kbps} |")


def _decode(data: bytes) -> np.ndarray:
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.audio[0]
        samples = np.concatenate([f.to_ndarray()[0] for f in container.decode(stream)]).astype(np.float64)
        rate = stream.rate
    return pcm.resample(samples, rate, OUTPUT_RATE).astype(np.float64)


def distance(reference: np.ndarray, decoded: np.ndarray) -> float:
    """Log-spectral distance in dB of ``decoded`` (aligned to the reference first) to ``reference``."""
    lag = int(np.argmax(signal.correlate(decoded[: 5 * OUTPUT_RATE], reference[: 4 * OUTPUT_RATE], "valid")))
    decoded = decoded[lag : lag + reference.size]
    freqs, _, ref = signal.stft(reference, OUTPUT_RATE, nperseg=480)
    _, _, got = signal.stft(decoded, OUTPUT_RATE, nperseg=480)
    ref_power, got_power = np.abs(ref) ** 2 + 1e-10, np.abs(got) ** 2 + 1e-10
    frames = ref_power.sum(0)
    keep = 10 * np.log10(frames) > 10 * np.log10(frames.max()) - 40
    band = (freqs > 100) & (freqs < 10_000)
    weights = ref_power[band][:, keep]
    diff = np.abs(10 * np.log10(got_power[band][:, keep] / weights))
    return float((diff * weights).sum() / weights.sum())


def quality(pieces: list[np.ndarray]) -> None:
    source = np.concatenate(pieces).astype(np.float64)
    seconds = source.size / OUTPUT_RATE
    print(f"{seconds:.1f} s of speech; log-spectral distance to the encoder's input, dB\n")
    print("| format | kbps asked | kbps got | distance |")
    print("|---|---|---|---|")
    enc = encoder("mp3", streaming=False)
    data = enc.feed(source) + enc.finish()
    print(f"| mp3 (as the chunks) | 48 | 48 | {distance(source, _decode(data)):.2f} |")
    for name, muxer, codec in (("opus", "ogg", "libopus"), ("aac", "adts", "aac")):
        for kbps in (24, 32, 48, 64):
            # The module's own table fixes one bitrate per format; a private spec tries others.
            enc = formats._AvEncoder(formats._AvFormat(muxer, codec, kbps * 1000), streaming=False)
            data = enc.feed(source) + enc.finish()
            got = len(data) * 8 / seconds / 1000
            print(f"| {name} | {kbps} | {got:.1f} | {distance(source, _decode(data)):.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--quality", action="store_true")
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared/corpus", help="its *.txt files")
    args = parser.parse_args()
    pieces, raw = speech(args.corpus, args.seconds)
    if args.quality:
        quality(pieces)
        return
    mp3s = [chunk.encode(r, SAMPLE_RATE) for r in raw]
    speed(pieces, mp3s, args.rounds)


if __name__ == "__main__":
    main()
