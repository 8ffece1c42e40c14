"""Float PCM helpers: 16-bit conversion both ways and polyphase resampling."""

from __future__ import annotations

import numpy as np
import pytest

from tts_service.audio import pcm


def test_int16_round_trip() -> None:
    data = np.array([0, 1, -1, 16384, -32768, 32767], dtype="<i2").tobytes()
    samples = pcm.from_int16(data)
    assert samples.dtype == np.float32
    assert samples.tolist() == pytest.approx([0, 1 / 32768, -1 / 32768, 0.5, -1.0, 32767 / 32768])
    assert samples.min() >= -1.0 and samples.max() < 1.0
    back = np.frombuffer(pcm.to_int16(samples), dtype="<i2").astype(int)
    assert np.abs(back - [0, 1, -1, 16384, -32768, 32767]).max() <= 1  # to_int16 scales by 32767


def test_resample_espeak_rate_to_chunk_rate() -> None:
    seconds, freq = 2.0, 1000.0
    tone = np.sin(2 * np.pi * freq * np.arange(int(22050 * seconds)) / 22050).astype(np.float32)
    out = pcm.resample(tone, 22050, 24000)
    assert out.dtype == np.float32 and out.size == 48000
    middle = out[2000:-2000]
    spectrum = np.abs(np.fft.rfft(middle * np.hanning(middle.size)))
    assert np.fft.rfftfreq(middle.size, 1 / 24000)[spectrum.argmax()] == pytest.approx(freq, abs=1)
    assert np.sqrt(np.mean(middle**2)) == pytest.approx(np.sqrt(0.5), rel=5e-3)  # level kept


def test_resample_same_rate_is_a_no_op() -> None:
    tone = np.ones(10, dtype=np.float32)
    assert pcm.resample(tone, 24000, 24000) is tone
