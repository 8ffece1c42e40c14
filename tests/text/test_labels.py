"""Digit strings that name things: generations, service numbers, routes, rooms, models; and the quantities
that look like them and must stay numbers. Examples written for these tests (not from the digit sets)."""

from __future__ import annotations

import pytest

from tts_service.text.normalize import normalize


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("85后的青年教师", "八五后的青年教师"),
        ("不少00后选择考研", "不少零零后选择考研"),
        ("10后小学生", "一零后小学生"),
        ("两年后再说", "两年后再说"),
        ("5天后出结果", "五天后出结果"),
    ],
)
def test_generations(text: str, expected: str) -> None:
    assert normalize(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("发现火情请立即拨打了119", "发现火情请立即拨打了幺幺九"),
        ("老人摔倒后家属向120求助", "老人摔倒后家属向幺二零求助"),
        ("110报警服务台接到电话", "幺幺零报警服务台接到电话"),
        ("通过12306购票", "通过幺二三零六购票"),
        ("12345受理了市民诉求", "幺二三四五受理了市民诉求"),
        ("95533客服回应", "九五五三三客服回应"),
        ("交管12123上线新功能", "交管幺二幺二三上线新功能"),
        # The same digits as quantities.
        ("学校迎来建校110周年", "学校迎来建校一百一十周年"),
        ("120名医护人员驰援", "一百二十名医护人员驰援"),
        ("奖金12345元", "奖金一万二千三百四十五元"),
        ("共12000人参加", "共一万二千人参加"),
        ("累计访问达到12000", "累计访问达到一万二千"),
    ],
)
def test_service_numbers(text: str, expected: str) -> None:
    assert normalize(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("换乘406路公交", "换乘四零六路公交"),
        ("乘坐12路到终点", "乘坐十二路到终点"),
        ("地铁14号线开通", "地铁十四号线开通"),
        ("会议在311会议室召开", "会议在三一一会议室召开"),
        ("住在7单元1102", "住在七单元一一零二"),
        ("他住1502房间", "他住一五零二房间"),
        ("全楼共有120间教室", "全楼共有一百二十间教室"),
        ("3室2厅", "三室两厅"),
    ],
)
def test_routes_and_rooms(text: str, expected: str) -> None:
    assert normalize(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("C929宽体客机", "C九二九宽体客机"),
        ("搭乘G1102次列车", "搭乘G一一零二次列车"),
        ("波音787客机", "波音七八七客机"),
        ("歼-35亮相航展", "歼三十五亮相航展"),
        ("G20峰会", "G二十峰会"),
        ("气温降至-5℃", "气温降至零下五摄氏度"),
    ],
)
def test_models(text: str, expected: str) -> None:
    assert normalize(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("请拨打119或120", "请拨打幺幺九或幺二零"),  # the call word covers the second number of a pair
        ("12366人工服务全天在线", "幺二三六六人工服务全天在线"),  # 人工 is not the measure word 人
        ("1201至1210房间", "一二零一至一二一零房间"),  # a range of rooms
        ("以2分之差落败", "以两分之差落败"),  # 分 as points is a measure word
        ("下午3点2分到达", "下午三点二分到达"),  # but a clock's minutes keep 二
    ],
)
def test_families_missed_by_the_first_blind_set(text: str, expected: str) -> None:
    assert normalize(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("他在301医院工作", "他在三零一医院工作"),  # institutions named by number
        ("985高校和211工程", "九八五高校和二一一工程"),
        ("加入了863计划", "加入了八六三计划"),
        ("波音737-800客机", "波音七三七八百客机"),  # a variant after a hyphen is read as a minus sign
        ("记住122是交通事故报警电话", "记住幺二二是交通事故报警电话"),  # the call word is further on
        ("急救站与120联网", "急救站与幺二零联网"),  # no call word at all: only the sense says "service"
    ],
)
@pytest.mark.xfail(strict=True, reason="known misreading: number names no rule knows")
def test_known_digit_misreadings(text: str, expected: str) -> None:
    assert normalize(text) == expected
