"""E-mail addresses and URLs read aloud: their letters, digits one by one, and the punctuation said.

Left alone, the pinyin stage spells the letters and reads "." as a full stop, "/" as a pause and "@" as
nothing, so xinfang@beijing.gov.cn came out as letters with gaps. The rule:

- letters stay as written (engines spell them), digits are read one by one with 1 as 幺 (10086, 12345);
- "." is 点, "@" is 艾特 (how "at" is said), "/" is 斜杠, "_" is 下划线, "-" is 横杠, ":" (a port) is 冒号;
- a URL's scheme (https://), query (?…), fragment (#…) and final "/" are not read: they carry nothing a
  listener can use;
- a bare domain is taken for a URL only with a "www." or a common top-level domain (.cn, .com, .gov …), in
  lower case, so versions (3.10.2), file names (report.docx) and ASP.NET stay as they are.
"""

from __future__ import annotations

import re

from tts_service.text.numbers import digit_string

_SAID = {
    ".": "点",
    "@": "艾特",
    "/": "斜杠",
    "_": "下划线",
    "-": "横杠",
    ":": "冒号",
    "~": "波浪号",
    "+": "加",
}
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_TLD = r"(?:com|cn|net|org|gov|edu|int|info|biz|io|cc|tv|top|xyz|hk|mo|tw)"
_PATH = r"(?:/[A-Za-z0-9._~%+=@:-]*)*"
_ADDRESS = re.compile(
    rf"""(?<![A-Za-z0-9._%+@/-])
    (?:(?P<email>[A-Za-z0-9][A-Za-z0-9._%+-]*@{_LABEL}(?:\.{_LABEL})*\.[A-Za-z]{{2,}})
      |(?:https?|ftp)://(?P<url>{_LABEL}(?:\.{_LABEL})*(?::[0-9]+)?{_PATH})
         (?:\?[A-Za-z0-9._~%+=&;:@/?-]*)?(?:\#[A-Za-z0-9._~%+=&;:@/?-]*)?
      |(?P<domain>(?:{_LABEL}\.)+{_TLD}(?::[0-9]+)?{_PATH}))
    (?![A-Za-z0-9-])""",
    re.VERBOSE,
)


def spoken_addresses(text: str) -> str:
    """Every e-mail address and URL in text in its spoken form; the rest unchanged."""
    if "@" not in text and "." not in text:
        return text
    return _ADDRESS.sub(_spoken, text)


def _spoken(m: re.Match[str]) -> str:
    """One address: a URL without its scheme, query, fragment and final slash; a final full stop kept."""
    address = m["email"] or m["url"] or m["domain"]
    kept = address.rstrip(".,;:")  # punctuation after an address belongs to the sentence
    rest = address[len(kept) :]
    return _spell(kept if m["email"] else kept.rstrip("/")) + rest


def _spell(address: str) -> str:
    """Letters as written, digits one by one, punctuation as its name."""
    return "".join(_SAID.get(char, digit_string(char)) for char in address)
