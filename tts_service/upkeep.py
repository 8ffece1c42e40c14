"""Cache upkeep: check every cached file against its record (verify), and remove unreferenced audio (gc)."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tts_service.assembly import assembly_key, tags_for
from tts_service.audio import frames, mp3
from tts_service.cache import AudioCache, AudioStore, Entry
from tts_service.errors import NotFound, TTSError
from tts_service.jobs import JobStore
from tts_service.planning import Planner
from tts_service.store import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Problem:
    key: str
    reason: str


@dataclass
class VerifyReport:
    checked: int = 0
    bad: list[Problem] = field(default_factory=list)
    unhashed: int = 0  # recorded before hashes were kept: checked for size and decoding only
    unrecorded: list[str] = field(default_factory=list)  # files no record mentions (gc removes them)
    quarantined: list[str] = field(default_factory=list)


@dataclass
class GcReport:
    removed: list[Entry] = field(default_factory=list)
    freed: int = 0
    kept: int = 0


def cache_files(root: Path) -> Iterator[Path]:
    """Every file in a local cache's two-level layout (``ab/<key>.mp3`` and temp files), not the
    quarantine."""
    for entry in AudioCache(root).entries():
        yield root / entry.name


def check_file(path: Path, size: int, sha256: str | None, duration: float | None) -> str | None:
    """Why the file at ``path`` is not what its record says, or None if it is (blocking)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return "missing"
    return check_audio(data, size, sha256, duration)


def check_stored(
    cache: AudioStore, key: str, size: int, sha256: str | None, duration: float | None
) -> str | None:
    """Why the audio stored under ``key`` is not what its record says, or None if it is (blocking)."""
    try:
        data = cache.read(key)
    except NotFound:
        return "missing"
    return check_audio(data, size, sha256, duration)


def check_audio(data: bytes, size: int, sha256: str | None, duration: float | None) -> str | None:
    """Why ``data`` is not the audio its record describes, or None if it is."""
    if len(data) != size:
        return f"size {len(data)} bytes, recorded {size}"
    if sha256 is not None and hashlib.sha256(data).hexdigest() != sha256:
        return "content does not match its recorded SHA-256"
    try:
        found = frames.frames(data)
    except ValueError as exc:
        return f"not MP3: {exc}"
    last = found[-1]
    if last.offset + last.length != len(data):
        return f"damaged MP3: {len(data) - last.offset - last.length} bytes after the last whole frame"
    try:
        seconds = mp3.duration(data)
    except TTSError as exc:
        return f"does not decode: {exc.message}"
    if duration is not None and abs(seconds - duration) > 0.1:
        return f"decodes to {seconds:.2f} s, recorded {duration:.2f} s"
    return None


async def verify(store: Store, cache: AudioStore, *, quarantine: bool = False) -> VerifyReport:
    """Check every recorded chunk and whole-article file; optionally move bad ones aside and forget them."""
    records = [(r.key, r.size, r.sha256, r.duration) for r in await store.all_audio()]
    records += [(r.key, r.size, r.sha256, r.duration) for r in await store.all_assemblies()]
    report = VerifyReport(checked=len(records), unhashed=sum(r[2] is None for r in records))
    for key, size, sha256, duration in records:
        reason = await asyncio.to_thread(check_stored, cache, key, size, sha256, duration)
        if reason is not None:
            report.bad.append(Problem(key, reason))
    recorded = {r[0] for r in records}
    listed = await asyncio.to_thread(lambda: list(cache.entries()))
    report.unrecorded = [_base(e.name) for e in listed if e.key not in recorded]
    if quarantine and report.bad:
        report.quarantined = await asyncio.to_thread(cache.quarantine, [p.key for p in report.bad])
        # Forgotten, so the next job makes them again instead of trusting a broken file.
        await store.forget_audio(p.key for p in report.bad)
    return report


def _base(name: str) -> str:
    return name.rsplit("/", 1)[-1]


async def referenced_keys(store: Store, planner: Planner) -> set[str]:
    """Every chunk and whole-article key a current article revision uses: under its own engine, under the
    fallback engine its audio was made with (if so), and under the engine of a job still running."""
    keep: set[str] = set()
    jobs = JobStore(store)
    for article in await store.list_articles():
        job = await jobs.latest(article.slug, article.revision)
        wanted: list[tuple[str | None, str | None]] = [(article.engine, article.voice)]
        if article.audio_engine:
            wanted.append((article.audio_engine, article.audio_voice))
        if job is not None and job.active:
            wanted.append((job.engine, job.voice))
        for engine, voice in wanted:
            try:
                chosen, chosen_voice = planner.resolve(engine, voice)
                plan = await planner.plan(article, using=(chosen.name, chosen_voice))
            except TTSError as exc:  # e.g. an engine no longer configured: nothing of it to keep
                log.warning("cannot plan %s with %s: %s", article.slug, engine, exc.message)
                continue
            chunk_keys = [c.key for c in plan.spoken]
            keep.update(chunk_keys)
            if chunk_keys:
                keep.add(assembly_key(chunk_keys, [c.paragraph for c in plan.spoken], tags_for(article)))
    return keep


async def collect(
    store: Store, cache: AudioStore, planner: Planner, *, dry_run: bool = False, min_age: float = 900.0
) -> GcReport:
    """Remove audio no current article revision references; files younger than ``min_age`` seconds are
    kept, so that work a running process has just written is never taken from under it."""
    keep = await referenced_keys(store, planner)
    report = GcReport()
    now = time.time()
    for entry in await asyncio.to_thread(lambda: list(cache.entries())):
        doomed = (entry.key is None or entry.key not in keep) and now - entry.mtime >= min_age
        if not doomed:
            report.kept += 1
            continue
        report.removed.append(entry)
        report.freed += entry.size
        if not dry_run:
            await asyncio.to_thread(cache.remove, entry)
    if not dry_run:
        await store.forget_audio(e.key for e in report.removed if e.key is not None)
    return report
