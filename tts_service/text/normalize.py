"""Display text → spoken text: numbers, dates, times, units and codes written out as Mandarin words.

The next stage (pinyin.py) spells any ASCII digit left over one by one and reads Latin letters as letter
names, so every number is turned into Chinese characters here and acronyms (GDP, ANSO-CAS) are left alone.
Rules run in a fixed order, most specific first; each turns its digits into characters, so later rules
never see them again. The heuristics, in brief:

- Digit by digit, 1 as 幺: after 电话/邮编/编号/号码/身份证/ICP备 … (digits may be grouped by spaces or
  hyphens; hyphens are dropped, spaces kept as pauses), before 热线, grouped runs that look like phone
  numbers (a leading 0 or +, a group of 7+ digits, or three groups), a leading 0, 3+ digits glued to
  letters (A380), and runs of 7+ digits unless round (14000000 → 一千四百万) or followed by a measure
  word or unit. Years and the digits after a decimal point are read digit by digit with 一.
- 1000-2099 before 年/年度/赛季, after ©, or as both ends of a range (2019-2020) is a year: 2019年 →
  二零一九年; below 1900 before 年前/年来/年以上 … it counts years (1500年前 → 一千五百年前).
- H:MM with hour ≤ 24 and two-digit minutes is a clock time, else a score or ratio (3:2 → 三比二); 比分/打成
  or 以 before it (but not 以14:30为准), or 获胜/击败 … after it, make it a score anyway.
- 两 for a lone 2 before a measure word or unit (两个, 两万, 两千克) and for a leading 2 before 千/万/亿
  (两万); never after 第, before 月/日/号, in years, decimals or percentages.
- Ranges (3-5天, 2019-2020年, 14:00-17:00) are read with 至; a minus sign is 零下 before a temperature
  unit and 负 otherwise.
- A month and day joined by a middle dot is a date label, read digit by digit: 3·15 → 三一五.
- Money (元, 美元 … after the amount, ￥ $ € … before it) drops trailing zeros after the point:
  1,299.50元 → 一千二百九十九点五元.
- E-mail addresses and URLs are read first, by addresses.py's rule (info@gov.cn → info艾特gov点cn).
"""

from __future__ import annotations

import functools
import html
import logging
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from tts_service.text.addresses import spoken_addresses
from tts_service.text.labels import label_rules
from tts_service.text.numbers import amount, cardinal, clock, decimal, digit_string, year

log = logging.getLogger(__name__)

Rule = tuple[re.Pattern[str], Callable[[re.Match[str]], str]]

_DIGIT = re.compile("[0-9]")
_SPEAKABLE = re.compile(r"\w")  # the pipeline's test for "there is something to say"
_LINE_BREAKS = re.compile(r"[\r\n\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")

# Full-width digits, letters and a few symbols become ASCII; Chinese punctuation (，：；！？（）～) stays.
_WIDE = str.maketrans(
    {chr(0xFF10 + i): chr(0x30 + i) for i in range(10)}
    | {chr(0xFF21 + i): chr(0x41 + i) for i in range(26)}
    | {chr(0xFF41 + i): chr(0x61 + i) for i in range(26)}
    | {w: chr(ord(w) - 0xFEE0) for w in "＃＄％＆＊＋－．／＝＠＼＾＿｜"}
    | {"\u3000": " ", "\xa0": " ", "−": "-", "﹣": "-"}
)
# Symbols with one reading wherever they stand.
_SYMBOLS = str.maketrans(
    {"℃": "摄氏度", "℉": "华氏度", "㎡": "平方米", "㎥": "立方米", "㎞": "千米", "㎏": "千克", "㎎": "毫克",
     "㎝": "厘米", "㎜": "毫米", "㏄": "毫升"}
    | {chr(0x2460 + i): cardinal(str(i + 1)) for i in range(20)}  # ① … ⑳
)  # fmt: skip
_EMOJI = re.compile(
    "[\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\ufe00-\ufe0f\u200d\u20e3\U000e0020-\U000e007f]"
)

UNITS: dict[str, str] = {
    "km": "千米", "m": "米", "dm": "分米", "cm": "厘米", "mm": "毫米", "μm": "微米", "nm": "纳米",
    "km²": "平方千米", "m²": "平方米", "cm²": "平方厘米", "m2": "平方米", "km2": "平方千米",
    "m³": "立方米", "cm³": "立方厘米", "m3": "立方米",
    "kg": "千克", "g": "克", "mg": "毫克", "μg": "微克", "t": "吨", "L": "升", "mL": "毫升", "ml": "毫升",
    "h": "小时", "min": "分钟", "s": "秒", "ms": "毫秒",
    "Hz": "赫兹", "kHz": "千赫兹", "MHz": "兆赫兹", "GHz": "吉赫兹",
    "W": "瓦", "kW": "千瓦", "MW": "兆瓦", "GW": "吉瓦", "kWh": "千瓦时", "kW·h": "千瓦时",
    "V": "伏", "kV": "千伏", "mA": "毫安", "mAh": "毫安时", "Pa": "帕", "kPa": "千帕", "MPa": "兆帕",
    "KB": "千字节", "kB": "千字节", "MB": "兆字节", "GB": "吉字节", "TB": "太字节",
    "kbps": "千比特每秒", "Mbps": "兆比特每秒", "Gbps": "吉比特每秒",
    "dB": "分贝", "ha": "公顷", "kcal": "千卡",
    "℃": "摄氏度", "°C": "摄氏度", "℉": "华氏度", "°F": "华氏度", "°": "度",
    "㎡": "平方米", "㎥": "立方米", "㎞": "千米", "㎏": "千克", "㎎": "毫克", "㎝": "厘米", "㎜": "毫米",
}  # fmt: skip
_TEMPERATURE = ("℃", "°C", "℉", "°F", "摄氏度", "华氏度", "度")
CURRENCIES = {
    "￥": "元",
    "¥": "元",
    "$": "美元",
    "US$": "美元",
    "HK$": "港元",
    "NT$": "新台币",
    "€": "欧元",
    "£": "英镑",
}

# Measure words (simplified, then traditional) after which a number is a quantity and a lone 2 is 两.
_MEASURES = (
    "个 位 名 人 家 台 种 类 次 条 件 项 只 本 张 辆 架 艘 座 所 间 层 片 颗 根 把 双 对 份 套 批 篇 部 场 "
    "轮 支 匹 头 块 元 角 岁 倍 天 年 周 星期 小时 分钟 秒钟 千 万 亿 百 点 成 届 期 股 声 口 首 幅 封 杯 "
    "瓶 碗 吨 公斤 千克 克 斤 米 千米 公里 厘米 毫米 升 毫升 亩 公顷 国 岸 样 方面 步 遍 趟 章 节 段 行 "
    "笔 票 例 起 宗 栋 户 组 队 门 群 圈 束 粒 枚 美元 欧元 英镑 港元 多 余 厅 卫 分 "
    "個 臺 項 條 張 輛 隻 萬 億 歲 週 場 層 顆 雙 對 輪 頭 塊 點 屆 噸 畝 國 樣 節 筆 棟 戶 組 隊 門"
).split()
_QUANTITY_AFTER = re.compile("|".join(sorted(_MEASURES, key=len, reverse=True)))
_MONEY_AFTER = re.compile(r"[百千万亿]*(?:元|[美欧港日韩澳加]元|人民币|英镑|港币|卢布|法郎)")
_NOT_LIANG = re.compile(r"年级|点[0-9零一二三四五六七八九]")
_YEAR_AFTER = re.compile(r"年|赛季|财年|学年")
_DURATION_AFTER = re.compile(r"年(?:前|来|以来|以上|以内|之久|左右|间|后)")  # 1500年前: 1,500 years
_YEAR_BEFORE = re.compile(r"(?:©|\(c\)|公元|[Cc]opyright)\s*$")

_CODE_WORDS = (
    "电话 手机号 手机 座机 传真 热线 拨打 致电 邮编 邮政编码 编号 号码 工号 学号 证号 身份证号 身份证 "
    "账号 帐号 卡号 尾号 房号 车牌号 航班 车次 备案号 ICP备 ICP证 公网安备 标识码 代码 QQ 微信号 验证码"
).split()
_NUM = r"[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?|[0-9]+(?:\.[0-9]+)?"
_TIME = r"(?:[01]?[0-9]|2[0-4])[:：][0-5][0-9](?:[:：][0-5][0-9])?"
_DASH = r"[-–—~～]"
_NUMERALS = "零一二两三四五六七八九十百千万亿"
OPERATORS = {"+": "加", "×": "乘", "÷": "除以", "=": "等于"}
_RANGE_SEP = r"[-–—~～至到]"


def normalize(text: str) -> str:
    """The spoken form of text. Never raises; line i of the output is the spoken form of line i."""
    return "\n".join(_line(line) for line in text.split("\n"))


def _line(line: str) -> str:
    """One line's spoken form, falling back to a plain reading if a rule fails or erases everything."""
    text = line
    try:
        text = _strip_html(line).translate(_WIDE)
        spoken = _apply(text)
    except Exception:  # a bug in one rule must not silence the page: log it and read plainly
        log.exception("normalisation failed for %r; reading digits one by one", line[:80])
        return _plain(text)
    if _SPEAKABLE.search(text) and not _SPEAKABLE.search(spoken):
        return _plain(text)
    return spoken


def _plain(line: str) -> str:
    """A reading that cannot fail: only the digits are spelled out."""
    return digit_string(_LINE_BREAKS.sub(" ", line))


def _apply(text: str) -> str:
    """Every rule, in order, on one line of markup-free text."""
    text = spoken_addresses(text)  # first: an address's digits and dots are its own
    if _DIGIT.search(text):
        for pattern, render in _rules():
            text = pattern.sub(render, text)
    return _EMOJI.sub(_drop_symbol, text.translate(_SYMBOLS))


def _drop_symbol(m: re.Match[str]) -> str:
    """Emoji and their joiners are not read; letters and digits in those blocks (❶) are kept."""
    return "" if unicodedata.category(m.group())[0] in "SCM" else m.group()


_ELEMENTS = (
    "a abbr address article aside b bdi big blockquote body br caption center cite code col dd del details "
    "dfn div dl dt em figcaption figure font footer h1 h2 h3 h4 h5 h6 head header hr html i img ins kbd li "
    "main mark nav ol p pre q s section small span strike strong sub summary sup table tbody td tfoot th "
    "thead tr tt u ul wbr"
).split()
_INLINE = frozenset(
    "a abbr b bdi big cite code del dfn em font i img ins kbd mark q s small span strike "
    "strong sub sup tt u wbr".split()
)
_TAG = re.compile(rf"</?({'|'.join(_ELEMENTS)})(?:\s[^<>]*)?/?>", re.IGNORECASE)
_COMMENT = re.compile("<!--.*?-->")
_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")


def _strip_html(line: str) -> str:
    """HTML elements removed (block ones leave a space) and entities unescaped; markup is never read."""
    if "<" not in line and "&" not in line:
        return line
    text = _COMMENT.sub(" ", line) if "-->" in line else line
    text = _TAG.sub(lambda m: "" if m.group(1).lower() in _INLINE else " ", text)
    text = _ENTITY.sub(lambda m: html.unescape(m.group()), text)
    return line if text == line else " ".join(_LINE_BREAKS.sub(" ", text).split())


@functools.cache
def _rules() -> tuple[Rule, ...]:
    """The rules in the order they run, compiled once per process."""
    units = "|".join(re.escape(u) for u in sorted(UNITS, key=len, reverse=True))
    currencies = "|".join(re.escape(c) for c in sorted(CURRENCIES, key=len, reverse=True))
    code_words = "|".join(sorted(_CODE_WORDS, key=len, reverse=True))
    group = r"\+?[0-9]+(?:[- –][0-9]+)*+"  # possessive: no backtracking into long digit runs
    return tuple((re.compile(p, re.VERBOSE), f) for p, f in (
        (rf"(?P<kw>{code_words})(?P<gap>[\s:：]*(?:为|是)?[\s:：]*)(?P<pre>[A-Za-z]{{0,6}})"
         rf"(?P<num>{group})(?P<tail>号[-–][0-9]+)?(?![0-9])", _code_after_word),
        (rf"(?<![0-9A-Za-z.])(?<![0-9][- –])(?P<num>{group})(?=\s*(?:服务)?热线)", _code),
        *((p.pattern, f) for p, f in label_rules(_QUANTITY_AFTER)),
        (r"(?<![0-9A-Za-z.·•・‧])(?P<m>1[0-2]|0?[1-9])[·•・‧](?P<d>3[01]|[12][0-9]|0?[1-9])(?![0-9]|[·•・‧][0-9])",
         lambda m: year(m["m"]) + year(m["d"])),  # 3·15 → 三一五: a date label, digit by digit
        (r"(?<![0-9A-Za-z.\-/])(?P<y>1[0-9]{3}|20[0-9]{2})(?P<s>[-/.])(?P<m>0?[1-9]|1[0-2])(?P=s)"
         r"(?P<d>0?[1-9]|[12][0-9]|3[01])(?![0-9]|[.\-/][0-9])", _date),
        (r"(?<![0-9A-Za-z.\-/])(?P<y>19[0-9]{2}|20[0-9]{2})[-/](?P<m>0[1-9]|1[0-2])(?![0-9]|[.\-/][0-9])",
         _year_month),
        (rf"(?<![0-9A-Za-z.,])(?P<num>{group})(?![0-9]|[.,][0-9])", _phone),
        (rf"(?<![0-9.:：])(?P<a>{_TIME})(?:\s?(?P<sep>{_RANGE_SEP})\s?(?P<b>{_TIME}))?(?![0-9]|[:：][0-9])",
         _time),
        (r"(?<![0-9.:：])(?P<a>[0-9]{1,6})[:：](?P<b>[0-9]{1,6})(?![0-9]|[:：][0-9])", _score),
        (rf"(?<=[0-9][年月日号点时分秒天周个])\s?{_DASH}\s?(?=[0-9])", lambda m: "至"),
        (r"(?<![0-9A-Za-z./])(?P<a>[0-9]+)/(?P<b>[0-9]+)(?![0-9]|[./][0-9])", _fraction),
        (rf"(?P<cur>{currencies})\s?(?P<sign>-)?(?P<num>{_NUM})(?P<mult>[百千万亿]*)", _money),
        (r"(?<![0-9A-Za-z.])[0-9]+(?:\.[0-9]+){2,}(?![0-9]|\.[0-9])", _dotted),
        (rf"""(?<![0-9A-Za-z.])(?<![0-9],)
              (?P<sign>-(?=[0-9]))?(?P<a>{_NUM})(?P<pa>[%‰])?
              (?:[ ]?(?P<sep>{_RANGE_SEP})[ ]?(?P<sign2>-)?(?P<b>{_NUM})(?P<pb>[%‰])?)?
              (?![0-9]|\.[0-9])
              (?P<unit>[ ]?(?P<u>{units})(?:/(?P<per>{units}))?(?![A-Za-z]))?""", _quantity),
        (r"(?<=[A-Za-z])[0-9]+(?:\.[0-9]+)*", _after_letters),
        (r"[0-9]+", _leftover),
        (rf"(?<=[{_NUMERALS}])[ ]?(?P<op>[+×÷=])[ ]?(?=[{_NUMERALS}])", lambda m: OPERATORS[m["op"]]),
        (r"(?<=[零一二两三四五六七八九十百千万亿][元块吨斤克米升个件人次])/"
         r"(?=[吨斤克米升人天次件个台年月日时周平立公千小分秒亩户])", lambda m: "每"),
    ))  # fmt: skip


def _code_digits(number: str) -> str:
    """A code read digit by digit, 1 as 幺: hyphens and + are dropped, spaces stay as pauses."""
    return digit_string(number.replace("-", "").replace("–", "").replace("+", ""))


def _code_after_word(m: re.Match[str]) -> str:
    """电话：010-68597114, 邮编 100864, 京ICP备05002857号-1: digit by digit after a code word."""
    digits = m["num"].replace(" ", "")
    if len(digits) < 5 and _QUANTITY_AFTER.match(m.string, m.end()):
        return m.group()  # 手机2部: a count, not a code
    tail = m["tail"] or ""
    return m["kw"] + m["gap"] + m["pre"] + _code_digits(m["num"]) + tail[:2] + digit_string(tail[2:])


def _code(m: re.Match[str]) -> str:
    """A service number before 热线: 12345热线 → 幺二三四五热线."""
    return _code_digits(m["num"])


def _phone(m: re.Match[str]) -> str:
    """Grouped digits that look like a phone number (010-68597114, 400-810-5888, 86 10 68597114)."""
    number = m["num"]
    groups = re.split(r"[- –]", number.lstrip("+"))
    lengths = [len(g) for g in groups]
    looks_like_phone = sum(lengths) >= 7 and (
        number[0] in "+0" or max(lengths) >= 7 or (len(groups) >= 3 and min(lengths[1:]) >= 3)
    )
    return _code_digits(number) if looks_like_phone and (len(groups) > 1 or number[0] == "+") else number


def _date(m: re.Match[str]) -> str:
    """2020-01-17 → 二零二零年一月十七日."""
    return year(m["y"]) + "年" + cardinal(m["m"]) + "月" + cardinal(m["d"]) + "日"


def _year_month(m: re.Match[str]) -> str:
    """2020-01 → 二零二零年一月."""
    return year(m["y"]) + "年" + cardinal(m["m"]) + "月"


_SCORE_BEFORE = re.compile(r"(?:比分|打成|战成|以)(?:为|是|[:：])?\s*$")
_SCORE_AFTER = re.compile(r"\s*(?:的?比分|战胜|击败|获胜|取胜|胜出|赢|输|落败|告负|力克|险胜|完胜|战平|逆转)")
_TIME_AFTER = re.compile(r"\s*(?:为准|前|后|之前|之后|以前|以后|开始|左右|起|到|至)")


def _is_score(m: re.Match[str]) -> bool:
    """A time-shaped pair is a score after 比分/打成/以 or before 战胜/获胜 … (以14:30为准 stays a time)."""
    text, end = m.string, m.end()
    if _SCORE_AFTER.match(text, end):
        return True
    before = _SCORE_BEFORE.search(text[max(0, m.start() - 6) : m.start()])
    return before is not None and not (before.group().startswith("以") and _TIME_AFTER.match(text, end))


def _time(m: re.Match[str]) -> str:
    """14:30 → 十四点三十分; 14:00-17:00 → 十四点至十七点; a score when the context says so."""
    first = re.split("[:：]", m["a"])
    if m["b"] is None and len(first) == 2 and _is_score(m):
        return cardinal(first[0]) + "比" + cardinal(first[1])
    spoken = clock(*first)
    if m["b"] is not None:
        sep = m["sep"] if m["sep"] in "至到" else "至"
        spoken += sep + clock(*re.split("[:：]", m["b"]))
    return spoken


def _score(m: re.Match[str]) -> str:
    """A colon between numbers that is not a clock time: 3:2 → 三比二, 1:1000 → 一比一千."""
    return cardinal(m["a"]) + "比" + cardinal(m["b"])


def _fraction(m: re.Match[str]) -> str:
    """1/4 → 四分之一."""
    return cardinal(m["b"]) + "分之" + cardinal(m["a"])


def _money(m: re.Match[str]) -> str:
    """￥100 → 一百元, $5 → 五美元, ¥3.5亿 → 三点五亿元: the currency is said after the amount."""
    return (
        ("负" if m["sign"] else "") + decimal(amount(m["num"]), liang=True) + m["mult"] + CURRENCIES[m["cur"]]
    )


def _dotted(m: re.Match[str]) -> str:
    """Versions and addresses with several dots: 1.2.3 → 一点二点三, 1.05.3 → 一点零五点三."""
    return "点".join(_leftover_digits(part) for part in m.group().split("."))


def _after_letters(m: re.Match[str]) -> str:
    """Digits glued to letters: G20 → G二十, PM2.5 → PM二点五, C919 → C九一九 (3+ digits are a model code,
    read one by one with 一 as announcers do, not the 幺 of phone numbers)."""
    number = m.group()
    if number.count(".") == 1:
        return decimal(number)
    if "." in number:
        return _dotted(m)
    return year(number) if len(number) >= 3 else cardinal(number)


def _leftover(m: re.Match[str]) -> str:
    """Any digits no rule claimed: short ones as numbers, the rest digit by digit."""
    return _leftover_digits(m.group())


def _leftover_digits(number: str) -> str:
    short = len(number) <= 4 and (number == "0" or number[0] != "0")
    return cardinal(number) if short else year(number)


@dataclass(frozen=True)
class _Context:
    """What the words around a number say about how to read it."""

    year: bool  # 2019年, © 1996, 2019-2020
    duration: bool  # 1500年前: a year before 1900 is a count of years
    quantity: bool  # a measure word or unit follows
    liang: bool  # a lone 2 is 两
    temperature: bool  # a minus sign is 零下
    money: bool  # 元, 美元 … follows: trailing zeros after the point are not said


def _year_like(number: str | None) -> bool:
    return number is not None and len(number) == 4 and number.isdigit() and 1000 <= int(number) <= 2099


def _context(m: re.Match[str]) -> _Context:
    """Read the context of a quantity match: the unit it carries and the words on either side."""
    text, end, unit = m.string, m.end(), m["u"] or ""
    before = text[max(0, m.start() - 12) : m.start()]
    percent = bool(m["pa"] or m["pb"])
    temperature = unit in _TEMPERATURE or text.startswith(_TEMPERATURE, end)
    quantity = bool(unit) or _QUANTITY_AFTER.match(text, end) is not None
    liang = (
        quantity
        and not percent
        and not temperature
        and not before.endswith(("第", "点"))  # 第二, 三点二分 (a clock's minutes)
        and not _NOT_LIANG.match(text, end)
    )
    is_year = (
        not unit
        and not percent
        and (
            _YEAR_AFTER.match(text, end) is not None
            or _YEAR_BEFORE.search(before) is not None
            or (_year_like(m["b"]) and _year_like(m["a"]) and int(m["a"]) < int(m["b"]) and not quantity)
        )
    )
    money = _MONEY_AFTER.match(text, end) is not None
    return _Context(
        is_year, _DURATION_AFTER.match(text, end) is not None, quantity, liang, temperature, money
    )


def _number(number: str, ctx: _Context) -> str:
    """One number in its context: a decimal, a year, a code read digit by digit, or a quantity."""
    if ctx.money:
        number = amount(number)
    if "." in number or "," in number:
        return decimal(number)
    if len(number) > 1 and number[0] == "0":
        return digit_string(number)  # 007, 0571
    if ctx.year and _year_like(number) and not (ctx.duration and int(number) < 1900):
        return year(number)
    if len(number) >= 7 and not ctx.quantity and len(number.rstrip("0")) > 4:
        return digit_string(number)  # 68597114; but 14000000 and 1234567人 are quantities
    return cardinal(number, liang=ctx.liang)


def _signed(sign: str | None, spoken: str, percent: str | None, ctx: _Context) -> str:
    """Percent and minus: -5% → 负百分之五, -3℃ → 零下三 (摄氏度)."""
    if percent:
        spoken = ("百分之" if percent == "%" else "千分之") + spoken
    if sign:
        spoken = ("零下" if ctx.temperature else "负") + spoken
    return spoken


def _quantity(m: re.Match[str]) -> str:
    """Cardinals, decimals, percentages, ranges (read with 至), signs and units after a number."""
    ctx = _context(m)
    spoken = _signed(m["sign"], _number(m["a"], ctx), m["pa"] or m["pb"], ctx)
    if m["b"] is not None:
        sep = m["sep"] if m["sep"] in "至到" else "至"
        spoken += sep + _signed(m["sign2"], _number(m["b"], ctx), m["pb"] or m["pa"], ctx)
    if m["u"]:
        spoken += UNITS[m["u"]] + ("每" + UNITS[m["per"]] if m["per"] else "")
    return spoken
