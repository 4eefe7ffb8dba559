"""A discrete echo (a call's echo of the speaker's own voice, a hard wall far off): found in the recording's
cepstrum and cancelled before it is labelled.

The corpora hold none, and an echo 150 ms later, 6 dB down, moved about a fifth of the `robust` models'
labels over all 24 RAVDESS actors (docs/results.md, "A discrete echo"). An echo adds a delayed copy, which
shows as one peak of the real cepstrum at its delay, where speech's own cepstrum holds nothing beyond a few
pitch periods; a room's diffuse tail makes no such peak. The path from the voice to its echo (through a
loudspeaker, a line) is estimated around that delay from the recording's own autocorrelation, and the echo
is subtracted recursively, so an echo of the echo goes too. A recording without such a peak is returned as
it is.
"""

from __future__ import annotations

import numpy as np

DELAYS_S = (0.030, 0.500)  # an echo's delay lies in this range (and within half the recording)
PEAK_Z = 20.0  # the cepstral peak stands this many robust z-scores above the other quefrencies of the range
HALF_TAPS_S = 0.0015  # the echo's path: taps this far either side of the delay (24 at 16 kHz)
MAX_PATH_SUM = 3.6  # a path whose taps sum (in magnitude) to this or more is no echo: left alone
ANALYSIS_S = 20.0  # the echo is found and its path estimated on the first 20 s: a long recording's FFT stays small


def _autocorrelation(wave: np.ndarray) -> np.ndarray:
    """The (biased) autocorrelation of `wave` at every lag, through one FFT."""
    size = 1 << int(np.ceil(np.log2(2 * wave.size)))
    return np.fft.irfft(np.abs(np.fft.rfft(wave, size)) ** 2, size)


def find_echo(wave: np.ndarray, sample_rate: int) -> int | None:
    """The delay (samples) of a discrete echo in `wave` (its first `ANALYSIS_S`), or None."""
    wave = np.asarray(wave[: int(ANALYSIS_S * sample_rate)], dtype=np.float64)
    first, last = int(DELAYS_S[0] * sample_rate), min(int(DELAYS_S[1] * sample_rate), wave.size // 2)
    if last <= first + 10:
        return None
    size = 1 << int(np.ceil(np.log2(2 * wave.size)))
    cepstrum = np.fft.irfft(np.log(np.abs(np.fft.rfft(wave, size)) + 1e-9), size)[first:last]
    median = np.median(cepstrum)
    spread = 1.4826 * np.median(np.abs(cepstrum - median)) + 1e-12
    peak = int(np.argmax(cepstrum))
    return first + peak if (cepstrum[peak] - median) / spread >= PEAK_Z else None


def remove_echo(wave: np.ndarray, sample_rate: int) -> np.ndarray:
    """`wave` with its discrete echo (`find_echo`) cancelled, or `wave` itself without one."""
    delay = find_echo(wave, sample_rate)
    half = int(round(HALF_TAPS_S * sample_rate))
    if delay is None or delay <= half:
        return wave
    y = np.asarray(wave, dtype=np.float64)
    acf = _autocorrelation(y[: int(ANALYSIS_S * sample_rate)])
    lags = np.arange(2 * half + 1)
    toeplitz = acf[np.abs(lags[:, None] - lags[None, :])]
    toeplitz[lags, lags] *= 1 + 1e-3  # a little loading: a steady stretch cannot make it singular
    path = np.linalg.solve(toeplitz, acf[delay - half: delay + half + 1])  # tap j: lag delay - half + j
    if np.sum(np.abs(path)) >= MAX_PATH_SUM:
        return wave
    out = y.copy()
    step = delay - half  # each block needs only output from before it
    for start in range(step, y.size, step):
        stop = min(y.size, start + step)
        first = start - delay - half
        past = out[max(first, 0): stop - step]
        if first < 0:
            past = np.concatenate([np.zeros(-first), past])
        out[start:stop] = y[start:stop] - np.convolve(past, path, mode="valid")[: stop - start]
    return out.astype(wave.dtype)
