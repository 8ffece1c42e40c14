"""EdgeEngine driving the real edge-tts client against a local double of Microsoft's service."""

from __future__ import annotations

import asyncio
import time

import edge_tts
import pytest
from edge_double import EDGE_HOST, FRAME_BYTES, EdgeDouble, Fault, expected_seconds
from edge_tts.constants import TRUSTED_CLIENT_TOKEN
from helpers import frame_formats, loudness_of

from tts_service.audio import mp3
from tts_service.engines.base import Engine, Prosody
from tts_service.engines.edge import EdgeEngine
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


async def test_turn_without_audio_is_synthesis_error(engine: EdgeEngine, edge_double: EdgeDouble) -> None:
    edge_double.fail_next(Fault.NO_AUDIO)
    with pytest.raises(SynthesisError, match="no audio"):
        await engine.synthesize("你好", "zh-CN-XiaoxiaoNeural", Prosody())

    # The fault is used up: the next request works, on a fresh connector.
    result = await engine.synthesize("你好", "zh-CN-XiaoxiaoNeural", Prosody())
    assert result.duration == pytest.approx(0.4, abs=0.1)
    assert len(edge_double.requests) == 2


async def test_stalled_stream_times_out(edge_double: EdgeDouble) -> None:
    engine = EdgeEngine(timeout=1, connector_factory=edge_double.connector_factory)
    edge_double.fail_next(Fault.STALL)
    started = time.monotonic()
    with pytest.raises(SynthesisError, match="within 1 s"):
        await engine.synthesize("你好", "zh-CN-XiaoxiaoNeural", Prosody())

    assert time.monotonic() - started < 3
    assert len(edge_double.requests) == 1


async def test_concurrent_requests(engine: EdgeEngine, edge_double: EdgeDouble) -> None:
    texts = ["一", "二二", "三三三"]
    results = await asyncio.gather(*(engine.synthesize(t, "zh-CN-YunyangNeural", Prosody()) for t in texts))

    assert [r.duration for r in results] == pytest.approx([0.2, 0.4, 0.6], abs=0.1)
    assert sorted(r.text for r in edge_double.requests) == sorted(texts)
