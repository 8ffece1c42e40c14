"""Loudness measurement (BS.1770 / EBU R128) and normalisation to -16 LUFS under a -1 dBTP ceiling."""

from __future__ import annotations

import numpy as np
import pyloudnorm
import pytest
from scipy.signal import iirpeak, lfilter

from tts_service.audio.loudness import MAX_GAIN_DB, integrated_lufs, normalize, true_peak_dbtp

RATE = 24_000


def sine(freq: float, seconds: float, amplitude: float = 1.0, rate: int = RATE, phase: float = 0.0):
    t = np.arange(round(seconds * rate)) / rate
    return amplitude * np.sin(2 * np.pi * freq * t + phase)


def at_lufs(signal: np.ndarray, lufs: float) -> np.ndarray:
    """``signal`` scaled to an integrated loudness of ``lufs``."""
    return signal * 10 ** ((lufs - integrated_lufs(signal, RATE)) / 20)


def speechlike(seconds: float = 3.0) -> np.ndarray:
    """Quiet noise with sharp clicks: far more peak than loudness, so normalising must limit."""
    noise = 0.02 * np.random.default_rng(7).standard_normal(round(seconds * RATE))
    noise[:: RATE // 4] = 0.9
    return noise


@pytest.mark.parametrize("rate", [24_000, 48_000])
def test_reference_sine_reads_as_bs1770_says(rate: int) -> None:
    # BS.1770: a 997 Hz sine at -20 dBFS reads -23.0 LUFS; a full-scale 1 kHz sine about -3.01.
    assert integrated_lufs(sine(997, 5, 0.1, rate), rate) == pytest.approx(-23.0, abs=0.1)
    assert integrated_lufs(sine(1000, 5, 1.0, rate), rate) == pytest.approx(-3.01, abs=0.1)


def test_long_clip_agrees_with_pyloudnorm() -> None:
    clip = speechlike(5.0) + sine(300, 5, 0.1)
    assert integrated_lufs(clip, RATE) == pytest.approx(pyloudnorm.Meter(RATE).integrated_loudness(clip))


def test_short_clip_reads_like_a_long_one() -> None:
    # Under one 400 ms gating block, the clip is measured as a block of its own length.
    assert integrated_lufs(sine(440, 0.2, 0.3), RATE) == pytest.approx(
        integrated_lufs(sine(440, 2.0, 0.3), RATE), abs=0.2
    )


def test_true_peak_finds_the_peak_between_samples() -> None:
    # A quarter-rate sine at 45 degrees never lands a sample on its crest: samples say -3 dB.
    tone = sine(RATE / 4, 1.0, phase=np.pi / 4) * np.hanning(RATE)  # hann: no onset overshoot
    assert 20 * np.log10(np.abs(tone).max()) == pytest.approx(-3.01, abs=0.05)
    assert true_peak_dbtp(tone, RATE) == pytest.approx(0.0, abs=0.05)


@pytest.mark.parametrize(
    "signal",
    [sine(440, 3.0), np.random.default_rng(1).standard_normal(3 * RATE)],
    ids=["tone", "noise"],
)
def test_quiet_signal_comes_up_to_target(signal: np.ndarray) -> None:
    out = normalize(at_lufs(signal, -30.0), RATE)
    assert out.dtype == np.float32
    assert integrated_lufs(out, RATE) == pytest.approx(-16.0, abs=0.5)
    assert true_peak_dbtp(out, RATE) <= -1.0


def test_loud_clipped_signal_comes_down() -> None:
    clipped = np.clip(4 * sine(3001, 3.0) + 0.3 * np.random.default_rng(2).standard_normal(3 * RATE), -1, 1)
    assert true_peak_dbtp(clipped, RATE) > 0  # inter-sample overs
    out = normalize(clipped, RATE)
    assert integrated_lufs(out, RATE) == pytest.approx(-16.0, abs=0.5)
    assert true_peak_dbtp(out, RATE) <= -1.0


def test_peaks_are_limited_without_losing_loudness() -> None:
    out = normalize(speechlike(), RATE)
    assert integrated_lufs(out, RATE) == pytest.approx(-16.0, abs=0.5)
    assert -1.3 <= true_peak_dbtp(out, RATE) <= -1.0


def voice(f0: float = 200, seconds: float = 3.0) -> np.ndarray:
    """A buzzy vowel: pulses through two formants, swelling like syllables; peaky, as espeak is."""
    pulses = np.zeros(round(seconds * RATE))
    pulses[:: round(RATE / f0)] = 1.0
    formants = [(700, 5, 1.0), (2500, 8, 0.5)]
    buzz = sum(gain * lfilter(*iirpeak(freq, q, fs=RATE), pulses) for freq, q, gain in formants)
    return buzz * (0.55 + 0.45 * np.sin(2 * np.pi * 4 * np.arange(pulses.size) / RATE))


def test_peaky_voice_under_a_low_ceiling_still_reaches_target() -> None:
    # Most of its peaks are limited, so each dB of gain adds well under a dB of loudness.
    out = normalize(at_lufs(voice(), -20.0), RATE, ceiling_dbtp=-3.0)
    assert integrated_lufs(out, RATE) == pytest.approx(-16.0, abs=0.25)
    assert true_peak_dbtp(out, RATE) <= -3.0


def test_limiting_leaves_quiet_stretches_alone() -> None:
    signal = speechlike()
    out = normalize(signal, RATE)
    # Far from any click, the gain is one constant: the limiter only acts near peaks.
    ratios = out[RATE // 8 - 500 : RATE // 8 + 500] / signal[RATE // 8 - 500 : RATE // 8 + 500]
    assert np.ptp(ratios) < 1e-4 * ratios.mean()


def test_silence_stays_silence() -> None:
    out = normalize(np.zeros(RATE), RATE)
    assert not np.isnan(out).any() and not out.any()
    assert integrated_lufs(out, RATE) == -np.inf and true_peak_dbtp(out, RATE) == -np.inf
    assert normalize(np.zeros(0), RATE).size == 0


def test_faint_noise_is_not_blown_up() -> None:
    noise = 1.5e-3 * np.random.default_rng(3).standard_normal(2 * RATE)  # about -54 LUFS
    out = normalize(noise, RATE)
    gain_db = integrated_lufs(out, RATE) - integrated_lufs(noise, RATE)
    assert gain_db == pytest.approx(MAX_GAIN_DB, abs=0.01)
    # Below BS.1770's -70 LUFS gate there is no loudness to speak of: leave it exactly as it was.
    hiss = noise / 1000
    assert np.array_equal(normalize(hiss, RATE), hiss.astype(np.float32))


def test_short_clip_is_normalised_without_warnings() -> None:
    # filterwarnings=error turns any warning (pyloudnorm's, numpy's) into a failure here.
    out = normalize(sine(440, 0.2, 0.05), RATE)
    assert integrated_lufs(out, RATE) == pytest.approx(-16.0, abs=0.5)
    assert normalize(sine(440, 0.001, 0.5), RATE).size == 24


def test_gain_does_not_depend_on_input_level() -> None:
    signal = speechlike()  # about -30 LUFS: well within the gain cap, limiter make-up included
    np.testing.assert_allclose(normalize(signal * 4, RATE), normalize(signal, RATE), atol=1e-5)


def test_target_and_ceiling_are_parameters() -> None:
    out = normalize(speechlike(), RATE, target_lufs=-20.0, ceiling_dbtp=-3.0)
    assert integrated_lufs(out, RATE) == pytest.approx(-20.0, abs=0.5)
    assert true_peak_dbtp(out, RATE) <= -3.0
