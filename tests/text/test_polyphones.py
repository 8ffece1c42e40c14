"""Polyphones read from context: key cases, the rule table's sanity, and the accuracy gate on the test set."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from helpers import DATA
from hypothesis import given, settings
from hypothesis import strategies as st
from pypinyin import Style, lazy_pinyin, pinyin

from tts_service.text import polyphones
from tts_service.text.pinyin import Syllable, lexical_tokens, tagged_words, tokens, words

TSV = DATA / "polyphones.tsv"
HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def reading(marked: str) -> str:
    """The lexical reading of the one character in [brackets]: 去银[行]办事 → hang2."""
    index = len(HAN.findall(marked[: marked.index("[")]))
    text = marked.replace("[", "").replace("]", "")
    return [t.pinyin for t in lexical_tokens(text) if isinstance(t, Syllable) and HAN.match(t.text)][index]


@pytest.mark.parametrize(
    ("marked", "expected"),
    [
        ("他在银[行]上班", "hang2"),
        ("沿着河边慢慢[行]走", "xing2"),
        ("孩子一天天[长]大了", "zhang3"),
        ("[长]江流域", "chang2"),
        ("这条路太[长]了", "chang2"),
        ("你[还]是别去了", "hai2"),
        ("我去图书馆[还]书", "huan2"),
        ("借的钱要按时[还]。", "huan2"),
        ("他慢慢[地]走过来", "de5"),
        ("大家认真[地]听讲", "de5"),
        ("这片土[地]很肥沃", "di4"),
        ("孩子摔倒在[地]上", "di4"),
        ("天晚了，我[得]走了", "dei3"),
        ("他跑[得]很快", "de5"),
        ("他[得]到了表扬", "de2"),
        ("她[得]了第一名", "de2"),
        ("他[重]新写了一遍", "chong2"),
        ("这件事很[重]要", "zhong4"),
        ("我[了]解你的想法", "liao3"),
        ("你放心好[了]", "le5"),
        ("早晨的[朝]阳", "zhao1"),
        ("窗户[朝]南开", "chao2"),
        ("北京是中国的首[都]", "du1"),
        ("大家[都]是朋友", "dou1"),
        ("[为]了完成任务", "wei4"),
        ("她成[为]一名医生", "wei2"),
        ("他被指控[为]间谍", "wei2"),
        ("政府[为]灾区提供物资", "wei4"),
        ("以人民[为]中心", "wei2"),
        ("他笑[着]说", "zhe5"),
        ("别[着]急", "zhao2"),
        ("已经[着]手准备", "zhuo2"),
        ("火终于[着]了", "zhao2"),
        ("名人[传]记", "zhuan4"),
        ("警方正在[调]查", "diao4"),
        ("需要[调]整计划", "tiao2"),
        ("她的头[发]很长", "fa5"),
        ("尽快[处]理", "chu3"),
        ("他是处[长]", "zhang3"),
        ("他是[处]长", "chu4"),
        ("两个方案[差]不多", "cha4"),
        ("他去广州出[差]", "chai1"),
        ("城乡[差]别", "cha1"),
        ("奶奶在[和]面", "huo2"),
        ("屋里很暖[和]", "huo5"),
        ("我[和]你", "he2"),
        ("她买了两[只]小猫", "zhi1"),
        ("[只]有努力才行", "zhi3"),
        ("这[只]是开始", "zhi3"),
        ("人[参]很名贵", "shen1"),
        ("去西[藏]旅游", "zang4"),
        ("[曾]经来过", "ceng2"),
        ("他姓[曾]", "zeng1"),
        ("[单]于是匈奴的君主", "chan2"),
        ("工作效[率]", "lv4"),
        ("[率]领部队", "shuai4"),
        ("喜欢音[乐]", "yue4"),
        ("生日快[乐]", "le4"),
        ("该睡[觉]了", "jiao4"),
        ("这件衣服很[便]宜", "pian2"),
        ("市场供[给]", "ji3"),
        ("老人在牌位前上[供]", "gong4"),
        ("先[量]一下体温", "liang2"),
        ("你[数]一数", "shu3"),
        ("忙着[种]玉米", "zhong4"),
        ("这[种]水果", "zhong3"),
        ("妈妈[教]我做饭", "jiao1"),
        ("我[相]信你", "xiang1"),
        ("在门口照[相]", "xiang4"),
        ("把它[当]作锻炼", "dang4"),
        ("灾[难]", "nan4"),
        ("有[空]来玩", "kong4"),
        ("[应]该早点走", "ying1"),
        ("答[应]了", "ying5"),
        ("[少]年时代", "shao4"),
        ("他的爱[好]", "hao4"),
        ("[要]求很高", "yao1"),
        ("专人[看]守", "kan1"),
        ("说话太[冲]了", "chong4"),
        ("房[间]很大", "jian1"),
        ("[将]军", "jiang1"),
        ("上[将]", "jiang4"),
        ("敌人投[降]了", "xiang2"),
        ("洪水淹[没]了农田", "mo4"),
        ("把钥匙[落]在家里", "la4"),
        ("[给]予支持", "ji3"),
        ("很少[露]面", "lou4"),
        ("[薄]荷糖", "bo4"),
        ("流[血]事件", "xue4"),
        ("手指出[血]了", "xie3"),
        ("咳了一口[血]", "xie3"),
        ("我的好朋[友]", "you5"),
        ("买了很多东[西]", "xi5"),
        ("分成东[西]两半", "xi1"),
        ("王先[生]", "sheng5"),
        ("这件事[情]", "qing5"),
        ("我不知[道]", "dao5"),
        ("什么时[候]", "hou5"),
        ("我听明[白]了", "bai5"),
        ("什么意[思]", "si5"),
        ("好好休[息]", "xi5"),
        ("这个好消[息]", "xi5"),
    ],
)
def test_key_polyphones(marked: str, expected: str) -> None:
    assert reading(marked) == expected


# Issue 15's families, with examples written for these tests (none from the dev or blind sets).
@pytest.mark.parametrize(
    ("marked", "expected"),
    [
        ("这事你[得]管", "dei3"),
        ("明天还[得]早起", "dei3"),
        ("天黑了，[得]赶紧想办法", "dei3"),
        ("我每天[得]八点到岗", "dei3"),
        ("这伤[得]慢慢养", "dei3"),
        ("他说[得]很对", "de5"),
        ("她[得]了冠军", "de2"),
        ("了[了]却心愿", "liao3"),
        ("高兴得不得[了]", "liao3"),
        ("这件事[了]不了", "liao3"),
        ("他来[了]却不进门", "le5"),
        ("一夜睡不[着]", "zhao2"),
        ("钥匙找[着]了", "zhao2"),
        ("已经[着]手准备", "zhuo2"),
        ("他笑[着]说", "zhe5"),
        ("桃树[结]了很多桃子", "jie1"),
        ("调查[结]果显示", "jie2"),
        ("树枝被风刮[折]了", "she2"),
        ("这笔生意[折]了本", "she2"),
        ("他把纸[折]了起来", "zhe2"),
        ("出门前[系]好鞋带", "ji4"),
        ("天冷，[系]上围巾", "ji4"),
        ("两国关[系]", "xi4"),
        ("下了飞机直[奔]会场", "ben4"),
        ("大家[奔]着目标去", "ben4"),
        ("他是[奔]六十的人了", "ben4"),
        ("孩子们在操场上[奔]跑", "ben1"),
        ("他[中]了头奖", "zhong4"),
        ("一箭射[中]靶心", "zhong4"),
        ("在比赛[中]受伤", "zhong1"),
        ("他在这一[行]干了二十年", "hang2"),
        ("[为]考生排忧解难", "wei4"),
        ("太阳能可以转化[为]电能", "wei2"),
        ("志愿者[为]老人打扫房间", "wei4"),
        ("北京、上海等[地]的游客", "di4"),
        ("大风把广告牌刮[倒]了", "dao3"),
        ("她把头发[扎]成马尾", "za1"),
        ("手被玻璃[划]破了", "hua2"),
        ("他[弹]奏了一首钢琴曲", "tan2"),
        ("合唱团演唱了一[曲]民歌", "qu3"),
        ("把西瓜[切]开", "qie1"),
        ("出去打工[挣]钱", "zheng4"),
        ("游客[尽]享美景", "jin4"),
        ("他终于[中]了一等奖", "zhong4"),
        ("在这次抽奖[中]", "zhong1"),
        ("战士[背]起受伤的老乡", "bei1"),
        ("他[背]课文背得很熟", "bei4"),
        ("呛[得]直流眼泪", "de5"),
        ("这种布料容易[落]色", "lao4"),
    ],
)
def test_issue_15_families(marked: str, expected: str) -> None:
    assert reading(marked) == expected


@pytest.mark.parametrize(
    ("marked", "expected"),
    [
        ("他翻了个跟头，又[折]了一个", "zhe1"),  # the 跟头 that makes 折 zhē is in the previous clause
        ("他看病[得]倒三趟公交", "dei3"),  # after a verb, 得 + verb reads as a complement's de
        ("医生叮嘱说[得]多喝水", "dei3"),  # the same after a verb of saying
        ("梁山好汉一百单八[将]", "jiang4"),  # an idiom the dictionaries lack
        ("手机又[落]家里了", "la4"),  # là "leave behind" needs a 把 before it to be recognised
        ("那块地种什么都不[长]", "zhang3"),  # 不长 "does not grow" reads as 不长 "not long"
        ("队员们[为]烈士敬献花篮", "wei4"),  # jieba tags 敬献 as a name, so no verb follows
        ("他生病[落]下了不少功课", "la4"),  # 落下 reads luò by default (落下帷幕)
        ("这条公路横贯东[西]", "xi1"),  # direction without a following cue (两, 方向 …)
    ],
)
@pytest.mark.xfail(strict=True, reason="known limitation of the context rules")
def test_known_misreadings(marked: str, expected: str) -> None:
    assert reading(marked) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("只有", "zhi2 you3"),  # zhǐ, then 3+3 sandhi
        ("一只猫", "yi4 zhi1 mao1"),  # zhī is not a third tone: 一 becomes yì
        ("我得走了", "wo3 dei2 zou3 le5"),  # děi, then 3+3 across words
        ("还书", "huan2 shu1"),
    ],
)
def test_sandhi_runs_on_resolved_readings(text: str, expected: str) -> None:
    assert " ".join(t.pinyin for t in tokens(text) if isinstance(t, Syllable)) == expected


def decisions(text: str) -> dict[str, tuple[str, str, bool]]:
    """Each polyphone of the text: its reading, how it was decided and whether that is sure."""
    return {
        t.text: (t.pinyin, t.decision.how, t.decision.sure)
        for t in lexical_tokens(text)
        if isinstance(t, Syllable) and t.decision is not None
    }


def test_every_polyphone_reading_says_how_it_was_decided() -> None:
    got = decisions("我们得抓紧，去银行把钱卷走，的确如此")
    assert got["得"] == ("dei3", polyphones.How.RULE, True)  # a specific rule
    assert got["行"] == ("hang2", polyphones.How.PHRASE, True)  # 银行
    assert got["的"] == ("di2", polyphones.How.PHRASE, True)  # 的确
    assert got["把"] == ("ba3", polyphones.How.USUAL, True)  # bà needs a phrase (刀把)
    assert got["卷"][1:] == (polyphones.How.DEFAULT, False)  # juǎn or juàn: a guess
    assert "我" not in got and "们" not in got  # not polyphones


def test_fallback_rules_are_unsure() -> None:
    assert decisions("这样为好")["为"] == ("wei2", polyphones.How.RULE, False)  # "otherwise wéi"
    fallbacks = [r for r in polyphones.RULES if not r.sure]
    assert fallbacks and all(r.alone and not (r.before or r.after or r.next_tags) for r in fallbacks)


def test_polyphones_are_characters_with_distinct_readings() -> None:
    assert all(map(polyphones.ambiguous, "行长得了着中系奔的和"))
    assert not any(map(polyphones.ambiguous, "我们是子一不"))  # 子 zǐ / zi is one reading; 一 不 are sandhi


def test_rule_readings_are_readings_of_their_characters() -> None:
    for rule in polyphones.RULES:
        known = pinyin(rule.char, heteronym=True, style=Style.TONE3, neutral_tone_with_five=True)[0]
        assert rule.reading in known, rule


def test_phrase_overrides_have_a_syllable_per_character() -> None:
    for word, readings in polyphones.PHRASES.items():
        assert len(readings.split()) == len(word), word
    assert all(len(word) >= 2 for word in polyphones.NEUTRAL_LAST)


def test_overrides_load_once_into_pypinyin() -> None:
    polyphones.load()
    polyphones.load()
    assert lazy_pinyin("朋友", style=Style.TONE3, neutral_tone_with_five=True) == ["peng2", "you5"]
    assert lazy_pinyin("老朋友", style=Style.TONE3, neutral_tone_with_five=True) == ["lao3", "peng2", "you5"]


# Han (with polyphones), punctuation and spaces, letters, digits, symbols; 𢛝 has no reading in pypinyin.
CHARS = "行长还地得了着为只种教数量血的是我他书走很快一不" + "，。！ \n\u3000" + "AZ09😀㎡ＡＩ１𢛝"
TEXT = st.text(alphabet=CHARS, max_size=30)


@settings(deadline=None)
@given(TEXT)
def test_every_han_character_gets_one_syllable(text: str) -> None:
    assert "".join(w for w, _ in tagged_words(text)) == text
    assert "".join(words(text)) == text
    syllables = [t for t in lexical_tokens(text) if isinstance(t, Syllable) and HAN.match(t.text)]
    assert "".join(s.text for s in syllables) == "".join(HAN.findall(text))


def scores(*paths: Path) -> tuple[dict[str, int], dict[str, int]]:
    """Right and scored characters per split (and "all") of polyphone test files."""
    right: dict[str, int] = {}
    total: dict[str, int] = {}
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip() or line.startswith("#"):
                continue
            sentence, expected, scored, split = line.split("\t")
            syllables = [t for t in lexical_tokens(sentence) if isinstance(t, Syllable)]
            got = [t.pinyin for t in syllables if HAN.match(t.text)]
            want = expected.split()
            assert len(got) == len(want), sentence
            for key in (split, "all"):
                total[key] = total.get(key, 0) + len(scored.split())
                right[key] = right.get(key, 0) + sum(got[int(i)] == want[int(i)] for i in scored.split())
    return right, total


def test_accuracy_on_the_test_set() -> None:
    """The quality gate on the dev sets: ≥ 99% of the scored characters overall, ≥ 97% on each split."""
    right, total = scores(TSV)
    assert total["all"] >= 4000 and total["held-out"] >= 200
    assert right["all"] / total["all"] >= 0.99, right
    assert all(right[k] / total[k] >= 0.97 for k in total), right


def test_accuracy_on_the_blind_sets() -> None:
    """A regression gate on issue 15's blind sets (never used to write rules): at least what they scored
    on the rules they were reported on, less a little slack (held-out-2 98.0%, held-out-3 97.6%)."""
    right, total = scores(DATA / "polyphones_held_out_2.tsv", DATA / "polyphones_held_out_3.tsv")
    assert total["held-out-2"] >= 1300 and total["held-out-3"] >= 1100
    assert right["held-out-2"] / total["held-out-2"] >= 0.975, right
    assert right["held-out-3"] / total["held-out-3"] >= 0.97, right
