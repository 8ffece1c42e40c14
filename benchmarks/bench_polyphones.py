"""Polyphone accuracy and speed of the pinyin front end: pypinyin alone against our `tokens()`.

Run: .venv/bin/python benchmarks/bench_polyphones.py [--errors] [--rounds 5]

Test sets (sentence, expected lexical pinyin, indices of the scored characters, split; see their headers):
tests/data/polyphones.tsv (splits dev, dev2, held-out of issue 10 and dev3, dev4 of issue 15), and issue
15's blind sets tests/data/polyphones_held_out_2.tsv and polyphones_held_out_3.tsv (only for reporting,
never for fixing rules).
Only the scored characters count. Figures are given per split and for all; `--tsv` scores other files.

Confidence: every polyphone reading of ours is graded sure or unsure (`polyphones.Decision`). Over the
scored characters, recall is the share of our wrong readings graded unsure, precision the share of unsure
grades that are wrong readings, and "unsure" the share of scored characters graded unsure.

Two levels, same numbers of scored characters:
- lexical: readings before tone sandhi, against the file's expectations as written;
- spoken: the expected readings, pypinyin's and ours each pass through the same `apply_sandhi` over the same
  word boundaries (ours), so a reading counts only if it would be spoken right.

Systems: pypinyin alone (lazy_pinyin on the whole sentence, TONE3, neutral 5), pypinyin on jieba words (the
front end before polyphone handling), and ours (`lexical_tokens()` / `tokens()`).

Speed: 10,000 characters of text (the shared corpus and the test sentences, repeated), median of rounds,
with the per-word reading cache cleared before each round ("cold words") and kept ("warm words"). The
first call in a fresh process (imports, jieba's dictionary, the pinyin overrides) is timed separately.
The baselines are scored before our overrides are loaded into pypinyin (they change its dictionary).
"""

from __future__ import annotations

import argparse
import logging
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tts_service.text import pinyin, polyphones  # noqa: E402
from tts_service.text.pinyin import Syllable, apply_sandhi, lexical_tokens  # noqa: E402

TSV = ROOT / "tests" / "data" / "polyphones.tsv"
HELD_OUT_2 = ROOT / "tests" / "data" / "polyphones_held_out_2.tsv"
HELD_OUT_3 = ROOT / "tests" / "data" / "polyphones_held_out_3.tsv"
CORPUS = ROOT.parent / "shared" / "corpus" / "academy-international-cooperation-2020.txt"
HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


Case = tuple[str, list[str], list[int]]


def load_split_cases(path: Path = TSV) -> list[tuple[Case, str]]:
    """((sentence, expected readings of its Han characters, scored indices), split) per line."""
    cases = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            sentence, expected, scored, part = line.split("\t")
            cases.append(((sentence, expected.split(), [int(i) for i in scored.split()]), part))
    return cases


def load_cases(path: Path = TSV, split: str = "") -> list[Case]:
    """The cases of one split of a file, or all of them."""
    return [case for case, part in load_split_cases(path) if part == split or not split]


def pypinyin_alone(sentence: str) -> list[str]:
    from pypinyin import Style, lazy_pinyin

    return lazy_pinyin("".join(HAN.findall(sentence)), style=Style.TONE3, neutral_tone_with_five=True)


def pypinyin_on_words(sentence: str) -> list[str]:
    from pypinyin import Style, lazy_pinyin

    out = []
    for word in pinyin.words(sentence):
        readings = lazy_pinyin(
            word, style=Style.TONE3, neutral_tone_with_five=True, errors=lambda s: [""] * len(s)
        )
        out += [r for c, r in zip(word, readings, strict=True) if HAN.match(c)]
    return out


def ours(sentence: str) -> list[str]:
    return [t.pinyin for t in _han_syllables(sentence)]


def unsure(sentence: str) -> list[bool]:
    """For each Han character, whether our reading of it is graded unsure."""
    return [t.decision is not None and not t.decision.sure for t in _han_syllables(sentence)]


def confidence(cases: list[Case]) -> tuple[int, int, int, int]:
    """(wrong, wrong and unsure, unsure, scored) over the scored characters of the cases."""
    wrong = caught = flagged = total = 0
    for sentence, expected, scored in cases:
        got, doubt = ours(sentence), unsure(sentence)
        for i in scored:
            miss = got[i] != expected[i]
            wrong += miss
            caught += miss and doubt[i]
            flagged += doubt[i]
            total += 1
    return wrong, caught, flagged, total


def _han_syllables(sentence: str) -> list[Syllable]:
    return [t for t in lexical_tokens(sentence) if isinstance(t, Syllable) and HAN.match(t.text)]


def spoken(sentence: str, readings: list[str]) -> list[str]:
    """These lexical readings put in our token stream (words, breaks) and passed through the sandhi."""
    items, han = [], iter(readings)
    for t in lexical_tokens(sentence):
        if isinstance(t, Syllable) and HAN.match(t.text):
            t = Syllable(t.text, next(han), t.word, t.spelled, t.decision)
        items.append(t)
    return [t.pinyin for t in apply_sandhi(items) if isinstance(t, Syllable) and HAN.match(t.text)]


def score(readings: list[list[str]], cases: list[Case], level: str, errors: list[str] | None = None) -> int:
    """How many scored characters the readings (one list per case) get right."""
    right = 0
    for got, (sentence, expected, scored) in zip(readings, cases, strict=True):
        assert len(got) == len(expected), sentence
        if level == "spoken":
            got, expected = spoken(sentence, got), spoken(sentence, expected)
        hans = HAN.findall(sentence)
        for i in scored:
            if got[i] == expected[i]:
                right += 1
            elif errors is not None:
                errors.append(f"{sentence}  {hans[i]}@{i}: got {got[i]}, want {expected[i]}")
    return right


def speed_text(size: int = 10_000) -> str:
    base = CORPUS.read_text(encoding="utf-8") + "".join(s for s, _, _ in load_cases())
    return (base * (size // len(base) + 1))[:size]


def timed(fn: Callable[[], object], rounds: int, before: Callable[[], object] = lambda: None) -> float:
    times = []
    for _ in range(rounds):
        before()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def first_call() -> float:
    """Seconds for the first `tokens()` call in a fresh process: imports and every dictionary load."""
    code = "import time; t = time.perf_counter(); from tts_service.text.pinyin import tokens; "
    code += "tokens('银行行长说，我得走了。'); print(time.perf_counter() - t)"
    return float(
        subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--errors", action="store_true", help="list our wrong readings")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--tsv", type=Path, action="append", help="score these files instead")
    parser.add_argument("--no-speed", action="store_true", help="accuracy only")
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # the corpus has symbols with no reading

    splits: dict[str, list[Case]] = {}
    for path in args.tsv or [TSV, HELD_OUT_2, HELD_OUT_3]:
        for case, split in load_split_cases(path):
            splits.setdefault(split, []).append(case)
    splits["all"] = [c for cases in list(splits.values()) for c in cases]
    systems = [
        ("pypinyin alone (whole sentence)", pypinyin_alone),
        ("pypinyin on jieba words (old front end)", pypinyin_on_words),
        ("ours: tokens()", ours),
    ]  # ours loads the overrides into pypinyin: last
    readings = {
        name: {k: [system(s) for s, _, _ in cases] for k, cases in splits.items()} for name, system in systems
    }
    print("| system | split | sentences | lexical | spoken (same sandhi) |\n|---|---|---|---|---|")
    for name, _ in systems:
        for split, cases in splits.items():
            total = sum(len(s) for _, _, s in cases)
            lex, spk = (score(readings[name][split], cases, level) for level in ("lexical", "spoken"))
            print(
                f"| {name} | {split} | {len(cases)} | {lex}/{total} = {lex / total:.1%} "
                f"| {spk}/{total} = {spk / total:.1%} |"
            )

    print("\n| split | wrong | graded unsure | recall | precision | unsure share |")
    print("|---|---|---|---|---|---|")
    for split, cases in splits.items():
        wrong, caught, flagged, total = confidence(cases)
        print(
            f"| {split} | {wrong}/{total} | {flagged} | {caught}/{wrong} = {caught / max(wrong, 1):.0%} "
            f"| {caught}/{flagged} = {caught / max(flagged, 1):.0%} | {flagged / total:.1%} |"
        )
    if args.errors:
        errors: list[str] = []
        score(readings["ours: tokens()"]["all"], splits["all"], "lexical", errors)
        print("\nours, wrong:", *errors, sep="\n  ")
    if args.no_speed:
        return
    text = speed_text()
    cold = timed(lambda: pinyin.tokens(text), args.rounds, polyphones.word_readings.cache.clear)
    warm = timed(lambda: pinyin.tokens(text), args.rounds)
    tag = timed(lambda: pinyin.tagged_words(text), args.rounds)
    cut = timed(lambda: pinyin.words(text), args.rounds)
    print(f"\nfirst call in a fresh process: {first_call():.2f} s")
    print(f"tokens() per {len(text):,} chars: {cold:.3f} s cold words, {warm:.3f} s warm words")
    print(f"  of which jieba.posseg (no HMM, tags): {tag:.3f} s; jieba.cut (words): {cut:.3f} s")


if __name__ == "__main__":
    main()
