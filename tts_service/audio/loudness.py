"""Loudness to EBU R128: integrated loudness (ITU-R BS.1770, gated), true peak, and normalisation."""

from __future__ import annotations

import math
import threading

import numpy as np
import pyloudnorm
from scipy import ndimage, signal

TARGET_LUFS = -16.0
CEILING_DBTP = -1.0
MAX_GAIN_DB = 20.0  # never lift near-silence or noise by more than this
OVERSAMPLE = 4  # BS.1770 Annex 2 estimates true peak at 4x the sample rate
BLOCK_SECONDS = 0.4  # BS.1770's gating block
LIMITER_SECONDS = 0.01  # how far the limiter's gain ramps reach either side of a peak
PASSES = 4
MIN_SLOPE = 0.25  # never step more than 4 dB of gain per missing LU
TOLERANCE_LU = 0.1

# pyloudnorm hushes its own numpy warnings with warnings.catch_warnings, which swaps process-wide state:
# two threads measuring at once could leave the filters wrong, so measurements take turns.
_METER_LOCK = threading.Lock()


def integrated_lufs(samples: np.ndarray, rate: int) -> float:
    """Integrated loudness in LUFS (-inf for silence); a clip under 400 ms counts as one block of its own."""
    x = np.asarray(samples, dtype=np.float64)
    if x.size == 0:
        return -math.inf
    # pyloudnorm refuses clips shorter than a block; zero padding lets it measure one, and the
    # padding's dilution of the mean square is taken back out below.
    padded = np.pad(x, (0, max(0, math.ceil(BLOCK_SECONDS * rate) - x.size)))
    with _METER_LOCK:
        lufs = float(pyloudnorm.Meter(rate).integrated_loudness(padded))
    return lufs + 10 * math.log10(padded.size / x.size)


def true_peak_dbtp(samples: np.ndarray, rate: int) -> float:
    """True peak in dBTP (-inf for silence): the largest magnitude of the signal oversampled 4x."""
    x = np.asarray(samples, dtype=np.float64)
    if x.size == 0:
        return -math.inf
    # The same values as _peaks(x).max(), without sorting them per sample: twice as fast, and every
    # chunk's MP3 is measured once more after encoding.
    peak = max(np.abs(x).max(), np.abs(signal.resample_poly(x, OVERSAMPLE, 1)).max())
    return 20 * math.log10(peak) if peak > 0 else -math.inf


def normalize(
    samples: np.ndarray, rate: int, target_lufs: float = TARGET_LUFS, ceiling_dbtp: float = CEILING_DBTP
) -> np.ndarray:
    """Float32 samples at ``target_lufs``, true peaks held under ``ceiling_dbtp``, gain capped at +20 dB."""
    x = np.asarray(samples, dtype=np.float64)
    level = integrated_lufs(x, rate)
    if not math.isfinite(level):  # silence, or under BS.1770's -70 LUFS gate: nothing to bring up
        return x.astype(np.float32)
    ceiling, peaks = 10 ** (ceiling_dbtp / 20), _peaks(x)  # peaks scale with gain: find them once
    gain_db, last = min(target_lufs - level, MAX_GAIN_DB), None
    for _ in range(PASSES):
        scale = 10 ** (gain_db / 20)
        out = x * scale * _limiter_gain(peaks * scale, rate, ceiling)
        # Limiting peaks costs a little loudness: make it up and limit again (two passes usually do).
        got = integrated_lufs(out, rate)
        if target_lufs - got < TOLERANCE_LU or gain_db >= MAX_GAIN_DB:
            break
        # More gain is partly limited away, so a dB of gain adds less than a dB of loudness: step by the
        # rate the last two passes showed. (espeak's voice under -2 dBTP: 4 such passes reach -16.0 LUFS,
        # where 10 steps of just the shortfall stopped at -16.1.)
        slope = 1.0 if last is None else max(MIN_SLOPE, (got - last[1]) / (gain_db - last[0]))
        last = (gain_db, got)
        gain_db = min(gain_db + (target_lufs - got) / slope, MAX_GAIN_DB)
    # The limiter works on sample-rate gains; a hair of overshoot between samples gets a final static trim.
    peak = true_peak_dbtp(out, rate)
    if peak > ceiling_dbtp:
        out *= 10 ** ((ceiling_dbtp - peak) / 20)
    return out.astype(np.float32)


def _peaks(x: np.ndarray) -> np.ndarray:
    """Per sample, the largest magnitude at it and at the inter-sample points up to the next sample."""
    if x.size == 0:
        return x
    phases = np.abs(signal.resample_poly(x, OVERSAMPLE, 1)).reshape(x.size, OVERSAMPLE).T
    peaks: np.ndarray = np.maximum.reduce([np.abs(x), *phases])  # several times faster than .max(axis=1)
    return peaks


def _limiter_gain(peaks: np.ndarray, rate: int, ceiling: float) -> np.ndarray | float:
    """A smooth gain that turns down the surroundings of every peak above ``ceiling``, and nothing else."""
    need = np.minimum(1.0, ceiling / np.maximum(peaks, 1e-12))
    if need.min() >= 1.0:
        return 1.0
    width = 2 * round(LIMITER_SECONDS * rate) + 1
    # A moving average no wider than the minimum filter before it never exceeds the gain that any
    # sample needs, yet ramps smoothly (a look-ahead limiter without a per-sample loop).
    floor = ndimage.minimum_filter1d(need, width, mode="nearest")
    return ndimage.uniform_filter1d(floor, width, mode="nearest")
