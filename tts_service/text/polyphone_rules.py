"""The polyphone data: phrase overrides for pypinyin and the table of context rules.

Readings are TONE3 strings (zhong1; 5 = neutral) before tone sandhi. `polyphones.load` adds `NEUTRAL_LAST`
and `PHRASES` to pypinyin's phrase dictionary; `polyphones.resolve` applies `RULES` (see `context.Rule`) to
the characters whose reading did not come from a phrase, and to the words a rule names. Pure data and
predicates; the first matching rule for a character wins, so specific rules come before fallbacks.
"""

from __future__ import annotations

from collections.abc import Callable

from tts_service.text.context import BOUNDARY, Rule, Spot

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

NUMBERS = tuple("一二两三四五六七八九十百千万几半0123456789")
DEMONSTRATIVES = ("这", "那", "哪", "每", "某", "各", "此", "该")
DEGREE = ("太", "很", "真", "挺", "特别", "比较", "有点", "更", "最", "这么", "那么")
VERBS = ("v", "vd", "vi", "vg")
MODAL_ADVERBS = ("还", "也", "就", "都", "总", "又", "非", "可", "才", "先", "只", "必须", "一定")  # 还得 děi
MODAL_NEXT = ("v", "d", "p", "l", "a", "c")  # what follows děi: a verb phrase
PERSONS = ("我", "你", "您", "他", "她", "我们", "你们", "他们", "她们", "人家")
TITLES = ("先生", "女士", "老师", "教授", "医生", "同学", "师傅", "经理", "主任", "书记", "局长", "部长")
GROWS = ("得", "出", "了", "成", "高", "大", "满", "着", "在", "起", "到")  # after 长 zhǎng "grow"


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
    Rule("地", "de5", alone=True, sure=False),
    Rule("地", "de5", tags=("z", "d", "ad")),  # 默默地, 悄悄地: adverbs in the dictionary
    # 得: complement after a verb or adjective; dé before 了; děi "must" after a pronoun or adverb.
    Rule("得", "de5", alone=True, prev_tags=("v", "a", "z")),
    Rule("得", "de2", alone=True, after=("了",)),
    Rule("得", "dei3", alone=True, prev_tags=("r",), next_tags=MODAL_NEXT),
    Rule("得", "dei3", alone=True, before=MODAL_ADVERBS, next_tags=MODAL_NEXT),
    Rule("得", "dei3", alone=True, prev_tags=("n",), next_tags=("v", "p"), test=_long_prev),  # 大家得抓紧
    Rule("得", "de5", alone=True, sure=False),
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
    Rule("为", "wei2", alone=True, sure=False),
    # 长: zhǎng "grow" before a complement or aspect particle, cháng "long" otherwise.
    Rule("长", "chang2", alone=True, before=DEGREE + ("多", "较", "不")),
    Rule("长", "zhang3", alone=True, after=GROWS),
    Rule("长", "chang2", alone=True, sure=False),
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
