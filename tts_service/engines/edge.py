"""Microsoft Edge's online neural voices, reached through the edge-tts client."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import aclosing

import aiohttp
import edge_tts
from edge_tts.exceptions import EdgeTTSException, NoAudioReceived

from tts_service.audio import chunk, mp3, pcm
from tts_service.engines.base import Prosody, Synthesis, check_voice
from tts_service.errors import SynthesisError

VOICES = (
    "zh-CN-XiaoxiaoNeural",
    "zh-CN-XiaoyiNeural",
    "zh-CN-YunjianNeural",
    "zh-CN-YunxiNeural",
    "zh-CN-YunxiaNeural",
    "zh-CN-YunyangNeural",
    "zh-CN-liaoning-XiaobeiNeural",
    "zh-CN-shaanxi-XiaoniNeural",
    "zh-HK-HiuGaaiNeural",
    "zh-HK-HiuMaanNeural",
    "zh-HK-WanLungNeural",
    "zh-TW-HsiaoChenNeural",
    "zh-TW-HsiaoYuNeural",
    "zh-TW-YunJheNeural",
)


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


class EdgeEngine:
    """Engine for Microsoft's Read Aloud service; needs internet access to speech.platform.bing.com."""

    name = "edge"
    version = f"edge-tts-{edge_tts.__version__}"
    voices = VOICES
    default_voice = VOICES[0]
    max_chunk_chars = 300

    def __init__(
        self, *, timeout: int = 30, connector_factory: Callable[[], aiohttp.BaseConnector] | None = None
    ) -> None:
        self._timeout = timeout
        # edge-tts's ClientSession owns and closes the connector, so each request needs a new one.
        self._connector_factory = connector_factory

    async def synthesize(self, text: str, voice: str, prosody: Prosody) -> Synthesis:
        """Synthesize ``text`` with one edge-tts request and return the MP3 and its duration."""
        voice = check_voice(self, voice)
        connector = self._connector_factory() if self._connector_factory else None
        communicate = edge_tts.Communicate(
            text,
            voice,
            rate=_signed(prosody.rate, "%"),
            pitch=_signed(prosody.pitch, "Hz"),
            volume=_signed(prosody.volume, "%"),
            connector=connector,
            connect_timeout=self._timeout,
            receive_timeout=self._timeout,
        )
        chunks: list[bytes] = []
        loop = asyncio.get_running_loop()
        try:
            # aiohttp drops sock_read once the WebSocket is upgraded, so edge-tts's receive_timeout never
            # fires on a stalled stream; this idle deadline, pushed back on every message, does instead.
            async with asyncio.timeout(self._timeout) as deadline, aclosing(communicate.stream()) as stream:
                async for chunk in stream:
                    deadline.reschedule(loop.time() + self._timeout)
                    if chunk["type"] == "audio":
                        chunks.append(chunk["data"])
        except NoAudioReceived as exc:
            raise SynthesisError(f"edge-tts received no audio for voice {voice}") from exc
        except TimeoutError as exc:
            raise SynthesisError(f"edge-tts got no response within {self._timeout} s") from exc
        except (EdgeTTSException, aiohttp.ClientError) as exc:
            raise SynthesisError(f"edge-tts request failed: {type(exc).__name__}: {exc}") from exc
        audio = await asyncio.to_thread(transcode, b"".join(chunks), prosody.volume)
        return Synthesis(audio=audio, duration=mp3.duration(audio))
