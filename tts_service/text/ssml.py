"""SSML (a subset) → paragraphs of marked text (`markup.Marked`): what the page shows, and spans over it that
say how it is read. Pure: no I/O.

The subset (README, "SSML subset"): a ``<speak>`` root holding text, ``<p>``, ``<s>``, ``<break>``,
``<say-as>``, ``<sub>``, ``<phoneme alphabet="x-pinyin">`` and ``<prosody rate>``, in SSML's namespace or in
none. Anything else is refused with InvalidSSML naming the element or attribute, never dropped unread.

Display text is the text content without markup, its whitespace collapsed (`ssml_builder`). Each ``<p>``
is a paragraph; text outside any ``<p>`` is split into paragraphs at blank lines. ``<s>`` only separates
words: sentences still end at their punctuation.

A DOCTYPE (and so any entity declaration) is refused before the parser sees the document, so no entity is
ever expanded and nothing outside the document is read (no XXE, no billion laughs); the parser itself is
also set to resolve nothing and to read no DTD and nothing from the network.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from lxml import etree

from tts_service.errors import InvalidInput, InvalidSSML
from tts_service.text import say_as
from tts_service.text.marks import MAX_BREAK_MS
from tts_service.text.markup import Kind, Marked, is_han
from tts_service.text.readings import syllables
from tts_service.text.ssml_builder import Builder, collapse

SSML_NS = "http://www.w3.org/2001/10/synthesis"
_PREFIXES = {
    "http://www.w3.org/XML/1998/namespace": "xml",
    "http://www.w3.org/2001/XMLSchema-instance": "xsi",
}
_SPACE = "[ \t\r\n]"  # XML's whitespace; other spaces (U+3000, no-break space) are text
_START = re.compile(rf"\A\ufeff?{_SPACE}*(?:<\?xml{_SPACE}[^>]*\?>)?{_SPACE}*<speak(?=[ \t\r\n/>])")
_XML_DECLARATION = re.compile(rf"\A\ufeff?{_SPACE}*<\?xml{_SPACE}[^>]*\?>|\A\ufeff")
_DECLARATIONS = re.compile(r"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_RESERVED = re.compile("[\ue000-\ue1ff]")  # the private-use characters of lexicon and marks
_TIME = re.compile(r"([0-9]{1,6}(?:\.[0-9]{1,3})?)(ms|s)")
_RATE_VALUE = re.compile(r"([+-]?)([0-9]{1,4}(?:\.[0-9]{1,4})?)(%?)")

# <break strength>: 250 ms is the service's pause between sentences, 600 ms between paragraphs.
BREAK_STRENGTH_MS = {"none": 0, "x-weak": 100, "weak": 250, "medium": 400, "strong": 600, "x-strong": 1000}
# <prosody rate> words, as changes in percent: absolute, whatever prosody they are inside.
RATE_WORDS = {"x-slow": -50, "slow": -25, "medium": 0, "default": 0, "fast": 25, "x-fast": 50}
MIN_RATE, MAX_RATE = -50, 100  # engines.Prosody's range


def is_ssml(text: str) -> bool:
    """The text starts (after whitespace and an optional XML declaration) with a ``<speak>`` element."""
    return _START.match(text) is not None


def parse(source: str) -> list[Marked]:
    """The paragraphs of an SSML document; InvalidSSML naming the element or attribute for malformed XML or
    anything outside the subset."""
    builder = Builder()
    root = _root(source)
    name = _name(root)
    if name != "speak":
        raise InvalidSSML(f"the root element is <{name}>; SSML starts with <speak>")
    version = _attributes(root, "speak", {"version", "xml:lang", "xsi:schemaLocation"}).get("version", "1.0")
    if version not in ("1.0", "1.1"):
        raise InvalidSSML(f'<speak version="{version}"> is not an SSML version (1.0 or 1.1)')
    _content(root, builder, _Where())
    paragraphs = builder.finish()
    for marked in paragraphs:
        for text in (marked.display, *(span.value for span in marked.spans)):
            if found := _RESERVED.search(text):  # written as &#xE012; they pass any scan of the source
                raise InvalidSSML(
                    f"SSML text may not contain U+{ord(found[0]):04X}: the service marks text with the "
                    "private-use characters U+E000 to U+E1FF itself"
                )
    return paragraphs


def _root(source: str) -> etree._Element:
    """The parsed document's root element; no DOCTYPE, so no entity, ever reaches the parser."""
    if found := _DECLARATIONS.search(source):
        line = source.count("\n", 0, found.start()) + 1
        raise InvalidSSML(f"SSML may not have a DOCTYPE or declare entities ({found[0]} on line {line})")
    # lxml takes no str with an encoding declaration; blanked (newlines kept), errors keep their positions
    text = _XML_DECLARATION.sub(lambda m: re.sub("[^\n]", " ", m[0]), source, count=1)
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )
    try:
        return etree.fromstring(text, parser)
    except etree.XMLSyntaxError as exc:
        raise InvalidSSML(f"malformed SSML: {exc.msg}") from None


@dataclass(frozen=True)
class _Where:
    """Where the walk is: inside a <p> (blank lines are only whitespace there), inside an <s>."""

    in_p: bool = False
    in_s: bool = False


def _content(element: etree._Element, builder: Builder, where: _Where) -> None:
    """The text and the child elements of a container (<speak>, <p>, <s>, <prosody>)."""
    if element.text:
        builder.add_text(element.text, not where.in_p)
    for child in element:
        name = _name(child)
        handler = _ELEMENTS.get(name)
        if handler is None:
            raise InvalidSSML(
                f"<{name}> is not supported; the SSML subset is <speak> (the root) with text, "
                "<p>, <s>, <break>, <say-as>, <sub>, <phoneme> and <prosody rate>"
            )
        handler(child, builder, where)
        if child.tail:
            builder.add_text(child.tail, not where.in_p)


def _name(element: etree._Element) -> str:
    """The element's local name; InvalidSSML for an element in another namespace than SSML's."""
    qname = etree.QName(element)
    if qname.namespace not in (None, SSML_NS):
        shown = f"{element.prefix}:{qname.localname}" if element.prefix else qname.localname
        raise InvalidSSML(f"<{shown}> is not supported: its namespace {qname.namespace} is not SSML's")
    return qname.localname


def _attributes(element: etree._Element, name: str, allowed: set[str]) -> dict[str, str]:
    """The element's attributes by qualified name (``xml:lang``); InvalidSSML naming any other."""
    found = {}
    prefixes = {uri: prefix for prefix, uri in element.nsmap.items() if prefix} | _PREFIXES
    for key, value in element.attrib.items():
        qname = etree.QName(key)
        prefix = prefixes.get(qname.namespace or "")
        attribute = f"{prefix}:{qname.localname}" if prefix else qname.localname
        if attribute not in allowed:
            supported = ", ".join(sorted(allowed))
            raise InvalidSSML(f'<{name}> attribute "{attribute}" is not supported (supported: {supported})')
        found[attribute] = value
    return found


def _required(attributes: dict[str, str], name: str, attribute: str) -> str:
    if attribute not in attributes:
        raise InvalidSSML(f'<{name}> needs the attribute "{attribute}"')
    return attributes[attribute]


def _text_only(element: etree._Element, name: str) -> str:
    """The text of an element that holds text and nothing else, which must show something."""
    if len(element):
        raise InvalidSSML(f"<{name}> holds text only, not <{_name(element[0])}>")
    text = element.text or ""
    if not collapse(text):
        raise InvalidSSML(f"<{name}> is empty: it needs the text it stands for")
    return text


def _p(element: etree._Element, builder: Builder, where: _Where) -> None:
    _attributes(element, "p", {"xml:lang"})
    if where.in_p or where.in_s:
        raise InvalidSSML("<p> inside <p> or <s>: paragraphs hold sentences, not the other way round")
    builder.end_paragraph()
    _content(element, builder, _Where(in_p=True))
    builder.end_paragraph()


def _s(element: etree._Element, builder: Builder, where: _Where) -> None:
    _attributes(element, "s", {"xml:lang"})
    if where.in_s:
        raise InvalidSSML("<s> inside <s>: sentences do not nest")
    builder.separate()
    _content(element, builder, _Where(where.in_p, in_s=True))
    builder.separate()


def _break(element: etree._Element, builder: Builder, where: _Where) -> None:
    attributes = _attributes(element, "break", {"time", "strength"})
    if len(element) or collapse(element.text or ""):
        raise InvalidSSML("<break> is empty: write <break/>, with nothing inside")
    ms = break_ms(attributes.get("time"), attributes.get("strength"))
    if ms:
        builder.pause(ms)


def break_ms(time: str | None, strength: str | None) -> int:
    """A <break>'s pause in milliseconds: ``time`` (500ms, 1.5s; at most 10 s) wins over ``strength``; with
    neither, medium."""
    if time is not None:
        found = _TIME.fullmatch(time.strip())
        if not found:
            raise InvalidSSML(f'<break time="{time}"> is not a time such as 500ms or 1.5s')
        ms = round(float(found[1]) * (1000 if found[2] == "s" else 1))
        if ms > MAX_BREAK_MS:
            raise InvalidSSML(
                f'<break time="{time}"> is longer than {MAX_BREAK_MS // 1000} s, the longest pause'
            )
        return ms
    if (strength or "medium") not in BREAK_STRENGTH_MS:
        raise InvalidSSML(f'<break strength="{strength}"> is not one of {", ".join(BREAK_STRENGTH_MS)}')
    return BREAK_STRENGTH_MS[strength or "medium"]


def _prosody(element: etree._Element, builder: Builder, where: _Where) -> None:
    rate = _required(_attributes(element, "prosody", {"rate"}), "prosody", "rate")
    builder.open_rate(prosody_rate(rate, builder.rate))
    _content(element, builder, where)
    builder.close_rate()


def prosody_rate(written: str, outer: int = 0) -> int:
    """A <prosody rate> as a change in percent, inside one that sets ``outer``: a word (RATE_WORDS) is
    absolute; "+20%"/"-10%" change the rate in force, "120%" and 1.2 multiply it (both: 20% faster)."""
    value = written.strip()
    if value in RATE_WORDS:
        change = RATE_WORDS[value]
    else:
        found = _RATE_VALUE.fullmatch(value)
        if not found or (found[1] and not found[3]):
            raise InvalidSSML(
                f'<prosody rate="{written}"> is not a rate: write +20%, -10%, 120%, 1.2 or one of '
                + ", ".join(RATE_WORDS)
            )
        number = float(found[2]) * (-1 if found[1] == "-" else 1)
        factor = 1 + number / 100 if found[1] else number / 100 if found[3] else number
        change = round(((1 + outer / 100) * factor - 1) * 100)
    if not MIN_RATE <= change <= MAX_RATE:
        raise InvalidSSML(
            f'<prosody rate="{written}"> makes a speed change of {change:+d}%; '
            f"it must be {MIN_RATE}% to +{MAX_RATE}%"
        )
    return change


def _say_as(element: etree._Element, builder: Builder, where: _Where) -> None:
    attributes = _attributes(element, "say-as", {"interpret-as", "format"})
    interpret_as = _required(attributes, "say-as", "interpret-as")
    content = _text_only(element, "say-as")
    builder.atom(
        content, Kind.SPOKEN, say_as.spoken(interpret_as, collapse(content), attributes.get("format"))
    )


def _sub(element: etree._Element, builder: Builder, where: _Where) -> None:
    alias = _required(_attributes(element, "sub", {"alias"}), "sub", "alias")
    builder.atom(_text_only(element, "sub"), Kind.SPOKEN, collapse(alias))


def _phoneme(element: etree._Element, builder: Builder, where: _Where) -> None:
    attributes = _attributes(element, "phoneme", {"alphabet", "ph"})
    alphabet = attributes.get("alphabet", "x-pinyin")  # the alphabet is the processor's choice: ours
    if alphabet != "x-pinyin":
        why = "IPA is not supported; " if alphabet.lower() == "ipa" else ""
        raise InvalidSSML(f'<phoneme alphabet="{alphabet}"> is not supported: {why}use x-pinyin (ph="hang2")')
    ph = _required(attributes, "phoneme", "ph")
    try:
        read = syllables(ph)
    except InvalidInput as exc:
        raise InvalidSSML(f'<phoneme ph="{ph}">: {exc.message}') from None
    content = _text_only(element, "phoneme")
    han = sum(map(is_han, content))
    if han != len(read):
        raise InvalidSSML(
            f'<phoneme ph="{ph}"> gives {len(read)} syllable(s) for the {han} Han character(s) '
            f"of {collapse(content)!r}"
        )
    builder.atom(content, Kind.READING, " ".join(read))


_Handler = Callable[[etree._Element, Builder, _Where], None]
_ELEMENTS: dict[str, _Handler] = {
    "p": _p,
    "s": _s,
    "break": _break,
    "prosody": _prosody,
    "say-as": _say_as,
    "sub": _sub,
    "phoneme": _phoneme,
}
