"""The chunk format as listeners get it: decoded MP3 at -16 LUFS with true peaks at or under -1 dBTP."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from helpers import corpus_body, loudness_of, make_pipeline

from tts_service.article import ArticleDraft
from tts_service.audio import chunk, loudness, mp3, pcm
from tts_service.config import Settings
from tts_service.pipeline import Pipeline

CEILING = loudness.CEILING_DBTP
RATE = mp3.SAMPLE_RATE


@dataclass(frozen=True)
class Made:
    """An article's audio as stored: the whole-article MP3 and every chunk's (kept out of failure reports)."""

    whole: bytes = field(repr=False)
    chunks: list[bytes] = field(repr=False)


async def made(pipeline: Pipeline, text: str) -> Made:
    """An article of ``text`` made through the pipeline, as a reader would get it."""
    article = await pipeline.store.save_article(ArticleDraft(title="语料", text=text, slug="corpus"))
    await pipeline.generate(article)
    manifest = await pipeline.manifest(article)
    whole = await pipeline.whole(article, manifest)
    assert whole is not None
    return Made(pipeline.cache.read(whole.key), [pipeline.cache.read(c.key) for c in manifest.plan.spoken])


async def _corpus_by_default_engine(home: Path) -> Made:
    pipeline = make_pipeline(Settings(home=home, engine="local", workers=2, fallback_engine=None))
    try:
        return await made(pipeline, corpus_body())
    finally:
        await pipeline.aclose()
        pipeline.engines.close()
        pipeline.store.close()


@pytest.fixture(scope="module")
def corpus_audio(tmp_path_factory: pytest.TempPathFactory) -> Made:
    """The corpus article by the default (local) voice, made once for the module (~340 s of speech)."""
    return asyncio.run(_corpus_by_default_engine(tmp_path_factory.mktemp("corpus")))


def test_corpus_whole_file_decodes_under_the_ceiling(corpus_audio: Made) -> None:
    lufs, peak = loudness_of(corpus_audio.whole)
    assert peak <= CEILING, f"whole file peaks at {peak:+.2f} dBTP once decoded"
    assert lufs == pytest.approx(loudness.TARGET_LUFS, abs=0.5)


def test_corpus_chunks_decode_under_the_ceiling(corpus_audio: Made) -> None:
    measured = [loudness_of(audio) for audio in corpus_audio.chunks]
    over = [(i, round(peak, 2)) for i, (_, peak) in enumerate(measured) if peak > CEILING]
    assert not over, f"{len(over)} of {len(measured)} chunks over {CEILING} dBTP decoded: {over}"
    for lufs, _ in measured:
        assert lufs == pytest.approx(loudness.TARGET_LUFS, abs=1.0)


async def test_espeak_chunks_decode_under_the_ceiling(pipeline: Pipeline) -> None:
    # The first three paragraphs of the corpus: espeak's buzzy voice gains the most in encoding.
    text = "\n\n".join(corpus_body().split("\n\n")[:3])
    audio = await made(pipeline, text)
    peaks = [loudness_of(mp3_bytes)[1] for mp3_bytes in [audio.whole, *audio.chunks]]
    assert max(peaks) <= CEILING, [round(p, 2) for p in peaks]


def crackle(seed: int = 0) -> np.ndarray:
    """A quiet 300 Hz hum with 80 ms of digital noise (random full-scale samples), as from a glitch.

    MP3 encoding raises such peaks by 2 to 4 dB, far more than it does on speech.
    """
    t = np.arange(3 * RATE) / RATE
    samples = 0.2 * np.sin(2 * np.pi * 300 * t)
    burst = RATE * 80 // 1000
    samples[RATE : RATE + burst] += np.random.default_rng(seed).choice([-1.0, 1.0], burst)
    return samples


@pytest.mark.parametrize("seed", range(3))
def test_overshoot_beyond_any_fixed_headroom_is_caught_after_decoding(seed: int) -> None:
    # Limited to -2 dBTP (a fixed 1 dB of headroom) and encoded, the crackle still decodes over -1 dBTP...
    limited = loudness.normalize(crackle(seed), RATE, ceiling_dbtp=CEILING - 1.0)
    assert loudness_of(mp3.encode(pcm.to_int16(limited)))[1] > CEILING
    # ...so the chunk encoder checks the decoded MP3, and limits harder where encoding pushed peaks over.
    lufs, peak = loudness_of(chunk.encode(crackle(seed), RATE))
    assert peak <= CEILING
    assert lufs == pytest.approx(loudness.TARGET_LUFS, abs=1.0)
