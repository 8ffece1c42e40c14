"""The host-page rule the toolbar and the crawler share: root, never-read parts, paragraphs, whitespace."""

from __future__ import annotations

import pytest

from tts_service.errors import InvalidInput
from tts_service.text.blocks import host_page

PAGE = """<!doctype html><html><head><title>站点 - 标题</title><style>p{font-size:14px}</style></head>
<body><div class="nav">首页 &gt; 新闻</div>
<div class="main"><h1>会议召开</h1>
  <div id="zoom">
    <p>第一段，<span style="font-size:14px">有  行内
    元素</span>。第二句！</p>
    <p>第二段<br>换行后的部分。</p>
    <div class="share">分享到：<a>微信</a></div>
    <p hidden>隐藏的段落。</p><p style="display:none">也隐藏。</p><p aria-hidden="true">读屏隐藏。</p>
    <script>var x = "不读";</script><tts-toolbar>工具条</tts-toolbar>
    <table><tr><td>单元格一</td><td>单元格二</td></tr></table>
    <p><b>加粗</b><!-- 注释 -->尾巴。</p>
  </div>
</div><div class="footer">版权所有</div></body></html>"""


def test_the_rule_on_a_cms_page() -> None:
    page = host_page(PAGE, article="#zoom", skip=".share")
    assert page.title == "会议召开"
    assert page.paragraphs == (
        "第一段，有 行内 元素。第二句！",
        "第二段",
        "换行后的部分。",
        "单元格一",
        "单元格二",
        "加粗尾巴。",
    )


def test_without_a_selector_the_largest_text_block_is_the_article() -> None:
    page = host_page(PAGE, skip=".share")
    assert page.paragraphs[0] == "第一段，有 行内 元素。第二句！" and "版权所有" not in page.paragraphs


@pytest.mark.parametrize("tag", ["article", "main"])
def test_article_and_main_come_first(tag: str) -> None:
    html = (
        f"<html><body><p>外面。</p><{tag}><p>里面。</p></{tag}><div><p>{'长' * 90}。</p></div></body></html>"
    )
    assert host_page(html).paragraphs == ("里面。",)


def test_data_tts_article_beats_article() -> None:
    html = "<html><body><article><p>一。</p></article><div data-tts-article><p>二。</p></div></body></html>"
    assert host_page(html).paragraphs == ("二。",)


def test_the_title_selector_and_the_fallbacks() -> None:
    assert host_page(PAGE, title=".nav").title == "首页 > 新闻"
    assert (
        host_page("<html><head><title> 只有 标题 </title></head><body><p>字。</p></body></html>").title
        == "只有 标题"
    )


def test_javascript_whitespace_is_collapsed_and_nothing_else() -> None:
    html = "<html><body><p>\u3000\u3000首行缩进\u00a0的\ufeff段落\u200b。</p></body></html>"
    assert host_page(html).paragraphs == ("首行缩进 的 段落\u200b。",)  # \u200b is not JavaScript's \s


def test_bad_selectors_and_missing_articles_are_clear_errors() -> None:
    with pytest.raises(InvalidInput, match="not a CSS selector"):
        host_page(PAGE, article="#zoom[")
    with pytest.raises(InvalidInput, match="no element matches"):
        host_page(PAGE, article="#nope")


def test_an_xhtml_page_with_an_xml_declaration_is_read() -> None:
    """Old CMSs serve XHTML that starts with <?xml … encoding="utf-8"?>; a browser reads it as any page."""
    html = '<?xml version="1.0" encoding="utf-8"?>\n' + PAGE
    assert host_page(html, article="#zoom", skip=".share") == host_page(PAGE, article="#zoom", skip=".share")
