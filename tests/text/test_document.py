"""Plain text and Markdown files into title, byline, date and body."""

from __future__ import annotations

import pytest

from tts_service.errors import InvalidInput
from tts_service.text.document import parse_document


def test_markdown_with_metadata() -> None:
    doc = parse_document("\n# 标题\n\n作者：林晓岚\n日期：2026-11-20\n\n第一段**重点**。\n\n- 第二段\n")
    assert (doc.title, doc.byline, doc.date) == ("标题", "林晓岚", "2026-11-20")
    assert doc.body == "第一段重点。\n\n第二段"


def test_plain_text() -> None:
    doc = parse_document("标题\r\n正文第一行。\r\n正文第二行。")
    assert (doc.title, doc.body, doc.byline, doc.date) == ("标题", "正文第一行。\n正文第二行。", None, None)


@pytest.mark.parametrize("content", ["", "\n \n", "# 只有标题\n\n"])
def test_nothing_to_read(content: str) -> None:
    with pytest.raises(InvalidInput):
        parse_document(content)
