"""The one interface every synthesis engine implements."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from tts_service.errors import InvalidInput
from tts_service.timing import Source, Timing, Word


@dataclass(frozen=True)
class Prosody:
    """Relative prosody. ``rate`` and ``volume`` are percentages (+0 = normal), ``pitch`` is in Hz."""

    rate: int = 0
    pitch: int = 0
    volume: int = 0

    def __post_init__(self) -> None:
        if not -50 <= self.rate <= 100:
            raise InvalidInput(f"rate must be between -50 and +100 percent, got {self.rate}")
        if not -50 <= self.pitch <= 50:
            raise InvalidInput(f"pitch must be between -50 and +50 Hz, got {self.pitch}")
        if not -50 <= self.volume <= 50:
            raise InvalidInput(f"volume must be between -50 and +50 percent, got {self.volume}")


_RATE = re.compile(r"([+-]?\d{1,4})\s*%?")


def parse_rate(value: str | int) -> int:
    """A speed change in percent, written as edge-tts writes it ("+20%", "-10%") or as a number (20, "-10"):
    the one reading of ``rate`` for the command line and the API. InvalidInput if neither, or out of range.
    """
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise InvalidInput(f"rate is a percentage such as +20% or -10%, or a number; got {value!r}")
    match = _RATE.fullmatch(value.strip()) if isinstance(value, str) else None
    if isinstance(value, str) and match is None:
        raise InvalidInput(f"rate is a percentage such as +20% or -10%, or a number; got {value!r}")
    return Prosody(rate=int(match[1]) if match else int(value)).rate  # Prosody checks the range


@dataclass(frozen=True)
class Synthesis:
    """MP3 audio and its duration in seconds.

    An engine that knows when it said what reports ``words`` (times into ``audio`` as decoded) and where
    they come from; `utterance.say` turns them into the chunk's ``timing``.
    """

    audio: bytes
    duration: float
    words: tuple[Word, ...] = ()
    source: Source = "proportional"
    timing: Timing | None = None


@runtime_checkable
class Engine(Protocol):
    """Turns spoken text into MP3 audio.

    ``version`` must change whenever the same input would sound different, because it is part of the
    cache key. ``max_chunk_chars`` is the longest text the engine should be handed at once.
    """

    name: str
    version: str
    voices: tuple[str, ...]
    default_voice: str
    max_chunk_chars: int

    async def synthesize(self, text: str, voice: str, prosody: Prosody) -> Synthesis: ...


def check_voice(engine: Engine, voice: str | None) -> str:
    """Return the voice to use, or raise InvalidInput naming the valid ones."""
    if voice is None:
        return engine.default_voice
    if voice not in engine.voices:
        raise InvalidInput(
            f"unknown voice {voice!r} for engine {engine.name!r}; valid voices: {', '.join(engine.voices)}"
        )
    return voice
