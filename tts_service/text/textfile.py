"""Bytes of a text file as editors save them → str: UTF-8 (with or without a BOM), else GB18030 (GBK).

Notepad on Chinese Windows saves GBK unless told otherwise, and older newsroom tools still write GB2312, so
a file that is not valid UTF-8 is tried as GB18030, their superset. Both are tried strictly: a file that is
neither gives a clear error rather than mojibake, and ``encoding`` names any other codec Python knows.
"""

from __future__ import annotations

import codecs

from tts_service.errors import InvalidInput

_GB_NAMES = frozenset({"gb2312", "gbk", "cp936", "x-gbk", "gb_2312-80", "euc-cn"})  # read as GB18030
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def decode(raw: bytes, encoding: str | None = None) -> str:
    """The file's text; InvalidInput with a one-line reason if it cannot be read as text."""
    if encoding:
        return _decode_as(raw, encoding)
    if raw.startswith(codecs.BOM_UTF8):
        return _decode_as(raw[len(codecs.BOM_UTF8) :], "utf-8")
    if raw.startswith(_UTF16_BOMS):  # Notepad's "Unicode"
        return _decode_as(raw, "utf-16")
    if b"\x00" in raw:
        raise InvalidInput(
            "the file is not a text file (a .docx or .pdf?); save it as plain text (.txt or .md)"
        )
    for candidate in ("utf-8", "gb18030"):
        try:
            return raw.decode(candidate)
        except UnicodeDecodeError:
            continue
    raise InvalidInput("the file is neither UTF-8 nor GB18030 (GBK) text; give its encoding with --encoding")


def _decode_as(raw: bytes, encoding: str) -> str:
    """Strictly in the named encoding (GB2312 and GBK as GB18030); a leading BOM is dropped."""
    name = encoding.strip().lower()
    try:
        codec = codecs.lookup("gb18030" if name in _GB_NAMES else name).name
    except LookupError:
        raise InvalidInput(f"unknown encoding {encoding!r} (try utf-8 or gb18030)") from None
    try:
        return raw.decode(codec).removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            f"the file is not valid {encoding}: byte 0x{raw[exc.start]:02x} at offset {exc.start}"
        ) from None
