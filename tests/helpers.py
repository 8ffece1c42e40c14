"""Test helpers shared by several test modules."""

from __future__ import annotations

import array
import math
from pathlib import Path

import miniaudio

from tts_service.engines import Engine, Prosody, Synthesis

REPO_ROOT = Path(__file__).resolve().parents[1]
CORPUS = REPO_ROOT.parent / "shared" / "corpus" / "academy-international-cooperation-2020.txt"
TOKEN = "test-editor-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def corpus_body() -> str:
    """The speech's body paragraphs from the corpus page (2019年… to …强大动能!)."""
    lines = [line.strip() for line in CORPUS.read_text(encoding="utf-8").splitlines()]
    start = next(i for i, line in enumerate(lines) if line.startswith("2019年是"))
    end = next(i for i, line in enumerate(lines) if line.endswith("强大动能!"))
    return "\n\n".join(line for line in lines[start : end + 1] if line)


def decode(mp3: bytes) -> tuple[float, float]:
    """Decode MP3 bytes; return (seconds, RMS level on a 0..1 scale)."""
    sound = miniaudio.decode(mp3, output_format=miniaudio.SampleFormat.SIGNED16, nchannels=1)
    samples = array.array("h", sound.samples)
    rms = math.sqrt(sum(s * s for s in samples) / max(1, len(samples))) / 32768
    return len(samples) / sound.sample_rate, rms


class CountingEngine:
    """Wraps a real engine and counts what it is asked to say."""

    def __init__(self, inner: Engine) -> None:
        self.inner = inner
        self.name, self.version, self.voices = inner.name, inner.version, inner.voices
        self.default_voice, self.max_chunk_chars = inner.default_voice, inner.max_chunk_chars
        self.calls: list[str] = []

    async def synthesize(self, text: str, voice: str, prosody: Prosody) -> Synthesis:
        self.calls.append(text)
        return await self.inner.synthesize(text, voice, prosody)
