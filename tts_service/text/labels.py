"""Digit strings that name things rather than count them, read digit by digit as people say them.

- Generations: a two-digit cohort before 后 (80后 → 八零后, 00后 → 零零后); 5年后 is a time, not a label.
- Service numbers: the public-service and customer-service numbers people call (12345, 12306, 95588, 10086),
  and the emergency numbers 110, 119, 120, 122, 114, 999 where a call is meant (拨打了119, 向120求助, 110
  报警): digit by digit with 1 as 幺, as on the phone. The same digits before a measure word count
  (建校110周年, 120名医护人员, 12345元) and stay numbers.
- Routes: 3+ digits before 路 (302路 → 三零二路); 1-2 digits stay numbers (11路 → 十一路).
- Rooms: 3+ digits before 室, 房间, 宿舍, 病房 …, or after 单元 (3单元402 → 三单元四零二).
- Models: 波音737 → 波音七三七; Chinese military models with a hyphen read as numbers, the hyphen silent
  (歼-20 → 歼二十). Digits glued to Latin letters are normalize's `_after_letters`.

Each rule is a compiled pattern and a function from its match to the spoken text, as in `normalize`; they
run after the code words (电话, 邮编 …) and before phone numbers and quantities. Pure code.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from tts_service.text.numbers import cardinal, digit_string, year

Rule = tuple[re.Pattern[str], Callable[[re.Match[str]], str]]

_START = r"(?<![0-9A-Za-z.:：\-/])"  # not inside a longer number, code, time or range
_END = r"(?![0-9]|[.:：][0-9])"
# Five-digit service numbers: the 12xxx government lines, the 95xxx bank and insurer lines, 100xx carriers,
# 96xxx local lines; not round (12000, 95000 are amounts).
_SERVICE = r"(?:12[1-3][0-9]{2}|95[0-9]{3}|100[0-9]{2}|96[0-9]{3})"
_EMERGENCY = r"(?:110|119|120|122|114|999|10000)"
_CALL_BEFORE = (
    r"(?:拨打|拨通|回拨|拨|打|致电|呼叫|求助|报警|联系|转接|通过|向|即拨|请拨|可拨|直拨)了?\s*[“\"「]?$"
)
_CALL_AFTER = (
    r"\s*[”\"」]?(?:报警|急救|求助|指挥|接警|救护|电话|热线|平台|客服|服务|中心|出警|民警|消防|专线|接线|"
    r"查询|举报|投诉|反映|官方|网站|提醒|短信|APP|App|app)"
)
# Another service number joined to the one before (拨打110和120): the call word covers both.
_CHAIN_BEFORE = r"(?:[0-9]{3,5}|[幺零一二三四五六七八九]{3,5})\s*(?:和|或|或者|、|及|与|/)\s*$"
# Compiled once: ``service`` runs for every candidate number, and the lexicon purges re's own cache.
_CALLED_BEFORE = re.compile(_CALL_BEFORE)
_CALLED_AFTER = re.compile(_CALL_AFTER)
_CHAINED = re.compile(_CHAIN_BEFORE)
_LISTED = re.compile(_SERVICE)
# Words that start with a measure word's character but are not one (12333人社服务热线, 12366人工服务).
_NOT_COUNTED = ("人社", "人工", "人力", "人民", "人事", "人寿", "人保", "人防", "人行", "人大", "人才")
_ROOM_AFTER = "室|房间|房|宿舍|病房|办公室|教室|会议室|诊室|机房|寝室"
_MILITARY = "歼|运|轰|直|强|教|东风|红旗|鹰击|巨浪|长剑|霹雳|空警|翼龙|彩虹|无侦|攻击|海红旗"


def _rooms(m: re.Match[str]) -> str:
    """A range of rooms, 601至620房间: both ends digit by digit."""
    return year(m["a"]) + "至" + year(m["b"])


def _military(m: re.Match[str]) -> str:
    return m["pre"] + cardinal(m["num"])


def label_rules(quantity_after: re.Pattern[str]) -> tuple[Rule, ...]:
    """The rules, given the pattern of what makes a number a quantity (a measure word, unit or currency
    right after it)."""

    def service(m: re.Match[str]) -> str:
        number, before = m["num"], m.string[max(0, m.start() - 12) : m.start()]
        counted = quantity_after.match(m.string, m.end()) is not None
        counted = counted and not m.string.startswith(_NOT_COUNTED, m.end())
        called = _CALLED_BEFORE.search(before[-8:]) is not None
        called = called or _CALLED_AFTER.match(m.string, m.end()) is not None
        called = called or _CHAINED.search(before) is not None
        listed = _LISTED.fullmatch(number) is not None and not number.endswith("00")
        return digit_string(number) if not counted and (called or listed) else number

    return tuple(
        (re.compile(p), f)
        for p, f in (
            (rf"{_START}(?P<num>[0-9]{{2}})(?=后)", lambda m: year(m["num"])),
            (rf"{_START}(?P<num>{_SERVICE}|{_EMERGENCY}){_END}", service),
            (rf"{_START}(?P<num>[0-9]{{3,}})(?=路)", lambda m: year(m["num"])),
            (rf"{_START}(?P<a>[0-9]{{3,}})\s?[至到~～\-–]\s?(?P<b>[0-9]{{3,}})(?=(?:{_ROOM_AFTER}))", _rooms),
            (rf"{_START}(?P<num>[0-9]{{3,}})(?=(?:{_ROOM_AFTER}))", lambda m: year(m["num"])),
            (r"(?<=单元)(?P<num>[0-9]{3,4})(?![0-9]|[户人名个套间])", lambda m: year(m["num"])),
            (r"(?<=波音)\s?(?P<num>[0-9]{3})(?![0-9])", lambda m: year(m["num"])),
            (rf"(?P<pre>{_MILITARY})[-－](?P<num>[0-9]{{1,3}})(?![0-9])", _military),
        )
    )
