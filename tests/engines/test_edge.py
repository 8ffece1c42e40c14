"""EdgeEngine driving the real edge-tts client against a local double of Microsoft's service."""

from __future__ import annotations

import asyncio
import re
import time

import aiohttp
import edge_tts
import pytest
from edge_double import EDGE_HOST, FAULT_REASONS, FRAME_BYTES, EdgeDouble, Fault, expected_seconds, tone
from edge_tts.constants import TRUSTED_CLIENT_TOKEN
from edge_tts.drm import DRM
from edge_tts.exceptions import NoAudioReceived, SkewAdjustmentError, UnexpectedResponse
from helpers import frame_formats, loudness_of

from tts_service.audio import frames, mp3
from tts_service.engines.base import Engine, Prosody
from tts_service.engines.edge import TICKS_PER_SECOND, EdgeEngine, failure_reason, truncation
from tts_service.engines.resilience import Resilient
from tts_service.errors import InvalidInput, SynthesisError

LONG_VOICE = "Microsoft Server Speech Text to Speech Voice ({}, {})"


@pytest.fixture
def engine(edge_double: EdgeDouble) -> EdgeEngine:
    return EdgeEngine(timeout=5, connector_factory=edge_double.connector_factory)


def test_engine_metadata() -> None:
    engine = EdgeEngine()
    assert isinstance(engine, Engine)
    assert engine.name == "edge"
    assert engine.version == f"edge-tts-{edge_tts.__version__}" == "edge-tts-7.3.1"
    assert engine.default_voice == engine.voices[0] == "zh-CN-XiaoxiaoNeural"
    assert len(engine.voices) == 14 and len(set(engine.voices)) == 14
    assert all(v.startswith(("zh-CN-", "zh-HK-", "zh-TW-")) for v in engine.voices)


async def test_audio_is_reassembled_and_decodes_to_tone_length(
    engine: EdgeEngine, edge_double: EdgeDouble
) -> None:
    text = "今天天气很好我们去公园散步吧大家一起走"  # 19 characters -> 3.8 s -> several 4 KB frames
    result = await engine.synthesize(text, "zh-CN-XiaoxiaoNeural", Prosody())

    (request,) = edge_double.requests
    assert len(request.audio) > 4 * FRAME_BYTES  # so reassembly across frames is exercised
    # Transcoded once (for loudness), in the same format and on the same timeline, give or take a frame.
    assert frame_formats(result.audio) == frame_formats(request.audio) == {(24000, 48, 1)}
    assert result.duration == pytest.approx(mp3.duration(request.audio), abs=0.03)
    assert result.duration == pytest.approx(3.8, abs=0.1)
    assert result.duration == pytest.approx(expected_seconds(text), abs=0.1)


async def test_quiet_voice_is_brought_to_target_loudness(engine: EdgeEngine, edge_double: EdgeDouble) -> None:
    edge_double.amplitude = 1000  # about -34 LUFS as sent
    result = await engine.synthesize("今天天气很好我们去公园散步吧", "zh-CN-XiaoxiaoNeural", Prosody())

    (request,) = edge_double.requests
    assert loudness_of(request.audio)[0] < -30
    lufs, peak = loudness_of(result.audio)
    assert lufs == pytest.approx(-16.0, abs=1.0)
    assert peak <= -1.0


async def test_ssml_carries_voice_and_prosody(engine: EdgeEngine, edge_double: EdgeDouble) -> None:
    await engine.synthesize("测试", "zh-CN-YunxiNeural", Prosody(rate=25, pitch=-10, volume=5))

    (request,) = edge_double.requests
    assert request.voice == LONG_VOICE.format("zh-CN", "YunxiNeural")
    assert (request.rate, request.pitch, request.volume) == ("+25%", "-10Hz", "+5%")
    assert request.text == "测试"


async def test_default_prosody_and_regional_voice(engine: EdgeEngine, edge_double: EdgeDouble) -> None:
    await engine.synthesize("你好", "zh-CN-liaoning-XiaobeiNeural", Prosody())

    (request,) = edge_double.requests
    # edge-tts rewrites a dialect voice's region to "zh-CN-liaoning", as Edge itself does.
    assert request.voice == LONG_VOICE.format("zh-CN-liaoning", "XiaobeiNeural")
    assert (request.rate, request.pitch, request.volume) == ("+0%", "+0Hz", "+0%")


async def test_none_voice_means_default(engine: EdgeEngine, edge_double: EdgeDouble) -> None:
    await engine.synthesize("你好", None, Prosody())  # type: ignore[arg-type]

    assert edge_double.requests[0].voice == LONG_VOICE.format("zh-CN", "XiaoxiaoNeural")


async def test_xml_special_characters_are_escaped_and_round_trip(
    engine: EdgeEngine, edge_double: EdgeDouble
) -> None:
    text = "a<b & c>d \"引号\" 'x' &amp;"
    result = await engine.synthesize(text, "zh-TW-HsiaoChenNeural", Prosody())

    (request,) = edge_double.requests
    assert request.text == text
    assert "a&lt;b &amp; c&gt;d \"引号\" 'x' &amp;amp;</prosody>" in request.ssml
    assert result.duration == pytest.approx(expected_seconds(text), abs=0.1)


async def test_chinese_text_round_trips(engine: EdgeEngine, edge_double: EdgeDouble) -> None:
    text = "语音播报：欢迎使用无障碍阅读服务。請注意，粵語與國語皆可。"
    result = await engine.synthesize(text, "zh-HK-HiuGaaiNeural", Prosody(rate=-20))

    (request,) = edge_double.requests
    assert request.text == text
    assert request.rate == "-20%"
    assert result.duration == pytest.approx(len(text) * 0.2, abs=0.1)


async def test_request_looks_like_edge(engine: EdgeEngine, edge_double: EdgeDouble) -> None:
    await engine.synthesize("你好", "zh-CN-XiaoxiaoNeural", Prosody())

    (request,) = edge_double.requests
    assert request.query["TrustedClientToken"] == TRUSTED_CLIENT_TOKEN
    assert len(request.query["ConnectionId"]) == 32
    assert request.headers["Host"] == EDGE_HOST
    assert request.headers["Origin"] == "chrome-extension://jdiccldimpdaibmpdkjnbmckianbfold"
    assert request.headers["Cookie"].startswith("muid=")
    audio_config = request.config["context"]["synthesis"]["audio"]
    assert audio_config["outputFormat"] == "audio-24khz-48kbitrate-mono-mp3"
    assert edge_double.protocol_errors == []


async def test_unknown_voice_is_invalid_input_listing_voices(
    engine: EdgeEngine, edge_double: EdgeDouble
) -> None:
    with pytest.raises(InvalidInput, match="en-US-AriaNeural") as excinfo:
        await engine.synthesize("你好", "en-US-AriaNeural", Prosody())

    assert all(voice in excinfo.value.message for voice in engine.voices)
    assert edge_double.requests == []


def test_every_fault_has_a_reason() -> None:
    assert set(FAULT_REASONS) == set(Fault)


@pytest.mark.parametrize("fault", list(Fault), ids=lambda fault: fault.name)
async def test_fault_is_synthesis_error_with_clear_reason(edge_double: EdgeDouble, fault: Fault) -> None:
    engine = EdgeEngine(timeout=0.5, connector_factory=edge_double.connector_factory)
    edge_double.fail_next(fault)
    started = time.monotonic()
    with pytest.raises(SynthesisError, match=rf"^edge-tts: {FAULT_REASONS[fault]}$") as excinfo:
        await engine.synthesize("你好", "zh-CN-XiaoxiaoNeural", Prosody())

    assert time.monotonic() - started < 2.5
    assert excinfo.type is SynthesisError  # no RuntimeError or aiohttp error leaks out
    if fault not in (Fault.RESET, Fault.TRUNCATED):  # those two the engine finds in what edge-tts yields
        assert excinfo.value.__cause__ is not None
    # One attempt reached the double: edge-tts's own retry after a 403 dies on the closed connector.
    assert edge_double.attempts == [fault]
    # The fault is used up: the next request works, on a fresh connector.
    result = await engine.synthesize("你好", "zh-CN-XiaoxiaoNeural", Prosody())
    assert result.duration == pytest.approx(0.4, abs=0.1)
    assert edge_double.attempts == [fault, None]


async def test_forbidden_adjusts_the_clock_and_leaks_no_runtime_error(edge_double: EdgeDouble) -> None:
    engine = EdgeEngine(timeout=5, connector_factory=edge_double.connector_factory)
    edge_double.fail_next(Fault.FORBIDDEN)
    DRM.clock_skew_seconds = 3600.0  # an hour off; the double's Date header says the real time
    with pytest.raises(SynthesisError, match="HTTP 403") as excinfo:
        await engine.synthesize("你好", "zh-CN-XiaoxiaoNeural", Prosody())

    assert isinstance(excinfo.value.__cause__, RuntimeError)  # "Session is closed", kept as the cause
    assert abs(DRM.clock_skew_seconds) < 5


async def test_throttled_handshake_carries_retry_after(edge_double: EdgeDouble) -> None:
    engine = EdgeEngine(timeout=5, connector_factory=edge_double.connector_factory)
    edge_double.retry_after = 7
    edge_double.fail_next(Fault.THROTTLED)
    with pytest.raises(SynthesisError, match=r"HTTP 429; it asks to retry after 7 s"):
        await engine.synthesize("你好", "zh-CN-XiaoxiaoNeural", Prosody())

    assert edge_double.requests == []  # refused before the upgrade: no SSML was ever sent


async def test_reset_sent_part_of_the_audio_before_dropping(edge_double: EdgeDouble) -> None:
    engine = EdgeEngine(timeout=5, connector_factory=edge_double.connector_factory)
    edge_double.fail_next(Fault.RESET)
    with pytest.raises(SynthesisError, match="connection lost mid-stream") as excinfo:
        await engine.synthesize("今天天气很好我们去公园", "zh-CN-XiaoxiaoNeural", Prosody())

    (request,) = edge_double.requests
    assert 0 < len(request.audio) < len(tone(expected_seconds(request.text)))
    assert f"({len(request.audio)} bytes in)" in excinfo.value.message


async def test_stalled_stream_times_out(edge_double: EdgeDouble) -> None:
    engine = EdgeEngine(timeout=1, connector_factory=edge_double.connector_factory)
    edge_double.fail_next(Fault.STALL)
    started = time.monotonic()
    with pytest.raises(SynthesisError, match="within 1 s"):
        await engine.synthesize("你好", "zh-CN-XiaoxiaoNeural", Prosody())

    assert 0.9 < time.monotonic() - started < 3
    assert len(edge_double.requests) == 1


def test_whole_audio_is_not_truncated() -> None:
    audio = tone(2.0)
    assert truncation(audio, 2 * TICKS_PER_SECOND) is None
    # Rounding slack: words that end a few ms after the last frame are still whole.
    assert truncation(audio, round((mp3.duration(audio) + 0.05) * TICKS_PER_SECOND)) is None


def test_audio_cut_inside_a_frame_is_truncated() -> None:
    audio = tone(2.0)
    middle = frames.frames(audio)[40]
    assert truncation(audio[: middle.offset + 100], 0) == "the stream stops 100 bytes into an MP3 frame"


def test_audio_cut_between_frames_but_short_of_the_words_is_truncated() -> None:
    audio = tone(2.0)
    half = frames.frames(audio)[len(frames.frames(audio)) // 2].offset
    problem = truncation(audio[:half], 2 * TICKS_PER_SECOND)
    assert problem is not None and re.fullmatch(r"1\.\d\d s of audio, but the words run to 2\.00 s", problem)
    assert truncation(audio[:half], TICKS_PER_SECOND) is None


def test_bytes_without_a_frame_are_truncated() -> None:
    assert truncation(b"\x00" * 50, 0) == "50 bytes without a whole MP3 frame"


def _http(status: int, message: str = "Invalid response status") -> aiohttp.ClientResponseError:
    return aiohttp.ClientResponseError(None, (), status=status, message=message)  # type: ignore[arg-type]


def _while_handling(first: Exception, second: Exception) -> Exception:
    """``second`` as if raised inside an ``except`` for ``first``, as edge-tts's retry after a 403 is."""
    second.__context__ = first
    return second


@pytest.mark.parametrize(
    ("exc", "reason"),
    [
        (_http(500, "Internal Server Error"), "edge-tts: Microsoft answered HTTP 500 Internal Server Error"),
        (_while_handling(_http(403), SkewAdjustmentError("no Date")), "Microsoft refused the request"),
        (_while_handling(_http(403), RuntimeError("Session is closed")), "Microsoft refused the request"),
        # What went wrong in the second try is the news, not the 403 that led to it.
        (_while_handling(_http(403), NoAudioReceived("none")), "edge-tts: no audio received for voice v"),
        (_while_handling(_http(403), _http(429)), "Microsoft throttled the request (HTTP 429)"),
        (aiohttp.ServerDisconnectedError(), "edge-tts: connection lost mid-stream"),
        (aiohttp.ConnectionTimeoutError(), "edge-tts: no response within 2.5 s"),
        (UnexpectedResponse("odd"), "edge-tts: unexpected response: UnexpectedResponse: odd"),
    ],
    ids=["500", "skew", "session-closed", "no-audio-after-403", "429-after-403", "reset", "timeout", "odd"],
)
def test_failure_reasons(exc: Exception, reason: str) -> None:
    assert reason in failure_reason(exc, "v", 2.5)


async def test_one_fault_is_recovered_by_a_retry(edge_double: EdgeDouble) -> None:
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    engine = Resilient(
        EdgeEngine(timeout=5, connector_factory=edge_double.connector_factory), backoff=0.5, sleep=sleep
    )
    edge_double.fail_next(Fault.TRUNCATED)
    result = await engine.synthesize("今天天气很好", "zh-CN-XiaoxiaoNeural", Prosody())

    assert result.duration == pytest.approx(1.2, abs=0.1)
    assert edge_double.attempts == [Fault.TRUNCATED, None]
    assert len(sleeps) == 1 and 0 <= sleeps[0] <= 0.5
    assert engine.health() == {"circuit": "closed", "failures": 0, "retry_in": None}


async def test_concurrent_requests(engine: EdgeEngine, edge_double: EdgeDouble) -> None:
    texts = ["一", "二二", "三三三"]
    results = await asyncio.gather(*(engine.synthesize(t, "zh-CN-YunyangNeural", Prosody()) for t in texts))

    assert [r.duration for r in results] == pytest.approx([0.2, 0.4, 0.6], abs=0.1)
    assert sorted(r.text for r in edge_double.requests) == sorted(texts)


async def test_word_boundaries_are_asked_for_and_come_back_as_words(
    engine: EdgeEngine, edge_double: EdgeDouble
) -> None:
    text = "今天天气很好，我们去公园。"
    result = await engine.synthesize(text, "zh-CN-XiaoxiaoNeural", Prosody())
    (request,) = edge_double.requests
    options = request.config["context"]["synthesis"]["audio"]["metadataoptions"]
    assert options["wordBoundaryEnabled"] == "true"  # edge-tts's default since 7.2 is sentences only
    assert result.source == "boundaries"
    assert [w.text for w in result.words] == ["今天", "天气", "很好", "我们", "去公", "园"]
    lead = mp3.CODEC_DELAY / 24000
    assert result.words[3].start == pytest.approx(lead + 7 * 0.2)  # the comma takes its 0.2 s
    assert all(w.end <= result.duration for w in result.words)


async def test_without_word_boundaries_the_words_are_spread_by_syllable(
    engine: EdgeEngine, edge_double: EdgeDouble
) -> None:
    """edge-tts issues #420 and #459: the service sends no WordBoundary. The chunk still gets a timing."""
    from tts_service.utterance import say

    edge_double.word_boundaries = False
    made = await say(engine, "今天天气很好，我们去公园。", "zh-CN-XiaoxiaoNeural", Prosody())
    assert made.words == ()
    assert made.timing is not None and made.timing.source == "proportional"
    assert len(made.timing.marks) == 11
    assert made.timing.marks[-1].until <= made.duration


async def test_chunk_timing_through_the_double_maps_words_to_the_chunk(engine: EdgeEngine) -> None:
    from tts_service.planning import spoken_form
    from tts_service.text.markup import Kind, Span
    from tts_service.utterance import say

    spoken = spoken_form("银行行长说话。", spans=(Span(2, 3, Kind.READING, "hang2"),))
    made = await say(engine, spoken, "zh-CN-XiaoxiaoNeural", Prosody())
    assert made.timing is not None and made.timing.source == "boundaries"
    marks = made.timing.marks
    # The engine was handed a homophone for 行 (and no mark): its words still land on the chunk's text.
    assert [spoken[m.start : m.end].replace("\ue010", "")[:2] for m in marks][0] == "银行"
    assert marks[0].at < marks[1].at < marks[-1].at
