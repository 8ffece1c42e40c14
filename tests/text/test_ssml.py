"""SSML subset → marked paragraphs: each element's spans, whitespace, nesting, refusals, and safety."""

from __future__ import annotations

import re
import time
import tracemalloc
from xml.sax.saxutils import escape

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tts_service.errors import InvalidSSML, TTSError
from tts_service.planning import spoken_form
from tts_service.text import marks
from tts_service.text.markup import Kind, Marked, Span
from tts_service.text.ssml import BREAK_STRENGTH_MS, is_ssml, parse, prosody_rate

NS = 'xmlns="http://www.w3.org/2001/10/synthesis"'


def one(body: str) -> Marked:
    """The single paragraph of ``<speak>body</speak>``."""
    (paragraph,) = parse(f"<speak>{body}</speak>")
    return paragraph


def said(paragraph: Marked) -> str:
    """The spoken text planning gives the paragraph: its spans written in as marks, then lexicon and
    normalisation."""
    return spoken_form(paragraph.display, spans=paragraph.spans)


# --- is_ssml ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<speak>你好</speak>", True),
        ("  \n<speak version='1.0'>", True),
        ('<?xml version="1.0" encoding="UTF-8"?>\n<speak>', True),
        ("\ufeff<speak/>", True),
        (f"<speak {NS}>", True),
        ("你好 <speak>", False),
        ("<speaker>", False),
        ("<p>你好</p>", False),
        ("<!-- x --><speak>", False),
        ("", False),
    ],
)
def test_is_ssml(text: str, expected: bool) -> None:
    assert is_ssml(text) is expected


# --- display text and paragraphs ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "display"),
    [
        ("你\n好", "你好"),  # XML formatting between Han characters is no text
        ("你好，\n   世界。", "你好，世界。"),  # nor between CJK punctuation and Han
        ("hello\n   world", "hello world"),
        ("你好\nWorld", "你好 World"),
        ("  \n  前后的空白  \n ", "前后的空白"),
        ("a\u3000b\xa0c", "a\u3000b\xa0c"),  # only XML's whitespace is formatting
        ("<s>Hello</s><s>world</s>", "Hello world"),  # <s> separates words
        ("<s>你好。</s>\n<s>世界。</s>", "你好。世界。"),
        ("1 &lt; 2 &amp;&#x4E2D;", "1 < 2 &中"),
        ("<![CDATA[<b>粗</b>]]>", "<b>粗</b>"),
        ("甲<!-- 注释 -->乙<?pi x?>丙", "甲乙丙"),
    ],
)
def test_display_text(body: str, display: str) -> None:
    assert one(body) == Marked(display)


def test_paragraphs_from_p_and_from_blank_lines() -> None:
    source = f"""<?xml version="1.0" encoding="UTF-8"?>
<speak version="1.0" {NS} xml:lang="zh-CN">
  第一段
  还是第一段

  第二段
  <p>第三段

  仍是第三段</p>第四段<p xml:lang="zh-CN">第五段</p>
</speak>"""
    assert [p.display for p in parse(source)] == [
        "第一段还是第一段",
        "第二段",
        "第三段仍是第三段",
        "第四段",
        "第五段",
    ]


def test_an_empty_document_has_no_paragraphs() -> None:
    assert parse("<speak/>") == []
    assert parse("<speak>\n  <p> </p>\n</speak>") == []


# --- elements -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("attributes", "ms"),
    [
        ('time="500ms"', 500),
        ('time="1.5s"', 1500),
        ('time=" 2s "', 2000),
        ('time="10s"', 10_000),
        ('time="300ms" strength="x-strong"', 300),  # time wins
        ("", BREAK_STRENGTH_MS["medium"]),
        *((f'strength="{name}"', ms) for name, ms in BREAK_STRENGTH_MS.items() if ms),
    ],
)
def test_break(attributes: str, ms: int) -> None:
    paragraph = one(f"你好<break {attributes}/>世界")
    assert paragraph == Marked("你好世界", (Span(2, 2, Kind.BREAK, str(ms)),))
    assert [(p.text, p.pause_ms) for p in marks.parts(said(paragraph))] == [("你好", ms), ("世界", 0)]


@pytest.mark.parametrize("attributes", ['strength="none"', 'time="0ms"'])
def test_a_break_of_nothing_is_no_span(attributes: str) -> None:
    assert one(f"你好<break {attributes}/>世界") == Marked("你好世界")


def test_breaks_between_paragraphs_go_with_the_one_before_or_the_first() -> None:
    first, second = parse(
        '<speak><break time="1s"/><p>甲</p><break time="2s"/><p><break/></p><p>乙</p></speak>'
    )
    assert first == Marked("甲", (Span(0, 0, Kind.BREAK, "1000"), Span(1, 1, Kind.BREAK, "2000"),
                                  Span(1, 1, Kind.BREAK, "400")))  # fmt: skip
    assert second == Marked("乙")


@pytest.mark.parametrize(
    ("attributes", "content", "spoken"),
    [
        ('interpret-as="digits"', "2019", "二零一九"),
        ('interpret-as="cardinal"', "2019", "两千零一十九"),
        ('interpret-as="ordinal"', "3", "第三"),
        ('interpret-as="telephone"', "12345678", "幺二三四五六七八"),
        ('interpret-as="date"', "2019-03-05", "二零一九年三月五日"),
        ('interpret-as="date" format="dmy"', "05/03/2019", "二零一九年三月五日"),
        ('interpret-as="characters"', "ABC", "A B C"),
    ],
)
def test_say_as(attributes: str, content: str, spoken: str) -> None:
    paragraph = one(f"今天<say-as {attributes}>{content}</say-as>。")
    assert paragraph == Marked(f"今天{content}。", (Span(2, 2 + len(content), Kind.SPOKEN, spoken),))
    assert said(paragraph) == f"今天 {spoken} 。"


def test_sub_shows_its_text_and_says_the_alias() -> None:
    paragraph = one('<sub alias="世界 卫生\n组织">WHO</sub>发布报告')  # its whitespace is formatting
    assert paragraph == Marked("WHO发布报告", (Span(0, 3, Kind.SPOKEN, "世界卫生组织"),))
    assert said(paragraph) == "世界卫生组织 发布报告"
    assert one('<sub alias=" World\n  Health ">WHO</sub>').spans[0].value == "World Health"


@pytest.mark.parametrize(
    ("element", "display", "reading"),
    [
        ('<phoneme alphabet="x-pinyin" ph="hang2">行</phoneme>', "行", "hang2"),
        ('<phoneme alphabet="x-pinyin" ph="yín háng">银\n行</phoneme>', "银行", "yin2 hang2"),
        ('<phoneme ph="xing2">行</phoneme>', "行", "xing2"),  # our alphabet when none is named
        ('<phoneme alphabet="x-pinyin" ph="zhong4">重 A</phoneme>', "重 A", "zhong4"),
    ],
)
def test_phoneme(element: str, display: str, reading: str) -> None:
    paragraph = one(f"在{element}里")
    assert paragraph == Marked(f"在{display}里", (Span(1, 1 + len(display), Kind.READING, reading),))
    bare, found = marks.readings(said(paragraph))
    assert bare == spoken_form(paragraph.display)
    assert list(found.values()) == reading.split()


def test_a_reading_reaches_edge_as_a_character_read_that_way() -> None:
    """edge-tts takes no custom SSML: the mark becomes a homophone in plain text."""
    assert marks.plain(said(one('银<phoneme alphabet="x-pinyin" ph="hang2">行</phoneme>'))) == "银航"


@pytest.mark.parametrize(
    ("written", "outer", "change"),
    [
        ("+20%", 0, 20),
        ("-10%", 0, -10),
        ("120%", 0, 20),
        ("80%", 0, -20),
        ("1.2", 0, 20),
        ("0.5", 0, -50),
        ("2", 0, 100),
        ("+12.5%", 0, 12),
        *(
            (word, 0, change)
            for word, change in (
                ("x-slow", -50),
                ("slow", -25),
                ("medium", 0),
                ("fast", 25),
                ("x-fast", 50),
                ("default", 0),
            )
        ),  # fmt: skip
        ("+20%", 20, 44),  # relative values compound with the rate in force
        ("1.5", 20, 80),
        ("slow", 50, -25),  # words do not
    ],
)
def test_prosody_rate(written: str, outer: int, change: int) -> None:
    assert prosody_rate(written, outer) == change


def test_prosody_spans_and_speeds() -> None:
    paragraph = one('慢<prosody rate="fast">快 <prosody rate="+20%">更快</prosody></prosody> 常速')
    assert paragraph == Marked("慢快更快常速", (Span(1, 4, Kind.RATE, "25"), Span(2, 4, Kind.RATE, "50")))
    assert [(p.text, p.rate) for p in marks.parts(said(paragraph))] == [
        ("慢", 0), ("快", 25), ("更快", 50), ("常速", 0)
    ]  # fmt: skip


def test_nesting() -> None:
    source = f"""<speak {NS}>
      <prosody rate="slow">
        <p><s>电话<say-as interpret-as="telephone">010-6859 7114</say-as>，</s>
           <s>见<sub alias="世卫">WHO</sub>的<phoneme alphabet="x-pinyin" ph="hang2">行</phoneme>动。</s></p>
        <p>第二段<break time="200ms"/></p>
      </prosody>
    </speak>"""
    first, second = parse(source)
    assert first == Marked(
        "电话010-6859 7114，见WHO的行动。",
        (
            Span(0, 24, Kind.RATE, "-25"),
            Span(2, 15, Kind.SPOKEN, "零幺零六八五九 七幺幺四"),
            Span(17, 20, Kind.SPOKEN, "世卫"),
            Span(21, 22, Kind.READING, "hang2"),
        ),
    )
    assert second == Marked("第二段", (Span(0, 3, Kind.RATE, "-25"), Span(3, 3, Kind.BREAK, "200")))
    assert [(p.rate, p.pause_ms) for p in marks.parts(said(second))] == [(-25, 200)]


def test_a_rate_over_blank_lines_holds_in_each_paragraph() -> None:
    first, second = parse('<speak><prosody rate="x-fast">一段\n\n二段</prosody>三</speak>')
    assert first == Marked("一段", (Span(0, 2, Kind.RATE, "50"),))
    assert second == Marked("二段三", (Span(0, 2, Kind.RATE, "50"),))


def test_spans_are_within_their_paragraph_and_in_order() -> None:
    source = (
        '<speak><p><prosody rate="fast"><break time="1s"/>甲<sub alias="乙">B</sub></prosody>'
        '<say-as interpret-as="digits">12</say-as><break/></p></speak>'
    )
    (paragraph,) = parse(source)
    starts = [s.start for s in paragraph.spans]
    assert starts == sorted(starts)
    assert all(0 <= s.start <= s.end <= len(paragraph.display) for s in paragraph.spans)


# --- refusals -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "named"),
    [
        ("<speak><audio src='a.mp3'/></speak>", "<audio>"),
        ("<speak><voice name='x'>你好</voice></speak>", "<voice>"),
        ("<speak><emphasis>你好</emphasis></speak>", "<emphasis>"),
        ("<speak><mark name='m'/></speak>", "<mark>"),
        ("<speak><p><speak>嵌套</speak></p></speak>", "<speak>"),
        (
            "<speak xmlns:mstts='http://www.w3.org/2001/mstts'><mstts:express-as/></speak>",
            "<mstts:express-as>",
        ),
        ("<p>你好</p>", "<p>"),
        ("<speak foo='1'/>", '"foo"'),
        ("<speak version='2.0'/>", 'version="2.0"'),
        ("<speak><p class='x'>a</p></speak>", '<p> attribute "class"'),
        ("<speak><p>a<p>b</p></p></speak>", "<p> inside <p>"),
        ("<speak><s>a<s>b</s></s></speak>", "<s> inside <s>"),
        ("<speak><s>a<p>b</p></s></speak>", "<p> inside <p> or <s>"),
        ("<speak><break time='11s'/></speak>", 'time="11s"'),
        ("<speak><break time='5 minutes'/></speak>", 'time="5 minutes"'),
        ("<speak><break strength='loud'/></speak>", 'strength="loud"'),
        ("<speak><break>文字</break></speak>", "<break>"),
        ("<speak><say-as interpret-as='digits'>二〇一九</say-as></speak>", 'interpret-as="digits"'),
        ("<speak><say-as interpret-as='cardinal'>abc</say-as></speak>", 'interpret-as="cardinal"'),
        ("<speak><say-as interpret-as='ordinal'>3.5</say-as></speak>", 'interpret-as="ordinal"'),
        ("<speak><say-as interpret-as='telephone'>call me</say-as></speak>", 'interpret-as="telephone"'),
        ("<speak><say-as interpret-as='date'>2019-13-05</say-as></speak>", 'interpret-as="date"'),
        ("<speak><say-as interpret-as='date'>05/03/19</say-as></speak>", 'interpret-as="date"'),
        ("<speak><say-as interpret-as='date' format='yy'>2019</say-as></speak>", 'format="yy"'),
        ("<speak><say-as interpret-as='digits' format='ymd'>1</say-as></speak>", "format"),
        ("<speak><say-as interpret-as='currency'>1</say-as></speak>", 'interpret-as="currency"'),
        ("<speak><say-as interpret-as='digits' detail='1'>1</say-as></speak>", '"detail"'),
        ("<speak><say-as>1</say-as></speak>", '"interpret-as"'),
        ("<speak><say-as interpret-as='digits'> </say-as></speak>", "<say-as"),
        ("<speak><say-as interpret-as='digits'>1<break/>2</say-as></speak>", "<say-as> holds text only"),
        ("<speak><sub>WHO</sub></speak>", '<sub> needs the attribute "alias"'),
        ("<speak><sub alias='x'></sub></speak>", "<sub> is empty"),
        ("<speak><sub alias='x'>a<sub alias='y'>b</sub></sub></speak>", "<sub> holds text only, not <sub>"),
        (
            "<speak><phoneme alphabet='ipa' ph='xɑŋ'>行</phoneme></speak>",
            'alphabet="ipa"> is not supported: IPA',
        ),
        ("<speak><phoneme alphabet='sapi' ph='h'>行</phoneme></speak>", 'alphabet="sapi"'),
        ("<speak><phoneme ph='hang2'>银行</phoneme></speak>", 'ph="hang2"> gives 1 syllable(s) for the 2'),
        ("<speak><phoneme ph='yin2 hang2'>ab</phoneme></speak>", 'ph="yin2 hang2"'),
        ("<speak><phoneme ph='xyz9'>行</phoneme></speak>", 'ph="xyz9"'),
        ("<speak><phoneme>行</phoneme></speak>", '"ph"'),
        ("<speak><prosody pitch='+10%'>a</prosody></speak>", '<prosody> attribute "pitch"'),
        ("<speak><prosody rate='fast' volume='loud'>a</prosody></speak>", '"volume"'),
        ("<speak><prosody>a</prosody></speak>", '<prosody> needs the attribute "rate"'),
        ("<speak><prosody rate='+200%'>a</prosody></speak>", 'rate="+200%"> makes a speed change of +200%'),
        ("<speak><prosody rate='0.2'>a</prosody></speak>", 'rate="0.2"'),
        ("<speak><prosody rate='+0.2'>a</prosody></speak>", 'rate="+0.2"'),
        ("<speak><prosody rate='x-fast'><prosody rate='+50%'>a</prosody></prosody></speak>", 'rate="+50%"'),
        ("<speak><prosody rate='quick'>a</prosody></speak>", 'rate="quick"'),
        ("<speak>&#xE012;</speak>", "U+E012"),
        ("<speak><sub alias='&#xE013;'>a</sub></speak>", "U+E013"),
    ],
)
def test_refusals_name_what_is_outside_the_subset(source: str, named: str) -> None:
    with pytest.raises(InvalidSSML) as caught:
        parse(source)
    assert named in caught.value.message
    assert (caught.value.status_code, caught.value.code) == (400, "invalid_ssml")
    assert isinstance(caught.value, TTSError)


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (
            "<speak>你好<p>a</speak>",
            r"malformed SSML: Opening and ending tag mismatch: p line 1 and speak, line 1, column \d+",
        ),
        ("<speak>\n\n  a &nbsp; b</speak>", r"malformed SSML: Entity 'nbsp' not defined, line 3, column \d+"),
        ('<?xml version="1.0" encoding="GBK"?>\n<speak>\n<', r"line 3, column 2"),  # positions kept
        ("", r"malformed SSML"),
    ],
)
def test_malformed_xml_is_refused_with_the_parsers_message(source: str, message: str) -> None:
    with pytest.raises(InvalidSSML, match=message):
        parse(source)


# --- safety ---------------------------------------------------------------------------------------------

XXE = """<?xml version="1.0"?>
<!DOCTYPE speak [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<speak>&xxe;</speak>"""
LEVELS = "".join(f' <!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">\n' for i in range(2, 10))
LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
    f' <!ENTITY lol1 "{"&lol;" * 10}">\n{LEVELS}]>\n<speak>&lol9;</speak>'
)


@pytest.mark.parametrize(
    "source",
    [
        XXE,
        LAUGHS,
        '<!DOCTYPE speak SYSTEM "http://127.0.0.1:9/ssml.dtd"><speak>a</speak>',
        '<!DOCTYPE speak [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]><speak/>',
        "<speak><!-- <!doctype is refused even here --></speak>",
    ],
)
def test_no_doctype_no_entities_nothing_expands(source: str) -> None:
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(InvalidSSML, match="DOCTYPE or declare entities") as caught:
            parse(source)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - started < 0.5
    assert peak < 200_000  # the expanded laughs are 10^9 characters; the source is under 1 kB
    assert "root:" not in caught.value.message  # nothing of /etc/passwd


def test_billion_laughs_is_what_it_claims() -> None:
    """The document above is the classic one: 9 levels of 10 references each."""
    assert LAUGHS.count("<!ENTITY") == 10 and "&lol8;" * 10 in LAUGHS


# --- properties -----------------------------------------------------------------------------------------

BOUNDED = settings(max_examples=300, deadline=None, database=None)
XML_CHARS = st.characters(blacklist_categories=("Cs", "Cc", "Co", "Cn"))  # what XML 1.0 text may hold
WORD = st.text(XML_CHARS.filter(lambda c: c not in " \t\r\n"), min_size=1, max_size=8)
WIDE = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]")


@BOUNDED
@given(st.lists(WORD, max_size=12).map("".join))
def test_text_without_xml_whitespace_is_shown_as_it_is(text: str) -> None:
    assert parse(f"<speak>{escape(text)}</speak>") == ([Marked(text)] if text else [])


@BOUNDED
@given(
    st.lists(WORD, min_size=1, max_size=12),
    st.lists(st.sampled_from([" ", "\n", "\t", "  \n "]), min_size=12),
)
def test_whitespace_between_words_is_one_space_or_none_between_wide_characters(
    words: list[str], gaps: list[str]
) -> None:
    source = "".join(word + gap for word, gap in zip(words, gaps, strict=False))
    expected = words[0]
    for word in words[1:]:
        expected += word if WIDE.match(expected[-1]) and WIDE.match(word[0]) else " " + word
    assert parse(f"<speak><p>{escape(source)}</p></speak>") == [Marked(expected)]
