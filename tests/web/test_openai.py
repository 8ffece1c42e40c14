"""POST /v1/audio/speech driven by the official ``openai`` client against a real server, as apps drive it."""

from __future__ import annotations

import base64
import io
import json
import wave

import av
import httpx
import miniaudio
import numpy as np
import openai
import pytest
from helpers import TOKEN, LiveServer

pytestmark = pytest.mark.e2e

TEXT = "第一句话在这里。第二句话也在这里，稍长一些。\n第三句是新的一段。"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    home = tmp_path_factory.mktemp("openai-home")
    live = LiveServer(
        home, TTS_ENGINE="espeak", TTS_FALLBACK_ENGINE="", TTS_CORS_ORIGINS="https://app.example"
    )
    live.start()
    yield live
    live.stop()


def _key(server: LiveServer, name: str, *options: str) -> str:
    return server.cli("keys", "create", name, *options).strip().splitlines()[0].strip()


@pytest.fixture(scope="module")
def key(server: LiveServer) -> str:
    return _key(server, "reader-app")


@pytest.fixture(scope="module")
def client(server: LiveServer, key: str):
    with _client(server, key) as app:
        yield app


def _client(server: LiveServer, key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{server.url}/v1", api_key=key, max_retries=0, timeout=60)


def _seconds(data: bytes, fmt: str) -> float:
    """The duration of ``data`` by decoding it with a decoder of its own kind (not ours)."""
    if fmt == "mp3":
        return miniaudio.decode(data).duration
    if fmt == "pcm":
        return len(data) / 2 / 24_000  # 16-bit mono at 24 kHz, as OpenAI documents
    if fmt == "wav":
        with wave.open(io.BytesIO(data)) as w:
            assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 24_000)
        # sent as it is made, its header says "length unknown" (0xFFFFFFFF), as OpenAI's does
        assert data[4:8] == b"\xff\xff\xff\xff" and data[36:40] == b"data"
        return (len(data) - 44) / 2 / 24_000
    with av.open(io.BytesIO(data)) as container:
        samples = sum(frame.samples for frame in container.decode(audio=0))
        return samples / container.streams.audio[0].rate


def test_each_format_decodes_to_the_mp3s_length(client: openai.OpenAI) -> None:
    reference = _seconds(client.audio.speech.create(model="tts-1", voice="alloy", input=TEXT).content, "mp3")
    assert reference > 2.0
    for fmt in ("wav", "pcm", "flac", "opus", "aac"):
        response = client.audio.speech.create(model="tts-1", voice="alloy", input=TEXT, response_format=fmt)
        # the MP3 pads its end to whole frames; AAC (ADTS) also keeps its 1024 priming samples, which it
        # cannot signal, and pads to 1024: up to 85 ms more
        assert abs(_seconds(response.content, fmt) - reference) < (0.2 if fmt == "aac" else 0.12), fmt


def test_streaming_sends_sentences_as_they_are_made(client: openai.OpenAI) -> None:
    text = "".join(f"这是流式输出的第{n}句话。" for n in range(1, 9))
    pieces = []
    with client.audio.speech.with_streaming_response.create(
        model="espeak", voice="cmn", input=text, response_format="pcm"
    ) as response:
        assert response.headers["x-accel-buffering"] == "no"
        assert response.headers["transfer-encoding"] == "chunked"
        pieces = list(response.iter_bytes())
    assert len(pieces) >= 4  # not one body at the end
    audio = np.frombuffer(b"".join(pieces), dtype="<i2")
    assert len(audio) / 24_000 > 8 * 1.0


def test_the_same_text_is_free_the_second_time(server: LiveServer) -> None:
    secret = _key(server, "cache-check")
    text = "这句话第二次就不用再合成了。"
    with _client(server, secret) as app:
        first = app.audio.speech.create(model="tts-1", voice="nova", input=text).content
        second = app.audio.speech.create(model="tts-1", voice="nova", input=text).content
    assert first == second
    listed = server.cli("keys", "list")
    row = next(line for line in listed.splitlines() if line.startswith("cache-check"))
    name, _, _, _, requests, chars, _, hits, *_ = row.split()
    assert (requests, chars, hits) == ("2", str(2 * len(text)), "1"), row  # the second request's sentence


def test_models_list(client: openai.OpenAI) -> None:
    ids = [model.id for model in client.models.list()]
    assert {"tts-1", "tts-1-hd", "local", "edge", "espeak"} <= set(ids)


def test_errors_in_openais_shape(server: LiveServer, client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as bad_model:
        client.audio.speech.create(model="gpt-5-tts", voice="alloy", input="你好")
    assert bad_model.value.body["param"] == "model"  # type: ignore[index]
    with pytest.raises(openai.BadRequestError) as too_long:
        client.audio.speech.create(model="tts-1", voice="alloy", input="长" * 4097)
    assert too_long.value.body["param"] == "input"  # type: ignore[index]
    assert set(too_long.value.body) == {"message", "type", "param", "code"}  # type: ignore[arg-type]
    with pytest.raises(openai.BadRequestError) as bad_speed:
        client.audio.speech.create(model="tts-1", voice="alloy", input="你好", speed=5)
    assert bad_speed.value.body["param"] == "speed"  # type: ignore[index]
    with _client(server, "tts_not-a-key-at-all") as stranger, pytest.raises(openai.AuthenticationError):
        stranger.audio.speech.create(model="tts-1", voice="alloy", input="你好")


def test_a_keys_rate_limit_is_429_with_retry_after(server: LiveServer) -> None:
    with _client(server, _key(server, "tight", "--rate", "2/min")) as app:
        for _ in range(2):
            app.audio.speech.create(model="tts-1", voice="alloy", input="限速。")
        with pytest.raises(openai.RateLimitError) as limited:
            app.audio.speech.create(model="tts-1", voice="alloy", input="限速。")
    assert int(limited.value.response.headers["retry-after"]) >= 1


def test_a_revoked_key_is_refused_at_once(server: LiveServer) -> None:
    secret = _key(server, "short-lived")
    with _client(server, secret) as app:
        app.audio.speech.create(model="tts-1", voice="alloy", input="还能用。")
        server.cli("keys", "revoke", "short-lived")
        with pytest.raises(openai.AuthenticationError):
            app.audio.speech.create(model="tts-1", voice="alloy", input="还能用。")


@pytest.mark.parametrize("fmt", ["mp3", "wav"])
def test_sse_events_join_into_valid_audio(server: LiveServer, key: str, fmt: str) -> None:
    body = {"model": "tts-1", "voice": "alloy", "input": TEXT, "response_format": fmt, "stream_format": "sse"}
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.stream("POST", f"{server.url}/v1/audio/speech", json=body, headers=headers, timeout=60) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        events = [json.loads(line[6:]) for line in r.iter_lines() if line.startswith("data: ")]
    assert [e["type"] for e in events[:-1]] == ["speech.audio.delta"] * (len(events) - 1)
    assert events[-1]["type"] == "speech.audio.done" and events[-1]["usage"]["input_tokens"] == len(TEXT)
    audio = b"".join(base64.b64decode(e["audio"]) for e in events[:-1])
    if fmt == "wav":
        # a streamed WAV says "unknown length" (0xFFFFFFFF), as OpenAI's does; the samples follow the header
        assert audio[:4] == b"RIFF" and audio[4:8] == b"\xff\xff\xff\xff"
        assert len(audio[44:]) / 2 / 24_000 > 2.0
    else:
        assert miniaudio.decode(audio).duration > 2.0


def test_ssml_input_is_read_as_ssml(client: openai.OpenAI) -> None:
    plain = _seconds(
        client.audio.speech.create(model="tts-1", voice="alloy", input="先说这个。再说那个。").content, "mp3"
    )
    ssml = '<speak>先说这个。<break time="2s"/>再说那个。</speak>'
    paused = _seconds(client.audio.speech.create(model="tts-1", voice="alloy", input=ssml).content, "mp3")
    assert 1.6 < paused - plain < 2.4
    with pytest.raises(openai.BadRequestError) as bad:
        client.audio.speech.create(model="tts-1", voice="alloy", input="<speak><audio src='x'/></speak>")
    assert "audio" in bad.value.body["message"]  # type: ignore[index]


def test_cors_preflight_for_an_app_in_a_browser(server: LiveServer) -> None:
    asked = {
        "Origin": "https://app.example",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type",
    }
    ok = httpx.options(f"{server.url}/v1/audio/speech", headers=asked)
    assert ok.status_code == 200 and ok.headers["access-control-allow-origin"] == "https://app.example"
    assert "authorization" in ok.headers["access-control-allow-headers"].lower()
    other = httpx.options(
        f"{server.url}/v1/audio/speech", headers={**asked, "Origin": "https://evil.example"}
    )
    assert "access-control-allow-origin" not in other.headers


def test_the_editor_token_works_too(server: LiveServer) -> None:
    with _client(server, TOKEN) as editor:
        audio = editor.audio.speech.create(model="espeak", voice="cmn", input="编辑也能用。").content
    assert miniaudio.decode(audio).duration > 0.5
