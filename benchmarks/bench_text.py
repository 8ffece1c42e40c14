"""Speed of the text front end on a 10,000-character article: normalisation, then pinyin.

Run: .venv/bin/python benchmarks/bench_text.py [--repeat 7]
     .venv/bin/python benchmarks/bench_text.py --base REV [--rounds 5]   (A/B against another commit)

The article is the corpus page repeated to 10,000 characters. Load time (first call: jieba's dictionary,
pypinyin's data, rule compilation) is measured once in a fresh process; the per-article figures are medians
of warm runs. The baseline, run side by side, is plain pypinyin (lazy_pinyin over the same text), the floor
any pinyin front end pays.

With ``--base REV``, the measurement runs in subprocesses, alternately with this checkout and with REV (its
source unpacked by bench_ab's `source_tree`) first on PYTHONPATH, for ``--rounds`` rounds each; it prints
each tree's median of round medians per step and the ratio this / base. Both trees read the same article.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_ab import source_tree  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus" / "academy-international-cooperation-2020.txt"


def article() -> str:
    text = CORPUS.read_text(encoding="utf-8")
    return (text * (10_000 // len(text) + 1))[:10_000]


def cold_load() -> float:
    """Seconds for the first normalise + pinyin of one short line, in a fresh process."""
    code = (
        "import time; t = time.perf_counter();"
        "from tts_service.text.normalize import normalize; from tts_service.text.pinyin import tokens;"
        "tokens(normalize('2019年1月7日，银行行长说。')); print(time.perf_counter() - t)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(done.stdout.strip())


def measure(repeat: int) -> dict[str, float]:
    """Median seconds per step over ``repeat`` warm runs, with the tts_service first on the path."""
    from pypinyin import Style, lazy_pinyin

    from tts_service.text.normalize import normalize
    from tts_service.text.pinyin import tokens

    text = article()
    lines = text.splitlines()
    tokens(normalize(lines[0] or "你好"))  # warm: load dictionaries once
    lazy_pinyin("你好")
    names = ("pypinyin alone (baseline)", "normalize", "pinyin", "normalize + pinyin")
    timings: dict[str, list[float]] = {name: [] for name in names}
    for _ in range(repeat):
        t0 = time.perf_counter()
        lazy_pinyin(text, style=Style.TONE3, neutral_tone_with_five=True)
        t1 = time.perf_counter()
        spoken = [normalize(line) for line in lines]
        t2 = time.perf_counter()
        for line in spoken:
            tokens(line)
        t3 = time.perf_counter()
        for name, seconds in zip(timings, (t1 - t0, t2 - t1, t3 - t2, t3 - t1), strict=True):
            timings[name].append(seconds)
    return {name: statistics.median(values) for name, values in timings.items()}


def ab(base: str, rounds: int, repeat: int) -> None:
    """This checkout against ``base``, alternating subprocesses; medians of round medians and the ratio."""
    with tempfile.TemporaryDirectory() as tmp:
        tree = source_tree(base, Path(tmp))
        got: dict[str, list[dict[str, float]]] = {"this": [], "base": []}
        for _ in range(rounds):
            for name, path in (("this", ROOT), ("base", tree)):
                env = {**os.environ, "PYTHONPATH": str(path)}
                cmd = [sys.executable, __file__, "--json", "--repeat", str(repeat)]
                out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
                got[name].append(json.loads(out))
    print(f"A/B: this checkout against {base}, {rounds} rounds of {repeat} warm runs, medians\n")
    print("| step | base (s) | this (s) | this / base |\n|---|---|---|---|")
    for step in got["this"][0]:
        b = statistics.median(r[step] for r in got["base"])
        t = statistics.median(r[step] for r in got["this"])
        print(f"| {step} | {b:.3f} | {t:.3f} | {t / b:.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--base", help="A/B against this commit")
    parser.add_argument("--rounds", type=int, default=5, help="A/B rounds per tree")
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.base:
        ab(args.base, args.rounds, args.repeat)
        return
    if args.json:
        print(json.dumps(measure(args.repeat)))
        return

    medians = measure(args.repeat)
    base = medians["pypinyin alone (baseline)"]
    print(f"{len(article())} characters, {args.repeat} warm runs, medians; cold load {cold_load():.2f} s\n")
    print("| step | seconds per article | vs baseline |")
    print("|---|---|---|")
    for name, median in medians.items():
        print(f"| {name} | {median:.3f} | {median / base:.2f}x |")


if __name__ == "__main__":
    main()
