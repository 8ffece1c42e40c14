"""Speed of the text front end on a 10,000-character article: normalisation, then pinyin.

Run: .venv/bin/python benchmarks/bench_text.py [--repeat 7]

The article is the corpus page repeated to 10,000 characters. Load time (first call: jieba's dictionary,
pypinyin's data, rule compilation) is measured once in a fresh process; the per-article figures are medians
of warm runs. The baseline, run side by side, is plain pypinyin (lazy_pinyin over the same text), the floor
any pinyin front end pays.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()

    from pypinyin import Style, lazy_pinyin

    from tts_service.text.normalize import normalize
    from tts_service.text.pinyin import tokens

    text = article()
    lines = text.splitlines()
    tokens(normalize(lines[0] or "你好"))  # warm: load dictionaries once
    lazy_pinyin("你好")
    names = ("pypinyin alone (baseline)", "normalize", "pinyin", "normalize + pinyin")
    timings: dict[str, list[float]] = {name: [] for name in names}
    for _ in range(args.repeat):
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
    base = statistics.median(timings["pypinyin alone (baseline)"])
    print(f"{len(text)} characters, {args.repeat} warm runs, medians; cold load {cold_load():.2f} s\n")
    print("| step | seconds per article | vs baseline |")
    print("|---|---|---|")
    for name, values in timings.items():
        median = statistics.median(values)
        print(f"| {name} | {median:.3f} | {median / base:.2f}x |")


if __name__ == "__main__":
    main()
