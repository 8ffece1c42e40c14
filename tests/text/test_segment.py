"""Paragraph, sentence and chunk splitting: exact outputs, real scraped input and lossless properties."""

from __future__ import annotations

import pytest
from helpers import CORPUS_DIR
from hypothesis import given, settings
from hypothesis import strategies as st

from tts_service.text.segment import Chunk, Sentence, chunks, paragraphs, sentences

CORPUS = CORPUS_DIR / "academy-international-cooperation-2020.txt"


def texts(items: list[Sentence] | list[Chunk]) -> list[str]:
    return [item.text for item in items]


def cuts(pieces: list[str]) -> list[int]:
    """Offsets where one piece ends and the next begins."""
    offsets, total = [], 0
    for piece in pieces[:-1]:
        total += len(piece)
        offsets.append(total)
    return offsets


def is_word_char(char: str) -> bool:
    return char.isascii() and char.isalnum()


def cuts_in_short_words(paragraph: str, pieces: list[str], max_chars: int) -> list[int]:
    """Cuts that fall between two ASCII letters/digits of a run that would have fitted in one piece."""
    bad = []
    for at in cuts(pieces):
        if not (is_word_char(paragraph[at - 1]) and is_word_char(paragraph[at])):
            continue
        left, right = at, at
        while left > 0 and is_word_char(paragraph[left - 1]):
            left -= 1
        while right < len(paragraph) and is_word_char(paragraph[right]):
            right += 1
        if right - left <= max_chars:
            bad.append(at)
    return bad


# --- paragraphs --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", []),
        ("\n\n  \n", []),
        ("一\r\n二\r三\n\n四", ["一", "二", "三", "四"]),
        ("  第一段。  \n\t\n\u3000\u3000第二段。\u3000", ["第一段。", "第二段。"]),
        ("\ufeff标题\n正文", ["标题", "正文"]),
        ("no newline at all", ["no newline at all"]),
    ],
)
def test_paragraphs(text: str, expected: list[str]) -> None:
    assert paragraphs(text) == expected


# --- sentences ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("paragraph", "expected"),
    [
        # Chinese terminators, and runs of them that stay together.
        ("你好。世界！再见？", ["你好。", "世界！", "再见？"]),
        ("先做这个；再做那个", ["先做这个；", "再做那个"]),
        ("真的吗？！是的……好吧", ["真的吗？！", "是的……", "好吧"]),
        ("等一下…然后", ["等一下…", "然后"]),
        # Latin terminators; trailing whitespace belongs to the sentence before it.
        ("Hello world. How are you? Fine!", ["Hello world. ", "How are you? ", "Fine!"]),
        ("a;b", ["a;", "b"]),
        ("Wait... what?", ["Wait... ", "what?"]),
        ("第一句。  第二句。 ", ["第一句。  ", "第二句。 "]),
        # A "." inside numbers, addresses and abbreviations does not end a sentence.
        ("增长5.2%，圆周率3.14。", ["增长5.2%，圆周率3.14。"]),
        ("邮箱:casweb@cashq.ac.cn", ["邮箱:casweb@cashq.ac.cn"]),
        ("The U.S.A is big. Yes", ["The U.S.A is big. ", "Yes"]),
        ("版本v2.中文", ["版本v2.", "中文"]),
        ("v1.2.3 released.", ["v1.2.3 released."]),
        # Closing quotes and brackets stay with their sentence.
        ("他说：“好。”然后走了。", ["他说：“好。”", "然后走了。"]),
        ("（注：见上。）下一句", ["（注：见上。）", "下一句"]),
        ("「走吧！」』他说", ["「走吧！」』", "他说"]),
        ('He said "stop." Then left.', ['He said "stop." ', "Then left."]),
        ("It's 'fine.' Next", ["It's 'fine.' ", "Next"]),
        ("“好。”。下一句", ["“好。”。", "下一句"]),
        # An ASCII quote that opens the next sentence is not pulled back.
        ('他说。"你好"', ["他说。", '"你好"']),
        ('他说："好。"然后', ['他说："好。"', "然后"]),
        # ASCII punctuation inside Chinese text, as scraped pages have it.
        ("慢性肾病(CKDu)病区安全供水。", ["慢性肾病(CKDu)病区安全供水。"]),
        ("建设取得显著进展。ANSO的成立", ["建设取得显著进展。", "ANSO的成立"]),
        ("话语权。”一年来,澳门", ["话语权。”", "一年来,澳门"]),
        ("总数达到52家;成立联盟", ["总数达到52家;", "成立联盟"]),
        # Degenerate input.
        ("", []),
        ("。", ["。"]),
        ("没有标点的文本", ["没有标点的文本"]),
        ("   ", ["   "]),
    ],
)
def test_sentences(paragraph: str, expected: list[str]) -> None:
    assert texts(sentences(paragraph)) == expected


def test_sentence_offsets() -> None:
    assert sentences("一。 Two. 三") == [Sentence("一。 ", 0), Sentence("Two. ", 3), Sentence("三", 8)]


# --- chunks ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("paragraph", "max_chars", "expected"),
    [
        # Whole sentences are packed greedily while they fit.
        ("一二。三四。五六。", 6, [("一二。三四。", (0, 1)), ("五六。", (2,))]),
        ("一二。三四。五六。", 9, [("一二。三四。五六。", (0, 1, 2))]),
        ("一二。三四。五六。", 3, [("一二。", (0,)), ("三四。", (1,)), ("五六。", (2,))]),
        (
            "一二。三四五六七八。九。",
            5,
            [("一二。", (0,)), ("三四五六七", (1,)), ("八。", (1,)), ("九。", (2,))],
        ),
        # An over-long sentence is cut after its last comma that fits ...
        ("一二三，四五六，七八九。", 8, [("一二三，四五六，", (0,)), ("七八九。", (0,))]),
        ("一二三,四五六,七八九。", 8, [("一二三,四五六,", (0,)), ("七八九。", (0,))]),
        # ... unless that leaves a tiny piece and an earlier comma does not.
        (
            "一二三四五六七，八九十一二三四五六七，八。",
            20,
            [("一二三四五六七，", (0,)), ("八九十一二三四五六七，八。", (0,))],
        ),
        # Trailing whitespace is not content: "十。   " would still be a tiny piece.
        ("一二三四五，六七八九，十。   ", 12, [("一二三四五，", (0,)), ("六七八九，十。   ", (0,))]),
        # Other soft marks: 、 ： — and a cut before an opening bracket.
        ("甲乙丙丁、戊己庚辛", 6, [("甲乙丙丁、", (0,)), ("戊己庚辛", (0,))]),
        ("说明：这里是正文", 6, [("说明：", (0,)), ("这里是正文", (0,))]),
        ("前面的话——后面的话", 7, [("前面的话——", (0,)), ("后面的话", (0,))]),
        ("甲，前面的话——后面", 7, [("甲，", (0,)), ("前面的话——", (0,)), ("后面", (0,))]),  # "——" stays whole
        ("慢性肾病(CKDu)病区", 8, [("慢性肾病", (0,)), ("(CKDu)病区", (0,))]),
        ("one two three four", 10, [("one two ", (0,)), ("three four", (0,))]),
        ("a，b   cd", 5, [("a，", (0,)), ("b   ", (0,)), ("cd", (0,))]),  # no piece starts with a space
        # Pieces of a long sentence are never packed with their neighbours.
        (
            "短。" + "一二三四五六七八九十，" * 2 + "完。短。",
            12,
            [
                ("短。", (0,)),
                ("一二三四五六七八九十，", (1,)),
                ("一二三四五六七八九十，", (1,)),
                ("完。", (1,)),
                ("短。", (2,)),
            ],
        ),
        # Numbers and Latin words are not cut, even where a comma or colon would otherwise be the best cut.
        ("共计1,024台设备", 5, [("共计", (0,)), ("1,024", (0,)), ("台设备", (0,))]),
        ("会议定于14:30开始", 7, [("会议定于", (0,)), ("14:30开始", (0,))]),
        ("增长了3.5个百分点", 5, [("增长了", (0,)), ("3.5个百", (0,)), ("分点", (0,))]),
        ("在2019-2020年度", 9, [("在", (0,)), ("2019-2020", (0,)), ("年度", (0,))]),
        # A number longer than the limit is cut at its joiner rather than between digits.
        ("在2019-2020年度", 8, [("在", (0,)), ("2019-", (0,)), ("2020年度", (0,))]),
        ("我们使用Python语言", 6, [("我们使用", (0,)), ("Python", (0,)), ("语言", (0,))]),
        # No punctuation at all: cut at the limit, between characters.
        ("一" * 25, 10, [("一" * 10, (0,)), ("一" * 10, (0,)), ("一" * 5, (0,))]),
        # One giant word: nothing to do but a hard cut.
        ("a" * 25, 10, [("a" * 10, (0,)), ("a" * 10, (0,)), ("a" * 5, (0,))]),
        ("abc", 1, [("a", (0,)), ("b", (0,)), ("c", (0,))]),
        ("", 5, []),
    ],
)
def test_chunks(paragraph: str, max_chars: int, expected: list[tuple[str, tuple[int, ...]]]) -> None:
    assert chunks(paragraph, max_chars) == [Chunk(text, indices) for text, indices in expected]


@pytest.mark.parametrize("max_chars", [0, -1])
def test_chunks_rejects_a_limit_below_one(max_chars: int) -> None:
    with pytest.raises(ValueError, match="max_chars"):
        chunks("你好。", max_chars)


# --- real scraped input ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def corpus() -> list[str]:
    return paragraphs(CORPUS.read_text(encoding="utf-8"))


def test_corpus_paragraphs(corpus: list[str]) -> None:
    assert len(corpus) == 40
    assert corpus[:2] == ["澳门赌场", "图片"]
    assert corpus[2].startswith("加快打造原始创新策源地,") and corpus[2].endswith("贡献。")
    assert corpus[12:14] == ["语音播报", corpus[13]] and corpus[13].startswith("2019年是")
    assert all(p == p.strip() and p for p in corpus)
    assert corpus.count("编辑部邮箱:casweb@cashq.ac.cn") == 3


def test_corpus_sentences_keep_closing_quote(corpus: list[str]) -> None:
    (paragraph,) = [p for p in corpus if "话语权。”一年来" in p]
    found = texts(sentences(paragraph))
    assert len(found) == 3
    assert found[0].endswith("话语权。”")
    assert found[1].startswith("一年来,澳门赌场“全方位、深层次、多样化”")
    assert found[2] == "国际合作“促原创、补短板、强能力、扩影响”的重要作用进一步彰显。"


def test_corpus_sentences_with_ascii_inside_chinese(corpus: list[str]) -> None:
    (anso,) = [p for p in corpus if p.startswith("三、")]
    found = texts(sentences(anso))
    assert found[0] == "三、“一带一路”国际科学组织联盟(ANSO)建设取得显著进展。"
    assert found[1].startswith("ANSO的成立")
    assert found[-1] == "设立了ANSO-CAS奖学金,每年面向全球招收培养博士生300名、硕士生200名。"
    assert len(found) == 7
    (ckdu,) = [p for p in corpus if "(CKDu)" in p]
    assert [s for s in texts(sentences(ckdu)) if "(CKDu)" in s][0].startswith("第二、针对斯里兰卡")


def test_corpus_footer_is_not_split(corpus: list[str]) -> None:
    for line in ("编辑部邮箱:casweb@cashq.ac.cn", "京ICP备05002857号-1", "(2020年1月17日)", "2020-01-17"):
        assert texts(sentences(line)) == [line]
        assert chunks(line, 100) == [Chunk(line, (0,))]


def test_corpus_long_sentence_is_cut_at_commas(corpus: list[str]) -> None:
    assert texts(chunks(corpus[2], 30)) == [
        "加快打造原始创新策源地,加快突破关键核心技术,",
        "努力抢占科技制高点,",
        "为把我国建设成为世界科技强国作出新的更大的贡献。",
    ]


def test_corpus_chunks_keep_acronyms_and_numbers(corpus: list[str]) -> None:
    (ckdu,) = [p for p in corpus if "(CKDu)" in p]
    pieces = texts(chunks(ckdu, 30))
    assert "第二、针对斯里兰卡不明原因慢性肾病(CKDu)" in pieces
    assert "陆续在CKDu病区开展现场技术示范," in pieces
    assert "为当地近4000名村民和1300名学生提供了安全饮用水," in pieces


@pytest.mark.parametrize("max_chars", [1, 5, 17, 30, 60, 120, 500])
def test_corpus_chunks_are_lossless(corpus: list[str], max_chars: int) -> None:
    for paragraph in corpus:
        found = chunks(paragraph, max_chars)
        assert "".join(texts(found)) == paragraph
        assert all(0 < len(c.text) <= max_chars for c in found)
        assert cuts_in_short_words(paragraph, texts(found), max_chars) == []


# --- properties --------------------------------------------------------------------------------------

ALPHABET = "一二三中文字澳门。！？；…，、：（）“”‘’「」【】《》()[]\"'.,:;!?-—–abcXYZ0123456789 \u3000\t@%/"
PARAGRAPHS = st.text(alphabet=ALPHABET, max_size=150)
LIMITS = st.integers(min_value=1, max_value=200)
BOUNDED = settings(max_examples=300, deadline=None, database=None)


@BOUNDED
@given(PARAGRAPHS)
def test_sentences_are_lossless(paragraph: str) -> None:
    found = sentences(paragraph)
    assert "".join(texts(found)) == paragraph
    assert all(s.text for s in found)
    assert all(paragraph[s.start : s.start + len(s.text)] == s.text for s in found)


@BOUNDED
@given(PARAGRAPHS, LIMITS)
def test_chunks_are_lossless_and_bounded(paragraph: str, max_chars: int) -> None:
    found = chunks(paragraph, max_chars)
    assert "".join(texts(found)) == paragraph
    assert all(0 < len(c.text) <= max_chars for c in found)
    # Every sentence is covered, in order, and a chunk names exactly the sentences it overlaps.
    named = [i for c in found for i in c.sentences]
    assert sorted(set(named)) == list(range(len(sentences(paragraph))))
    assert named == sorted(named)


@BOUNDED
@given(st.text(alphabet="abcXYZ019 ,.-:一，（", max_size=150), LIMITS)
def test_short_words_are_never_cut(paragraph: str, max_chars: int) -> None:
    assert cuts_in_short_words(paragraph, texts(chunks(paragraph, max_chars)), max_chars) == []


@BOUNDED
@given(st.lists(st.sampled_from(["一二三。", "Four five. ", "六七八九十，十一。", "x"]), max_size=20), LIMITS)
def test_whole_sentences_are_packed_greedily(parts: list[str], max_chars: int) -> None:
    paragraph = "".join(parts)
    found = chunks(paragraph, max_chars)
    all_sentences = sentences(paragraph)
    for current, following in zip(found, found[1:], strict=False):
        # A chunk of whole sentences was closed only because the next sentence would not fit.
        if len(current.sentences) > 1 or current.text == all_sentences[current.sentences[0]].text:
            assert len(current.text) + len(all_sentences[following.sentences[0]].text) > max_chars


@pytest.mark.parametrize(
    ("paragraph", "expected"),
    [
        ("1. 第一条内容。", ["1. 第一条内容。"]),
        ("12. 第十二条内容。第二句。", ["12. 第十二条内容。", "第二句。"]),
        ("1.第一条内容。", ["1.第一条内容。"]),
        ("结果是 1. 下一句。", ["结果是 1. ", "下一句。"]),
    ],
)
def test_a_numbered_list_item_keeps_its_number_in_its_first_sentence(
    paragraph: str, expected: list[str]
) -> None:
    assert [s.text for s in sentences(paragraph)] == expected
