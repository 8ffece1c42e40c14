"""SSML ``<say-as>``: the Chinese spoken form of its content for each ``interpret-as``, with numbers.py's
readings (the same ones normalisation gives a number in context), so that SSML only chooses the reading.

- ``digits``: digit by digit with 1 as 一 (2019 → 二零一九); spaces between groups stay.
- ``cardinal``: a quantity (2019 → 两千零一十九; 1,024 and 3.14 too; -5 → 负五).
- ``ordinal``: 第 and the cardinal (3 → 第三).
- ``telephone``: digit by digit with 1 as 幺 (12345678 → 幺二三四五六七八); + ( ) - are dropped, spaces stay.
- ``date``: 年月日 with the year digit by digit (2019-03-05, 2019/3/5, 2019.3.5 or 2019年3月5日 →
  二零一九年三月五日). ``format`` (ymd, dmy, mdy, ym, md, y …) says which field is which; without it, three
  fields starting with a four-digit year are ymd, two are ym.
- ``characters``: one character at a time, separated by spaces (ABC → "A B C"; engines spell letters one by
  one, digits are 一 二 三, Han characters are themselves).
"""

from __future__ import annotations

import re
import unicodedata

from tts_service.errors import InvalidSSML
from tts_service.text.numbers import cardinal, decimal, digit_string, year

INTERPRETATIONS = ("digits", "cardinal", "ordinal", "telephone", "date", "characters")
_DIGITS = re.compile(r"[0-9]+(?: [0-9]+)*")
_CARDINAL = re.compile(r"(-?)([0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?|[0-9]+(?:\.[0-9]+)?)")
_TELEPHONE = re.compile(r"\+?[0-9( )-]*[0-9][0-9( )-]*")
_CHINESE_DATE = re.compile(r"(?:([0-9]+)年)?(?:([0-9]+)月)?(?:([0-9]+)[日号])?")
_FORMAT = re.compile(r"(?!.*(.).*\1)[ymd]{1,3}")  # each of y, m, d at most once, in any order


def spoken(interpret_as: str, content: str, format: str | None = None) -> str:
    """How ``content`` (whitespace already collapsed) is said as ``interpret_as``; InvalidSSML naming the
    element when the type is unknown or the content cannot be read as that type."""
    if interpret_as not in INTERPRETATIONS:
        raise InvalidSSML(
            f'<say-as interpret-as="{interpret_as}"> is not supported; '
            f"use one of {', '.join(INTERPRETATIONS)}"
        )
    if format is not None and interpret_as != "date":
        raise InvalidSSML(
            f'<say-as interpret-as="{interpret_as}"> takes no format attribute (only date does)'
        )
    text = unicodedata.normalize("NFKC", content).strip()  # full-width digits and letters as ASCII
    if not text:
        raise InvalidSSML(f'<say-as interpret-as="{interpret_as}"> is empty')
    if interpret_as == "date":
        return _date(text, format)
    if interpret_as == "characters":
        return " ".join(year(c) if c in "0123456789" else c for c in text if not c.isspace())
    if interpret_as == "telephone" and _TELEPHONE.fullmatch(text):
        return " ".join(digit_string(re.sub(r"[-+()]", "", text)).split())
    if interpret_as == "digits" and _DIGITS.fullmatch(text):
        return year(text)
    number = _CARDINAL.fullmatch(text)
    if interpret_as == "cardinal" and number:
        return ("负" if number[1] else "") + decimal(number[2])
    if interpret_as == "ordinal" and text.isascii() and text.isdigit():
        return "第" + cardinal(text)
    raise InvalidSSML(f'<say-as interpret-as="{interpret_as}"> cannot read {content!r} as {interpret_as}')


def _date(text: str, format: str | None) -> str:
    """年月日 from a written date, in that order whatever order it was written in."""
    if format is not None and not _FORMAT.fullmatch(format):
        raise InvalidSSML(f'<say-as format="{format}"> is not a date format (ymd, dmy, mdy, ym, md, y …)')
    compact = text.replace(" ", "")
    chinese = _CHINESE_DATE.fullmatch(compact)
    if chinese and any(chinese.groups()):
        fields = dict(zip("ymd", chinese.groups(), strict=True))
    else:
        parts = re.split(r"[-/.]", compact)
        guess = {3: "ymd", 2: "ym", 1: "y"}.get(len(parts)) if len(parts[0]) == 4 else None
        order = format or guess
        if not order or len(order) != len(parts) or not all(p.isascii() and p.isdigit() for p in parts):
            hint = f'format="{format}"' if format else "a date (2019-03-05, 2019年3月5日) or a format"
            raise InvalidSSML(f'<say-as interpret-as="date"> cannot read {text!r} with {hint}')
        fields = dict(zip(order, parts, strict=True))
    y, m, d = fields.get("y"), fields.get("m"), fields.get("d")
    if (m and not 1 <= int(m) <= 12) or (d and not 1 <= int(d) <= 31):
        raise InvalidSSML(f'<say-as interpret-as="date"> has no such month or day: {text!r}')
    return (
        (year(y) + "年" if y else "") + (cardinal(m) + "月" if m else "") + (cardinal(d) + "日" if d else "")
    )
