"""Arabic numbers → Mandarin readings: cardinals, decimals, years, digit strings, clock times.

Pure functions on ASCII digit strings; the callers (normalize.py) decide which reading fits the context.
"""

from __future__ import annotations

DIGITS = "零一二三四五六七八九"
_CODE_DIGITS = str.maketrans("0123456789", "零幺二三四五六七八九")  # 1 is 幺 in codes and phone numbers
_YEAR_DIGITS = str.maketrans("0123456789", DIGITS)
_PLACES = ((1000, "千"), (100, "百"), (10, "十"), (1, ""))
_SECTIONS = ("", "万", "亿", "万亿")
MAX_CARDINAL_DIGITS = 16  # up to 万亿; longer runs are read digit by digit


def digit_string(digits: str) -> str:
    """Digit by digit with 1 as 幺, as phone numbers, postal codes and IDs are read: 100864 → 幺零零八六四."""
    return digits.translate(_CODE_DIGITS)


def year(digits: str) -> str:
    """A year, digit by digit with 1 as 一: 2019 → 二零一九."""
    return digits.translate(_YEAR_DIGITS)


def _section(value: int) -> str:
    """0 < value < 10000 as 千百十 with inner zeros read once: 1005 → 一千零五."""
    out, zero = "", False
    for place, name in _PLACES:
        digit = value // place % 10
        if digit == 0:
            zero = zero or bool(out)
            continue
        if zero:
            out, zero = out + "零", False
        out += DIGITS[digit] + name
    return out


def cardinal(digits: str, liang: bool = False) -> str:
    """An integer as a quantity (115 → 一百一十五, 20000 → 两万; a lone 2 is 两 with liang=True)."""
    digits = digits.lstrip("0")
    if not digits:
        return "零"
    if len(digits) > MAX_CARDINAL_DIGITS:
        return digit_string(digits)  # beyond 万亿 nobody says it as a number
    if digits == "2":
        return "两" if liang else "二"
    value, sections = int(digits), []
    while value:
        value, low = divmod(value, 10000)
        sections.append(low)
    out, zero = "", False
    for index in range(len(sections) - 1, -1, -1):
        part = sections[index]
        if part == 0:
            zero = zero or bool(out)
            continue
        if out and (zero or part < 1000):
            out += "零"
        out, zero = out + _section(part) + _SECTIONS[index], False
    if out.startswith("一十"):
        out = out[1:]  # 十五, 十一万: the leading 一 is not said
    if out[:2] in ("二千", "二万", "二亿"):
        out = "两" + out[1:]  # 两千, 两万, 两亿
    return out


def decimal(number: str, liang: bool = False) -> str:
    """An integer or decimal, commas allowed: 3.14 → 三点一四, 1,024 → 一千零二十四."""
    whole, _, fraction = number.replace(",", "").partition(".")
    spoken = cardinal(whole, liang=liang and not fraction)
    return spoken + "点" + year(fraction) if fraction else spoken


def amount(number: str) -> str:
    """Money is said without trailing zeros after the point: 1,299.50 → 1,299.5, 120.00 → 120."""
    return number.rstrip("0").rstrip(".") if "." in number else number


def clock(hour: str, minute: str, second: str | None = None) -> str:
    """A clock time: 14:30 → 十四点三十分, 9:05 → 九点零五分, 14:00 → 十四点, 2:00 → 两点."""
    spoken = cardinal(hour, liang=True) + "点"
    if int(minute) or (second and int(second)):
        spoken += ("零" if minute[0] == "0" and minute != "00" else "") + cardinal(minute) + "分"
    if second and int(second):
        spoken += ("零" if second[0] == "0" else "") + cardinal(second) + "秒"
    return spoken
