"""Markdown → the plain lines an editor meant: what the reader page shows and the voice reads.

Parsed with markdown-it-py (CommonMark, plus GFM tables and strikethrough), never with regexes over the raw
text, so links, escapes and code spans are understood as a Markdown reader understands them. The choices:

- a link reads as its text (``[市政府网站](…)`` → 市政府网站); an autolink ``<https://…>`` keeps its address;
- an image is dropped: the page shows no images, so its alt text would describe something nobody sees;
- emphasis, strikethrough and code markers go and their text stays; a fenced code block keeps its lines;
- a numbered list item keeps its number (``1. 第一条内容。``), a bulleted one loses its bullet;
- a table is read row by row, one line per row, its cells joined by "，" (empty cells skipped);
- every source line stays a line (the service reads each line as a paragraph), blocks are separated by a blank
  line, and rules (``---``) are dropped;
- indented code blocks are off: editors indent paragraphs with spaces, and raw HTML is left as written (the
  spoken form strips tags).

CommonMark's emphasis rules fail next to Chinese punctuation (``**重要：**内容`` stays literal), so leftover
``**…**`` and ``__…__`` pairs are removed after parsing.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence

from markdown_it import MarkdownIt
from markdown_it.token import Token

_LEFTOVER_EMPHASIS = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_BLOCK_ENDS = frozenset(
    "paragraph_close heading_close bullet_list_close ordered_list_close table_close blockquote_close fence hr"
    .split()
)  # fmt: skip


@functools.cache
def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"]).disable("code")


def plain_lines(content: str) -> list[str]:
    """The text of a Markdown (or plain) document, one line per source line, blocks separated by ''."""
    lines: list[str] = []
    row: list[str] | None = None  # the cells of the table row being read
    number = ""  # the pending "1. " of an ordered list item, for its first line
    for token in _parser().parse(content):
        if token.type == "list_item_open":
            number = f"{token.info}{token.markup} " if token.info else ""
        elif token.type == "tr_open":
            row = []
        elif token.type == "inline" and row is not None:
            row.append(" ".join(inline_text(token.children or []).split()))
        elif token.type == "inline":
            lines.extend((number + inline_text(token.children or [])).split("\n"))
            number = ""
        elif token.type == "fence":
            lines.extend(token.content.rstrip("\n").split("\n"))
        elif token.type == "tr_close" and row is not None:
            lines.append("，".join(cell for cell in row if cell))
            row = None
        if token.type in _BLOCK_ENDS and token.level == 0:
            lines.append("")
    return _single_blanks([line.rstrip() for line in lines])


def _single_blanks(lines: list[str]) -> list[str]:
    """Runs of blank lines (left by a dropped image or rule) become one."""
    return [line for i, line in enumerate(lines) if line or (i and lines[i - 1])]


def inline_text(children: Sequence[Token]) -> str:
    """The text of one inline run: markers dropped, images skipped, line breaks kept as newlines."""
    parts: list[str] = []
    for child in children:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append("\n")
    return _LEFTOVER_EMPHASIS.sub(r"\2", "".join(parts))
