"""robots.txt: what a site lets the crawler fetch, and how often.

Read by Protego (Scrapy's parser), which follows RFC 9309 as sites write their files today: ``*`` and ``$``
in paths (``Disallow: /*_print.html``) and the longest matching rule wins. urllib.robotparser takes both
characters literally and lets the first line win, so it would fetch pages such rules forbid.
"""

from __future__ import annotations

from dataclasses import dataclass

from protego import Protego

USER_AGENT = "tts_service"  # the name robots.txt rules address (User-agent: tts_service)


@dataclass(frozen=True)
class Robots:
    """A site's rules for this crawler; ``forbid_all`` when it could not say (robots.txt answered 5xx)."""

    parser: Protego | None = None  # None: no rules, everything allowed
    forbid_all: bool = False

    def allows(self, url: str) -> bool:
        if self.forbid_all:
            return False
        return self.parser is None or self.parser.can_fetch(url, USER_AGENT)

    @property
    def delay(self) -> float:
        """The site's Crawl-delay for us in seconds (0 when it names none)."""
        value = self.parser.crawl_delay(USER_AGENT) if self.parser is not None else None
        return float(value or 0)


def parse(text: str) -> Robots:
    return Robots(Protego.parse(text))


def from_answer(status: int, text: str) -> Robots:
    """The rules from robots.txt's HTTP answer, as RFC 9309 says: 2xx the file's rules; 4xx (no file) none;
    5xx (the site cannot say now) everything forbidden."""
    if 200 <= status < 300:
        return parse(text)
    if 400 <= status < 500:
        return Robots()
    return Robots(forbid_all=True)
