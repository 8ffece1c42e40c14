"""Character references in imported pages: resolved by HTML5's table, a page's own entities dropped."""

from __future__ import annotations

import pytest

from tts_service.text import references


@pytest.mark.parametrize(
    ("page", "expected"),
    [
        ('<!DOCTYPE html [<!ENTITY a "x">]><p>t</p>', "<!DOCTYPE html><p>t</p>"),
        ("<!doctype html [\n<!-- ]> -->\n<!ENTITY b ']>'>\n%pe;\n] >\n<p>t</p>", "<!doctype html>\n<p>t</p>"),
        ('<!DOCTYPE html SYSTEM "about:legacy-compat" []>', '<!DOCTYPE html SYSTEM "about:legacy-compat">'),
        ("<!DOCTYPE html><p>a [b]> c</p>", "<!DOCTYPE html><p>a [b]> c</p>"),  # no subset: text untouched
        # A subset that never closes is left to the parser (it ends the DOCTYPE at the first ">").
        ('<!DOCTYPE html [<!ENTITY a "x"><p>t</p>', '<!DOCTYPE html [<!ENTITY a "x"><p>t</p>'),
        ("<!DOCTYPE html [" + "<!--" * 5000 + "<p>t</p>", "<!DOCTYPE html [" + "<!--" * 5000 + "<p>t</p>"),
    ],
)
def test_internal_subset_removed(page: str, expected: str) -> None:
    assert references.without_internal_subset(page) == expected


@pytest.mark.parametrize(
    ("markup", "expected"),
    [
        ("a&xxe;b", "ab"),
        ("&amp;xxe;", "&#38;xxe;"),  # an escaped ampersand: the page shows "&xxe;" as text
        ("&lt;p&gt;", "&#60;p&#62;"),  # still markup-safe
        ("&check;&nbsp;&NotEqualTilde;", "&#10003;&#160;&#8770;&#824;"),
        ("&#x2713;&#8212;&copy 2024", "&#x2713;&#8212;&copy 2024"),  # numeric and unterminated: the parser's
        ('<a href="?a=1&b=2">x</a>', '<a href="?a=1&b=2">x</a>'),
    ],
)
def test_in_markup(markup: str, expected: str) -> None:
    assert references.in_markup(markup) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("重视&xxe;，落实", "重视，落实"),
        ("&mdash;&amp;&#12290;&#x3002;&check;", "—&。。✓"),
        ("R&D 与 AT&T", "R&D 与 AT&T"),  # no ";": not a reference
        ("没有引用", "没有引用"),
    ],
)
def test_in_text(text: str, expected: str) -> None:
    assert references.in_text(text) == expected
