"""The chunk format as listeners get it: decoded MP3 at -16 LUFS with true peaks at or under -1 dBTP.

The corpus article by the default (local) voice is checked the same way in test_e2e.py, which makes it anyway.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import corpus_body, loudness_of

from tts_service.article import ArticleDraft
from tts_service.audio import chunk, loudness, mp3, pcm
from tts_service.pipeline import Pipeline

CEILING = loudness.CEILING_DBTP
RATE = mp3.SAMPLE_RATE


async def test_espeak_chunks_decode_under_the_ceiling(pipeline: Pipeline) -> None:
    # The first three paragraphs of the corpus: espeak's buzzy voice gains the most in encoding.
    article = await pipeline.store.save_article(
        ArticleDraft(title="语料", text="\n\n".join(corpus_body().split("\n\n")[:3]))
    )
    await pipeline.generate(article)
    manifest = await pipeline.manifest(article)
    whole = await pipeline.whole(article, manifest)
    assert whole is not None and len(manifest.plan.spoken) > 5
    keys = [whole.key, *(c.key for c in manifest.plan.spoken)]
    peaks = [loudness_of(pipeline.cache.read(key))[1] for key in keys]
    assert max(peaks) <= CEILING, f"whole file, then each chunk: {[round(p, 2) for p in peaks]}"


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
