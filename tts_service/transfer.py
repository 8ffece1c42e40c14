"""``tts-service migrate``: copy a deployment's state to another database and audio store, and prove it.

SQLite + files to PostgreSQL + S3, or back, or any mix. Everything is copied: articles with every revision,
the lexicon, jobs, sign-in sessions, embedding usage, API keys (their hashes and usage), the audio and
whole-article records, and the audio.

- **Resumable.** Rows go in batches, each its own transaction, and a row already there (by its primary
  key) is left alone; audio already in the target with the recorded size is not sent again. Run it again
  after an interruption and it carries on.
- **A record means a whole object, there too.** The audio goes first, each object checked against its
  recorded SHA-256 as it is read; the records follow. Audio that is missing or damaged in the source is
  not copied, and neither is its record: the target makes it again when it is next needed.
- **Never changes the source.** The source database is opened read-only (it must be migrated already).
- **Checked.** At the end, every table's rows are compared by count and by a digest of their content,
  and every copied object is read back from the target and hashed.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Table, func, select, text, tuple_
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from tts_service import schema
from tts_service.cache import AudioStore
from tts_service.database import Database
from tts_service.errors import NotFound

BATCH = 500
AUDIO_AT_ONCE = 8  # objects in flight: object stores answer each request in milliseconds, so overlap them
# Parents before children (revisions refer to articles).
TABLES: tuple[Table, ...] = (
    schema.articles,
    schema.revisions,
    schema.lexicon,
    schema.audio,
    schema.assemblies,
    schema.jobs,
    schema.job_chunks,
    schema.sessions,
    schema.embed_usage,
    schema.api_keys,
)
_AUDIO_TABLES = ("audio", "assemblies")
# PostgreSQL's sequences, moved past the copied ids.
_SERIAL = (("articles", "id"), ("jobs", "id"), ("api_keys", "id"))


@dataclass
class TransferReport:
    """What a run did: per table (rows in the source, rows written now); the audio sent, found already
    there, and left behind as bad in the source; and what the final check found wrong (empty: all good)."""

    rows: dict[str, tuple[int, int]] = field(default_factory=dict)
    audio_sent: int = 0
    audio_present: int = 0
    audio_bad: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


async def transfer(
    source: Database, source_audio: AudioStore, target: Database, target_audio: AudioStore
) -> TransferReport:
    """Copy everything from the source to the target, then check the target against the source."""
    report = TransferReport()
    records = await source.read(_audio_records)
    await _copy_audio(source_audio, target_audio, records, report)
    skip = set(report.audio_bad)
    for table in TABLES:
        report.rows[table.name] = await _copy_table(source, target, table, skip)
    if target.dialect == "postgresql":
        await target.write(_advance_sequences)
    report.problems = await _check(source, target, target_audio, records, skip)
    return report


def _audio_records(conn: Connection) -> dict[str, tuple[int, str | None]]:
    """Every chunk and whole-article record: key → (size, SHA-256 or None)."""
    found: dict[str, tuple[int, str | None]] = {}
    for name in _AUDIO_TABLES:
        for key, size, sha256 in conn.execute(text(f"SELECT key, size, sha256 FROM {name}")):
            found[key] = (size, sha256)
    return found


# Audio --------------------------------------------------------------------------------------------


async def _copy_audio(
    source: AudioStore,
    target: AudioStore,
    records: dict[str, tuple[int, str | None]],
    report: TransferReport,
) -> None:
    slots = asyncio.Semaphore(AUDIO_AT_ONCE)

    async def one(key: str, size: int, sha256: str | None) -> None:
        async with slots:
            outcome = await asyncio.to_thread(_copy_object, source, target, key, size, sha256)
        if outcome == "sent":
            report.audio_sent += 1
        elif outcome == "present":
            report.audio_present += 1
        else:
            report.audio_bad[key] = outcome

    await asyncio.gather(*(one(key, size, sha) for key, (size, sha) in sorted(records.items())))


def _copy_object(source: AudioStore, target: AudioStore, key: str, size: int, sha256: str | None) -> str:
    """ "sent", "present" (the target has it whole already), or why the source's copy cannot be used."""
    try:
        if target.info(key).size == size:
            return "present"
    except NotFound:
        pass
    try:
        audio = source.read(key)
    except NotFound:
        return "missing in the source"
    if len(audio) != size or (sha256 is not None and hashlib.sha256(audio).hexdigest() != sha256):
        return "damaged in the source (size or SHA-256 differs from its record)"
    target.write(key, audio)
    return "sent"


# Rows ---------------------------------------------------------------------------------------------


async def _copy_table(source: Database, target: Database, table: Table, skip: set[str]) -> tuple[int, int]:
    """(rows in the source, rows written to the target), in primary-key order, a batch per transaction."""
    key = list(table.primary_key.columns)
    if not key:  # embed_usage: a day's usage at most, copied whole in one transaction, once
        rows = await source.read(lambda c: [dict(r) for r in c.execute(select(table)).mappings()])
        present = await target.read(lambda c: c.execute(select(func.count()).select_from(table)).scalar_one())
        written = 0 if present else await target.write(lambda c: _insert(c, table, rows))
        return len(rows), written
    total = written = 0
    after: Sequence[Any] | None = None
    while True:
        batch = await source.read(functools.partial(_page, table=table, key=key, after=after))
        if not batch:
            return total, written
        total += len(batch)
        after = tuple(batch[-1][column.name] for column in key)
        wanted = [row for row in batch if table.name not in _AUDIO_TABLES or row["key"] not in skip]
        written += await target.write(functools.partial(_insert, table=table, rows=wanted))


def _page(
    conn: Connection, table: Table, key: list[Any], after: Sequence[Any] | None
) -> list[dict[str, Any]]:
    query = select(table).order_by(*key).limit(BATCH)
    if after is not None:
        query = query.where(tuple_(*key) > tuple_(*after))
    return [dict(row) for row in conn.execute(query).mappings()]


def _insert(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> int:
    """Insert the rows the target lacks (a row already there, by primary key, is left as it is)."""
    if not rows:
        return 0
    if not table.primary_key.columns:
        conn.execute(table.insert(), rows)
        return len(rows)
    insert = postgres_insert if conn.dialect.name == "postgresql" else sqlite_insert
    # RETURNING names the rows inserted (a driver's rowcount of an executemany is not to be trusted).
    statement = insert(table).on_conflict_do_nothing().returning(*table.primary_key.columns)
    return len(conn.execute(statement, rows).all())


def _advance_sequences(conn: Connection) -> None:
    """Rows came with their ids; new rows must get ids after them."""
    for name, column in _SERIAL:
        conn.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{name}', '{column}'),"
                f" coalesce((SELECT max({column}) FROM {name}), 0) + 1, false)"
            )
        )


# The check ----------------------------------------------------------------------------------------


async def _check(
    source: Database,
    target: Database,
    target_audio: AudioStore,
    records: dict[str, tuple[int, str | None]],
    skip: set[str],
) -> list[str]:
    problems = []
    for table in TABLES:
        digest = functools.partial(_digest, table=table, skip=skip)
        left, right = await source.read(digest), await target.read(digest)
        if left != right:
            problems.append(
                f"{table.name}: {left[0]} rows in the source, {right[0]} in the target, or they differ"
            )
    wanted = {key: value for key, value in records.items() if key not in skip}
    for key, reason in zip(wanted, await _hash_all(target_audio, wanted), strict=True):
        if reason is not None:
            problems.append(f"audio {key}: {reason}")
    return problems


def _digest(conn: Connection, table: Table, skip: set[str]) -> tuple[int, str]:
    """(row count, SHA-256 of every row in a fixed order), comparable across SQLite and PostgreSQL."""
    order = list(table.primary_key.columns) or list(table.columns)
    digest, count = hashlib.sha256(), 0
    for row in conn.execute(select(table).order_by(*order)).mappings():
        if table.name in _AUDIO_TABLES and row["key"] in skip:
            continue
        digest.update(json.dumps([row[c.name] for c in table.columns], ensure_ascii=False).encode())
        count += 1
    return count, digest.hexdigest()


async def _hash_all(store: AudioStore, wanted: dict[str, tuple[int, str | None]]) -> Iterable[str | None]:
    slots = asyncio.Semaphore(AUDIO_AT_ONCE)

    async def one(key: str, size: int, sha256: str | None) -> str | None:
        async with slots:
            try:
                audio = await asyncio.to_thread(store.read, key)
            except NotFound:
                return "missing in the target"
        if len(audio) != size or (sha256 is not None and hashlib.sha256(audio).hexdigest() != sha256):
            return "differs in the target from its record"
        return None

    return await asyncio.gather(*(one(key, size, sha) for key, (size, sha) in wanted.items()))
