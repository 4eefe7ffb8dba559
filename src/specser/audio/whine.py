"""Steady whines: a tone under the voice (a coil's or an appliance's whine, a fan's or a monitor's tone),
found by its steadiness and notched out before a recording is labelled.

The corpora hold none, and the models read one as emotion: a sine 20 dB under the speech moved up to a
quarter of two development models' labels, 30 dB under it about 1 % (docs/results.md, "A steady whine").
A whine is in every second of the recording at one frequency; a voice's harmonics move with its pitch and
leave the pauses. So the minimum over 1 s frames of each frequency bin's power keeps a whine's line and
loses the voice's: a line standing far above its neighbours there is notched, narrowly, out of the whole
recording. A recording without one is returned as it is.
"""

from __future__ import annotations

import numpy as np

from specser.audio.hum import frame_spectra, notch_gain

LINE_DB = 30.0  # a line stands this far above the median of the bins 3-8 Hz away, in the minimum spectrum
MIN_FRAMES = 3  # a recording under 2 s (three half-overlapping 1 s frames) is too short to tell steady from not
LOW_HZ = 70.0  # lines below this are the hum notch's business (and the rumble step's)
TOP_MARGIN_HZ = 100.0  # ... and none within this of the Nyquist frequency
MAX_LINES = 10  # at most this many lines are notched, the strongest first
NOTCH_WIDTH_HZ = 16.0  # each notch's width: narrow enough to leave the voice, wide enough for a line 0.5 Hz off
MAINS_HZ_APART = 2.0  # a line this close to a harmonic of the recording's mains hum is left to the hum notch
NEAR_HZ = 1000.0  # each notch is applied to the bins this close to its line
NEIGHBOURS = np.r_[-8:-2, 3:9]  # bin offsets of a line's neighbourhood (1 Hz bins): past the Hann main lobe


def _minimum_spectrum(wave: np.ndarray, sample_rate: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Frequencies, the bin-by-bin minimum of the 1 s frames' power spectra (`frame_spectra`), and the
    number of frames."""
    spectra = frame_spectra(wave, sample_rate)
    freqs = next(spectra)
    minimum, frames = np.full(freqs.size, np.inf), 0
    for chunk in spectra:
        minimum = np.minimum(minimum, chunk.min(axis=0))
        frames += len(chunk)
    return freqs, minimum, frames


def find_whines(wave: np.ndarray, sample_rate: int, mains_hz: float | None = None) -> list[float]:
    """The frequencies (Hz) of the steady lines in `wave`, the strongest first; none in a recording under
    `MIN_FRAMES` frames. Where the recording hums at `mains_hz` (`specser.audio.hum.hum_frequency`), lines
    within `MAINS_HZ_APART` of its harmonics are the hum notch's: notched again here, 16 Hz wide, they had
    taken much of the voice under 500 Hz (docs/results.md, "A steady whine")."""
    wave = np.asarray(wave)
    if wave.size < sample_rate:
        return []
    freqs, power, frames = _minimum_spectrum(wave, sample_rate)
    if frames < MIN_FRAMES:
        return []
    band = np.flatnonzero((freqs >= LOW_HZ) & (freqs <= sample_rate / 2 - TOP_MARGIN_HZ))
    band = band[(band > NEIGHBOURS.max()) & (band < freqs.size - NEIGHBOURS.max())]  # whole neighbourhoods only
    # the line's own bin, not its main lobe's sides
    peaks = band[(power[band] >= power[band - 1]) & (power[band] >= power[band + 1])]
    median = np.median(power[peaks[:, None] + NEIGHBOURS[None, :]], axis=1)
    standing = 10 * np.log10((power[peaks] + 1e-30) / (median + 1e-30))
    if mains_hz:
        ratio = freqs[peaks] / mains_hz
        standing[np.abs(ratio - np.round(ratio)) * mains_hz <= MAINS_HZ_APART] = -np.inf
    strongest = np.argsort(-standing)[: np.count_nonzero(standing >= LINE_DB)][:MAX_LINES]
    return [_refined_hz(freqs, power, k) for k in peaks[strongest]]


def _refined_hz(freqs: np.ndarray, power: np.ndarray, k: int) -> float:
    """The frequency of the line peaking in bin `k`, from a parabola through the log power of the bins
    around it (a tone between two bins is found within about 0.1 Hz)."""
    a, b, c = 10 * np.log10(power[k - 1:k + 2] + 1e-30)
    curve = a - 2 * b + c
    offset = 0.5 * (a - c) / curve if curve < 0 else 0.0
    return float(freqs[k] + np.clip(offset, -0.5, 0.5) * (freqs[1] - freqs[0]))


def remove_whines(wave: np.ndarray, sample_rate: int, mains_hz: float | None = None) -> np.ndarray:
    """`wave` with each steady line (`find_whines`; `mains_hz` there) notched out, `NOTCH_WIDTH_HZ` wide;
    `wave` itself when it has none."""
    lines = find_whines(wave, sample_rate, mains_hz)
    if not lines:
        return wave
    spectrum = np.fft.rfft(wave.astype(np.float64))
    bins = np.fft.rfftfreq(wave.size, 1 / sample_rate)
    for hz in lines:  # beyond 1 kHz of its line a notch's gain differs from 1 by under 1e-4: left out
        near = slice(*np.searchsorted(bins, [hz - NEAR_HZ, hz + NEAR_HZ]))
        spectrum[near] *= notch_gain(bins[near], hz, sample_rate, q=hz / NOTCH_WIDTH_HZ)
    return np.fft.irfft(spectrum, n=wave.size).astype(wave.dtype)
