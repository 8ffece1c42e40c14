"""Pull title, byline, date and body paragraphs out of a saved article page (HTML or scraped text)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

import lxml.html
import trafilatura
from lxml import etree

from tts_service.errors import InvalidInput
from tts_service.text import references
from tts_service.text.document import Document

TEXT, META, CHROME, FOOTER, NAV = "text", "meta", "chrome", "footer", "nav"

_CJK = "\u3400-\u9fff\uf900-\ufaff"
_DATE = (
    r"(?P<y>(?:19|20)\d\d)\s*(?P<s>[-/.年])\s*(?P<m>\d{1,2})\s*(?:(?P=s)|月)\s*(?P<d>\d{1,2})(?!\d)\s*日?"
    r"(?:\s*\d{1,2}[:：]\d{2}(?:[:：]\d{2})?)?(?:\s*(?:星期|周)[一二三四五六日天])?"
)
_DATE_RE = re.compile(_DATE)
_DATE_ONLY = re.compile(rf"[(（\[【]?\s*{_DATE}\s*[)）\]】]?")
# Page controls: a line made only of these (and brackets or separators) is chrome, never text.
_CONTROLS = re.compile(
    r"(?:字体|字号)\s*[:：]?\s*(?:\[?\s*(?:[大中小]|默认|标准|超大|特大|A\+|A-|A)\s*\]?\s*){0,4}"
    r"|[大中小]\s*[大中小]\s*[大中小]|语音播报|语音朗读|在线朗读|朗读全文|听全文|播放|暂停"
    r"|打印(?:本页|此页|文章|正文)?|关闭(?:本页|窗口|页面)?|返回(?:顶部|列表|首页)?|(?:加入)?收藏(?:本页)?"
    r"|我要纠错|纠错|分享到?\s*[:：]?(?:\s*(?:微信|朋友圈|(?:新浪|腾讯)?微博|QQ空间|QQ|复制链接))*"
    r"|扫一扫(?:在手机(?:上)?(?:打开|浏览|阅读)(?:当前页|本页)?|分享)?|(?:浏览|阅读|点击|访问)(?:次数|量|数)\s*[:：]?\s*\d*"
    r"|[【】\[\]|｜]",
    re.I,
)
_ICONS = re.compile(r"微信|朋友圈|(?:新浪|腾讯)?微博|QQ空间|QQ|复制链接|[/·•]")
_CRUMB = re.compile(
    r"^(?:当前位置|您(?:现在|当前)?的位置|所在位置)\s*[:：]?|首页\s*(?:>|＞|›|»|→|/)|(?:\S{1,12}\s*(?:>|＞|›|»)\s*){2}"
)
_SECTION = re.compile(
    r"^(?:相关(?:链接|新闻|阅读|文章|文档|稿件|推荐|信息)|延伸阅读|推荐阅读|编辑推荐|热点(?:推荐|新闻)|热门(?:文章|新闻|推荐)"
    r"|猜你喜欢|上一(?:篇|条)|下一(?:篇|条)|友情链接|网站导航)"
)
_FOOTER = re.compile(
    r"©|版权所有|版权声明|copyright|all rights reserved|ICP备|ICP证|公网安备|网站(?:标识|识别)码"
    r"|(?:主办|承办)(?:单位)?\s*[:：]|技术支持\s*[:：]|维护单位|不良信息举报|禁止转载|未经.{0,12}授权"
    r"|信息服务许可证",
    re.I,
)
_AUTHOR = r"作者|(?:本报)?记者|撰稿人?|撰文|文\s*/\s*图|图\s*/\s*文|文"
_SOURCE = r"(?:信息|稿件|文章|内容)?来源|稿源|出处|发布(?:机构|单位)"
_EDITOR = r"责任编辑|责编|编辑|审核|校对|签发|终审"
_WHEN = r"(?:发布|发表|更新|发文|成文|印发)(?:时间|日期)|时间|日期"
_OTHER = r"索引号|主题分类|发文字号|文号|分类|字数"
_LABEL = re.compile(
    rf"(?:^|(?<=[\s,，;；(（]))(?:(?P<author>{_AUTHOR})|(?P<source>{_SOURCE})|(?P<editor>{_EDITOR})"
    rf"|(?P<date>{_WHEN})|(?P<other>{_OTHER}))\s*[:：]"
)
_SENTENCE = re.compile(r"[。！？!?；;…]|\.(?:\s|$)")
_NAME = re.compile(rf"[{_CJK}·]{{1,4}}(?:[\s、，,]+[{_CJK}·]{{1,4}})*")
_TITLE_SPLIT = re.compile(r"\s*(?:_|\||｜|--|——|\s-\s|－)\s*")
_DROP_TAGS = frozenset(
    "script style noscript template iframe svg canvas object embed select option textarea button nav footer"
    " aside head".split()
)
_BLOCK_TAGS = frozenset(
    "address article aside blockquote body center dd details dir div dl dt fieldset figcaption figure form"
    " h1 h2 h3 h4 h5 h6 header hr html li main menu ol p pre section summary table tbody td tfoot th thead"
    " tr ul".split()
)
_HTML_SUFFIXES = (".html", ".htm", ".xhtml", ".shtml", ".php", ".asp", ".aspx", ".jsp")
_HTML_SNIFF = re.compile(r"<(?:!doctype\s+html|html|head|body|meta|title|div|p|table)[\s>/]", re.I)
_CHARSET = re.compile(
    rb"<meta[^>]+charset\s*=\s*[\"']?\s*([\w.:-]+)|<\?xml[^>]+encoding\s*=\s*[\"']([\w.:-]+)", re.I
)
_GB_NAMES = frozenset(
    {"gb2312", "gbk", "x-gbk", "gb_2312-80", "cp936"}
)  # all read as GB18030, as browsers do
_PUBDATE_META = "pubdate publishdate article:published_time og:release_date dc.date dc.date.issued".split()


@dataclass
class Line:
    text: str
    links: float = 0.0  # share of the line's characters that sit inside <a>
    kind: str = TEXT
    fields: dict[str, str] = field(default_factory=dict)


def extract(content: str | bytes, *, filename: str | None = None) -> Document:
    """Find the article in a saved page: title, byline (the author, else the source), ISO date and body."""
    text = decode(content) if isinstance(content, bytes) else content
    text = text.lstrip("\ufeff")
    if not text.strip():
        raise InvalidInput("the page is empty")
    if _is_html(text, filename):
        return _from_html(text)
    return _from_lines([Line(references.in_text(line).strip()) for line in text.splitlines()], {})


def _is_html(text: str, filename: str | None) -> bool:
    if filename:
        lower = filename.lower()
        if lower.endswith(_HTML_SUFFIXES):
            return True
        if lower.endswith((".txt", ".text", ".md", ".markdown")):
            return False
    return bool(_HTML_SNIFF.search(text[:4096]))


def decode(raw: bytes, charset: str | None = None) -> str:
    """A page's text as a browser decodes it: a BOM first, then the HTTP header's ``charset``, then a
    declared ``<meta charset>`` (or XML encoding), then UTF-8, then GB18030, the superset of GB2312/GBK."""
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8", errors="replace")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16", errors="replace")
    candidates = ["utf-8", "gb18030"]
    if match := _CHARSET.search(raw[:4096]):
        candidates.insert(0, (match.group(1) or match.group(2)).decode("ascii"))
    if charset:
        candidates.insert(0, charset)
    for encoding in candidates:
        encoding = encoding.strip().lower()
        try:
            return raw.decode("gb18030" if encoding in _GB_NAMES else encoding)
        except (UnicodeDecodeError, LookupError):
            continue
    return raw.decode("utf-8", errors="replace")


# ---- plain lines: classification and the article layout (title, header block, body run, trailer) ----


def _classify(line: Line) -> None:
    """Set line.kind (and line.fields for metadata lines); the order of the tests matters."""
    rest = _CONTROLS.sub(" ", line.text).strip()
    if not _ICONS.sub("", rest).strip(" -—–:：,，"):
        line.kind = CHROME
    elif _FOOTER.search(line.text) and not (len(line.text) >= 60 and "。" in line.text):
        line.kind = FOOTER
    elif (_CRUMB.search(rest) and len(rest) <= 80) or _SECTION.match(rest):
        line.kind = CHROME
    elif (fields := _meta_fields(rest)) is not None:
        line.kind, line.fields = META, fields
    elif line.links >= 0.5:
        line.kind = NAV


def _meta_fields(text: str) -> dict[str, str] | None:
    """Read a line made only of labelled fields (作者：… 来源：…) and dates; None if it is anything else."""
    matches = list(_LABEL.finditer(text))
    head = text[: matches[0].start()] if matches else text
    fields: dict[str, str] = {}
    if head.strip() and not _put_date(fields, head):
        return None
    for i, match in enumerate(matches):
        value = text[match.end() : matches[i + 1].start() if i + 1 < len(matches) else len(text)].strip()
        kind = match.lastgroup or "other"
        parts = [p for p in re.split(r"\u3000|\s{2,}", value) if p]
        value, extra = (parts[0], " ".join(parts[1:])) if parts else ("", "")
        if kind == "date":
            if not _put_date(fields, value) or (extra and not _put_date(fields, extra)):
                return None
            continue
        if len(value) > 40 or _SENTENCE.search(value) or (extra and not _put_date(fields, extra)):
            return None
        if (date := _iso_date(value)) and kind != "other":
            fields.setdefault("date", date)
            value = _DATE_RE.sub("", value).strip()
        if value and kind != "other":
            fields.setdefault(kind, value)
    return fields


def _put_date(fields: dict[str, str], text: str) -> bool:
    """Store the date if text is nothing but a date (optionally with time, weekday or brackets)."""
    if not _DATE_ONLY.fullmatch(text.strip()):
        return False
    if date := _iso_date(text):
        fields.setdefault("date", date)
    return True


def _iso_date(text: str) -> str | None:
    for match in _DATE_RE.finditer(text):
        try:
            return dt.date(int(match["y"]), int(match["m"]), int(match["d"])).isoformat()
        except ValueError:
            continue
    return None


def _is_sentence_line(text: str) -> bool:
    return len(text) >= 10 and bool(_SENTENCE.search(text))


def _runs(lines: list[Line]) -> list[tuple[int, int]]:
    """Maximal spans of text lines that contain at least one sentence: the body candidates."""
    runs, start = [], None
    for i, line in enumerate([*lines, Line("", kind=CHROME)]):
        if line.kind == TEXT and start is None:
            start = i
        elif line.kind != TEXT and start is not None:
            if any(_is_sentence_line(x.text) for x in lines[start:i]):
                runs.append((start, i))
            start = None
    return runs


def _name(text: str) -> str | None:
    """A bare byline such as 张亚平, 林　海 or 陈思远 周敏; None for anything else."""
    if not _NAME.fullmatch(text) or not 2 <= len(re.sub(r"\W", "", text)) <= 16:
        return None
    parts = text.replace("\u3000", " ").split()
    return "".join(parts) if all(len(p) == 1 for p in parts) else " ".join(parts)


def _header(lines: list[Line], start: int) -> tuple[str | None, str | None, list[Line]]:
    """Walk up from the body: metadata and chrome lines, then at most one bare name, then the title."""
    block: list[Line] = []
    name = None
    for i in range(start - 1, max(start - 15, -1), -1):
        line = lines[i]
        if line.kind in (META, CHROME) and not _CRUMB.search(line.text):
            block.append(line)
            continue
        if line.kind != TEXT:
            break
        if name is None and _name(line.text) and i > 0 and lines[i - 1].kind == TEXT:
            name = _name(line.text)
            continue
        return line.text, name, block
    return None, name, block


def _trailer(lines: list[Line], end: int) -> list[Line]:
    """Metadata lines just below the body (责任编辑, a late 来源 or 发布时间), before any other text."""
    trailer = []
    for line in lines[end : end + 8]:
        if line.kind == TEXT or line.kind == FOOTER:
            break
        if line.kind == META:
            trailer.append(line)
    return trailer


def _from_lines(lines: list[Line], page: dict[str, str], support: str = "") -> Document:
    """The shared layout rules for scraped text and for lines rendered from HTML."""
    lines = [line for line in lines if line.text]
    for line in lines:
        _classify(line)
    _rescue_links(lines, support)
    runs = _runs(lines)
    if not runs:
        raise InvalidInput("no article body found: the page has only navigation, page controls or footer")
    start, end = max(runs, key=lambda run: _score(lines[run[0] : run[1]], support))
    title, name, block = _header(lines, start)
    body = [line.text for line in _trim(lines[start:end], support)]
    title = _pick_title(title, lines, (start, end), page)
    if body and title and _squash(body[0]) == _squash(title):
        body = body[1:]
    if not body:
        raise InvalidInput("no article body found: the page has a title but no paragraphs")
    fields: dict[str, str] = {}
    for line in [*block, *_trailer(lines, end)]:
        fields = line.fields | fields
    byline = fields.get("author") or name or fields.get("source") or page.get("author") or page.get("source")
    date = fields.get("date") or page.get("date")
    return Document(title=title, body="\n".join(body), byline=byline, date=date)


def _pick_title(found: str | None, lines: list[Line], run: tuple[int, int], page: dict[str, str]) -> str:
    """The line above the header block, unless <title> names an <h1>/<h2> instead; then fallbacks."""
    head = _squash(page.get("title", ""))
    # A heading that is part of a longer <title> ("标题_站名") names the article; one that is the whole
    # <title> may be the site's name, so it does not override the line found above the header block.
    headings = [(h, _squash(h)) for h in page.get("headings", "").split("\n") if h]
    named = [h for h, squashed in headings if squashed in head and squashed != head]
    if found and _title_like(found) and (not named or _squash(found) in head):
        return found
    if named:
        return max(named, key=len)
    crumbs = [i for i in range(run[0]) if lines[i].kind == CHROME and _CRUMB.search(lines[i].text)]
    after = [x.text for x in lines[crumbs[-1] + 1 : run[0]] if x.kind == TEXT] if crumbs else []
    if after and _title_like(after[0]):
        return after[0]
    first = lines[run[0]].text
    if run[1] - run[0] > 1 and len(first) <= 40 and not _SENTENCE.search(first):
        return first
    if page.get("title"):
        return max(_TITLE_SPLIT.split(page["title"].strip()), key=len)
    raise InvalidInput("no title found: the page has no heading line above its text")


def _title_like(text: str) -> bool:
    return 2 <= len(text) <= 80 and not text.endswith("。")


def _score(run: list[Line], support: str) -> float:
    """Characters in the run; where trafilatura's text is known, lines it did not keep weigh a quarter."""
    if not support:
        return sum(len(line.text) for line in run)
    return sum(len(line.text) * (1.0 if _squash(line.text) in support else 0.25) for line in run)


def _trim(run: list[Line], support: str) -> list[Line]:
    """Where trafilatura kept part of the run, drop the lines it left out at either end (a sidebar box)."""
    kept = [i for i, line in enumerate(run) if _squash(line.text) in support] if support else []
    return run[kept[0] : kept[-1] + 1] if kept else run


def _rescue_links(lines: list[Line], support: str) -> None:
    """A link-heavy line between two paragraphs trafilatura kept is part of the body, not navigation."""
    kept = [bool(support) and _squash(line.text) in support for line in lines]
    for i in range(1, len(lines) - 1):
        before, after = lines[i - 1], lines[i + 1]
        if (
            lines[i].kind == NAV
            and kept[i - 1]
            and kept[i]
            and kept[i + 1]
            and before.kind == after.kind == TEXT
        ):
            lines[i].kind = TEXT


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _join_cjk(text: str | None) -> str:
    """A source line break between two CJK characters inside one text node renders as nothing (CSS Text 3)."""
    return re.sub(rf"(?<=[{_CJK}，。、：；！？”])[ \t\xa0]*\n\s*(?=[{_CJK}“])", "", text or "")


# ---- HTML: render the DOM to lines; trafilatura votes on which run of lines is the article ----


def _from_html(html: str) -> Document:
    html = re.sub(r"^\s*<\?xml[^>]*\?>", "", html)
    html = references.in_markup(references.without_internal_subset(html))
    try:
        root = lxml.html.document_fromstring(html)
    except (etree.ParserError, ValueError) as exc:
        raise InvalidInput(f"the page could not be read as HTML: {exc}") from None
    page = _page_meta(root)
    _prune(root)
    result = trafilatura.bare_extraction(
        html, favor_precision=True, include_comments=False, include_tables=True, with_metadata=False
    )
    support = _squash(getattr(result, "text", None) or "")
    return _from_lines(_render(root), page, support)


def _page_meta(root: lxml.html.HtmlElement) -> dict[str, str]:
    """The <title>, headings and the gov-site meta tags (ArticleTitle, PubDate, Author, ContentSource)."""
    meta = {
        (el.get("name") or el.get("property") or "").lower(): (el.get("content") or "").strip()
        for el in root.iter("meta")
    }
    page = {
        "title": " ".join((root.findtext(".//title") or "").split()),
        "headings": "\n".join(" ".join(h.text_content().split()) for h in root.iter("h1", "h2")),
    }
    if meta.get("articletitle"):
        page["title"] = meta["articletitle"]
    if date := next((_iso_date(meta[k]) for k in _PUBDATE_META if meta.get(k)), None):
        page["date"] = date
    for key, name in (("author", "author"), ("source", "contentsource")):
        if meta.get(name) and len(meta[name]) <= 40:
            page[key] = meta[name]
    return page


def _prune(root: lxml.html.HtmlElement) -> None:
    """Drop what a reader never sees as article text: scripts, styles, forms' widgets, hidden elements."""
    doomed = [
        el
        for el in root.iter()
        if not isinstance(el.tag, str)
        or (
            el.tag in _DROP_TAGS
            or el.get("hidden") is not None
            or re.search(r"display\s*:\s*none|visibility\s*:\s*hidden", el.get("style") or "", re.I)
        )
    ]
    for el in doomed:
        if el.getparent() is not None:
            el.drop_tree()


def _render(root: lxml.html.HtmlElement) -> list[Line]:
    """Text as a browser lays it out: a new line at each block element and <br>, links measured."""
    lines: list[Line] = []
    pieces: list[tuple[str, bool]] = []
    in_link = 0

    def flush() -> None:
        text = re.sub(r"[ \t\r\n\f\v\xa0]+", " ", "".join(p for p, _ in pieces)).strip()
        if text:
            linked = sum(len(_squash(p)) for p, is_link in pieces if is_link)
            lines.append(Line(text, linked / max(len(_squash(text)), 1)))
        pieces.clear()

    for event, el in etree.iterwalk(root, events=("start", "end")):
        tag = el.tag if isinstance(el.tag, str) else ""
        if event == "start":
            if tag in _BLOCK_TAGS or tag == "br":
                flush()
            in_link += tag == "a"
            pieces.append((_join_cjk(el.text), in_link > 0))
        else:
            in_link -= tag == "a"
            if tag in _BLOCK_TAGS:
                flush()
            pieces.append((_join_cjk(el.tail), in_link > 0))
    flush()
    return lines
