"""Word timings: how close the local voice's predicted times are to the audio, and what keeping them costs.

Run: .venv/bin/python benchmarks/bench_timing.py [--rounds 3] [--limit N] [--engine local|espeak]

Accuracy: every chunk of the corpus article and the demo article is made with the local voice as the
service makes it (`utterance.say`). Inside a chunk, at every pause from punctuation (a silence of 120 ms or
more, found from the audio's energy, `audio.onsets`), the predicted start of the next character (its mark)
is compared with where speech starts again. Reported: the distribution of (predicted - heard) in ms.

Cost: the same chunks made side by side, interleaved per chunk, by the service's path (model durations kept,
marks placed and serialised) and by a baseline that does what synthesis did before timings were kept (the
same model calls, trims, fades, pauses and MP3 encoding, and nothing else). Reported: the ratio of the
medians of per-round totals.

``--engine espeak``: accuracy only, for an engine that reports no timings. Its syllables are spread over its
audio with each clause break laid on the silence heard there (`timing.proportional` with pauses, as the
service does); side by side, on the same audio, the plain spread without them. Anchored breaks sit on the
detected onsets by construction (the same detector finds both), so what that row shows is how many breaks
found their silence, and the plain row shows the error the anchoring takes away.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_local import corpus_body  # noqa: E402

from tts_service.audio import chunk, mp3, onsets, pcm  # noqa: E402
from tts_service.engines import local  # noqa: E402
from tts_service.engines.base import Engine, Prosody  # noqa: E402
from tts_service.engines.espeak import EspeakEngine  # noqa: E402
from tts_service.planning import (  # noqa: E402
    NO_LEXICON,  # noqa: E402
    SpokenChunk,
    plan_chunks,
)
from tts_service.text import phonemes, pinyin  # noqa: E402
from tts_service.timing import Timing, proportional  # noqa: E402
from tts_service.utterance import say  # noqa: E402

CLAUSE_ENDS = "，,；;：:。！？!?"
MATCH_WINDOW = 0.15  # seconds: an onset further than this from every mark is reported as unmatched


def demo_body() -> str:
    from importlib.resources import files

    text = (files("tts_service") / "demo" / "demo-article.md").read_text(encoding="utf-8")
    return "\n".join(line for line in text.splitlines() if line and not line.startswith(("#", "---")))


def chunks_of(text: str, engine: Engine) -> list[SpokenChunk]:
    planned = plan_chunks(text, "local", engine.version, engine.default_voice, Prosody(), 80, NO_LEXICON)
    return [c for c in planned if isinstance(c, SpokenChunk)]


def after_pauses(spoken: str, timing: Timing) -> list[float]:
    """The predicted start of each mark that follows a clause-ending punctuation mark inside the chunk."""
    pairs = zip(timing.marks, timing.marks[1:], strict=False)
    return [m.at for b, m in pairs if any(c in CLAUSE_ENDS for c in spoken[b.end : m.start])]


def baseline_render(engine: local.LocalEngine, text: str) -> bytes:
    """Synthesis as it was before timings were kept: the same work, no durations, no marks."""
    pieces = []
    for clause, strength in local.clauses(pinyin.tokens(text)):
        symbols = phonemes.symbols(clause, engine._table["pinyin_dict"])
        audio = pcm.trim(engine._models.synthesize(phonemes.ids(symbols, engine._ids)), local.SAMPLE_RATE)
        if audio.size:
            pause = pcm.silence(local.PAUSE_SECONDS.get(strength, 0.08), local.SAMPLE_RATE)
            pieces += [pcm.fade(audio, local.SAMPLE_RATE), pause]
    body = np.concatenate(pieces[:-1]) if pieces else pcm.silence(0.2, local.SAMPLE_RATE)
    pad = pcm.silence(local.EDGE_PAD_SECONDS, local.SAMPLE_RATE)
    return chunk.encode(np.concatenate([pad, body, pad]), local.SAMPLE_RATE)


def timed_render(engine: local.LocalEngine, text: str) -> str | None:
    """The service's path in the engine's thread: audio, words, and the chunk's timing serialised."""
    made = asyncio.run(say(engine, text, engine.default_voice, Prosody()))
    return made.timing.to_json() if made.timing else None


def accuracy(engine: Engine, texts: dict[str, str], limit: int | None, plain: bool = False) -> None:
    for name, text in texts.items():
        found: dict[str, list[float]] = {"service": [], "plain spread": []}
        missed = dict.fromkeys(found, 0)
        spent = {"synthesis": 0.0, "anchoring": 0.0}
        for piece in chunks_of(text, engine)[:limit]:
            started = time.perf_counter()
            made = asyncio.run(say(engine, piece.spoken, engine.default_voice, Prosody()))
            spent["synthesis"] += time.perf_counter() - started
            assert made.timing is not None
            samples = pcm.from_int16(mp3.decode(made.audio))
            timings = {"service": made.timing}
            if plain:  # the same audio, spread as before anchoring
                rate = mp3.SAMPLE_RATE
                lo, hi = pcm.trim_bounds(samples, rate, keep=0.0)
                timings["plain spread"] = proportional(piece.spoken, lo / rate, hi / rate)
                started = time.perf_counter()  # what anchoring adds to the service's path
                proportional(piece.spoken, lo / rate, hi / rate, onsets.onsets(samples, rate))
                spent["anchoring"] += time.perf_counter() - started
            for kind, timing in timings.items():
                predicted = after_pauses(piece.spoken, timing)
                errs, miss = onsets.errors(predicted, samples, mp3.SAMPLE_RATE, MATCH_WINDOW)
                found[kind] += errs
                missed[kind] += miss
        if plain:
            print(
                f"{name}: synthesis (say) {spent['synthesis']:.2f} s, of which anchoring"
                f" {spent['anchoring'] * 1000:.1f} ms ({spent['anchoring'] / spent['synthesis']:.2%})"
            )
        for kind, errs in found.items():
            if plain or kind == "service":
                report(f"{name} ({kind})" if plain else name, errs, missed[kind])


def report(name: str, found: list[float], missed: int) -> None:
    ms = sorted(abs(e) * 1000 for e in found)
    if not ms:
        print(f"{name}: no pauses matched, {missed} unmatched")
        return
    within = sum(m <= 40 for m in ms)
    print(
        f"{name}: {len(found)} pauses matched, {missed} unmatched;"
        f" |error| median {statistics.median(ms):.1f} ms, p90 {ms[int(0.9 * (len(ms) - 1))]:.1f} ms,"
        f" max {ms[-1]:.1f} ms; within ±40 ms: {within}/{len(ms)};"
        f" signed mean {statistics.mean(found) * 1000:+.1f} ms"
    )


def cost(engine: local.LocalEngine, texts: dict[str, str], rounds: int, limit: int | None) -> None:
    spoken = [c.spoken for text in texts.values() for c in chunks_of(text, engine)][:limit]
    totals: dict[str, list[float]] = {"baseline": [], "timed": []}
    runs = {
        "baseline": functools.partial(baseline_render, engine),
        "timed": functools.partial(timed_render, engine),
    }
    for text in spoken:  # once each first: the front end's caches warm for both alike
        for run in runs.values():
            run(text)
    for round_ in range(rounds):
        spent = dict.fromkeys(runs, 0.0)
        for index, text in enumerate(spoken):
            order = list(runs.items())
            if (index + round_) % 2:  # interleaved per chunk, each first half the time: noise hits both alike
                order.reverse()
            for name, run in order:
                started = time.perf_counter()
                run(text)
                spent[name] += time.perf_counter() - started
        for name in runs:
            totals[name].append(spent[name])
        print(f"round: baseline {spent['baseline']:.2f} s, timed {spent['timed']:.2f} s", flush=True)
    base, timed = statistics.median(totals["baseline"]), statistics.median(totals["timed"])
    print(
        f"cost over {len(spoken)} chunks, {rounds} rounds: baseline {base:.2f} s, timed {timed:.2f} s,"
        f" ratio {timed / base:.3f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--limit", type=int, default=None, help="chunks per article (default: all)")
    parser.add_argument("--skip-cost", action="store_true")
    parser.add_argument("--engine", choices=["local", "espeak"], default="local")
    args = parser.parse_args()
    texts = {"corpus": corpus_body(), "demo": demo_body()}
    if args.engine == "espeak":
        accuracy(EspeakEngine(), texts, args.limit, plain=True)
        return
    engine = local.LocalEngine(Path(tempfile.mkdtemp()), threads=2)
    accuracy(engine, texts, args.limit)
    if not args.skip_cost:
        cost(engine, texts, args.rounds, args.limit)


if __name__ == "__main__":
    main()
