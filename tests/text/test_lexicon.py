"""The pronunciation lexicon as pure text substitution."""

from __future__ import annotations

import pytest

from tts_service.text.lexicon import Lexicon


@pytest.mark.parametrize(
    ("entries", "text", "spoken"),
    [
        ({"ANSO": "安索"}, "ANSO的成立", "安索的成立"),
        ({"AI": "人工智能"}, "AI与CHAIN", "人工智能与CHAIN"),  # never inside a longer Latin word
        ({"ANSO": "安索", "ANSO-CAS": "安索中科院"}, "ANSO-CAS奖学金和ANSO", "安索中科院奖学金和安索"),
        ({"重庆": "崇庆"}, "重庆火锅", "崇庆火锅"),
        ({"A": "诶", "B": "比"}, "AB A B", "AB 诶 比"),
        ({}, "不变", "不变"),
    ],
)
def test_apply(entries: dict, text: str, spoken: str) -> None:
    assert Lexicon.of(entries).apply(text) == spoken


def test_one_pass_no_chains() -> None:
    # The spoken form of one entry is never rewritten by another.
    assert Lexicon.of({"甲": "乙", "乙": "丙"}).apply("甲乙") == "乙丙"


def test_equal_lexicons_are_equal_and_hashable() -> None:
    assert Lexicon.of({"a": "b", "c": "d"}) == Lexicon.of({"c": "d", "a": "b"})
    assert len({Lexicon.of({"a": "b"}), Lexicon.of({"a": "b"})}) == 1
