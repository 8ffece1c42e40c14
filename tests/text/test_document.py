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


@pytest.mark.parametrize(
    ("line", "date"),
    [
        ("日期：2026-10-15", "2026-10-15"),
        ("日期：2026年10月15日", "2026-10-15"),
        ("日期: 2026年1月5日", "2026-01-05"),
        ("发布时间：2026/10/15", "2026-10-15"),
        ("发布日期：2026.10.15", "2026-10-15"),
        ("时间：2026年10月15日 09:30", "2026-10-15"),
        ("2026年10月15日", "2026-10-15"),
        ("2026/10/15", "2026-10-15"),
    ],
)
def test_header_dates_as_editors_write_them(line: str, date: str) -> None:
    doc = parse_document(f"标题\n作者：林晓岚\n{line}\n\n正文。")
    assert (doc.byline, doc.date, doc.body) == ("林晓岚", date, "正文。")


def test_a_date_inside_the_body_stays_text() -> None:
    doc = parse_document("标题\n\n正文。\n2026年10月15日\n")
    assert (doc.date, doc.body) == (None, "正文。\n2026年10月15日")


@pytest.mark.parametrize(
    ("markdown", "body"),
    [
        ("详见[市政府网站](https://www.example.gov.cn/a/b.html)。", "详见市政府网站。"),
        ("见[链接](<https://a.cn/x y>)和<https://www.gov.cn>。", "见链接和https://www.gov.cn。"),
        ("会场如图![活动现场照片](photo.jpg)所示。", "会场如图所示。"),
        ("![活动现场照片](photo.jpg)\n\n正文。", "正文。"),
        ("运行`tts-service add`命令。", "运行tts-service add命令。"),
        (
            "这是**重点**，那是*强调*，还有__下划线__和~~删除线~~。",
            "这是重点，那是强调，还有下划线和删除线。",
        ),
        ("**重要：**请于本周内提交。", "重要：请于本周内提交。"),
        ("这是**“重点”**内容。", "这是“重点”内容。"),
        ("1. 第一条内容。\n2. 第二条内容。", "1. 第一条内容。\n2. 第二条内容。"),
        ("3) 第三条。", "3) 第三条。"),
        ("- 第一项\n- 第二项", "第一项\n第二项"),
        ("> 引用的话。", "引用的话。"),
        ("第一行\n第二行", "第一行\n第二行"),
        ("正文。\n\n---\n\n下文。", "正文。\n\n下文。"),
        ("    缩进的段落。", "缩进的段落。"),
        ("价格是 3 \\* 4 元。", "价格是 3 * 4 元。"),
        (
            "| 项目 | 金额 |\n| --- | --- |\n| 挂号费 | 10元 |\n| 诊查费 | |",
            "项目，金额\n挂号费，10元\n诊查费",
        ),
        ("```\n第一行\n第二行\n```", "第一行\n第二行"),
    ],
)
def test_markdown_is_read_as_its_text(markdown: str, body: str) -> None:
    assert parse_document(f"# 标题\n\n{markdown}\n").body == body


def test_a_markdown_title_loses_its_markup() -> None:
    assert parse_document("# 关于**[通知](x.html)**的说明\n\n正文。").title == "关于通知的说明"
