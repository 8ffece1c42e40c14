"""A local TLS double of Microsoft's Read Aloud WebSocket service, for driving the real edge-tts client."""

from __future__ import annotations

import array
import asyncio
import enum
import json
import math
import re
import socket
import ssl
import sys
import uuid
from collections import deque
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any
from xml.etree import ElementTree
from xml.sax.saxutils import escape

import aiohttp
import trustme
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult

from tts_service.audio import frames, mp3

EDGE_HOST = "speech.platform.bing.com"
WS_PATH = "/consumer/speech/synthesize/readaloud/edge/v1"
REQUIRED_QUERY = ("TrustedClientToken", "Sec-MS-GEC", "ConnectionId")
VOICE_LIST_PATH = "/consumer/speech/synthesize/readaloud/voices/list"
VOICE_LIST_QUERY = ("trustedclienttoken", "Sec-MS-GEC", "Sec-MS-GEC-Version")
SSML_NS = "{http://www.w3.org/2001/10/synthesis}"
SAMPLE_RATE = 24_000
SECONDS_PER_CHAR = 0.2
FRAME_BYTES = 4096
TICKS_PER_SECOND = 10_000_000


class Fault(enum.Enum):
    """Ways to make a request misbehave, each one a fault seen from the real service."""

    FORBIDDEN = "forbidden"  # HTTP 403 on the WebSocket handshake, before the upgrade (stale Sec-MS-GEC)
    THROTTLED = "throttled"  # HTTP 429 on the handshake, with a Retry-After header
    RESET = "reset"  # turn.start and part of the audio, then the TCP connection is dropped, no close frame
    NO_AUDIO = "no_audio"  # turn.start, then close: edge-tts raises NoAudioReceived
    STALL = "stall"  # turn.start, then silence until the client gives up
    TRUNCATED = "truncated"  # turn.start, audio cut inside an MP3 frame, then turn.end as if all was well


_HANDSHAKE_FAULTS = {Fault.FORBIDDEN: web.HTTPForbidden, Fault.THROTTLED: web.HTTPTooManyRequests}


# What each fault must come out as, after "edge-tts: ": a reason a person can act on (regular expressions,
# for the default voice; a stall names the engine's timeout).
FAULT_REASONS = {
    Fault.FORBIDDEN: r"Microsoft refused the request \(HTTP 403\)",
    Fault.THROTTLED: r"Microsoft throttled the request \(HTTP 429; it asks to retry after 1 s\)",
    Fault.RESET: r"connection lost mid-stream \(\d+ bytes in\)",
    Fault.NO_AUDIO: r"no audio received for voice zh-CN-XiaoxiaoNeural",
    Fault.STALL: r"no response within \d+(?:\.\d+)? s",
    Fault.TRUNCATED: r"audio truncated: the stream stops \d+ bytes into an MP3 frame",
}


@dataclass
class EdgeRequest:
    """One synthesis request as the double received it."""

    voice: str
    rate: str
    pitch: str
    volume: str
    text: str
    ssml: str
    config: dict[str, Any]
    headers: dict[str, str]
    query: dict[str, str]
    audio: bytes  # exactly what was sent back, before framing


def expected_seconds(text: str) -> float:
    """How long the tone for ``text`` lasts (before MP3 encoder padding)."""
    return len(text) * SECONDS_PER_CHAR


@cache
def tone(seconds: float, amplitude: int = 8000) -> bytes:
    """A 220 Hz sine as 24 kHz mono MP3, like the real service's audio-24khz-48kbitrate-mono-mp3."""
    samples = array.array(
        "h",
        (
            int(amplitude * math.sin(2 * math.pi * 220 * i / SAMPLE_RATE))
            for i in range(int(seconds * SAMPLE_RATE))
        ),
    )
    if sys.byteorder == "big":  # encode() wants little-endian PCM
        samples.byteswap()
    return mp3.encode(samples.tobytes(), SAMPLE_RATE)


def _parse_message(message: str) -> tuple[dict[str, str], str]:
    head, _, body = message.partition("\r\n\r\n")
    headers = dict(line.split(":", 1) for line in head.split("\r\n"))
    return headers, body


def _text_message(request_id: str, path: str, body: dict[str, Any]) -> str:
    return (
        f"X-RequestId:{request_id}\r\nContent-Type:application/json; charset=utf-8\r\n"
        f"Path:{path}\r\n\r\n{json.dumps(body, ensure_ascii=False)}"
    )


def _audio_frame(request_id: str, stream_id: str, payload: bytes) -> bytes:
    # The length prefix counts the headers including their final CRLF; edge-tts slices data[:length]
    # (which then holds the prefix and drops that CRLF) and reads audio from 2 + length.
    content_type = "Content-Type:audio/mpeg\r\n" if payload else ""
    head = f"X-RequestId:{request_id}\r\n{content_type}X-StreamId:{stream_id}\r\nPath:audio\r\n".encode()
    return len(head).to_bytes(2, "big") + head + payload


class _PinnedResolver(AbstractResolver):
    """Resolves the service's host name to the double, on whatever free port the double got."""

    def __init__(self, port: int) -> None:
        self._port = port

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        if host != EDGE_HOST:
            raise OSError(f"the edge double only resolves {EDGE_HOST}, not {host}")
        return [
            ResolveResult(
                hostname=host,
                host="127.0.0.1",
                port=self._port,
                family=socket.AF_INET,
                proto=0,
                flags=socket.AI_NUMERICHOST,
            )
        ]

    async def close(self) -> None:
        return None


def connector_to(port: int, context: ssl.SSLContext) -> aiohttp.TCPConnector:
    """A connector that reaches a double listening on ``port`` (in this process or another one)."""
    return aiohttp.TCPConnector(resolver=_PinnedResolver(port), ssl=context)


class EdgeDouble:
    """Serves the Read Aloud protocol over TLS on 127.0.0.1 and records every request."""

    def __init__(self) -> None:
        self.ca = trustme.CA()
        self.requests: list[EdgeRequest] = []  # those that got as far as sending their SSML
        self.attempts: list[Fault | None] = []  # every connection attempt, handshake failures included
        self.protocol_errors: list[str] = []
        self.port = 0
        self.amplitude = 8000  # of the tone sent back, out of 32767
        self.delay = 0.0  # seconds each request is held before it is answered
        self.retry_after = 1  # seconds, in the Retry-After header of a THROTTLED answer
        self.max_concurrent = 0  # most requests being answered at once
        # Whether WordBoundary events come when the client asks for them; False plays the service that
        # sends none (edge-tts issues #420 and #459).
        self.word_boundaries = True
        # What GET voices/list answers (the voices of the shipped list and one of another language, unless
        # a test sets another), and the query and headers of every such request, refused ones included.
        self.voice_list: Any = [*_shipped_voice_entries(), ENGLISH_VOICE]
        self.voice_list_requests: list[tuple[dict[str, str], dict[str, str]]] = []
        self._active = 0
        self._faults: deque[Fault] = deque()
        self._persistent: Fault | None = None
        self._runner: web.AppRunner | None = None

    def fail_next(self, fault: Fault, times: int = 1) -> None:
        """Make the next ``times`` requests misbehave as ``fault`` (before any ``fail_all`` fault)."""
        self._faults.extend([fault] * times)

    def fail_all(self, fault: Fault | None) -> None:
        """Make every request misbehave as ``fault`` from now on; None makes them behave again."""
        self._persistent = fault

    def client_ssl_context(self) -> ssl.SSLContext:
        """A client context that trusts only the double's CA."""
        context = ssl.create_default_context()
        self.ca.configure_trust(context)
        return context

    def connector_factory(self) -> aiohttp.TCPConnector:
        """A fresh connector that reaches the double instead of Microsoft (edge-tts closes it)."""
        return connector_to(self.port, self.client_ssl_context())

    async def start(self) -> None:
        """Listen on a free port."""
        server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.ca.issue_cert(EDGE_HOST).configure_cert(server_context)
        app = web.Application()
        app.router.add_get(WS_PATH, self._handle)
        app.router.add_get(VOICE_LIST_PATH, self._voice_list)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock, ssl_context=server_context).start()

    async def stop(self) -> None:
        """Close the listener and any open connections."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        missing = [name for name in REQUIRED_QUERY if not request.query.get(name)]
        if missing:
            self.protocol_errors.append(f"missing query parameters {missing}")
            raise web.HTTPBadRequest(text=f"missing query parameters {missing}")
        fault = self._faults.popleft() if self._faults else self._persistent
        self.attempts.append(fault)
        # Counted until the answer is out, not until the client hangs up: a client that has read its
        # answer may already be opening its next connection while this handler waits for the close.
        self._active += 1
        self.max_concurrent = max(self.max_concurrent, self._active)
        try:
            ws = await self._answer(request, fault)
        finally:
            self._active -= 1
        if fault is Fault.NO_AUDIO:
            await ws.close()
        elif fault is not Fault.RESET:
            async for _ in ws:  # wait for the client to close (after turn.end, or after giving up on a stall)
                pass
        return ws

    async def _voice_list(self, request: web.Request) -> web.Response:
        """The voice list as Microsoft serves it (a JSON array), or a handshake fault's HTTP error."""
        self.voice_list_requests.append((dict(request.query), dict(request.headers)))
        missing = [name for name in VOICE_LIST_QUERY if not request.query.get(name)]
        if missing:
            self.protocol_errors.append(f"voice list without query parameters {missing}")
            raise web.HTTPBadRequest(text=f"missing query parameters {missing}")
        fault = self._faults.popleft() if self._faults else self._persistent
        if fault in _HANDSHAKE_FAULTS:
            headers = {"Retry-After": str(self.retry_after)} if fault is Fault.THROTTLED else None
            raise _HANDSHAKE_FAULTS[fault](headers=headers)
        if isinstance(self.voice_list, bytes):  # a test's broken answer, sent as it is
            return web.Response(body=self.voice_list, content_type="application/json")
        return web.json_response(self.voice_list)

    async def _answer(self, request: web.Request, fault: Fault | None) -> web.WebSocketResponse:
        """Refuse the handshake, or read the request and stream back a tone (or ``fault``'s take on one)."""
        if fault in _HANDSHAKE_FAULTS:
            headers = {"Retry-After": str(self.retry_after)} if fault is Fault.THROTTLED else None
            raise _HANDSHAKE_FAULTS[fault](headers=headers)
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        received = await self._receive(ws, request, fault)
        if received is None:
            return ws
        if self.delay:
            await asyncio.sleep(self.delay)
        request_id, stream_id, record = received
        await ws.send_str(_text_message(request_id, "turn.start", {"context": {"serviceTag": stream_id}}))
        audio = record.audio
        for start in range(0, len(audio), FRAME_BYTES):
            await ws.send_bytes(_audio_frame(request_id, stream_id, audio[start : start + FRAME_BYTES]))
        if fault is Fault.RESET:
            assert request.transport is not None
            request.transport.abort()  # as a reset looks to the client: no close frame, no TLS close_notify
        elif fault in (None, Fault.TRUNCATED):
            words = self.word_boundaries and _wants_words(record.config)
            await self._end_turn(ws, request_id, stream_id, record.text, words)
        return ws

    async def _receive(
        self, ws: web.WebSocketResponse, request: web.Request, fault: Fault | None
    ) -> tuple[str, str, EdgeRequest] | None:
        """Read speech.config and the SSML; record the request, or close on a protocol error (None)."""
        config_headers, config_body = _parse_message(await ws.receive_str())
        ssml_headers, ssml = _parse_message(await ws.receive_str())
        if config_headers.get("Path") != "speech.config" or ssml_headers.get("Path") != "ssml":
            self.protocol_errors.append(f"unexpected paths {config_headers} / {ssml_headers}")
            await ws.close(code=aiohttp.WSCloseCode.PROTOCOL_ERROR)
            return None
        voice = ElementTree.fromstring(ssml).find(f"{SSML_NS}voice")
        prosody = voice.find(f"{SSML_NS}prosody") if voice is not None else None
        if voice is None or prosody is None:
            self.protocol_errors.append(f"SSML without voice/prosody: {ssml}")
            await ws.close(code=aiohttp.WSCloseCode.PROTOCOL_ERROR)
            return None
        text = prosody.text or ""
        record = EdgeRequest(
            voice=voice.get("name", ""),
            rate=prosody.get("rate", ""),
            pitch=prosody.get("pitch", ""),
            volume=prosody.get("volume", ""),
            text=text,
            ssml=ssml,
            config=json.loads(config_body),
            headers=dict(request.headers),
            query=dict(request.query),
            audio=_audio_for(fault, tone(expected_seconds(text), self.amplitude)),
        )
        self.requests.append(record)
        return ssml_headers["X-RequestId"], uuid.uuid4().hex.upper(), record

    async def _end_turn(
        self, ws: web.WebSocketResponse, request_id: str, stream_id: str, text: str, words: bool
    ) -> None:
        """The word boundaries (one message each, as the service sends them) if ``words``, else the sentence
        boundary for all of ``text``; then the empty closing audio message and turn.end."""
        if words:
            for boundary in word_boundaries(text):
                await ws.send_str(_text_message(request_id, "audio.metadata", {"Metadata": [boundary]}))
            await ws.send_bytes(_audio_frame(request_id, stream_id, b""))
            await ws.send_str(_text_message(request_id, "turn.end", {}))
            return
        boundary = {
            "Type": "SentenceBoundary",
            "Data": {
                "Offset": 0,
                "Duration": round(expected_seconds(text) * TICKS_PER_SECOND),
                "text": {"Text": escape(text), "Length": len(text), "BoundaryType": "SentenceBoundary"},
            },
        }
        await ws.send_str(_text_message(request_id, "audio.metadata", {"Metadata": [boundary]}))
        await ws.send_bytes(_audio_frame(request_id, stream_id, b""))
        await ws.send_str(_text_message(request_id, "turn.end", {}))


_WORD = re.compile(r"[\u4e00-\u9fff]{1,2}|[A-Za-z0-9]+")


def word_boundaries(text: str) -> list[dict[str, Any]]:
    """WordBoundary metadata for ``text`` as the tone says it: a word (two Han characters, or a run of
    letters or digits) starts where its first character's SECONDS_PER_CHAR begins and lasts 90% of its
    characters' time; punctuation is said as silence time, with no event. Offsets count in the audio as
    it decodes (and plays), which starts with the encoder's delay, as the service's offsets are taken."""
    events = []
    lead = mp3.CODEC_DELAY / SAMPLE_RATE
    for match in _WORD.finditer(text):
        offset = round((lead + match.start() * SECONDS_PER_CHAR) * TICKS_PER_SECOND)
        duration = round(len(match.group()) * SECONDS_PER_CHAR * 0.9 * TICKS_PER_SECOND)
        data = {"Text": escape(match.group()), "Length": len(match.group()), "BoundaryType": "WordBoundary"}
        events.append(
            {"Type": "WordBoundary", "Data": {"Offset": offset, "Duration": duration, "text": data}}
        )
    return events


def _wants_words(config: dict[str, Any]) -> bool:
    """Whether speech.config asked for word boundaries (edge-tts sends the flag as a string)."""
    options = config.get("context", {}).get("synthesis", {}).get("audio", {}).get("metadataoptions", {})
    return bool(options.get("wordBoundaryEnabled") == "true")


ENGLISH_VOICE = {
    "Name": "Microsoft Server Speech Text to Speech Voice (en-US, EmmaMultilingualNeural)",
    "ShortName": "en-US-EmmaMultilingualNeural",
    "Gender": "Female",
    "Locale": "en-US",
    "SuggestedCodec": "audio-24khz-48kbitrate-mono-mp3",
    "FriendlyName": "Microsoft Emma Online (Natural) - English (United States)",
    "Status": "GA",
    "VoiceTag": {"ContentCategories": ["General"], "VoicePersonalities": ["Friendly", "Positive"]},
}


def _shipped_voice_entries() -> list[dict[str, Any]]:
    """The entries of the voice list shipped with the package: Microsoft's own, as Microsoft sends them."""
    text = (files("tts_service") / "data" / "edge_voices.json").read_text(encoding="utf-8")
    entries: list[dict[str, Any]] = json.loads(text)["voices"]
    return entries


def _audio_for(fault: Fault | None, audio: bytes) -> bytes:
    """What of ``audio`` a request with ``fault`` gets to send: all, a cut-off part, or nothing."""
    if fault is None:
        return audio
    if fault is Fault.RESET:
        return audio[: len(audio) // 2]
    if fault is Fault.TRUNCATED:
        found = frames.frames(audio)
        middle = found[len(found) // 2]
        return audio[: middle.offset + middle.length // 2]  # half-way through the middle frame
    return b""
