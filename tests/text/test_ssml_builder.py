"""How SSML text becomes paragraph text: XML whitespace collapsed, none between wide characters."""

from __future__ import annotations

import pytest

from tts_service.text.ssml_builder import collapse


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ""),
        (" \n\t ", ""),
        ("a  b\n\tc", "a b c"),
        ("你 \n 好", "你好"),
        ("你好 。\n世界", "你好。世界"),
        ("你好\nworld", "你好 world"),
        ("ＡＢ\nＣ", "ＡＢＣ"),  # full-width forms are wide
        ("你\u3000 好", "你\u3000好"),  # U+3000 is text (and wide), not XML whitespace
        ("a\xa0 b", "a\xa0 b"),
    ],
)
def test_collapse(text: str, expected: str) -> None:
    assert collapse(text) == expected
