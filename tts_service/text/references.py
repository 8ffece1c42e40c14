"""Character references in imported pages: HTML5's are resolved, a page's own entities are dropped unread.

A page may declare entities of its own in a DOCTYPE internal subset (`<!DOCTYPE html [<!ENTITY xxe SYSTEM
"file:///etc/passwd">]>`). HTML parsers never expand them, so there is no XXE and no billion laughs, but they
end the DOCTYPE at its first `>`: the subset's tail (`]>`) becomes text, where it was picked as the title, and
every `&xxe;` stays in the text, where the voice would read it. Only HTML5's named references and numeric
references mean a character; any other `&name;` is an entity nobody resolved, and is dropped.
"""

from __future__ import annotations

import html
import re
from html.entities import html5

# The subset runs from "[" to the "]" before the DOCTYPE's ">"; a "]" or ">" inside a literal or a comment
# does not end it. Possessive, and each alternative starts differently, so a subset that never closes fails
# in one pass.
_SUBSET = re.compile(
    r"""(<!DOCTYPE\b[^\[>]*?)\s*\[(?:[^\]"'<]|"[^"]*"|'[^']*'|<!--(?:[^-]|-(?!->))*-->|<(?!!--))*+\]\s*>""",
    re.IGNORECASE,
)
_NAMED = re.compile(r"&([A-Za-z][A-Za-z0-9]*);")
_ANY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6}|[A-Za-z][A-Za-z0-9]*);")


def without_internal_subset(markup: str) -> str:
    """The page without its DOCTYPE's internal subset: `<!DOCTYPE html [ … ]>` becomes `<!DOCTYPE html>`."""
    return _SUBSET.sub(r"\1>", markup)


def in_markup(markup: str) -> str:
    """HTML source with named references spelled as numeric ones by HTML5's table, and unknown ones removed.

    Numeric references mean the same to every parser, so what a name means no longer depends on the parser's
    own (possibly older, HTML4) table; markup stays markup, since `&lt;` becomes `&#60;`, not `<`.
    """
    return _NAMED.sub(_as_numeric, markup)


def in_text(text: str) -> str:
    """Scraped text with known references (named or numeric) turned into their characters, others removed."""
    if "&" not in text:
        return text
    return _ANY.sub(lambda m: html.unescape(m.group()) if _known(m.group()) else "", text)


def _as_numeric(match: re.Match[str]) -> str:
    chars = html5.get(match.group(1) + ";")
    return "".join(f"&#{ord(c)};" for c in chars) if chars else ""


def _known(reference: str) -> bool:
    return reference.startswith("&#") or reference[1:] in html5
