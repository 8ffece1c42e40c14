"""The espeak engine, for real: espeak-ng's cmn voice, encoded to MP3."""

from __future__ import annotations

import pytest
from helpers import decode

from tts_service.engines import Prosody
from tts_service.engines.espeak import EspeakEngine
from tts_service.errors import InvalidInput


@pytest.fixture(scope="module")
def engine() -> EspeakEngine:
    return EspeakEngine()


async def test_speaks_mandarin_as_mp3(engine: EspeakEngine) -> None:
    text = "语音播报服务今天正式上线。"
    result = await engine.synthesize(text, "cmn", Prosody())
    seconds, rms = decode(result.audio)
    assert abs(seconds - result.duration) < 0.01
    assert 0.12 < seconds / len(text) < 0.6  # plausible time per Han character
    assert rms > 0.02  # not silence


async def test_rate_changes_the_duration(engine: EspeakEngine) -> None:
    text = "慢一点读，或者快一点读。"
    normal = await engine.synthesize(text, "cmn", Prosody())
    fast = await engine.synthesize(text, "cmn", Prosody(rate=80))
    assert fast.duration < normal.duration * 0.8


async def test_leading_dash_is_text_not_an_option(engine: EspeakEngine) -> None:
    result = await engine.synthesize("-h 你好", "cmn", Prosody())
    assert result.duration > 0.3


async def test_unknown_voice(engine: EspeakEngine) -> None:
    with pytest.raises(InvalidInput, match="valid voices: cmn, cmn-latn-pinyin"):
        await engine.synthesize("你好", "en", Prosody())


def test_prosody_bounds() -> None:
    with pytest.raises(InvalidInput, match="rate"):
        Prosody(rate=500)


def test_version_names_the_release(engine: EspeakEngine) -> None:
    assert "eSpeak NG" in engine.version and "1." in engine.version
