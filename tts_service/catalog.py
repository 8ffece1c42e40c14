"""The article list as editors browse it: one page at a time, searched, and each article's revisions.

Pages are keyset-paginated (the cursor names the last row seen, never an offset), so the ten-thousandth
article costs what the first does: an index walk of ``limit`` rows.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass

from tts_service.article import Article
from tts_service.errors import InvalidInput

MAX_QUERY_CHARS = 100


@dataclass(frozen=True)
class ArticlePage:
    """Articles, most recently updated first, and the next page's cursor (None: this page is the last)."""

    articles: tuple[Article, ...]
    next_cursor: str | None


@dataclass(frozen=True)
class RevisionInfo:
    """One stored revision of an article, as its history lists it."""

    revision: int
    title: str
    created_at: str
    chars: int  # length of its text


def encode_cursor(updated_at: str, article_id: int) -> str:
    """An opaque cursor: where the next page starts (after this row). Opaque so clients never build one."""
    raw = json.dumps([updated_at, article_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, int]:
    """(updated_at, article id) of a cursor this module made; InvalidInput (422) for anything else."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        updated_at, article_id = json.loads(raw)
    except (ValueError, TypeError, binascii.Error):
        raise InvalidInput("cursor is not one this service gave out; start again without it") from None
    if not isinstance(updated_at, str) or type(article_id) is not int:
        raise InvalidInput("cursor is not one this service gave out; start again without it")
    return updated_at, article_id


def like_pattern(query: str) -> str:
    """A LIKE pattern (ESCAPE '\\') that finds ``query`` literally anywhere: % and _ are plain characters."""
    if len(query) > MAX_QUERY_CHARS:
        raise InvalidInput(f"the search is {len(query)} characters; the limit is {MAX_QUERY_CHARS}")
    escaped = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
