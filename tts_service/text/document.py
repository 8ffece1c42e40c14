"""Turn a plain-text or Markdown file into a title, optional byline and date, and body text."""

from __future__ import annotations

import re
from dataclasses import dataclass

from tts_service.errors import InvalidInput

_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+")
_LIST_OR_QUOTE = re.compile(r"^\s{0,3}(?:[-*+]\s+|>\s?)")
_EMPHASIS = re.compile(r"(\*\*|__)(.+?)\1")
_BYLINE = re.compile(r"^\s*(?:作者|记者|文)\s*[:：]\s*(.+)$")
_DATE = re.compile(r"^\s*(?:日期|时间|发布时间)\s*[:：]\s*(\d{4}-\d{2}-\d{2})\s*$")


@dataclass(frozen=True)
class Document:
    title: str
    body: str
    byline: str | None = None
    date: str | None = None


def _plain(line: str) -> str:
    line = _HEADING.sub("", line)
    line = _LIST_OR_QUOTE.sub("", line)
    return _EMPHASIS.sub(r"\2", line).rstrip()


def parse_document(content: str) -> Document:
    """The first non-empty line is the title; 作者：/日期： lines right after it are metadata."""
    lines = [_plain(line) for line in content.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    lines = lines[next((i for i, line in enumerate(lines) if line.strip()), len(lines)) :]
    if not lines:
        raise InvalidInput("the file is empty")
    title, rest = lines[0].strip(), lines[1:]
    byline = date = None
    while rest and (not rest[0].strip() or _BYLINE.match(rest[0]) or _DATE.match(rest[0])):
        line = rest.pop(0)
        if match := _BYLINE.match(line):
            byline = match.group(1).strip()
        elif match := _DATE.match(line):
            date = match.group(1)
    body = "\n".join(rest).strip()
    if not body:
        raise InvalidInput("the file has a title line but no text")
    return Document(title, body, byline, date)
