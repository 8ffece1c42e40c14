"""Where speech starts again after each silence, found from the audio's energy: what word timings are
checked against (tests, `benchmarks/bench_timing.py`), and where spread timings are anchored (`utterance`)."""

from __future__ import annotations

import numpy as np

FRAME_SECONDS = 0.005  # energy is measured over 5 ms frames
THRESHOLD_DB = -35.0  # below the loudest frame: silence
MIN_SILENCE = 0.12  # seconds: shorter quiet is a stop consonant or a breath, not a pause


def onsets(samples: np.ndarray, rate: int, min_silence: float = MIN_SILENCE) -> list[tuple[float, float]]:
    """(silence start, speech onset) in seconds for each silence of ``min_silence`` or more that speech
    follows: the onset is the first frame over THRESHOLD_DB below the loudest, to the frame (5 ms)."""
    size = max(1, int(FRAME_SECONDS * rate))
    count = samples.size // size
    if count == 0:
        return []
    frames = samples[: count * size].astype(np.float64).reshape(count, size)
    energy = 10 * np.log10(np.mean(frames**2, axis=1) + 1e-12)
    loud = energy > energy.max() + THRESHOLD_DB
    found: list[tuple[float, float]] = []
    quiet_from: int | None = None
    heard = False
    for index, is_loud in enumerate(loud):
        if not is_loud:
            quiet_from = index if quiet_from is None else quiet_from
            continue
        if heard and quiet_from is not None and (index - quiet_from) * size >= min_silence * rate:
            found.append((quiet_from * size / rate, index * size / rate))
        quiet_from, heard = None, True
    return found


def errors(
    predicted: list[float], samples: np.ndarray, rate: int, window: float = 0.15
) -> tuple[list[float], int]:
    """(predicted - heard) in seconds for each predicted onset that has a heard one within ``window``, and
    how many have none."""
    heard = [onset for _, onset in onsets(samples, rate)]
    found, missed = [], 0
    for at in predicted:
        near = min(heard, key=lambda t: abs(t - at), default=None)
        if near is None or abs(near - at) > window:
            missed += 1
        else:
            found.append(at - near)
    return found, missed
