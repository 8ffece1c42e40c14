"""Microsoft Edge's online neural voices, reached through the edge-tts client."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable, Iterable
from contextlib import aclosing
from dataclasses import dataclass

import aiohttp
import edge_tts
from edge_tts.exceptions import EdgeTTSException, NoAudioReceived, WebSocketError

from tts_service.audio import chunk, frames, mp3, pcm
from tts_service.engines.base import Prosody, Synthesis, check_voice
from tts_service.errors import SynthesisError
from tts_service.timing import Word
from tts_service.voices import EDGE_DEFAULT, shipped_edge_ids

# Microsoft's Chinese voices in the list shipped with the package (tts_service/voices.py says why only
# those): accepted by every installation, whatever a refreshed list in TTS_HOME adds.
VOICES: tuple[str, ...] = shipped_edge_ids()
TICKS_PER_SECOND = 10_000_000  # edge-tts reports boundary offsets and durations in 100 ns ticks
# How far the words may run past the audio before it counts as cut short. Edge's voices end in silence,
# so a whole turn never ends inside its last word; the slack only absorbs rounding at the frame level.
BOUNDARY_SLACK = 0.1


def _signed(value: int, unit: str) -> str:
    """edge-tts only accepts an explicit sign, e.g. "+0%" or "-10Hz"."""
    return f"{value:+d}{unit}"


def transcode(audio: bytes, volume: int) -> bytes:
    """Edge's MP3, loudness-normalised and re-encoded in the common chunk format (blocking)."""
    # Edge already sends our format, but loudness can only be set on PCM: MP3's own gain field moves in
    # 1.5 dB steps and cannot limit peaks. So edge audio is transcoded exactly once, here, and cached;
    # joining chunks later copies frames and never re-encodes.
    samples = pcm.from_int16(mp3.decode(audio))
    # Drop the codec delay at the head: the new encoding adds its own, so the timeline does not shift.
    # (The delay is LAME's; Edge's encoder could not be measured offline, but its voices open with a
    # lead-in of silence, so a few ms either way only moves where that silence ends.)
    return chunk.encode(samples[mp3.CODEC_DELAY :], mp3.SAMPLE_RATE, volume=volume)


@dataclass(frozen=True)
class _Turn:
    """What one edge-tts stream delivered: the MP3, where its last word ends (ticks), if turn.end came, and
    the words with their times (WordBoundary events; none when the service sends none)."""

    audio: bytes
    spoken_until: int
    ended: bool
    words: tuple[Word, ...] = ()


def truncation(audio: bytes, spoken_until: int) -> str | None:
    """Why ``audio`` cannot be all of a turn whose words end at ``spoken_until`` ticks; None if it can be."""
    try:
        found = frames.frames(audio)
    except ValueError:
        return f"{len(audio)} bytes without a whole MP3 frame"
    end = found[-1].offset + found[-1].length
    if end != len(audio):
        return f"the stream stops {len(audio) - end} bytes into an MP3 frame"
    seconds, spoken = frames.duration(found), spoken_until / TICKS_PER_SECOND
    if seconds + BOUNDARY_SLACK < spoken:
        return f"{seconds:.2f} s of audio, but the words run to {spoken:.2f} s"
    return None


def _http_error(exc: BaseException) -> aiohttp.ClientResponseError | None:
    """The HTTP error behind ``exc``, found by following its cause and context chain."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, aiohttp.ClientResponseError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def _http_reason(error: aiohttp.ClientResponseError) -> str:
    if error.status == 403:
        return "edge-tts: Microsoft refused the request (HTTP 403)"
    if error.status == 429:
        retry_after = error.headers.get("Retry-After") if error.headers else None
        wait = f"; it asks to retry after {retry_after} s" if retry_after else ""
        return f"edge-tts: Microsoft throttled the request (HTTP 429{wait})"
    return f"edge-tts: Microsoft answered HTTP {error.status} {error.message}"


def failure_reason(exc: BaseException, voice: str, timeout: float) -> str:
    """A reason a person can act on, for an exception from the edge-tts stream."""
    if isinstance(exc, NoAudioReceived):
        return f"edge-tts: no audio received for voice {voice}"
    if isinstance(exc, TimeoutError):  # before ClientConnectionError: aiohttp's timeouts are both
        return f"edge-tts: no response within {timeout:g} s"
    if isinstance(exc, aiohttp.ClientConnectorError):
        return f"edge-tts: cannot connect to Microsoft: {exc.os_error}"
    if isinstance(exc, aiohttp.ClientConnectionError | WebSocketError):
        return "edge-tts: connection lost mid-stream"
    # Last, as the errors above may have happened in edge-tts's second try after a 403: what they say is
    # newer. An HTTP error may come as itself, or behind what edge-tts raised while handling it.
    http = _http_error(exc)
    if http is not None:
        return _http_reason(http)
    return f"edge-tts: unexpected response: {type(exc).__name__}: {exc}"


class EdgeEngine:
    """Engine for Microsoft's Read Aloud service; needs internet access to speech.platform.bing.com."""

    name = "edge"
    version = f"edge-tts-{edge_tts.__version__}"
    voices = VOICES
    default_voice = EDGE_DEFAULT
    max_chunk_chars = 300

    def __init__(
        self,
        *,
        timeout: float = 30,
        connector_factory: Callable[[], aiohttp.BaseConnector] | None = None,
        voices: Iterable[str] = (),
    ) -> None:
        """``voices``: more to accept than VOICES (those of a refreshed list); VOICES always are."""
        self.voices = tuple(sorted({*VOICES, *voices}))
        self._timeout = timeout
        # edge-tts's ClientSession owns and closes the connector, so each request needs a new one.
        self._connector_factory = connector_factory

    async def synthesize(self, text: str, voice: str, prosody: Prosody) -> Synthesis:
        """Synthesize ``text`` with one edge-tts request and return the MP3 and its duration.

        Every way the request can fail, including audio that stops short, is a SynthesisError.
        """
        voice = check_voice(self, voice)
        connector = self._connector_factory() if self._connector_factory else None
        communicate = edge_tts.Communicate(
            text,
            voice,
            rate=_signed(prosody.rate, "%"),
            pitch=_signed(prosody.pitch, "Hz"),
            volume=_signed(prosody.volume, "%"),
            connector=connector,
            connect_timeout=math.ceil(self._timeout),  # edge-tts insists on whole seconds
            receive_timeout=math.ceil(self._timeout),
            # Since edge-tts 7.2 the default is SentenceBoundary, and then no word comes (edge-tts #420):
            # ask for words. When none come anyway (#459), `utterance.say` spreads the syllables instead.
            boundary="WordBoundary",
        )
        try:
            turn = await self._receive(communicate)
        except RuntimeError as exc:
            # edge-tts answers a 403 by correcting its clock and trying again at once, in a new session on
            # the connector the first one closed; that retry dies "Session is closed", the 403 its context.
            if _http_error(exc) is None:
                raise
            raise SynthesisError(failure_reason(exc, voice, self._timeout)) from exc
        except (EdgeTTSException, aiohttp.ClientError, TimeoutError) as exc:
            raise SynthesisError(failure_reason(exc, voice, self._timeout)) from exc
        if not turn.ended:
            raise SynthesisError(f"edge-tts: connection lost mid-stream ({len(turn.audio)} bytes in)")
        problem = truncation(turn.audio, turn.spoken_until)
        if problem is not None:
            raise SynthesisError(f"edge-tts: audio truncated: {problem}")
        audio = await asyncio.to_thread(transcode, turn.audio, prosody.volume)
        # The words' offsets count from the start of Edge's audio as decoded; `transcode` drops one codec
        # delay there and the new encoding adds one back, so they hold for the transcoded file as they are.
        return Synthesis(audio=audio, duration=mp3.duration(audio), words=turn.words, source="boundaries")

    async def _receive(self, communicate: edge_tts.Communicate) -> _Turn:
        """Run the stream to its end, collecting the audio and the end of the last spoken word."""
        chunks: list[bytes] = []
        words: list[Word] = []
        spoken_until = 0
        loop = asyncio.get_running_loop()
        # aiohttp drops sock_read once the WebSocket is upgraded, so edge-tts's receive_timeout never
        # fires on a stalled stream; this idle deadline, pushed back on every message, does instead.
        async with asyncio.timeout(self._timeout) as deadline, aclosing(communicate.stream()) as stream:
            async for message in stream:
                deadline.reschedule(loop.time() + self._timeout)
                if message["type"] == "audio":
                    chunks.append(message["data"])
                else:
                    offset, duration = message["offset"], message["duration"]
                    spoken_until = max(spoken_until, round(offset + duration))
                    if message["type"] == "WordBoundary":
                        start = offset / TICKS_PER_SECOND
                        words.append(Word(message["text"], start, start + duration / TICKS_PER_SECOND))
        # aiohttp ends a WebSocket that loses its connection as quietly as a closed one, so edge-tts
        # stops without an error. Only turn.end zeroes edge-tts's count of the turn's audio bytes.
        ended = communicate.state["chunk_audio_bytes"] == 0
        return _Turn(b"".join(chunks), spoken_until, ended, tuple(words))
