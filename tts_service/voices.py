"""Every engine's voices, described for apps, and OpenAI's voice names mapped onto them.

The offline voices are described here (their engines take their ids from these records). Edge's come from
Microsoft's voice list: the copy shipped in ``tts_service/data/edge_voices.json``, with the copy that
``tts-service voices refresh`` keeps in TTS_HOME over it (the shipped copy's ``source`` field and the
README's Voices section say where it comes from). Nothing here goes online: only the refresh does
(``tts_service/voices_refresh.py``).
"""

from __future__ import annotations

import functools
import json
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from importlib.resources import files
from pathlib import Path
from typing import Any

from tts_service.errors import InvalidInput

log = logging.getLogger(__name__)

EDGE_LIST_FILE = "edge_voices.json"  # the shipped list in tts_service/data/, the refreshed one in TTS_HOME
# A Mandarin service offers Microsoft's Chinese voices: zh-CN (with its dialects, zh-CN-liaoning…), zh-HK
# and zh-TW. The other 300-odd voices read Chinese text badly or not at all.
OFFERED_LOCALE_PREFIX = "zh-"
EDGE_DEFAULT = "zh-CN-XiaoxiaoNeural"


@dataclass(frozen=True)
class Voice:
    """One voice as apps see it."""

    id: str  # what the API's and the CLI's ``voice`` takes
    name: str  # "Xiaoxiao", "Baker"
    language: str  # language and region (BCP 47): zh-CN, zh-HK, zh-TW
    locale: str  # Microsoft's locale, which names a dialect where there is one: zh-CN-liaoning
    locale_name: str  # "Chinese (Mainland)", "Chinese (Northeastern Mandarin)"
    gender: str  # "female" or "male"
    engine: str
    offline: bool  # works without internet access
    default: bool = False  # the engine's voice when none is asked for (the catalog sets it)
    categories: tuple[str, ...] = ()  # Microsoft's content categories: News, Novel, Dialect…
    personalities: tuple[str, ...] = ()  # Microsoft's voice personalities: Warm, Lively…


def _mainland(id: str, name: str, gender: str, engine: str) -> Voice:
    """An offline voice of Mainland Mandarin."""
    return Voice(id, name, "zh-CN", "zh-CN", "Chinese (Mainland)", gender, engine, offline=True)


# The first of each engine's voices is its default. espeak-ng's voices are male (its default variant).
LOCAL_VOICES = (_mainland("baker", "Baker", "female", "local"),)
ESPEAK_VOICES = (
    _mainland("cmn", "espeak-ng Mandarin", "male", "espeak"),
    # The same voice, reading Latin letters as pinyin (ni3 hao3) where cmn reads them as English.
    _mainland("cmn-latn-pinyin", "espeak-ng Mandarin (Latin as pinyin)", "male", "espeak"),
)
_OFFLINE = {"local": LOCAL_VOICES, "espeak": ESPEAK_VOICES}
DEFAULTS = {"local": LOCAL_VOICES[0].id, "espeak": ESPEAK_VOICES[0].id, "edge": EDGE_DEFAULT}
# The engines, in engines.ENGINE_NAMES's order (a test holds them equal): the engines import this module,
# so it cannot import theirs.
ENGINES = tuple(DEFAULTS)


def check_engine(name: str) -> str:
    """``name`` if it names an engine, else InvalidInput listing them (as engines.check_engine words it)."""
    if name not in DEFAULTS:
        raise InvalidInput(f"unknown engine {name!r}; valid engines: {', '.join(ENGINES)}")
    return name


# OpenAI's voices (its speech API's ``voice``), matched by character with a Mainland voice of each engine.
# Edge has two standard Mandarin women's voices and four men's: OpenAI's female voices go to Xiaoxiao
# (warm; news, novels) unless they are bright and upbeat (Xiaoyi: lively); the male ones to Yunyang (news:
# professional, reliable) when deep or calm, Yunxi (novels: lively, sunny) when warm or story-telling,
# Yunjian (sports: passionate) when energetic. The offline engines have one voice to give.
OPENAI_EDGE_VOICES = {
    "alloy": "zh-CN-XiaoxiaoNeural",  # neutral, balanced
    "ash": "zh-CN-YunjianNeural",  # male: clear, confident
    "ballad": "zh-CN-YunxiNeural",  # male: warm, expressive
    "coral": "zh-CN-XiaoyiNeural",  # female: warm, cheerful
    "echo": "zh-CN-YunyangNeural",  # male: calm, resonant
    "fable": "zh-CN-YunxiNeural",  # male: a story-teller
    "onyx": "zh-CN-YunyangNeural",  # male: deep, authoritative
    "nova": "zh-CN-XiaoyiNeural",  # female: bright, energetic
    "sage": "zh-CN-XiaoxiaoNeural",  # female: calm, measured
    "shimmer": "zh-CN-XiaoxiaoNeural",  # female: soft, gentle
    "verse": "zh-CN-YunjianNeural",  # male: dynamic, versatile
    "marin": "zh-CN-XiaoxiaoNeural",  # female: natural
    "cedar": "zh-CN-YunxiNeural",  # male: natural
}
OPENAI_VOICES = tuple(OPENAI_EDGE_VOICES)


def openai_voice(engine: str, name: str) -> str | None:
    """Our voice for OpenAI's voice ``name`` (any case) on ``engine``; None if it is not one of OpenAI's."""
    name = name.lower()
    if name not in OPENAI_EDGE_VOICES:
        return None
    return OPENAI_EDGE_VOICES[name] if engine == "edge" else DEFAULTS[engine]


_FRIENDLY = re.compile(r"Microsoft (?P<name>.+?) Online \(Natural\) - (?P<locale_name>.+)")


def _texts(value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError(f"expected a list of strings, got {value!r}")
    return tuple(value)


def edge_voice(entry: Mapping[str, Any]) -> Voice:
    """The voice one entry of Microsoft's list describes; ValueError if it lacks what a voice needs."""
    short, locale, gender = entry.get("ShortName"), entry.get("Locale"), entry.get("Gender")
    if not (isinstance(short, str) and isinstance(locale, str) and isinstance(gender, str)):
        raise ValueError(f"a voice without ShortName, Locale and Gender: {dict(entry)!r}")
    if gender.lower() not in ("female", "male"):
        raise ValueError(f"{short}: Gender {gender!r} is neither Female nor Male")
    # "Microsoft Xiaobei Online (Natural) - Chinese (Northeastern Mandarin)"; else the name in the id.
    friendly = _FRIENDLY.fullmatch(str(entry.get("FriendlyName", "")))
    name = friendly["name"] if friendly else short.removeprefix(f"{locale}-").removesuffix("Neural")
    tags = entry.get("VoiceTag") or {}
    if not isinstance(tags, dict):
        raise ValueError(f"{short}: VoiceTag {tags!r} is not an object")
    return Voice(
        id=short,
        name=name,
        language="-".join(locale.split("-")[:2]),
        locale=locale,
        locale_name=friendly["locale_name"] if friendly else "",
        gender=gender.lower(),
        engine="edge",
        offline=False,
        categories=_texts(tags.get("ContentCategories", [])),
        personalities=_texts(tags.get("VoicePersonalities", [])),
    )


def offered_voices(entries: object) -> tuple[Voice, ...]:
    """The voices of Microsoft's list (``voices`` of our file, or the bare list) that the service offers.

    An offered entry that is not a usable voice (a gender other than female or male) is left out with a
    warning; ValueError if the list is not one, or has no usable voice to offer. Other locales are not read.
    """
    if isinstance(entries, dict):
        entries = entries.get("voices")
    if not isinstance(entries, list) or not all(isinstance(entry, dict) for entry in entries):
        raise ValueError("not a list of voices")
    voices: list[Voice] = []
    for entry in entries:
        if str(entry.get("Locale", "")).startswith(OFFERED_LOCALE_PREFIX):
            try:
                voices.append(edge_voice(entry))
            except ValueError as exc:
                log.warning("leaving out an edge voice: %s", exc)
    if not voices:
        raise ValueError(f"no usable voice of a {OFFERED_LOCALE_PREFIX}* locale")
    return tuple(voices)


@functools.cache
def shipped_edge_voices() -> tuple[Voice, ...]:
    """The edge voices of the list shipped with the package: those every installation accepts."""
    text = (files("tts_service") / "data" / EDGE_LIST_FILE).read_text(encoding="utf-8")
    return offered_voices(json.loads(text))


def shipped_edge_ids() -> tuple[str, ...]:
    """The ids of the shipped edge voices, sorted (zh-CN first)."""
    return tuple(sorted(voice.id for voice in shipped_edge_voices()))


def read_edge_list(path: Path) -> tuple[Voice, ...]:
    """The offered voices of a refreshed list; () if there is none, or (with a warning) if it is unusable."""
    try:
        return offered_voices(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        return ()
    except (OSError, ValueError) as exc:  # json.JSONDecodeError and UnicodeDecodeError are ValueErrors
        log.warning(
            "ignoring the edge voice list %s (%s); using the list shipped with the package", path, exc
        )
        return ()


def merged(shipped: Iterable[Voice], refreshed: Iterable[Voice]) -> tuple[Voice, ...]:
    """Every shipped voice (none is ever dropped) and every refreshed one; the refreshed details win."""
    by_id = {voice.id: voice for voice in shipped}
    by_id.update((voice.id, voice) for voice in refreshed)
    return tuple(by_id[key] for key in sorted(by_id))


class VoiceCatalog:
    """The voices of every engine for one TTS_HOME (None: the shipped lists alone), read once, when first
    asked for: a server offers the voices of the list it found at start-up, as its edge engine accepts."""

    def __init__(self, home: Path | None) -> None:
        self.refreshed_path = home / EDGE_LIST_FILE if home is not None else None
        self._edge: tuple[Voice, ...] | None = None

    def _edge_voices(self) -> tuple[Voice, ...]:
        if self._edge is None:
            refreshed = read_edge_list(self.refreshed_path) if self.refreshed_path is not None else ()
            self._edge = merged(shipped_edge_voices(), refreshed)
        return self._edge

    def voices(self, engine: str | None = None) -> tuple[Voice, ...]:
        """The voices of ``engine`` (InvalidInput if there is no such engine), or of all, engine by engine."""
        names = ENGINES if engine is None else (check_engine(engine),)
        found: list[Voice] = []
        for name in names:
            voices = _OFFLINE[name] if name in _OFFLINE else self._edge_voices()
            found.extend(replace(voice, default=voice.id == DEFAULTS[name]) for voice in voices)
        return tuple(found)

    def ids(self, engine: str) -> tuple[str, ...]:
        """The ids of ``engine``'s voices."""
        return tuple(voice.id for voice in self.voices(engine))


_SHIPPED = VoiceCatalog(None)


def resolve_voice(engine_name: str, voice: str | None, catalog: VoiceCatalog | None = None) -> str | None:
    """Our voice id for ``voice`` on the engine: an OpenAI voice name (alloy, nova…) mapped as the README's
    table says, one of the engine's own voices as it is, None as None (the engine's default voice).

    InvalidInput, naming the valid voices, for anything else or an unknown engine. ``catalog``: the voices
    of the server's TTS_HOME (a refreshed edge list adds voices); without it, those shipped.
    """
    check_engine(engine_name)
    if voice is None:
        return None
    ids = (catalog or _SHIPPED).ids(engine_name)
    if voice in ids:
        return voice
    mapped = openai_voice(engine_name, voice)
    if mapped is not None:
        return mapped
    raise InvalidInput(
        f"unknown voice {voice!r} for engine {engine_name!r}; valid voices: {', '.join(ids)}"
        f", or OpenAI's: {', '.join(OPENAI_VOICES)}"
    )
