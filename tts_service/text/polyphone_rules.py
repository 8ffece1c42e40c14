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
    # Issue 15 (dev3 and common words pypinyin's small phrase data lacks or misreads).
    "问卷": "wen4 juan4", "答卷": "da2 juan4", "看似": "kan4 si4", "散发": "san4 fa1", "考中": "kao3 zhong4",
    "中选": "zhong4 xuan3", "中意": "zhong4 yi4", "十发十中": "shi2 fa1 shi2 zhong4", "射中": "she4 zhong4",
    "猜中": "cai1 zhong4", "选中": "xuan3 zhong4", "说中": "shuo1 zhong4", "砸中": "za2 zhong4",
    "投中": "tou2 zhong4", "压根": "ya4 gen1", "数落": "shu3 luo5", "直奔": "zhi2 ben4",
    "奔着": "ben4 zhe5", "睡不着": "shui4 bu4 zhao2", "够不着": "gou4 bu4 zhao2",
    "用不着": "yong4 bu4 zhao2", "找不着": "zhao3 bu4 zhao2", "买不着": "mai3 bu4 zhao2",
    "犯不着": "fan4 bu4 zhao2", "摸不着": "mo1 bu4 zhao2", "睡着": "shui4 zhao2",
    "不得了": "bu4 de2 liao3", "少不了": "shao3 bu4 liao3", "片长": "pian4 chang2", "藏文": "zang4 wen2",
    "藏语": "zang4 yu3", "率团": "shuai4 tuan2", "率部": "shuai4 bu4", "率队": "shuai4 dui4",
    "山参": "shan1 shen1", "野山参": "ye3 shan1 shen1", "当是": "dang4 shi4", "系上": "ji4 shang4",
    "系牢": "ji4 lao2", "系紧": "ji4 jin3", "系好": "ji4 hao3", "结果子": "jie1 guo3 zi5", "结籽": "jie1 zi3",
    "折本": "she2 ben3", "空地方": "kong4 di4 fang5", "背书包": "bei1 shu1 bao1",
    "一觉醒来": "yi1 jiao4 xing3 lai2", "睡不着觉": "shui4 bu4 zhao2 jiao4", "干透": "gan1 tou4",
    "还款": "huan2 kuan3", "还贷": "huan2 dai4", "转动": "zhuan4 dong4", "接种": "jie1 zhong4",
    "理发": "li3 fa4", "美发": "mei3 fa4", "落色": "lao4 shai3", "该行": "gai1 hang2", "冲压": "chong4 ya1",
    "应和": "ying4 he4", "称身": "chen4 shen1", "单县": "shan4 xian4", "夺得": "duo2 de2",
    "乡长": "xiang1 zhang3", "排长队": "pai2 chang2 dui4", "幸免于难": "xing4 mian3 yu2 nan4",
    "上调": "shang4 tiao2", "下调": "xia4 tiao2", "温差": "wen1 cha1", "时差": "shi2 cha1",
    "先到先得": "xian1 dao4 xian1 de2", "身着": "shen1 zhuo2", "切开": "qie1 kai1",
    "种养": "zhong4 yang3", "摘得": "zhai1 de2", "空当": "kong4 dang1", "所得": "suo3 de2",
    "意犹未尽": "yi4 you2 wei4 jin4", "散客": "san3 ke4", "散户": "san3 hu4", "散装": "san3 zhuang1",
    "终了": "zhong1 liao3",
}  # fmt: skip

NUMBERS = tuple("一二两三四五六七八九十百千万几半0123456789")
DEMONSTRATIVES = ("这", "那", "哪", "每", "某", "各", "此", "该")
DEGREE = ("太", "很", "真", "挺", "特别", "比较", "有点", "更", "最", "这么", "那么")
# After V得: the degree or manner of a complement (跑得很快, 说得不对), not děi "must" (得慢慢养).
COMPLEMENT = DEGREE + ("非常", "十分", "格外", "极", "越来越", "多么", "不", "好", "满", "一塌糊涂")
# Adverbs that follow 得 děi "must" but never a complement's 得: 得慢慢养, 得赶紧走.
MUST_NEXT = tuple("慢慢 好好 赶紧 马上 尽快 抓紧 重新 提前 立即 立刻 及时 早点 亲自".split())
FOUND = ("找", "猜", "买", "借", "碰", "见", "摸", "睡", "点", "逮", "抓", "捞", "够", "打", "遇", "赶")
# Fruit and crops about (结 jiē), in the sentence's other words (结果 "result" itself contains 果).
FRUIT = tuple("果树藤瓜籽穗荚枣桃梨杏橘橙柿莓苗棉豆稻麦")
TIED = ("鞋带", "安全带", "围巾", "领带", "绳子", "绳索", "红领巾", "腰带", "扣子", "丝带", "绳", "带子")
CARRIED = (
    *("丈夫", "妻子", "母亲", "父亲", "老伴", "女儿", "儿子", "奶奶", "爷爷", "同学", "队友", "老乡"),
    "包",
    "篓",
    "孩子",
    "娃",
    "行李",
    "行囊",
    "枪",
    "筐",
    "袋",
    "背篓",
    "书包",
    "柴",
    "老人",
    "伤员",
    "病人",
)
STRINGS = ("琴", "吉他", "琵琶", "弦", "古筝", "三弦", "冬不拉", "曲", "调")
BREAKS = ("摔", "刮", "压", "踩", "掰", "撅", "砸", "碰", "撞", "吹")  # V折 shé: broken off
BECOMES = "化改变分成视称作认划定造级换转译选评列任命设封拜聘立判断诊名"  # V为 wéi: 转化为, 诊断为
TUMBLES = ("跟头", "跟斗", "筋斗")
FELLED = (
    "刮",
    "摔",
    "推",
    "撞",
    "打",
    "累",
    "病",
    "击",
    "砍",
    "压",
    "放",
    "绊",
    "踢",
    "扳",
    "扑",
    "跌",
)  # V倒 dǎo
TIED_UP = ("辫", "灯笼", "花", "彩", "头发", "马尾", "把", "捆", "风筝", "腰带")  # 扎 zā
PLACES = ("等", "各", "外", "本", "当", "异", "两", "多", "原", "产", "此", "该", "全", "内")  # …地 dì
BEARS = ("得", "了", "满", "出", "着", "的果", "果子", "果实")  # 结 jiē, with fruit about
TIES = ("好", "上", "着", "紧", "牢", "住", "条", "根", "个", "了")  # 系 jì before these
VERBS = ("v", "vd", "vi", "vg")
MODAL_ADVERBS = (
    *("还", "也", "就", "都", "总", "又", "非", "可", "才", "先", "只", "必须", "一定"),
    *("至少", "起码", "最少", "还是", "总归", "怕是", "恐怕"),
)  # 还得 děi
MODAL_NEXT = ("v", "d", "p", "l", "a", "c", "zg")  # what follows děi: a verb phrase
PERSONS = ("我", "你", "您", "他", "她", "我们", "你们", "他们", "她们", "人家")
TITLES = ("先生", "女士", "老师", "教授", "医生", "同学", "师傅", "经理", "主任", "书记", "局长", "部长")
GROWS = ("得", "出", "了", "成", "高", "大", "满", "着", "在", "起", "到")  # after 长 zhǎng "grow"


def _verb_follows(spot: Spot) -> bool:
    """A verb later in the clause: 为人民服务 (wèi), not 指控为间谍 (wéi). A vn before a noun modifies it,
    unless 地 marks it as the verb (更好地服务群众); an idiom ending the clause is a verb (排忧解难)."""
    rest = spot.clause(1)
    for i, w in enumerate(rest):
        noun_next = i + 1 < len(rest) and rest[i + 1].tag.startswith("n")
        if w.tag in VERBS or (w.tag == "vn" and (not noun_next or (i > 0 and rest[i - 1].text == "地"))):
            return True
        if w.tag in ("i", "l") and i == len(rest) - 1 and i > 0:
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


def _in_sentence(*parts: str) -> Callable[[Spot], bool]:
    """One of these strings in any other word of the sentence (结 jiē among fruit trees)."""
    return lambda spot: any(p in w.text for i, w in enumerate(spot.words) if i != spot.index for p in parts)


def _in_clause(*parts: str) -> Callable[[Spot], bool]:
    """One of these strings in the words of the clause around the character."""

    def test(spot: Spot) -> bool:
        words = [*spot.clause(-1), spot.words[spot.index], *spot.clause(1)]
        return any(p in w.text for w in words for p in parts)

    return test


def _must(spot: Spot) -> bool:
    """得 děi: a verb later in the clause, and not a complement's degree word right after (得很快)."""
    nxt = spot.neighbour(1)
    rest = spot.clause(1)
    if nxt is None or nxt.text in COMPLEMENT or nxt.text.startswith(COMPLEMENT[:11]):
        return False
    return any(w.tag.startswith(("v", "l", "i")) for w in rest)


def _no_ba(spot: Spot) -> bool:
    """No 把 earlier in the clause: 把纸折了 folds (zhé); 绳子折了 broke (shé)."""
    return not any(w.text == "把" for w in spot.clause(-1))


def _then_motion(spot: Spot) -> bool:
    """奔 bèn "head for": an object, then 去/走/来 in the clause (奔县城去)."""
    rest = [w.text for w in spot.clause(1)]
    return len(rest) >= 2 and any(w in ("去", "走", "来", "而去", "而来") for w in rest[1:])


def _carries(spot: Spot) -> bool:
    """背 bēi "carry on the back": a thing carried soon after it (背着书包, 背出了一名老人), not 背得滚瓜烂熟
    (bèi, "recite")."""
    rest = [w.text for w in spot.clause(1)[:6]]
    return not (rest and rest[0] == "得") and any(p in w for w in rest for p in CARRIED)


def _after_verb_word(spot: Spot) -> bool:
    """The character ends a longer word that pypinyin does not know, after a verb: 刮倒 dǎo."""
    word = spot.words[spot.index]
    return len(word.text) > 1 and spot.offset == len(word.text) - 1 and word.text[:-1] in FELLED


def _prize_not_in(spot: Spot) -> bool:
    """中 zhòng "win" with a prize in the clause, and no 在/从/于 before it (在抽奖中 is zhōng)."""
    before = [w.text for w in spot.clause(-1)]
    return not any(w in ("在", "从", "于", "之") for w in before) and _in_clause("奖", "彩票", "标")(spot)


def _returned(spot: Spot) -> bool:
    """还 huán before a noun object: not when the noun is a mis-tagged verb going on (还珍藏着)."""
    rest = [w.text for w in spot.clause(1)]
    return not (len(rest) >= 2 and rest[1] in ("着", "过", "在"))


def _reduplicated(spot: Spot) -> bool:
    """A reduplicated adverbial before 地: 三三两两地, 一块一块地 (de), not 两地 or 二十多年地 (dì)."""
    prev, before = spot.neighbour(-1), (spot.words[spot.index - 2] if spot.index >= 2 else None)
    if prev is not None and before is not None and prev.text == before.text:
        return True
    return prev is not None and len(prev.text) >= 3 and len(set(prev.text)) < len(prev.text)


def _becomes(spot: Spot) -> bool:
    """为 wéi after a verb of change, naming or finding (转化为, 改为, 评为, 诊断为), not after 不用/免费
    (wèi, "for")."""
    prev = spot.neighbour(-1)
    return (
        prev is not None and prev.text[-1] in "化改变分成视称作认划定造级换转译选评列任命设封拜聘立判断诊名"
    )


def _inside_word(spot: Spot) -> bool:
    """Not the first character of a longer word pypinyin does not know: 好得多, 做得好 (V得X)."""
    return len(spot.words[spot.index].text) > 1 and spot.offset > 0


def _word_start(spot: Spot) -> bool:
    """The first character of a longer word pypinyin does not know: 长桌 (cháng), 铺上 (pū)."""
    return len(spot.words[spot.index].text) > 1 and spot.offset == 0


def _aspect(spot: Spot) -> bool:
    """着 ending a verb pypinyin does not know, after a verb that is not one of finding (看着, not 找着)."""
    word = spot.words[spot.index]
    return _word_final(spot) and word.tag.startswith("v") and word.text[:-1] not in FOUND


def _long_word_final(spot: Spot) -> bool:
    """The last of three or more characters of a word pypinyin does not know: 坦率地 (not 各地, 局地)."""
    return len(spot.words[spot.index].text) > 2 and _word_final(spot)


def _word_final(spot: Spot) -> bool:
    """The character ends a longer word pypinyin does not know: 呛得 (V得, a complement follows)."""
    word = spot.words[spot.index]
    return len(word.text) > 1 and spot.offset == len(word.text) - 1


def _settles(spot: Spot) -> bool:
    """了却 liǎo: 了 then 却 then an object (了却了一桩心事), not 来了却不说 (le, "but")."""
    rest = spot.clause(1)
    return len(rest) >= 2 and rest[0].text == "却" and rest[1].tag.startswith(("u", "r", "m", "n", "q"))


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
    Rule("地", "de5", alone=True, prev_tags=("m",), test=_reduplicated),  # 三三两两地
    Rule("地", "de5", test=_long_word_final),  # 坦率地, 幸运地: an adverb pypinyin does not know
    Rule(
        "地",
        "di4",
        alone=True,
        before=(BOUNDARY, "在", "于", "块", "片", "亩", "的", "种") + NUMBERS + PLACES,
    ),
    Rule("地", "di4", alone=True, after=(BOUNDARY,)),  # 种了二十年地: the particle never ends a clause
    Rule("地", "de5", alone=True, prev_tags=("a", "d", "z", "l", "i", "v", "b", "m")),  # 认真地, 一步步地
    Rule("地", "de5", alone=True, sure=False),
    Rule("地", "de5", tags=("z", "d", "ad")),  # 默默地, 悄悄地: adverbs in the dictionary
    # 得: complement after a verb or adjective; dé before 了; děi "must" after a pronoun or adverb.
    Rule("得", "dei3", alone=True, next_words=MUST_NEXT, test=_must),  # 这伤得慢慢养
    Rule("得", "de5", word="乐得", next_tags=("l", "i", "v", "d")),  # 乐得合不拢嘴: a complement
    Rule("得", "de5", alone=True, prev_tags=("v", "a", "z")),
    Rule("得", "de2", alone=True, after=("了",)),
    Rule("得", "de2", alone=True, before=("先到先", "多劳多", "不劳而", "一举两")),
    Rule("得", "dei3", alone=True, prev_tags=("r",), next_tags=MODAL_NEXT),
    Rule("得", "dei3", alone=True, before=MODAL_ADVERBS, next_tags=MODAL_NEXT),
    Rule("得", "dei3", alone=True, prev_tags=("n",), next_tags=("v", "p"), test=_long_prev),  # 大家得抓紧
    Rule("得", "dei3", alone=True, before=(BOUNDARY,), next_tags=MODAL_NEXT + ("m", "t")),  # ，得给羊圈…
    Rule("得", "dei3", alone=True, prev_tags=("r", "t", "n"), next_tags=("m", "t", "d"), test=_must),
    Rule("得", "de5", next_tags=("d", "a", "v", "l", "i", "z"), test=_word_final),  # 呛得直咳嗽, not 摘得金牌
    Rule("得", "de5", test=_inside_word),  # 好得多, 做得好
    Rule("得", "de5", alone=True, sure=False),
    # 着: zháo "catch fire / reach" after 不, after a verb of finding before 了, or ending a clause after an
    # adverb or noun; zhe5 after any other verb or adjective.
    Rule("着", "zhao2", before=("不",)),
    Rule("着", "zhao2", alone=True, after=("了",), prev_words=FOUND),  # 找着了, 睡着了
    Rule("着", "zhao2", alone=True, after=("了",), prev_tags=("d", "n", "r", "t")),
    Rule("着", "zhuo2", word="穿着", before=("的",)),  # 他的穿着: attire
    Rule("着", "zhe5", alone=True, prev_tags=("v", "a")),
    Rule("着", "zhe5", test=_aspect),  # 看着, 梳着
    # 了: liǎo in V不了 and 了不了 (A-not-A of the verb 了 "settle").
    Rule("了", "liao3", alone=True, after=("不了",)),
    Rule("了", "liao3", alone=True, test=_settles),
    Rule("了", "liao3", alone=True, before=("终",)),  # 一曲终了
    Rule("了", "liao3", alone=True, before=("不",), after=("了", BOUNDARY), test=_in_clause("了不")),
    # 结 jiē "bear (fruit)" where fruit or trees are spoken of: 结了不少果子, 结满了; 开始结果了.
    Rule("结", "jie1", after=BEARS, test=_in_sentence(*FRUIT)),
    Rule("结", "jie1", word="结果", before=("开始", "开花", "陆续", "已经", "才", "就", "能", "会")),
    Rule("结", "jie1", word="结果", after=("多", "少", "了", "累累"), test=_in_sentence(*FRUIT)),
    Rule("结", "jie1", word="开花结果", test=_in_sentence(*FRUIT)),
    # 折 shé "break off": after 摔/刮/压 …, or 折了 ending a clause with no 把; zhē in 折跟头.
    Rule("折", "zhe1", alone=True, test=_in_clause(*TUMBLES)),
    Rule("折", "she2", alone=True, prev_words=BREAKS),
    Rule("折", "she2", alone=True, test=_in_clause("块", "元", "钱", "万")),  # 折好几百块: lose money
    Rule("折", "she2", alone=True, after=("了|", "了本", "本", "断"), test=_no_ba),
    # 系 jì "tie": before 好/上/着/紧 … or a thing that is tied.
    Rule("系", "ji4", alone=True, next_words=TIES + TIED),
    Rule("系", "ji4", alone=True, test=_in_clause(*TIED)),
    # 奔 bèn "head for": 奔着, 奔五十 (an age), 奔县城去.
    Rule("奔", "ben4", alone=True, after=("着",)),
    Rule("奔", "ben4", alone=True, next_tags=("m",)),
    Rule("奔", "ben4", alone=True, test=_then_motion),
    # 中 zhòng "hit, win": 中了…奖/标, after verbs of aiming; zhōng as a localizer (比赛中).
    Rule("中", "zhong4", alone=True, after=("了",), test=_in_clause("奖", "标", "彩", "签")),
    Rule("中", "zhong4", alone=True, prev_words=("打", "射", "击", "猜", "考", "选", "押", "砸", "踢", "投")),
    Rule("中", "zhong4", alone=True, test=_prize_not_in),  # 头一回中这么大的奖
    Rule("中", "zhong1", alone=True, tags=("f",)),
    # 还: huán "return" before a noun object, 了/给/回, or at the end of a clause.
    Rule("还", "huan2", alone=True, next_tags=("n",), test=_returned),
    Rule("还", "huan2", alone=True, next_words=("了", "给", "回", "回去", "回来") + PERSONS),
    Rule("还", "huan2", alone=True, after=(BOUNDARY,)),
    Rule("还", "hai2", alone=True, next_tags=("v", "d", "a", "p", "c", "zg", "m", "u")),  # 还没, 还很, 还在
    # 为: wèi "for" before a pronoun or a verb later in the clause; wéi "as / be" otherwise (以…为…).
    Rule("为", "wei2", test=_yi_frame),
    Rule("为", "wei2", alone=True, prev_tags=("v",), test=_becomes),  # 转化为, 改为: the result of a change
    Rule("为", "wei4", alone=True, next_words=PERSONS + ("大家", "自己", "别人", "它", "它们", "彼此", "其")),
    Rule("为", "wei4", alone=True, before=(BOUNDARY,)),  # 为方便群众…: a purpose opening the sentence
    Rule("为", "wei4", alone=True, test=_verb_follows),
    Rule("为", "wei4", alone=True, tags=("p",), test=_in_clause("办理", "提供", "服务", "解决", "测", "量")),
    Rule("为", "wei2", alone=True, sure=False),
    # 长: zhǎng "grow" before a complement or aspect particle, cháng "long" otherwise.
    Rule("长", "chang2", alone=True, before=DEGREE + ("多", "较", "不")),
    Rule("长", "zhang3", alone=True, after=GROWS),
    Rule("长", "chang2", alone=True, sure=False),
    Rule("长", "chang2", before=("期", "间", "途", "度", "远", "线", "篇", "漫", "很", "较", "太")),  # 周期长
    Rule("长", "chang2", tags=("n", "a", "b"), test=_word_start),  # 长桌, 长椅: long (长辈, 长子 are phrases)
    # Measure words after a number or demonstrative: 两只小猫 zhī, 这种 zhǒng; else 种 is zhòng "plant".
    Rule("只", "zhi1", before=NUMBERS + DEMONSTRATIVES, next_tags=("n", "a")),
    Rule("种", "zhong3", alone=True, before=NUMBERS + DEMONSTRATIVES + ("多", "何", "同", "异")),
    Rule("种", "zhong3", before=NUMBERS + DEMONSTRATIVES + ("多", "各")),  # 这种, 两种 as one word
    Rule("种", "zhong4", alone=True, next_tags=("n",)),
    Rule("种", "zhong4", alone=True, after=("了", "着", "过", "下", "出", "满")),
    Rule("种", "zhong4", alone=True, after=("的",), prev_tags=("r", "n")),  # 他种的花
    Rule("种", "zhong4", alone=True, after=("些", "上", "点", "几")),  # 只能种些杂粮, 种上了芦苇
    # 行 háng "trade": 这一行, 干一行.
    Rule("行", "hang2", alone=True, before=("这一", "那一", "哪一", "一", "这", "那"), next_tags=("v",)),
    Rule("行", "hang2", word="一行", before=("这", "那", "哪", "干", "做", "爱"), next_tags=("v", "ul")),
    # Verbs: 教 jiāo "teach", 数 shǔ "count", 量 liáng "measure", 落 là "leave behind" (把…落在…); 一觉.
    Rule("教", "jiao1", alone=True),
    Rule("教", "jiao1", word="教会", next_tags=("u", "r", "v", "d")),  # 手把手教会的 (taught), not 教会学校
    Rule("觉", "jiao4", alone=True, before=("一", "着", "睡", "午", "个好")),  # 一觉, 睡着觉: a sleep
    Rule("觉", "jiao4", word="觉醒", before=("一",)),  # 一觉醒来
    Rule("数", "shu3", alone=True, after=("一数", "了", "过", "着", "到", "一下", "不清", "不过来")),
    Rule("数", "shu3", alone=True, before=("数了", "数一")),
    Rule("数", "shu3", after=("着", "了", "过", "完", "清"), test=_word_start),  # 数着 (counting)
    Rule("量", "liang2", after=("一下", "一量", "了", "过", "体温", "血压", "身高")),
    Rule("落", "la4", alone=True, test=_earlier("把")),
    # Collocations: 和面 huó, 看孩子 kān, 冲 chòng "blunt", 姓曾 zēng, surname 曾/单, colloquial 血 xiě.
    Rule("和", "huo2", alone=True, next_words=("面", "泥")),
    Rule("和", "huo2", alone=True, after=("好面", "好泥", "了面")),
    Rule("和", "huo2", alone=True, after=("好", "得", "了"), test=_in_clause("面", "泥")),  # 面团和好后
    Rule("看", "kan1", alone=True, next_words=("孩子", "小孩", "家", "门", "摊", "大门", "仓库", "场子")),
    Rule("看", "kan1", word="看着", after=("孩子", "小孩", "家", "门", "摊", "大门", "仓库", "场子")),
    Rule("冲", "chong4", alone=True, before=DEGREE, after=(BOUNDARY, "了")),
    Rule("冲", "chong4", alone=True, next_words=PERSONS),  # 冲我笑: towards
    Rule("冲", "chong4", alone=True, prev_words=("说话", "脾气", "口气", "语气", "态度", "性子")),
    Rule("曾", "zeng1", alone=True, before=("姓",)),
    Rule("曾", "zeng1", alone=True, next_words=TITLES),  # 曾先生
    Rule("曾", "zeng1", test=_name_start),
    Rule("单", "shan4", test=_name_start),
    Rule("单", "shan4", alone=True, next_words=TITLES + ("某", "某某")),  # 单老师, 原告单某
    # Verbs alone with their own reading: 背着书包 bēi, 弹着吉他 tán, 供着佛像 gòng, 铺上 pū, 转个不停 zhuàn.
    Rule("背", "bei1", test=_carries),
    Rule("背", "bei1", after=("起", "回", "走", "进", "下山")),  # 背起, 背回家: carried
    Rule("倒", "dao3", test=_after_verb_word),  # 刮倒, 摔倒
    Rule("倒", "dao3", alone=True, next_words=("车", "班", "手", "两趟", "一趟", "几趟")),  # change (trains)
    Rule("扎", "za1", test=_in_clause(*TIED_UP)),
    Rule("划", "hua2", after=("破", "伤", "了一道口", "出血", "了个口", "开了")),
    Rule("弹", "tan2", after=("奏", "起", "唱", "琴", "拨")),
    Rule(
        "曲",
        "qu3",
        before=("一", "首", "名", "歌", "乐", "作", "戏", "舞", "序", "组", "新", "老", "这", "那"),
    ),
    Rule("切", "qie1", alone=True, tags=("v",)),
    Rule("切", "qie1", after=tuple("开成碎断片块丝段下")),  # 切开, 切成块
    Rule("落", "lao4", alone=True, after=("色", "枕")),
    Rule("称", "chen4", alone=True, after=("身", "心", "职")),
    Rule("应", "ying4", alone=True, after=("和", "声", "邀")),
    Rule("和", "he4", alone=True, before=("应", "附", "唱")),
    Rule("挣", "zheng4", after=("钱", "了钱", "到钱", "工资", "了不少", "得")),
    Rule("挣", "zheng4", alone=True),  # earn; zhēng is in 挣扎, 挣脱
    Rule("尽", "jin4", alone=True),  # 尽了义务, 应尽, 尽享: jǐn lives in 尽管, 尽快, 尽量
    Rule("吐", "tu4", alone=True, before=("又", "呕", "上吐")),
    Rule("调", "tiao2", alone=True, next_words=("馅", "味", "料", "匀", "好", "配")),
    Rule("弹", "tan2", alone=True, test=_in_clause(*STRINGS)),
    Rule("供", "gong4", alone=True, after=("着", "奉")),
    Rule("铺", "pu1", alone=True, tags=("v",), after=tuple("上满开好设了着在成些")),
    Rule("铺", "pu1", tags=("v",), test=_word_start),  # 铺上, 铺满
    Rule("转", "zhuan4", alone=True, after=("着", "个不停", "圈", "动", "了一圈", "了几圈", "一圈", "几圈")),
    Rule("干", "gan1", before=("快", "晒", "晾", "烤", "烘", "吹", "风", "擦"), after=("了", "透")),
    Rule("当", "dang4", alone=True, before=("就", "权", "只", "全"), after=("是",)),  # 就当是: treat as
    Rule("空", "kong4", alone=True, next_words=("地方", "位置", "座位", "房间", "地", "格", "当")),
    Rule("吐", "tu4", alone=True, after=("了一地", "了一身", "得满地", "了满地", "出来")),
    Rule("血", "xie3", alone=True),
    Rule("血", "xie3", word="出血", after=("了",)),
    Rule("露", "lou4", alone=True),  # the verb alone is colloquial: 露了一手, 露了馅
    Rule("西", "xi1", word="东西", after=("两", "方向", "走向", "之间", "长", "宽", "向")),  # direction
    # Common readings in common places, so that they are sure: 进行 xíng, 应按期 yīng, 曾多次 céng,
    # 空白处 chù, 当了会计 dāng. Last, so that the specific rules above win.
    Rule("行", "xing2", tags=("v",), test=_word_final),
    Rule("应", "ying1", alone=True, next_tags=("d", "p", "v", "c")),
    Rule("曾", "ceng2", alone=True, tags=("d",), next_tags=("v", "p", "d", "m")),
    Rule("处", "chu4", test=_word_final),
    Rule("处", "chu4", alone=True, before=tuple("之一多各几此何好害长短用去")),
    Rule("当", "dang1", alone=True, after=("了", "起", "上", "过", "选")),
    Rule("当", "dang1", alone=True, before=(BOUNDARY,), next_tags=("r", "n")),  # 当你需要帮助的时候
)
