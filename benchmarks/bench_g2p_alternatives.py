"""Polyphone accuracy of g2p alternatives from PyPI, side by side with ours: g2pM and pypinyin-dict's parts.

Run: .venv/bin/python benchmarks/bench_g2p_alternatives.py [--tsv PATH ...] [--split NAME ...]
     [--systems SUBSTRING ...] [--examples N] [--rounds 3]

The optional packages are measured, never depended on: install them into the worktree's .venv only, not
into pyproject.toml, before the run (a system whose package is missing is listed as skipped):

    .venv/bin/pip install g2pM pypinyin-dict

Test sets: the TSV format of bench_polyphones.py (default tests/data/polyphones.tsv), one column per split
and "all". Scoring is lexical (readings before tone sandhi) on the scored characters only, with
bench_polyphones' `load_cases` and `score`.

Systems, each in a subprocess of its own, since pypinyin's dictionaries are process-global and a loaded
data set must not leak into another system's score:
- pypinyin alone (lazy_pinyin on the whole sentence) and ours (`lexical_tokens`);
- g2pM, a BiLSTM whose weights ship in its wheel as pickles (numpy only, nothing downloaded). Its CC-CEDICT
  spellings are mapped to TONE3 (u: → v; 5 is already the neutral tone). A character missing from its
  dictionary comes back as itself; it is scored as "?" (wrong) and counted;
- pypinyin and ours with each part of pypinyin-dict loaded first: every data module of
  pypinyin_dict.phrase_pinyin_data (phrases) and pypinyin_dict.pinyin_data (single characters; the first
  reading becomes pypinyin's default). For ours the part is loaded before our own `polyphones.load()`, so
  our overrides still win. "ours+<phrase part>:new" loads only the part's phrases that pypinyin lacks: it
  adds readings but overrides none of pypinyin's (a way of taking selected entries rather than a part).

"vs ours" counts, over all the scored characters of a TSV, those a system reads differently from plain ours:
fixed (ours wrong, it right) and broken (ours right, it wrong). `--examples N` lists N of each for the ours +
part systems with the best net gain, with the part's entries that cover the character (what one would take
as selected entries rather than the whole part).

Speed: the 10,000 characters of bench_polyphones' `speed_text`, read in one call, median of `--rounds`;
for ours the per-word cache is cleared before each round (cold words). "load" is the import and loading of
the part plus a first call; peak RSS is the worker process's.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import pkgutil
import re
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_polyphones import HAN, TSV, Case, load_cases, ours, pypinyin_alone, score, speed_text, timed  # noqa: E402

from tts_service.text import polyphones  # noqa: E402

System = Callable[[str], list[str]]
SHARD = re.compile(r"_\d+$")  # cc_cedict_0 …: a shard of cc_cedict (but kmandarin_8105 is a part)
NEW_ONLY = ":new"  # a phrase part's entries for phrases pypinyin lacks, none of its own overridden


@dataclass(frozen=True)
class Group:
    """The cases of one split of one TSV (split "all": every split)."""

    tsv: Path
    split: str
    cases: list[Case]


@dataclass(frozen=True)
class Result:
    """What a worker process reports for one system."""

    readings: dict[str, list[str]]  # by sentence
    load_s: float
    speed_s: float
    rss_mb: float
    unknown: int  # Han characters of the test sentences it has no reading for


@dataclass(frozen=True)
class Change:
    """A scored character a system reads differently from plain ours."""

    sentence: str
    index: int
    char: str
    ours: str
    got: str
    want: str


# Systems and their workers.


def parts() -> list[str]:
    """pypinyin-dict's data modules ("phrase_pinyin_data.cc_cedict" …), or none if it is not installed."""
    try:
        import pypinyin_dict.phrase_pinyin_data
        import pypinyin_dict.pinyin_data
    except ImportError:
        return []
    found = []
    for package in (pypinyin_dict.phrase_pinyin_data, pypinyin_dict.pinyin_data):
        short = package.__name__.removeprefix("pypinyin_dict.")
        names = [m.name for m in pkgutil.iter_modules(package.__path__)]
        found += [f"{short}.{n}" for n in names if SHARD.sub("", n) == n or SHARD.sub("", n) not in names]
    return found


def system_names() -> list[str]:
    names = ["pypinyin", "ours", "g2pM"]
    for part in parts():
        names += [f"pypinyin+{part}", f"ours+{part}"]
        if part.startswith("phrase_pinyin_data."):
            names.append(f"ours+{part}{NEW_ONLY}")
    return names


def g2pm_system() -> System:
    """g2pM's readings of the Han characters of a sentence, read with the whole sentence as context."""
    from g2pM import G2pM

    model = G2pM()

    def read(sentence: str) -> list[str]:
        out = model(sentence, char_split=True)
        return [
            p.replace("u:", "v") if p != c else "?"
            for c, p in zip(sentence, out, strict=True)
            if HAN.match(c)
        ]

    return read


def make_system(name: str) -> System:
    """Load what the system needs (its pypinyin-dict part first) and return its reading function."""
    base, _, part = name.partition("+")
    if part:
        assert polyphones.load.cache_info().currsize == 0, "our overrides must load after the part"
        load_part(part)
    if base == "g2pM":
        return g2pm_system()
    return {"pypinyin": pypinyin_alone, "ours": ours}[base]


def load_part(part: str) -> None:
    """The whole part, or with NEW_ONLY only its phrases pypinyin does not have (no reading overridden)."""
    module = importlib.import_module(f"pypinyin_dict.{part.removesuffix(NEW_ONLY)}")
    if not part.endswith(NEW_ONLY):
        module.load()
        return
    from pypinyin import load_phrases_dict
    from pypinyin.constants import PHRASES_DICT

    load_phrases_dict({k: v for k, v in module.phrases_dict.items() if k not in PHRASES_DICT})


def work(name: str, sentences: list[str], rounds: int) -> dict[str, object]:
    """In the worker process: load, read every sentence, time `speed_text`."""
    logging.disable(logging.WARNING)  # the speed text has symbols with no reading
    start = time.perf_counter()
    system = make_system(name)
    system("银行行长说，我得走了。")
    load_s = time.perf_counter() - start
    readings = {s: system(s) for s in sentences}
    text = speed_text()
    clear = polyphones.word_readings.cache.clear if name.startswith("ours") else lambda: None
    return {
        "readings": readings,
        "load_s": load_s,
        "speed_s": timed(lambda: system(text), rounds, clear),
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "unknown": sum(r.count("?") for r in readings.values()),
    }


def run_worker(name: str, sentences: list[str], rounds: int) -> Result | str:
    """One system in a fresh process; the reason as a string when it cannot run (a package missing)."""
    proc = subprocess.run(
        [sys.executable, __file__, "--worker", name, "--rounds", str(rounds)],
        input=json.dumps(sentences),
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        return proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else f"exit {proc.returncode}"
    return Result(**json.loads(proc.stdout))


# Test sets and comparisons.


def groups(tsvs: list[Path], splits: list[str]) -> list[Group]:
    """One group per split present (or asked for) in each TSV, then "all" of that TSV."""
    out = []
    for tsv in tsvs:
        present = []
        for line in tsv.read_text(encoding="utf-8").splitlines():
            name = line.rsplit("\t", 1)[-1]
            if line.strip() and not line.startswith("#") and name not in present:
                present.append(name)
        chosen = [g for g in present if not splits or g in splits]
        mine = [Group(tsv, s, load_cases(tsv, s)) for s in chosen]
        out += mine
        if len(mine) > 1:
            out.append(Group(tsv, "all", [c for g in mine for c in g.cases]))
    return out


def changes(base: Result, other: Result, cases: list[Case]) -> list[Change]:
    """The scored characters `other` reads differently from `base` (plain ours)."""
    out = []
    for sentence, expected, scored in cases:
        hans = HAN.findall(sentence)
        mine, theirs = base.readings[sentence], other.readings[sentence]
        out += [
            Change(sentence, i, hans[i], mine[i], theirs[i], expected[i])
            for i in scored
            if mine[i] != theirs[i]
        ]
    return out


def fixed_broken(found: list[Change]) -> tuple[list[Change], list[Change]]:
    fixed = [c for c in found if c.got == c.want and c.ours != c.want]
    broken = [c for c in found if c.ours == c.want and c.got != c.want]
    return fixed, broken


def unique_cases(chosen: list[Group]) -> list[Case]:
    """Every case once (the "all" groups repeat their splits)."""
    seen: dict[str, Case] = {}
    for group in chosen:
        for case in group.cases:
            seen.setdefault(case[0], case)
    return list(seen.values())


# Report.


def accuracy_table(tsv: Path, chosen: list[Group], results: dict[str, Result]) -> list[str]:
    """Markdown: one row per system, one column per split (right/total = %), then the change against ours."""
    mine = [g for g in chosen if g.tsv == tsv]
    head = " | ".join(f"{g.split} ({len(g.cases)} sentences)" for g in mine)
    lines = [f"\n### {tsv}\n", f"| system | {head} | vs ours: changed (fixed / broken) |"]
    lines.append("|---" * (len(mine) + 2) + "|")
    cases = unique_cases(mine)
    for name, result in results.items():
        cells = []
        for g in mine:
            right = score([result.readings[s] for s, _, _ in g.cases], g.cases, "lexical")
            total = sum(len(scored) for _, _, scored in g.cases)
            cells.append(f"{right}/{total} = {right / total:.1%}")
        found = changes(results["ours"], result, cases) if "ours" in results else []
        fixed, broken = fixed_broken(found)
        vs = f"{len(found)} (+{len(fixed)} / −{len(broken)})" if name != "ours" else "—"
        lines.append(f"| {name} | {' | '.join(cells)} | {vs} |")
    return lines


def speed_table(results: dict[str, Result]) -> list[str]:
    lines = ["\n### Speed (10,000 characters, one call)\n"]
    lines += ["| system | load + first call | read 10,000 chars (median) | peak RSS |", "|---|---|---|---|"]
    for name, r in results.items():
        lines.append(f"| {name} | {r.load_s:.2f} s | {r.speed_s:.3f} s | {r.rss_mb:.0f} MB |")
    return lines


def part_entries(part: str, change: Change) -> str:
    """The part's entries that cover this character: phrases around it, or its single-character readings."""
    data = importlib.import_module(f"pypinyin_dict.{part}")
    if hasattr(data, "pinyin_dict"):
        return f"{change.char} = " + ",".join(_tone3(data.pinyin_dict.get(ord(change.char), "").split(",")))
    spans = [m.start() for m in HAN.finditer(change.sentence)]
    p, hits = spans[change.index], []
    for length in range(2, 9):
        for start in range(max(0, p - length + 1), p + 1):
            word = change.sentence[start : start + length]
            if word in data.phrases_dict:
                hits.append(f"{word} {' '.join(_tone3(r[0] for r in data.phrases_dict[word]))}")
    return "; ".join(hits) or "(no phrase entry covers it: a segmentation or rule effect)"


def _tone3(marked: Iterable[str]) -> list[str]:
    from pypinyin.contrib.tone_convert import to_tone3

    return [to_tone3(r, neutral_tone_with_five=True) for r in marked]


def examples(chosen: list[Group], results: dict[str, Result], top: int, count: int) -> list[str]:
    """Fixed and broken characters of the `top` ours + part systems that fix any, best net gain first."""
    cases, ranked = unique_cases(chosen), []
    where = {c[0]: f"{g.tsv.stem}/{g.split}" for g in chosen if g.split != "all" for c in g.cases}
    for name, result in results.items():
        if name.startswith("ours+"):
            fixed, broken = fixed_broken(changes(results["ours"], result, cases))
            if fixed:
                ranked.append((len(fixed) - len(broken), name, fixed, broken))
    lines = []
    for net, name, fixed, broken in sorted(ranked, key=lambda r: (-r[0], -len(r[2]), r[1]))[:top]:
        part = name.partition("+")[2].removesuffix(NEW_ONLY)
        lines.append(f"\n### {name}: net {net:+d} ({len(fixed)} fixed, {len(broken)} broken)\n")
        for label, found in (("fixed", fixed), ("broken", broken)):
            lines.append(f"{label}:")
            for c in found[:count]:
                lines.append(
                    f"- [{where[c.sentence]}] {c.sentence} {c.char}@{c.index}: "
                    f"ours {c.ours} → {c.got} (want {c.want}); entries: {part_entries(part, c)}"
                )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tsv", type=Path, action="append", help="test set (repeatable); default: ours")
    parser.add_argument("--split", action="append", default=[], help="only this split (repeatable)")
    parser.add_argument("--systems", action="append", default=[], help="only systems containing this")
    parser.add_argument("--examples", type=int, default=8, help="fixed/broken examples per part shown")
    parser.add_argument("--top", type=int, default=3, help="how many best ours + part systems to detail")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(work(args.worker, json.loads(sys.stdin.read()), args.rounds)))
        return
    chosen = groups(args.tsv or [TSV], args.split)
    sentences = [s for s, _, _ in unique_cases(chosen)]
    chosen_names = [n for n in system_names() if not args.systems or any(f in n for f in args.systems)]
    names = ["ours"] + [n for n in chosen_names if n != "ours"]  # the baseline of every comparison
    results: dict[str, Result] = {}
    for name in names:
        got = run_worker(name, sentences, args.rounds)
        if isinstance(got, str):
            print(f"skipped {name}: {got}", file=sys.stderr)
        else:
            results[name] = got
    lines = ["## Polyphones, lexical, scored characters only"]
    for tsv in dict.fromkeys(g.tsv for g in chosen):
        lines += accuracy_table(tsv, chosen, results)
    if "g2pM" in results:
        lines.append(f"\ng2pM: {results['g2pM'].unknown} Han characters of these sentences unknown to it.")
    lines += speed_table(results)
    if "ours" in results and args.examples:
        lines += examples(chosen, results, args.top, args.examples)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
