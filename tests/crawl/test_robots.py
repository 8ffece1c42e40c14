"""robots.txt as sites write it: wildcards, the longest match, Crawl-delay, and what an error means."""

from __future__ import annotations

import pytest

from tts_service.crawl import robots

SITE = "https://www.academy.example"
RULES = """
User-agent: *
Disallow: /search
Disallow: /*_print.html
Disallow: /*.doc$
Disallow: /xwzx/internal/
Allow: /xwzx/internal/open/
Crawl-delay: 3

User-agent: BadBot
Disallow: /
"""


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ("/xwzx/t20200117_1.html", True),
        ("/xwzx/t20200117_1_print.html", False),  # a wildcard: gov CMSs hide their print views this way
        ("/files/notice.doc", False),
        ("/files/notice.docx", True),  # "$" anchors the end
        ("/search?q=1", False),
        ("/xwzx/internal/t1.html", False),
        ("/xwzx/internal/open/t2.html", True),  # the longest match wins, whatever the order of the lines
    ],
)
def test_rules_as_rfc_9309_reads_them(path: str, allowed: bool) -> None:
    assert robots.parse(RULES).allows(SITE + path) is allowed


def test_the_crawl_delay_for_us() -> None:
    assert robots.parse(RULES).delay == 3
    assert robots.parse("User-agent: *\nDisallow: /x\n").delay == 0


def test_rules_for_tts_service_by_name() -> None:
    named = robots.parse("User-agent: tts_service\nDisallow: /\n\nUser-agent: *\nAllow: /\n")
    assert not named.allows(SITE + "/a.html")


@pytest.mark.parametrize(("status", "allowed"), [(200, True), (404, True), (403, True), (503, False)])
def test_an_answer_without_rules(status: int, allowed: bool) -> None:
    assert robots.from_answer(status, "").allows(SITE + "/a.html") is allowed
