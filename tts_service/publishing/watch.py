"""``tts-service publish --watch``: publish again whenever the store changes, until stopped.

Polling, not a hook in the job runner: audio is made by whichever process runs the job (``serve``,
``pregen``, another machine's worker on the same database), and a hook would only see this process's
jobs. The store sees them all. Each poll is one small query (``changes``); a full pass, which builds every
page in memory and writes only what differs, runs only when its answer changes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy import Connection, text

from tts_service.errors import TTSError
from tts_service.store import Store

T = TypeVar("T")
POLL_SECONDS = 5.0  # the default: an article's audio is on the site at most this long after it is ready

# What a published file can depend on: the articles' current revisions (and the engine their audio was
# made with), the lexicon, the audio made and assembled, and the jobs (a failure changes a page's note).
_CHANGES_SQL = """
SELECT
    (SELECT {concat}(a.slug || ' ' || a.revision || ' ' || a.updated_at || ' '
                         || coalesce(r.audio_engine, '') || ' ' || coalesce(r.audio_voice, ''), '|')
     FROM articles a JOIN revisions r ON r.article_id = a.id AND r.revision = a.revision),
    (SELECT count(*) || ' ' || coalesce(max(updated_at), '') FROM lexicon),
    (SELECT count(*) || ' ' || coalesce(max(created_at), '') FROM audio),
    (SELECT count(*) || ' ' || coalesce(max(created_at), '') FROM assemblies),
    (SELECT count(*) || ' ' || coalesce(max(updated_at), '') FROM jobs)
"""


async def changes(store: Store) -> tuple[object, ...]:
    """A mark of everything a site is built from: equal marks, same site (templates and settings aside)."""

    concat = "string_agg" if store.dialect == "postgresql" else "group_concat"  # the same aggregate
    sql = text(_CHANGES_SQL.format(concat=concat))

    def read(conn: Connection) -> tuple[object, ...]:
        return tuple(conn.execute(sql).one())

    return await store.read(read)


async def watch(
    store: Store,
    publish_once: Callable[[], Awaitable[T]],
    on_result: Callable[[T], None],
    on_error: Callable[[TTSError], None],
    interval: float = POLL_SECONDS,
) -> None:
    """Publish now, then again after each change of the store, polled every ``interval`` seconds; until
    cancelled. A failed pass (a full disk, files in the way) is reported and tried again at the next
    change."""
    seen: tuple[object, ...] | None = None
    while True:
        mark = await changes(store)  # read before publishing: a change during the pass brings another
        if mark != seen:
            seen = mark
            try:
                on_result(await publish_once())
            except TTSError as exc:
                on_error(exc)
        await asyncio.sleep(interval)
