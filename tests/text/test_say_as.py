"""<say-as>: the spoken form of each interpret-as, from numbers.py's readings."""

from __future__ import annotations

import pytest

from tts_service.errors import InvalidSSML
from tts_service.text.normalize import normalize
from tts_service.text.say_as import spoken


@pytest.mark.parametrize(
    ("interpret_as", "content", "format", "expected"),
    [
        ("digits", "2019", None, "二零一九"),
        ("digits", "110", None, "一一零"),
        ("digits", "2019 0305", None, "二零一九 零三零五"),
        ("digits", "２０１９", None, "二零一九"),  # full-width digits
        ("cardinal", "2019", None, "两千零一十九"),
        ("cardinal", "2", None, "二"),
        ("cardinal", "1,024", None, "一千零二十四"),
        ("cardinal", "3.14", None, "三点一四"),
        ("cardinal", "-5", None, "负五"),
        ("cardinal", "100000000", None, "一亿"),
        ("ordinal", "3", None, "第三"),
        ("ordinal", "2", None, "第二"),
        ("ordinal", "12", None, "第十二"),
        ("telephone", "12345678", None, "幺二三四五六七八"),
        ("telephone", "010-68597114", None, "零幺零六八五九七幺幺四"),
        ("telephone", "+86 10 6859 7114", None, "八六 幺零 六八五九 七幺幺四"),
        ("telephone", "(010) 6859", None, "零幺零 六八五九"),
        ("date", "2019-03-05", None, "二零一九年三月五日"),
        ("date", "2019/3/5", None, "二零一九年三月五日"),
        ("date", "2019.3.5", None, "二零一九年三月五日"),
        ("date", "2019年3月5日", None, "二零一九年三月五日"),
        ("date", "3月5号", None, "三月五日"),
        ("date", "2019-03", None, "二零一九年三月"),
        ("date", "2019", None, "二零一九年"),
        ("date", "05/03/2019", "dmy", "二零一九年三月五日"),
        ("date", "03/05/2019", "mdy", "二零一九年三月五日"),
        ("date", "20-3-5", "ymd", "二零年三月五日"),
        ("date", "3-5", "md", "三月五日"),
        ("date", "31", "d", "三十一日"),
        ("characters", "ABC", None, "A B C"),
        ("characters", "A1 b", None, "A 一 b"),
        ("characters", "你好", None, "你 好"),
    ],
)
def test_spoken(interpret_as: str, content: str, format: str | None, expected: str) -> None:
    assert spoken(interpret_as, content, format) == expected


@pytest.mark.parametrize(
    ("text", "interpret_as", "content"),
    [
        (
            "电话12345678",
            "telephone",
            "12345678",
        ),  # what normalisation reads in context, say-as says anywhere
        ("2019年", "date", "2019"),
        ("2020-01-17", "date", "2020-01-17"),
        ("第3届", "ordinal", "3"),
    ],
)
def test_the_same_reading_as_normalisation(text: str, interpret_as: str, content: str) -> None:
    assert spoken(interpret_as, content) in normalize(text)


@pytest.mark.parametrize(
    ("interpret_as", "content", "format", "named"),
    [
        ("currency", "5", None, 'interpret-as="currency"> is not supported; use one of digits'),
        ("digits", "12a", None, "cannot read '12a' as digits"),
        ("digits", "", None, "is empty"),
        ("cardinal", "1.2.3", None, "as cardinal"),
        ("ordinal", "-3", None, "as ordinal"),
        ("telephone", "1+2", None, "as telephone"),
        ("date", "2019-02-30-1", None, 'interpret-as="date"> cannot read'),
        ("date", "5/3/2019", None, "or a format"),
        ("date", "2019-3-5", "dm", 'with format="dm"'),
        ("date", "2019-00-05", None, "no such month or day"),
        ("date", "2019-01-32", None, "no such month or day"),
        ("date", "2019", "yy", 'format="yy"'),
        ("cardinal", "5", "ymd", "takes no format"),
    ],
)
def test_unreadable_content_is_refused(
    interpret_as: str, content: str, format: str | None, named: str
) -> None:
    with pytest.raises(InvalidSSML, match="<say-as") as caught:
        spoken(interpret_as, content, format)
    assert named in caught.value.message
