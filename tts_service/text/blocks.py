"""The paragraphs of a host page, by the rule the embedded toolbar (``embed.js``) and ``tts-service crawl``
share, so that a crawled page is stored exactly as the toolbar will later send it.

The rule, the same in both:
1. **The article root.** The element matching the ``article`` selector (``data-article``); else the
   first ``[data-tts-article]``, ``<article>``, then ``<main>``; else the element whose own ``<p>``
   children hold the most text; else ``<body>``.
2. **Never read.** Subtrees matching the ``skip`` selectors (``data-skip``); ``NEVER_READ`` elements; and
   elements marked hidden in the markup: the ``hidden`` attribute, ``aria-hidden="true"``, or an inline style
   with ``display: none`` or ``visibility: hidden``. (The toolbar also skips what the site's stylesheets hide;
   the crawler cannot see those, so such a page's first reader makes one new revision.)
3. **Paragraphs.** Text nodes in document order; the start and end of every ``BLOCK_TAGS`` element, and
   every ``<br>``, end the paragraph being collected.
4. **Whitespace.** Every run of ``WHITESPACE`` becomes one space; paragraphs are trimmed, and empty ones
   dropped.
5. **The title.** The ``title`` selector's text (``data-title``); else the first ``<h1>`` in the document;
   else ``<title>``.

Selectors are CSS as lxml's cssselect reads it: tags, ``#id``, ``.class``, attributes, descendant and child
combinators, and comma lists.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import lxml.html
from lxml import etree
from lxml.cssselect import CSSSelector, SelectorError

from tts_service.errors import InvalidInput

BLOCK_TAGS = frozenset(
    "address article aside blockquote body br caption center dd details dialog div dl dt fieldset figcaption"
    " figure footer form h1 h2 h3 h4 h5 h6 header hgroup hr li main nav ol p pre section summary table tbody"
    " td tfoot th thead tr ul".split()
)
NEVER_READ = frozenset(
    "audio button canvas embed head iframe input math noscript object option script select style svg"
    " template textarea title tts-toolbar video".split()
)
# JavaScript's \s, spelled out, so that both sides collapse exactly the same characters.
WHITESPACE = re.compile("[\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]+")
_HIDDEN_STYLE = re.compile(
    r"(?:^|;)\s*(?:display\s*:\s*none|visibility\s*:\s*hidden)\s*(?:!important)?\s*(?:;|$)", re.I
)
_FALLBACK_ROOTS = ("[data-tts-article]", "article", "main")
# lxml refuses a str that declares its encoding; the page is decoded already, and browsers ignore it in HTML.
_XML_DECLARATION = re.compile(r"^[\s\ufeff]*<\?xml[^>]*\?>")


@dataclass(frozen=True)
class HostPage:
    """What the toolbar sends for a page: its title and its paragraphs."""

    title: str
    paragraphs: tuple[str, ...]


def collapse(text: str) -> str:
    return WHITESPACE.sub(" ", text).strip(" ")


def _selector(css: str, what: str) -> CSSSelector:
    try:
        return CSSSelector(css)
    except SelectorError as exc:
        raise InvalidInput(f"{what} is not a CSS selector this service reads: {css!r} ({exc})") from None


def check_selectors(article: str | None = None, skip: str | None = None, title: str | None = None) -> None:
    """InvalidInput if a selector of an embed line is not one this service reads (before any page is)."""
    for css, what in ((article, "data-article"), (skip, "data-skip"), (title, "data-title")):
        if css:
            _selector(css, what)


def _hidden(element: etree._Element) -> bool:
    style = element.get("style") or ""
    return (
        element.get("hidden") is not None
        or (element.get("aria-hidden") or "").strip().lower() == "true"
        or bool(_HIDDEN_STYLE.search(style))
    )


def _tag(element: etree._Element) -> str:
    return element.tag.lower() if isinstance(element.tag, str) else ""


def _largest_block(doc: etree._Element) -> etree._Element | None:
    """The element whose own <p> children hold the most text (first one on a tie)."""
    best, best_size = None, 0
    for element in doc.iter():
        size = sum(len(collapse("".join(p.itertext()))) for p in element if _tag(p) == "p")
        if size > best_size:
            best, best_size = element, size
    return best


def article_root(doc: etree._Element, article: str | None = None) -> etree._Element:
    """The article's element by rule 1; InvalidInput when the page has nothing to read."""
    if article:
        found = _selector(article, "data-article")(doc)
        if not found:
            raise InvalidInput(f"no element matches the article selector {article!r}")
        return found[0]
    for css in _FALLBACK_ROOTS:
        found = CSSSelector(css)(doc)
        if found:
            return found[0]
    body = doc.find("body")
    root = _largest_block(doc)
    if root is not None:
        return root
    if body is None:
        raise InvalidInput("the page has no body")
    return body


def _texts(element: etree._Element, skipped: set[etree._Element]) -> Iterator[str | None]:
    """Text in document order, with None wherever a paragraph ends (rule 3)."""
    tag = _tag(element)
    if element in skipped or tag in NEVER_READ or _hidden(element) or not tag:
        return
    block = tag in BLOCK_TAGS
    if block:
        yield None
    if element.text:
        yield element.text
    for child in element:
        yield from _texts(child, skipped)
        if child.tail:  # the text after a child belongs to this element, even when the child is skipped
            yield child.tail
    if block:
        yield None


def paragraphs(root: etree._Element, skip: str | None = None) -> tuple[str, ...]:
    """The paragraphs under ``root`` by rules 2-4."""
    skipped = set(_selector(skip, "data-skip")(root)) if skip else set()
    found: list[str] = []
    current: list[str] = []
    for piece in [*_texts(root, skipped), None]:
        if piece is None:
            text = collapse("".join(current))
            if text:
                found.append(text)
            current = []
        else:
            current.append(piece)
    return tuple(found)


def title_of(doc: etree._Element, title: str | None = None) -> str:
    """The page's title by rule 5 ("" when it has none)."""
    if title:
        found = _selector(title, "data-title")(doc)
        if found:
            return collapse("".join(found[0].itertext()))
    for css in ("h1", "title"):
        found = CSSSelector(css)(doc)
        if found and collapse("".join(found[0].itertext())):
            return collapse("".join(found[0].itertext()))
    return ""


def host_page(
    html: str | bytes, *, article: str | None = None, skip: str | None = None, title: str | None = None
) -> HostPage:
    """A host page's title and paragraphs, exactly as the toolbar extracts them with the same attributes."""
    if isinstance(html, str):
        html = _XML_DECLARATION.sub("", html, count=1)
    try:
        doc = lxml.html.document_fromstring(html)
    except (etree.ParserError, ValueError) as exc:
        raise InvalidInput(f"not an HTML page: {exc}") from None
    return HostPage(title_of(doc, title), paragraphs(article_root(doc, article), skip))
