"""Embedding quotas: what one site (an ``Origin``) may make the service store and speak, per minute and
per UTC day.

The allow-list of sites is not authentication (anyone can forge an Origin header), so these bound what a
forger can cost: new page revisions per minute (each may start a job), and characters of new text per day
(what may have to be synthesised). The usage lives in the store, so that every process shares it and a
restart does not reset it. ``charge`` runs inside the transaction that saves the revision
(``Store.save_article``'s check), so concurrent requests cannot overshoot and a refused page leaves nothing
behind.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable

from sqlalchemy import Connection, text

from tts_service.article import Article
from tts_service.errors import RateLimited, TooLarge
from tts_service.store import SaveCheck
from tts_service.text import segment

MINUTE = 60.0
DAY = 86_400.0  # Unix time has no leap seconds: a UTC day starts at a multiple of this


def _sentences(text: str) -> list[str]:
    return [s.text.strip() for p in segment.paragraphs(text) for s in segment.sentences(p) if s.text.strip()]


def new_chars(before: str | None, after: str) -> int:
    """Characters of the sentences ``after`` adds to ``before`` (a new page: all of its text).

    Only changed sentences are synthesised again (the rest are cached), so a site that corrects a typo in a
    long page pays for one sentence, not the page. Sentences are counted as a multiset: repeating one that
    was there once pays for the copies, so the stored text never grows for free.
    """
    known = Counter(_sentences(before or ""))
    cost = 0
    for sentence in _sentences(after):
        if known[sentence] > 0:
            known[sentence] -= 1
        else:
            cost += len(sentence)
    return cost


class Quotas:
    """Per site: at most ``revisions_per_minute`` new revisions in any 60 s, and ``daily_chars`` characters
    of new text per UTC day. ``clock`` is wall time (shared by processes; tests move it)."""

    def __init__(
        self, revisions_per_minute: int, daily_chars: int, clock: Callable[[], float] = time.time
    ) -> None:
        self.revisions_per_minute, self.daily_chars, self.clock = revisions_per_minute, daily_chars, clock

    def for_page(self, site: str, text: str) -> SaveCheck:
        """The check ``Store.save_article`` runs before it writes a revision of ``text`` for ``site``."""

        def check(conn: Connection, current: Article | None) -> None:
            self.charge(conn, site, new_chars(current.text if current is not None else None, text))

        return check

    def charge(self, conn: Connection, site: str, chars: int) -> None:
        """Count one new revision of ``chars`` new characters for ``site``, or refuse it: RateLimited (429,
        with the seconds until it would fit), or TooLarge (413) when it would not fit in a whole day.
        Call inside a write transaction; usage older than the windows goes on the way."""
        now = self.clock()
        day = now - now % DAY
        conn.execute(text("DELETE FROM embed_usage WHERE at < :before"), {"before": min(day, now - MINUTE)})
        if chars > self.daily_chars:
            raise TooLarge(
                f"the page adds {chars} characters of new text, more than the whole daily quota of {site}"
                f" ({self.daily_chars}, TTS_EMBED_DAILY_CHARS)"
            )
        self._check_minute(conn, site, now)
        sql = text("SELECT coalesce(sum(chars), 0) FROM embed_usage WHERE site = :site AND at >= :day")
        used = int(conn.execute(sql, {"site": site, "day": day}).scalar_one())
        if used + chars > self.daily_chars:
            raise RateLimited(
                f"{site} has stored {used} characters of new text today (UTC) and this page adds {chars}:"
                f" over its daily quota of {self.daily_chars} (TTS_EMBED_DAILY_CHARS)",
                day + DAY - now,
            )
        conn.execute(
            text("INSERT INTO embed_usage (site, at, chars) VALUES (:site, :at, :chars)"),
            {"site": site, "at": now, "chars": chars},
        )

    def _check_minute(self, conn: Connection, site: str, now: float) -> None:
        sql = text("SELECT at FROM embed_usage WHERE site = :site AND at > :since ORDER BY at")
        recent = [at for (at,) in conn.execute(sql, {"site": site, "since": now - MINUTE})]
        limit = self.revisions_per_minute
        if len(recent) >= limit:  # a slot frees when the revision that puts the site at its limit leaves
            raise RateLimited(
                f"{site} has stored {len(recent)} new page revisions in the last minute, its limit"
                f" ({limit}, TTS_EMBED_REVISIONS_PER_MINUTE)",
                recent[len(recent) - limit] + MINUTE - now,
            )
