"""Display text → spoken text: numbers, dates, times, units and codes as Mandarin words."""

from __future__ import annotations

import logging
import re

import pytest
from helpers import CORPUS
from hypothesis import given, settings
from hypothesis import strategies as st

from tts_service.text import normalize as normalize_module
from tts_service.text.normalize import normalize
from tts_service.text.numbers import cardinal, clock, decimal, digit_string, year

ASCII_DIGIT = re.compile("[0-9]")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("近4000位外国人才", "近四千位外国人才"),
        ("1600余名", "一千六百余名"),
        ("1月7日", "一月七日"),
        ("邮编：100864", "邮编：幺零零八六四"),
        ("增长5.2%", "增长百分之五点二"),
        ("3-5天", "三至五天"),
        ("2个", "两个"),
        ("第3届", "第三届"),
        ("-3℃", "零下三摄氏度"),
        ("1,024个", "一千零二十四个"),
        ("京ICP备05002857号", "京ICP备零五零零二八五七号"),
        ("14:30", "十四点三十分"),
        ("1/4", "四分之一"),
        ("350km/h", "三百五十千米每小时"),
        ("2019年", "二零一九年"),
        ("61个", "六十一个"),
        ("010-68597114", "零幺零六八五九七幺幺四"),
        ("12.5%", "百分之十二点五"),
        ("2019-2020年", "二零一九至二零二零年"),
    ],
)
def test_required_cases(text: str, expected: str) -> None:
    assert normalize(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Dates and times.
        ("2020年1月17日", "二零二零年一月十七日"),
        ("2020-01-17", "二零二零年一月十七日"),
        ("2020/1/7", "二零二零年一月七日"),
        ("2020-01", "二零二零年一月"),
        ("9:05", "九点零五分"),
        ("14:00", "十四点"),
        ("2:30", "两点三十分"),
        ("12:30:45", "十二点三十分四十五秒"),
        ("１４：３０", "十四点三十分"),
        ("14:00-17:00", "十四点至十七点"),
        ("1月7日-9日", "一月七日至九日"),
        ("1996年", "一九九六年"),
        ("© 1996 版权所有", "© 一九九六 版权所有"),
        ("2019年度", "二零一九年度"),
        ("1990年代", "一九九零年代"),
        ("1500年前", "一千五百年前"),
        ("5000年历史", "五千年历史"),
        ("近400年来", "近四百年来"),
        ("70周年", "七十周年"),
        # Cardinals.
        ("174家", "一百七十四家"),
        ("10", "十"),
        ("15", "十五"),
        ("115", "一百一十五"),
        ("1005", "一千零五"),
        ("20000", "两万"),
        ("100000000", "一亿"),
        ("14000000", "一千四百万"),
        ("1,234", "一千二百三十四"),
        ("1,234,567元", "一百二十三万四千五百六十七元"),
        ("0", "零"),
        # Decimals, percentages, fractions, operators.
        ("3.14", "三点一四"),
        ("0.5", "零点五"),
        ("100%", "百分之一百"),
        ("5‰", "千分之五"),
        ("1/3", "三分之一"),
        ("1+1=2", "一加一等于二"),
        ("7×24小时", "七乘二十四小时"),
        # Ranges.
        ("8-10人", "八至十人"),
        ("3~5天", "三至五天"),
        ("3到5天", "三到五天"),
        ("5%-10%", "百分之五至百分之十"),
        ("5-10%", "百分之五至百分之十"),
        ("2019-2020", "二零一九至二零二零"),
        ("1000-2000元", "一千至两千元"),
        # Signs and temperatures.
        ("-5", "负五"),
        ("-5%", "负百分之五"),
        ("气温-3~5℃", "气温零下三至五摄氏度"),
        ("温度为-10°C", "温度为零下十摄氏度"),
        ("5℃", "五摄氏度"),
        # Units.
        ("3-5km", "三至五千米"),
        ("100m", "一百米"),
        ("5m长", "五米长"),
        ("5mm", "五毫米"),
        ("3cm", "三厘米"),
        ("2kg", "两千克"),
        ("500g", "五百克"),
        ("2.5t", "二点五吨"),
        ("100m²", "一百平方米"),
        ("50 GB", "五十吉字节"),
        ("512MB", "五百一十二兆字节"),
        ("60kW", "六十千瓦"),
        ("5m/s", "五米每秒"),
        ("3元/斤", "三元每斤"),
        ("5G手机", "五G手机"),  # not a unit: the letter is read as a letter
        # Currency.
        ("￥100", "一百元"),
        ("¥100", "一百元"),
        ("100元", "一百元"),
        ("$5", "五美元"),
        ("$1.5亿", "一点五亿美元"),
        ("€20", "二十欧元"),
        ("3.5亿元", "三点五亿元"),
        ("4.6万次", "四点六万次"),
        # Ordinals and scores.
        ("第2", "第二"),
        ("第1-2名", "第一至二名"),
        ("3:2", "三比二"),
        ("1:1000", "一比一千"),
        ("以3:1击败对手", "以三比一击败对手"),
        ("比分21:19", "比分二十一比十九"),
        ("以21:19获胜", "以二十一比十九获胜"),
        ("以14:30为准", "以十四点三十分为准"),
        # Codes read digit by digit, 1 as 幺.
        ("86 10 68597114", "八六 幺零 六八五九七幺幺四"),
        ("电话: 86 10 68597114(总机)", "电话: 八六 幺零 六八五九七幺幺四(总机)"),
        ("0571-8765 4321", "零五七幺八七六五 四三二幺"),
        ("12345热线", "幺二三四五热线"),
        ("拨打12345", "拨打幺二三四五"),
        ("400-810-5888", "四零零八幺零五八八八"),
        ("京公网安备110402500047号", "京公网安备幺幺零四零二五零零零四七号"),
        ("京ICP备05002857号-1", "京ICP备零五零零二八五七号-幺"),
        ("网站标识码bm48000002", "网站标识码bm四八零零零零零二"),
        ("身份证号：110105194912310021", "身份证号：幺幺零幺零五幺九四九幺二三幺零零二幺"),
        ("编号：2019001", "编号：二零幺九零零幺"),
        ("1234567", "幺二三四五六七"),
        ("007", "零零七"),
        ("A380", "A三八零"),
        # Acronyms and letters stay for the next stage to spell.
        ("GDP增长", "GDP增长"),
        ("ANSO-CAS奖学金", "ANSO-CAS奖学金"),
        ("CKDu病区", "CKDu病区"),
        ("APP和AI", "APP和AI"),
        ("G20峰会", "G二十峰会"),
        ("PM2.5", "PM二点五"),
        ("COVID-19", "COVID-十九"),
        ("1.2.3版本", "一点二点三版本"),
    ],
)
def test_coverage(text: str, expected: str) -> None:
    assert normalize(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # 两 before measure words, a lone 2 only; 二 in dates, ordinals, larger numbers and decimals.
        ("2个", "两个"),
        ("2台", "两台"),
        ("2家", "两家"),
        ("2位", "两位"),
        ("2名", "两名"),
        ("2万", "两万"),
        ("2亿", "两亿"),
        ("2千", "两千"),
        ("2年", "两年"),
        ("2个月", "两个月"),
        ("2000人", "两千人"),
        ("1-2个", "一至两个"),
        ("手机2部", "手机两部"),
        ("12个", "十二个"),
        ("22个", "二十二个"),
        ("第2个", "第二个"),
        ("2月", "二月"),
        ("2月2日", "二月二日"),
        ("2号", "二号"),
        ("2年级", "二年级"),
        ("2.5万", "二点五万"),
        ("2%", "百分之二"),
        ("200元", "二百元"),
        ("2019年", "二零一九年"),
        ("1/2", "二分之一"),
    ],
)
def test_liang_or_er(text: str, expected: str) -> None:
    assert normalize(text) == expected


@pytest.mark.parametrize(
    ("digits", "expected"),
    [("1", "一"), ("10", "十"), ("11", "十一"), ("20", "二十"), ("101", "一百零一"), ("110", "一百一十"),
     ("1010", "一千零一十"), ("10005", "一万零五"), ("10500", "一万零五百"), ("110000", "十一万"),
     ("100010000", "一亿零一万"), ("2200", "两千二百"), ("000", "零"), ("1" * 17, "幺" * 17)],
)  # fmt: skip
def test_cardinal(digits: str, expected: str) -> None:
    assert cardinal(digits) == expected


def test_number_helpers() -> None:
    assert digit_string("0101") == "零幺零幺"
    assert year("2011") == "二零一一"
    assert (
        decimal("2") == "二" and decimal("2", liang=True) == "两" and decimal("2.0", liang=True) == "二点零"
    )
    assert clock("2", "00") == "两点"
    assert clock("9", "05") == "九点零五分"
    assert clock("14", "00", "05") == "十四点零分零五秒"


def test_lines_are_kept() -> None:
    assert normalize("2个\n\n第3届\r\n近4000位") == "两个\n\n第三届\r\n近四千位"
    assert normalize("") == ""
    assert normalize("\n") == "\n"
    assert normalize("&#10;3") == "三"  # an escaped newline does not become a line
    assert normalize("3<br>4") == "三 四"


# --- the real page -----------------------------------------------------------------------------------


def test_corpus_page() -> None:
    lines = CORPUS.read_text(encoding="utf-8").split("\n")
    spoken = normalize("\n".join(lines)).split("\n")
    assert len(spoken) == len(lines)
    for line, out in zip(lines, spoken, strict=True):
        assert normalize(line) == out
        assert not ASCII_DIGIT.search(out), out
        if line.strip():
            assert out.strip(), line
    text = "\n".join(spoken)
    assert "澳门赌场与全球六十一个国家的一百七十四家机构签署了院级协议" in text
    assert "邮编:幺零零八六四" in text
    assert "京ICP备零五零零二八五七号-幺 京公网安备幺幺零四零二五零零零四七号" in text
    assert "电话: 八六 幺零 六八五九七幺幺四(总机) 八六 幺零 六八五九七二八九(总值班室)" in text
    assert "(二零二零年一月十七日)" in text and "设立了ANSO-CAS奖学金" in text


# --- bad input -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("我爱你😀👍🏽", "我爱你"),
        ("😀", ""),
        ("第3届 Summit on AI", "第三届 Summit on AI"),
        ("１２３４５６７８９", "幺二三四五六七八九"),
        ("全角　空格３个，全角标点！", "全角 空格三个，全角标点！"),
        ("這是繁體字，共2個", "這是繁體字，共两個"),
        ("1" * 200, "幺" * 200),
        ("没有标点的句子3个人5天2019年", "没有标点的句子三个人五天二零一九年"),
        ("<p>共<b>3</b>个</p>", "共三个"),
        ("<div class='x'>A&amp;B 5&nbsp;km</div>", "A&B 五千米"),
        ("a &lt;3&gt;", "a <三>"),
        ("<br>", ""),
        ("3<5", "三<五"),
        ("①②", "一二"),
    ],
)
def test_bad_input(text: str, expected: str) -> None:
    assert normalize(text) == expected


def test_a_failing_rule_falls_back_and_logs(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(m: re.Match[str]) -> str:
        raise RuntimeError("bug")

    monkeypatch.setattr(normalize_module, "_rules", lambda: ((re.compile("[0-9]+"), broken),))
    with caplog.at_level(logging.ERROR, logger=normalize_module.__name__):
        assert normalize("共3个\n好") == "共三个\n好"
    assert "normalisation failed" in caplog.text


# --- properties --------------------------------------------------------------------------------------

BOUNDED = settings(max_examples=300, deadline=None, database=None)
PIECES = st.sampled_from(
    ["2", "19", "2019", "0", "3.5", "1,024", "-", "~", ":", "：", "/", ".", ",", "%", "℃", "km", "m", "/h",
     "￥", "$", "年", "月", "日", "个", "第", "电话", "邮编", "ICP备", "号", "比分", "以", " ", "\u3000",
     "１", "\n", "\r", "<b>", "</p>", "&amp;", "&#10;", "😀", "\u200d", "ANSO", "繁體", "①", "+", "="]
)  # fmt: skip
TEXTS = st.one_of(
    st.text(max_size=80), st.lists(st.one_of(PIECES, st.text(max_size=3)), max_size=40).map("".join)
)
MARKUP = re.compile(r"<!--.*?-->|</?[A-Za-z][^<>]*>|&#?[A-Za-z0-9]+;")  # never read aloud


@BOUNDED
@given(TEXTS)
def test_never_raises_and_keeps_lines(text: str) -> None:
    spoken = normalize(text)
    assert spoken.count("\n") == text.count("\n")
    assert not ASCII_DIGIT.search(spoken)
    for line, out in zip(text.split("\n"), spoken.split("\n"), strict=True):
        if re.search(r"\w", MARKUP.sub("", line)):
            assert re.search(r"\w", out), (line, out)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # issue 14: m·d date labels are read digit by digit
        ("3·15", "三一五"),
        ("“5·12”汶川地震", "“五一二”汶川地震"),
        ("“10•1”假期", "“一零一”假期"),
        ("中·美", "中·美"),
        ("13·5", "十三·五"),  # not a month: left as it was
        # issue 14: money drops trailing zeros after the point
        ("1,299.50元", "一千二百九十九点五元"),
        ("1,299.00元", "一千二百九十九元"),
        ("￥88.80", "八十八点八元"),
        ("5.60亿元", "五点六亿元"),
        ("12.05元", "十二点零五元"),
        ("2.00元", "两元"),
        ("2.50米", "二点五零米"),  # a measurement keeps its precision
        # issue 14: e-mail addresses and URLs read their punctuation
        ("info@gov.cn", "info艾特gov点cn"),
        ("dept_01@city-a.gov.cn", "dept下划线零幺艾特city横杠a点gov点cn"),
        ("https://www.gov.cn/zhengce/", "www点gov点cn斜杠zhengce"),
        ("访问 http://example.com/a/b.html?x=1#top 查看", "访问 example点com斜杠a斜杠b点html 查看"),
        ("见www.12345.gov.cn。", "见www点幺二三四五点gov点cn。"),
        ("12306.cn", "幺二三零六点cn"),
        ("@新华社", "@新华社"),
        ("report.docx", "report.docx"),
        ("版本2.0.1", "版本二点零点一"),
    ],
)
def test_issue_14_slips(text: str, expected: str) -> None:
    assert normalize(text) == expected
