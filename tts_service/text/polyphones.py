"""Polyphones read from context: phrase overrides for pypinyin, then a small table of context rules.

Readings are TONE3 strings (zhong1; 5 = neutral) before tone sandhi. pypinyin reads each tagged word through
its phrase dictionary, to which `load()` adds (process-wide, once) the light syllables and readings it gets
wrong, also inside the longer phrases that end in them (老朋友). `resolve()` then applies `RULES` to the
characters whose reading did not come from a phrase: a character that is a word by itself, or one inside a
word pypinyin does not know as a phrase. The rules look at neighbouring text and jieba POS tags.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pypinyin import Style, lazy_pinyin, load_phrases_dict
from pypinyin.constants import PHRASES_DICT
from pypinyin.contrib.tone_convert import to_tone
from pypinyin.seg import mmseg

from tts_service.lru import Args, cached, deep_size

# Words whose last syllable is light (neutral tone) in standard Mandarin; pypinyin gives them full tones.
NEUTRAL_LAST = """
朋友 东西 先生 事情 知道 时候 明白 休息 消息 喜欢 认识 舒服 衣服 清楚 告诉 谢谢 窗户 热闹 商量 答应
头发 眼睛 名字 姑娘 丈夫 太太 小姐 妈妈 爸爸 哥哥 姐姐 妹妹 爷爷 奶奶 叔叔 姑姑 舅舅 娃娃 宝宝 星星
耳朵 眉毛 脑袋 嘴巴 下巴 胳膊 指甲 屁股 麻烦 漂亮 聪明 客气 脾气 力气 运气 福气 规矩 打听 招呼 称呼
收拾 照顾 糊涂 老实 扎实 委屈 笑话 葡萄 豆腐 月亮 玻璃 行李 亲戚 咳嗽 晚上 早上 厉害 吩咐 打扮 打量
凑合 主意 本事 云彩 庄稼 生意 干净 凉快 痛快 快活 宽敞 马虎 结实 粮食 护士 甘蔗 蘑菇 核桃 包袱 窝囊
嘱咐 伙计 师傅 师父 喇叭 篱笆 芝麻 狐狸 骆驼 苍蝇 牲口 风筝 灯笼 算盘 玫瑰 琵琶 枇杷 讲究 对付 利索
苗条 挑剔 队伍 时辰 学生
""".split()

# Whole readings pypinyin gets wrong for common words (为 = wéi "as", 长 = cháng "long", 调 = tiáo …).
PHRASES = {
    "视为": "shi4 wei2", "列为": "lie4 wei2", "评为": "ping2 wei2", "最为": "zui4 wei2",
    "变为": "bian4 wei2", "定为": "ding4 wei2", "选为": "xuan3 wei2", "名为": "ming2 wei2",
    "称之为": "cheng1 zhi1 wei2", "为准": "wei2 zhun3", "为由": "wei2 you2",
    "长时间": "chang2 shi2 jian1", "最长": "zui4 chang2", "太长": "tai4 chang2", "很长": "hen3 chang2",
    "多长": "duo1 chang2", "调低": "tiao2 di1", "调高": "tiao2 gao1", "调大": "tiao2 da4",
    "调小": "tiao2 xiao3", "供述": "gong4 shu4", "出血": "chu1 xue4", "献血": "xian4 xue4",
    "流血": "liu2 xue4", "落下": "luo4 xia4", "冲着": "chong4 zhe5", "变得": "bian4 de5",
    "数一数": "shu3 yi1 shu3", "踏实": "ta1 shi5", "全长": "quan2 chang2",
    "数以万计": "shu4 yi3 wan4 ji4",
}  # fmt: skip

BOUNDARY = "|"  # clause edges in the context text (punctuation, spaces, start and end)
NUMBERS = tuple("一二两三四五六七八九十百千万几半0123456789")
DEMONSTRATIVES = ("这", "那", "哪", "每", "某", "各", "此", "该")
DEGREE = ("太", "很", "真", "挺", "特别", "比较", "有点", "更", "最", "这么", "那么")
VERBS = ("v", "vd", "vi", "vg")
MODAL_ADVERBS = ("还", "也", "就", "都", "总", "又", "非", "可", "才", "先", "只", "必须", "一定")  # 还得 děi
MODAL_NEXT = ("v", "d", "p", "l", "a", "c")  # what follows děi: a verb phrase
PERSONS = ("我", "你", "您", "他", "她", "我们", "你们", "他们", "她们", "人家")
TITLES = ("先生", "女士", "老师", "教授", "医生", "同学", "师傅", "经理", "主任", "书记", "局长", "部长")
GROWS = ("得", "出", "了", "成", "高", "大", "满", "着", "在", "起", "到")  # after 长 zhǎng "grow"


@dataclass
class Word:
    """One segmented word: text, jieba POS tag, a reading per character, and which came from a phrase."""

    text: str
    tag: str
    readings: list[str | None]
    fixed: tuple[bool, ...]


@dataclass(frozen=True)
class Spot:
    """Where a character sits: the sentence's words, its word and offset, and the flat context text."""

    words: Sequence[Word]
    index: int
    offset: int
    flat: str
    pos: int  # index of the character in `flat`

    def neighbour(self, step: int) -> Word | None:
        i = self.index + step
        while 0 <= i < len(self.words) and self.words[i].text.isspace():
            i += step
        return self.words[i] if 0 <= i < len(self.words) else None

    def clause(self, step: int) -> list[Word]:
        """The words after (step 1) or before (step -1) this one, up to the clause edge."""
        out, i = [], self.index + step
        while 0 <= i < len(self.words) and _flat(self.words[i].text).strip(BOUNDARY):
            out.append(self.words[i])
            i += step
        return out


@dataclass(frozen=True)
class Rule:
    """Read `char` as `reading` when every given condition holds; the first matching rule wins."""

    char: str
    reading: str
    word: str = ""  # only inside this word (then it applies even to dictionary phrases)
    alone: bool = False  # the character is a word by itself
    tags: tuple[str, ...] = ()  # its own word's POS tag starts with one of these
    # The text just before ends with / just after starts with one of these ("|" = clause edge); the text
    # around the character, or around the word for a rule with `word`.
    before: tuple[str, ...] = ()
    after: tuple[str, ...] = ()
    prev_tags: tuple[str, ...] = ()  # the previous word's POS tag starts with one of these
    next_tags: tuple[str, ...] = ()
    next_words: tuple[str, ...] = ()
    test: Callable[[Spot], bool] | None = None

    def matches(self, spot: Spot) -> bool:
        word = spot.words[spot.index]
        prev, nxt = spot.neighbour(-1), spot.neighbour(1)
        start, end = spot.pos, spot.pos + 1
        if self.word:
            start, end = spot.pos - spot.offset, spot.pos - spot.offset + len(word.text)
        return (
            (word.text == self.word if self.word else not word.fixed[spot.offset])
            and (not self.alone or word.text == self.char)
            and (not self.tags or word.tag.startswith(self.tags))
            and (not self.before or spot.flat.endswith(self.before, 0, start))
            and (not self.after or spot.flat.startswith(self.after, end))
            and (not self.prev_tags or (prev is not None and prev.tag.startswith(self.prev_tags)))
            and (not self.next_tags or (nxt is not None and nxt.tag.startswith(self.next_tags)))
            and (not self.next_words or (nxt is not None and nxt.text in self.next_words))
            and (self.test is None or self.test(spot))
        )


def _verb_follows(spot: Spot) -> bool:
    """A verb later in the clause: 为人民服务 (wèi), not 指控为间谍 (wéi); a vn before a noun modifies it."""
    rest = spot.clause(1)
    for i, w in enumerate(rest):
        if w.tag in VERBS or (w.tag == "vn" and not (i + 1 < len(rest) and rest[i + 1].tag.startswith("n"))):
            return True
    return False


def _earlier(*texts: str) -> Callable[[Spot], bool]:
    """One of these words earlier in the clause (以…为…, 把…落在…)."""
    return lambda spot: any(w.text in texts for w in spot.clause(-1))


def _yi_frame(spot: Spot) -> bool:
    """以…为… (wéi): 以 before 为 in the clause, or a dictionary idiom that starts with it (以此为荣)."""
    word = spot.words[spot.index]
    return (word.text.startswith("以") and spot.offset > 0) or (
        word.text == "为" and any(w.text in ("以", "以此") for w in spot.clause(-1))
    )


def _long_prev(spot: Spot) -> bool:
    """The previous word has 2+ characters: a one-character "noun" before 得 is often an adjective."""
    prev = spot.neighbour(-1)
    return prev is not None and len(prev.text) > 1


def _name_start(spot: Spot) -> bool:
    """The first character of a personal name (jieba tag nr): a surname."""
    word = spot.words[spot.index]
    return word.tag == "nr" and spot.offset == 0 and len(word.text) in (2, 3)


RULES: tuple[Rule, ...] = (
    # 地: a noun after a preposition, number, measure word or 的 (倒在地, 这块地); else the adverb particle.
    Rule("地", "di4", alone=True, before=(BOUNDARY, "在", "于", "块", "片", "亩", "的", "种") + NUMBERS),
    Rule("地", "de5", alone=True),
    Rule("地", "de5", tags=("z", "d", "ad")),  # 默默地, 悄悄地: adverbs in the dictionary
    # 得: complement after a verb or adjective; dé before 了; děi "must" after a pronoun or adverb.
    Rule("得", "de5", alone=True, prev_tags=("v", "a", "z")),
    Rule("得", "de2", alone=True, after=("了",)),
    Rule("得", "dei3", alone=True, prev_tags=("r",), next_tags=MODAL_NEXT),
    Rule("得", "dei3", alone=True, before=MODAL_ADVERBS, next_tags=MODAL_NEXT),
    Rule("得", "dei3", alone=True, prev_tags=("n",), next_tags=("v", "p"), test=_long_prev),  # 大家得抓紧
    Rule("得", "de5", alone=True),
    # 着: zháo "catch fire / reach" after 不 or when it ends a clause after an adverb or noun.
    Rule("着", "zhao2", alone=True, before=("不",)),
    Rule("着", "zhao2", alone=True, after=("了",), prev_tags=("d", "n", "r", "t")),
    Rule("着", "zhuo2", word="穿着", before=("的",)),  # 他的穿着: attire
    # 还: huán "return" before a noun object, 了/给/回, or at the end of a clause.
    Rule("还", "huan2", alone=True, next_tags=("n",)),
    Rule("还", "huan2", alone=True, next_words=("了", "给", "回", "回去", "回来") + PERSONS),
    Rule("还", "huan2", alone=True, after=(BOUNDARY,)),
    # 为: wèi "for" before a pronoun or a verb later in the clause; wéi "as / be" otherwise (以…为…).
    Rule("为", "wei2", test=_yi_frame),
    Rule("为", "wei4", alone=True, next_tags=("r",)),
    Rule("为", "wei4", alone=True, test=_verb_follows),
    Rule("为", "wei2", alone=True),
    # 长: zhǎng "grow" before a complement or aspect particle, cháng "long" otherwise.
    Rule("长", "chang2", alone=True, before=DEGREE + ("多", "较", "不")),
    Rule("长", "zhang3", alone=True, after=GROWS),
    Rule("长", "chang2", alone=True),
    # Measure words after a number or demonstrative: 两只小猫 zhī, 这种 zhǒng; else 种 is zhòng "plant".
    Rule("只", "zhi1", before=NUMBERS + DEMONSTRATIVES, next_tags=("n", "a")),
    Rule("种", "zhong3", alone=True, before=NUMBERS + DEMONSTRATIVES + ("多", "何", "同", "异")),
    Rule("种", "zhong4", alone=True, next_tags=("n",)),
    Rule("种", "zhong4", alone=True, after=("了", "着", "过", "下", "出", "满")),
    # Verbs: 教 jiāo "teach", 数 shǔ "count", 量 liáng "measure", 落 là "leave behind" (把…落在…); 一觉.
    Rule("教", "jiao1", alone=True),
    Rule("觉", "jiao4", alone=True, before=("一",)),  # 一觉: a sleep
    Rule("数", "shu3", alone=True, after=("一数", "了", "过", "着", "到", "一下", "不清", "不过来")),
    Rule("数", "shu3", alone=True, before=("数了", "数一")),
    Rule("量", "liang2", after=("一下", "一量", "了", "过", "体温", "血压", "身高")),
    Rule("落", "la4", alone=True, test=_earlier("把")),
    # Collocations: 和面 huó, 看孩子 kān, 冲 chòng "blunt", 姓曾 zēng, surname 曾/单, colloquial 血 xiě.
    Rule("和", "huo2", alone=True, next_words=("面", "泥")),
    Rule("看", "kan1", alone=True, next_words=("孩子", "小孩", "家", "门", "摊")),
    Rule("冲", "chong4", alone=True, before=DEGREE, after=(BOUNDARY, "了")),
    Rule("冲", "chong4", alone=True, next_words=PERSONS),  # 冲我笑: towards
    Rule("曾", "zeng1", alone=True, before=("姓",)),
    Rule("曾", "zeng1", alone=True, next_words=TITLES),  # 曾先生
    Rule("曾", "zeng1", test=_name_start),
    Rule("单", "shan4", test=_name_start),
    Rule("血", "xie3", alone=True),
    Rule("血", "xie3", word="出血", after=("了",)),
    Rule("露", "lou4", alone=True),  # the verb alone is colloquial: 露了一手, 露了馅
    Rule("西", "xi1", word="东西", after=("两", "方向", "走向", "之间", "长", "宽", "向")),  # direction
)
_BY_CHAR: dict[str, tuple[Rule, ...]] = {
    c: tuple(r for r in RULES if r.char == c) for c in {r.char for r in RULES}
}


@functools.cache
def load() -> None:
    """Add the overrides to pypinyin's phrase dictionary (process-wide, once)."""
    phrases = {w: " ".join(_plain(w)[:-1] + [_plain(w)[-1][:-1] + "5"]) for w in NEUTRAL_LAST}
    phrases.update(PHRASES)
    longest = max(map(len, phrases))
    for key in [k for k in PHRASES_DICT if k not in phrases]:  # longer ones ending in one: 好消息, 脑出血
        for n in range(2, min(len(key) - 1, longest) + 1):
            if key[-n:] in phrases:
                phrases[key] = " ".join(_plain(key)[:-n] + phrases[key[-n:]].split())
                break
    load_phrases_dict({w: [[to_tone(s)] for s in r.split()] for w, r in phrases.items()})


def _plain(text: str) -> list[str]:
    """pypinyin's readings, one per character; "?" where there is none (a string: pypinyin restyles it)."""
    # pypinyin's stubs say the errors callback returns a string; its docs and code take a list, one reading
    # per character, which is what keeps this list as long as the text.
    return lazy_pinyin(text, style=Style.TONE3, neutral_tone_with_five=True, errors=_unknown)  # type: ignore[arg-type]


def _unknown(chars: str) -> list[str]:
    return ["?"] * len(chars)


def _readings_size(args: Args, readings: tuple[tuple[str | None, ...], tuple[bool, ...]]) -> int:
    return deep_size(args, readings)


# About 600 bytes a word with the cache's own bookkeeping: some 28,000 distinct words.
@cached(16 * 1024 * 1024, _readings_size)
def word_readings(word: str) -> tuple[tuple[str | None, ...], tuple[bool, ...]]:
    """Dictionary readings of one word (None where there is no Han reading), and which came from a phrase."""
    load()
    readings: list[str | None] = []
    fixed: list[bool] = []
    for piece in [word] if word in PHRASES_DICT else mmseg.seg.cut(word):
        got = _plain(piece)
        readings.extend(r if r[-1:].isdigit() else None for r in got)
        fixed.extend([len(piece) > 1 and piece in PHRASES_DICT] * len(piece))
    return tuple(readings), tuple(fixed)


def _flat(text: str) -> str:
    """Context text: punctuation and spaces become the clause boundary mark."""
    return "".join(BOUNDARY if c.isspace() or unicodedata.category(c)[0] in "PS" else c for c in text)


def resolve(tagged: Sequence[tuple[str, str]]) -> list[list[str | None]]:
    """Readings for each word of a sentence, given (word, POS tag) pairs, polyphones resolved from context."""
    words = []
    for text, tag in tagged:
        readings, fixed = word_readings(text)
        words.append(Word(text, tag, list(readings), fixed))
    flat = BOUNDARY + "".join(_flat(w.text) for w in words) + BOUNDARY
    pos = 1
    for index, word in enumerate(words):
        for offset, char in enumerate(word.text):
            rules = _BY_CHAR.get(char)
            if rules and word.readings[offset] is not None:
                spot = Spot(words, index, offset, flat, pos)
                rule = next((r for r in rules if r.matches(spot)), None)
                if rule is not None:
                    word.readings[offset] = rule.reading
            pos += 1
    return [w.readings for w in words]
