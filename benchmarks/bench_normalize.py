"""Accuracy of normalisation on issue 14's slips: sentences read exactly as expected, blind and dev sets.

Run: .venv/bin/python benchmarks/bench_normalize.py [--errors]

Sets: tests/data/normalize_blind.tsv (written and committed before the rules changed, only scored) and
tests/data/normalize_dev.tsv (the issue's examples and others, used while the rules were written); for
issue 15's digit strings read by context, tests/data/digits_blind.tsv (blind, the same way),
tests/data/digits_dev.tsv, and tests/data/digits_blind2.tsv (a second blind set, scored once on the final
rules after the first one's misses had been fixed). A sentence counts only if `normalize()` gives exactly
the expected spoken form. Figures per category and in all; `--set NAME` scores only the sets named.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tts_service.text.normalize import normalize  # noqa: E402

SETS = {
    "blind": ROOT / "tests" / "data" / "normalize_blind.tsv",
    "dev": ROOT / "tests" / "data" / "normalize_dev.tsv",
    "digits-blind": ROOT / "tests" / "data" / "digits_blind.tsv",
    "digits-dev": ROOT / "tests" / "data" / "digits_dev.tsv",
    "digits-blind2": ROOT / "tests" / "data" / "digits_blind2.tsv",
}


def load(path: Path) -> list[tuple[str, str, str]]:
    """(display, expected, category) rows; lines starting with # are comments."""
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            display, expected, category = line.split("\t")
            rows.append((display, expected, category))
    return rows


def score(name: str, path: Path, show_errors: bool) -> None:
    """Print exact-match counts per category and in all."""
    right: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for display, expected, category in load(path):
        got = normalize(display)
        total[category] += 1
        right[category] += got == expected
        if got != expected and show_errors:
            print(f"  [{name}/{category}] {display}\n    want {expected}\n    got  {got}")
    parts = ", ".join(f"{c} {right[c]}/{total[c]}" for c in total)
    print(f"{name}: {sum(right.values())}/{sum(total.values())} exact ({parts})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--errors", action="store_true", help="print every sentence read differently")
    parser.add_argument("--set", action="append", choices=sorted(SETS), help="score only these sets")
    args = parser.parse_args()
    for name, path in SETS.items():
        if path.exists() and (not args.set or name in args.set):
            score(name, path, args.errors)


if __name__ == "__main__":
    main()
