"""Proofing precision: of the wrong readings, what share the proofreading view flags (recall), and of the
flags, what share are wrong readings (precision).

Run: .venv/bin/python benchmarks/bench_proofing.py

Each sentence of the polyphone test sets (tests/data/polyphones*.tsv; see their headers) goes through the
path the proofreading view takes (`planning.spoken_form(marked=True)` → `text.pronunciation.read`), and only
the scored characters count. A reading is wrong when the view's syllable (as spoken: after tone sandhi) is not
the expected reading passed through the same sandhi (`bench_polyphones.spoken`). Flagged: the view marks it
"待校对" (a default guess, or a rule or phrase graded unsure).
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_polyphones import HAN, HELD_OUT_2, HELD_OUT_3, TSV, Case, load_split_cases, spoken  # noqa: E402

from tts_service.planning import spoken_form  # noqa: E402
from tts_service.text.pronunciation import read  # noqa: E402


def counts(cases: list[Case]) -> tuple[int, int, int, int]:
    """(wrong, wrong and flagged, flagged, scored) over the scored characters."""
    wrong = caught = flagged = total = 0
    for sentence, expected, scored in cases:
        got = read(sentence, spoken_form(sentence, marked=True))
        han = [c for c in got.chars if HAN.match(c.char)]
        want = spoken(sentence, expected)
        for i in scored:
            miss = han[i].syllable != want[i]
            wrong += miss
            caught += miss and han[i].flagged
            flagged += han[i].flagged
            total += 1
    return wrong, caught, flagged, total


def main() -> None:
    logging.disable(logging.WARNING)
    splits: dict[str, list[Case]] = {}
    for path in (TSV, HELD_OUT_2, HELD_OUT_3):
        for case, split in load_split_cases(path):
            splits.setdefault(split, []).append(case)
    splits["all"] = [c for cases in list(splits.values()) for c in cases]
    print("| split | scored | wrong | flagged | recall (wrong flagged) | precision (flags wrong) ", end="")
    print("| flagged share |")
    print("|---|---|---|---|---|---|---|")
    for split, cases in splits.items():
        wrong, caught, flagged, total = counts(cases)
        print(
            f"| {split} | {total} | {wrong} | {flagged} | {caught}/{wrong} = {caught / max(wrong, 1):.0%} "
            f"| {caught}/{flagged} = {caught / max(flagged, 1):.0%} | {flagged / total:.1%} |"
        )


if __name__ == "__main__":
    main()
