"""Real-time factor of the offline voice: cold `tts-service synth --engine local` against the raw model.

Run: .venv/bin/python benchmarks/bench_local.py [--rounds 3]

Every measurement is a fresh process (cold: imports, model load, first-call set-up all count), and the
configurations run interleaved in each round, so machine noise hits them alike. The baseline is the raw model
(FastSpeech2 + MB-MelGAN under LiteRT, no front end, no MP3) on the same clause-sized inputs with 2 threads,
timed around the model calls only. RTF = wall seconds / audio seconds; lower is better.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus" / "academy-international-cooperation-2020.txt"
CLI = str(Path(sys.executable).with_name("tts-service"))


def corpus_body() -> str:
    """The speech's body on the corpus page: the paragraphs from 2019年… to …强大动能!"""
    lines = [line.strip() for line in CORPUS.read_text(encoding="utf-8").splitlines()]
    start = next(i for i, line in enumerate(lines) if line.startswith("2019年是"))
    end = next(i for i, line in enumerate(lines) if line.endswith("强大动能!"))
    return "\n".join(line for line in lines[start : end + 1] if line)


def model_inputs(text: str, sentence_sized: bool) -> list[list[int]]:
    """Model ids for the text, cut into clauses (as the engine does) or whole sentences."""
    from tts_service.engines import local
    from tts_service.engines.baker_model import MAPPER_FILE, asset_dir
    from tts_service.text import phonemes, segment
    from tts_service.text.pinyin import Break, tokens

    table = json.loads((asset_dir() / MAPPER_FILE).read_text(encoding="utf-8"))
    inputs = []
    for paragraph in segment.paragraphs(text):
        items = tokens(paragraph)
        if sentence_sized:  # treat only sentence ends as cuts
            items = [Break(1) if isinstance(t, Break) and t.strength == 2 else t for t in items]
        for clause, _ in local.clauses(items) if not sentence_sized else _sentences(items):
            inputs.append(phonemes.ids(phonemes.symbols(clause, table["pinyin_dict"]), table["symbol_to_id"]))
    return inputs


def _sentences(items: list) -> list:
    from tts_service.text.pinyin import Break

    out, current = [], []
    for item in items:
        if isinstance(item, Break) and item.strength == 3:
            if current:
                out.append((current, 3))
            current = []
        else:
            current.append(item)
    return out + ([(current, 3)] if current else [])


def child_raw(threads: int, sentence_sized: bool) -> dict:
    """In a fresh process: load the models, synthesise every input in turn, time only the model."""
    inputs = model_inputs(corpus_body(), sentence_sized)
    from tts_service.engines.baker_model import SAMPLE_RATE, BakerModels

    with tempfile.TemporaryDirectory() as cache:
        t0 = time.perf_counter()
        models = BakerModels(Path(cache), num_threads=threads)
        models.synthesize(inputs[0][:8] + inputs[0][-1:])  # first call: interpreter set-up
        load = time.perf_counter() - t0
        t0 = time.perf_counter()
        samples = sum(models.synthesize(ids).size for ids in inputs)
        wall = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "wall": wall,
        "audio": samples / SAMPLE_RATE,
        "load": load,
        "peak_mb": peak,
        "inputs": len(inputs),
    }


def run_cli(workers: int, threads: int) -> dict:
    """A cold `tts-service synth --engine local` over the body, as a user would run it."""
    import miniaudio

    with tempfile.TemporaryDirectory() as home:
        out = Path(home) / "out.mp3"
        env = {**os.environ, "TTS_HOME": home, "TTS_WORKERS": str(workers), "TTS_LOCAL_THREADS": str(threads)}
        # A small wrapper reports the peak RSS of the CLI process alone.
        wrapper = (
            "import json, resource, subprocess, sys; r = subprocess.run(sys.argv[1:]);"
            " print(json.dumps(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss));"
            " sys.exit(r.returncode)"
        )
        cmd = [
            sys.executable,
            "-c",
            wrapper,
            CLI,
            "synth",
            corpus_body(),
            "--engine",
            "local",
            "-o",
            str(out),
        ]
        t0 = time.perf_counter()
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
        wall = time.perf_counter() - t0
        audio = miniaudio.mp3_get_info(out.read_bytes()).duration
    return {"wall": wall, "audio": audio, "peak_mb": int(done.stdout.strip().splitlines()[-1]) / 1024}


def child(spec: str) -> dict:
    kind, *args = spec.split(":")
    if kind == "raw":
        return child_raw(int(args[0]), args[1] == "sentence")
    return run_cli(int(args[0]), int(args[1]))


CONFIGS = {
    "raw model, clauses, 2 threads (baseline)": "raw:2:clause",
    "raw model, clauses, 1 thread": "raw:1:clause",
    "raw model, sentences, 2 threads": "raw:2:sentence",
    "raw model, sentences, 1 thread": "raw:1:sentence",
    "tts-service synth, 2 workers x 1 thread (default)": "cli:2:1",
    "tts-service synth, 2 workers x 2 threads": "cli:2:2",
    "tts-service synth, 1 worker x 2 threads": "cli:1:2",
}


def measure(spec: str) -> dict:
    if spec.startswith("cli:"):
        return child(spec)  # already its own process
    done = subprocess.run(
        [sys.executable, __file__, "--child", spec], capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child)))
        return
    results: dict[str, list[dict]] = {name: [] for name in CONFIGS}
    for round_no in range(args.rounds):
        for name, spec in CONFIGS.items():
            results[name].append(measure(spec))
            r = results[name][-1]
            print(f"round {round_no + 1}: {name}: {r['wall']:.2f} s for {r['audio']:.1f} s", file=sys.stderr)
    base = [r["wall"] / r["audio"] for r in results["raw model, clauses, 2 threads (baseline)"]]
    print(f"Body of {CORPUS.name}: {len(corpus_body())} characters; {args.rounds} rounds, medians.\n")
    print("| configuration | RTF | vs baseline | audio s | peak RSS MB | model load s |")
    print("|---|---|---|---|---|---|")
    for name, runs in results.items():
        rtf = [r["wall"] / r["audio"] for r in runs]
        ratio = statistics.median(a / b for a, b in zip(rtf, base, strict=True))
        load = statistics.median(r["load"] for r in runs) if "load" in runs[0] else None
        load_text = "" if load is None else f"{load:.2f}"
        peak = max(r["peak_mb"] for r in runs)
        print(
            f"| {name} | {statistics.median(rtf):.4f} | {ratio:.2f}x | {runs[0]['audio']:.1f} |"
            f" {peak:.0f} | {load_text} |"
        )


if __name__ == "__main__":
    main()
