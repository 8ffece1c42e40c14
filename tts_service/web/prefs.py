"""Reading preferences (text size, colour scheme, word highlighting): kept in cookies, applied when the server
renders."""

from __future__ import annotations

from collections.abc import Iterable

from starlette.requests import cookie_parser

# name → (cookie, {value: label}, default). Applied by the server, so the page never flashes.
PREFS = {
    "size": ("tts_size", {"s": "小", "m": "中", "l": "大", "xl": "特大"}, "m"),
    "scheme": ("tts_scheme", {"auto": "标准", "contrast": "高对比"}, "auto"),
    # 逐词高亮: the word being read, highlighted inside the sentence (the player's, during playback).
    "words": ("tts_words", {"on": "开", "off": "关"}, "on"),
}
DEFAULTS = {name: default for name, (_, _, default) in PREFS.items()}


def chosen(cookie_headers: Iterable[bytes]) -> dict[str, str]:
    """The reader's choices from the request's raw ``Cookie`` headers (read as Starlette reads them: every
    header, the later winning), defaults for anything missing or unknown."""
    cookies: dict[str, str] = {}
    for header in cookie_headers:
        cookies.update(cookie_parser(header.decode("latin-1")))
    if not cookies:
        return dict(DEFAULTS)
    choice = {}
    for name, (cookie, values, default) in PREFS.items():
        value = cookies.get(cookie, default)
        choice[name] = value if value in values else default
    return choice
