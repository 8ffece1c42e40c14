"""Retention: how many revisions of an article, and which finished jobs, the store keeps.

Plain SQL on a connection inside the caller's transaction: a save prunes its own article as it writes, and
``tts-service prune`` runs ``prune_all`` for a full pass.
"""

from __future__ import annotations

from sqlalchemy import Connection, text


def prune_article(conn: Connection, article_id: int, slug: str, keep: int) -> tuple[int, int]:
    """Drop an article's revisions older than its newest ``keep`` (0: none), and finished jobs that are
    not the latest job of a kept revision; (revisions removed, jobs removed)."""
    revisions = 0
    if keep > 0:
        revisions = conn.execute(
            text(
                "DELETE FROM revisions WHERE article_id = :id AND revision <= (SELECT revision FROM articles"
                " WHERE id = :id) - :keep"
            ),
            {"id": article_id, "keep": keep},
        ).rowcount
    jobs = conn.execute(
        text(
            "DELETE FROM jobs WHERE slug = :slug AND status IN ('done', 'failed') AND ("
            " revision NOT IN (SELECT revision FROM revisions WHERE article_id = :id)"
            " OR id < (SELECT max(id) FROM jobs j WHERE j.slug = jobs.slug AND j.revision = jobs.revision))"
        ),
        {"slug": slug, "id": article_id},
    ).rowcount
    return revisions, jobs


def prune_all(conn: Connection, keep: int) -> tuple[int, int]:
    """``prune_article`` for every article, and the jobs of articles deleted long ago; the totals."""
    revisions = jobs = 0
    for article_id, slug in conn.execute(text("SELECT id, slug FROM articles")).all():
        removed = prune_article(conn, article_id, slug, keep)
        revisions, jobs = revisions + removed[0], jobs + removed[1]
    orphans = conn.execute(text("DELETE FROM jobs WHERE slug NOT IN (SELECT slug FROM articles)")).rowcount
    return revisions, jobs + orphans
