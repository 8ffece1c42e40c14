"""Turn a plain-text or Markdown file into a title, optional byline and date, and body text.

The Markdown is rendered to plain lines first (text/markdown.py), so the title, the body the reader page shows
and the text the voice reads are all free of markup. The first non-empty line is the title; the lines right
after it may give the byline (作者：…) and the date, as editors write it: 日期：2026年10月15日, 2026/10/15,
2026.10.15 or 2026-10-15, with or without a label, optionally followed by a clock time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tts_service.errors import InvalidInput
from tts_service.text.markdown import plain_lines

_BYLINE = re.compile(r"^\s*(?:作者|记者|文)\s*[:：]\s*(.+)$")
_DATE = re.compile(
    r"^\s*(?:(?:日期|时间|发布时间|发布日期)\s*[:：]\s*)?"
    r"(?P<y>\d{4})\s*(?:(?P<s>[-/.])\s*(?P<m>\d{1,2})\s*(?P=s)\s*(?P<d>\d{1,2})"
    r"|年\s*(?P<m2>\d{1,2})\s*月\s*(?P<d2>\d{1,2})\s*[日号]?)"
    r"(?:\s+\d{1,2}[:：]\d{2}(?:[:：]\d{2})?)?\s*$"
)


@dataclass(frozen=True)
class Document:
    title: str
    body: str
    byline: str | None = None
    date: str | None = None


def header_date(line: str) -> str | None:
    """The ISO date of a header line that is only a date (labelled or not); None for any other line.

    The date is not checked here: 2026-02-30 comes back as written and the article's validation rejects it
    with its usual message."""
    if not (match := _DATE.match(line)):
        return None
    month, day = match["m"] or match["m2"], match["d"] or match["d2"]
    return f"{int(match['y']):04d}-{int(month):02d}-{int(day):02d}"


def parse_document(content: str) -> Document:
    """The first non-empty line is the title; 作者：/日期： lines right after it are metadata."""
    lines = plain_lines(content.removeprefix("\ufeff"))
    lines = lines[next((i for i, line in enumerate(lines) if line.strip()), len(lines)) :]
    if not lines:
        raise InvalidInput("the file is empty")
    title, rest = lines[0].strip(), lines[1:]
    byline = date = None
    while rest and (not rest[0].strip() or _BYLINE.match(rest[0]) or header_date(rest[0])):
        line = rest.pop(0)
        if match := _BYLINE.match(line):
            byline = match.group(1).strip()
        elif found := header_date(line):
            date = found
    body = "\n".join(rest).strip()
    if not body:
        raise InvalidInput("the file has a title line but no text")
    return Document(title, body, byline, date)
