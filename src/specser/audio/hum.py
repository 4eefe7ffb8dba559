"""Mains hum: found in a recording's average spectrum and notched out before it is labelled.

A ground loop, a cheap USB sound card or an unshielded cable adds hum at the mains frequency (50 or
60 Hz) and its harmonics. The corpora have almost none, and the models read it as emotion: hum 20 dB
below the speech moved about 11 % of two development models' labels (docs/results.md, "Mains hum"). Speech has
almost no energy below 70 Hz and its harmonics move with the pitch, so over a recording they form no
narrow peak at 50 or 60 Hz; hum does, and a recording without such a peak is returned as it is.
"""

from __future__ import annotations

import numpy as np

MAINS_HZ = (50.0, 60.0)
FUNDAMENTAL_DB = 12.0  # the fundamental stands this far above its neighbourhood: hum
HARMONIC_DB = 6.0  # a harmonic is notched where it stands this far above its own
TOP_HZ = 1200.0  # harmonics above this are left: a ground loop's are weak there, and notches would cut more voice
NOTCH_Q = 30.0  # the notch is f / 30 wide: 1.7 Hz at 50 Hz, 40 Hz at 1.2 kHz


def frame_spectra(wave: np.ndarray, sample_rate: int):
    """The frequencies, then the power spectra of 1 s Hann frames, half overlapping (1 Hz apart; the whole
    clip if shorter), up to 64 frames an array: a long recording never sits whole in the FFT. Numpy only:
    importing scipy.signal would add seconds to `specser predict`."""
    size = min(wave.size, sample_rate)
    window = np.hanning(size)
    frames = np.lib.stride_tricks.sliding_window_view(wave, size)[:: max(1, size // 2)]
    yield np.fft.rfftfreq(size, 1 / sample_rate)
    for start in range(0, len(frames), 64):
        chunk = frames[start:start + 64].astype(np.float64)
        chunk = (chunk - chunk.mean(axis=1, keepdims=True)) * window
        yield np.abs(np.fft.rfft(chunk, axis=1)) ** 2


def _average_spectrum(wave: np.ndarray, sample_rate: int) -> tuple[np.ndarray, np.ndarray]:
    """Frequencies and the mean power spectrum of `frame_spectra`."""
    spectra = frame_spectra(wave, sample_rate)
    freqs = next(spectra)
    power, frames = np.zeros(freqs.size), 0
    for chunk in spectra:
        power += np.sum(chunk, axis=0)
        frames += len(chunk)
    return freqs, power / frames


def notch_gain(freqs: np.ndarray, hz: float, sample_rate: int, q: float = NOTCH_Q) -> np.ndarray:
    """|H|^2 of a second-order IIR notch at `hz` (quality `q`: hz / q wide) at `freqs`: the response of
    that notch run forwards and backwards, applied in the frequency domain (zero phase)."""
    w0 = 2 * np.pi * hz / sample_rate
    beta = np.tan(w0 / q / 2)  # half the -3 dB bandwidth, pre-warped
    gain = 1 / (1 + beta)
    z = np.exp(-1j * 2 * np.pi * freqs / sample_rate)
    h = gain * (1 - 2 * np.cos(w0) * z + z ** 2) / (1 - 2 * gain * np.cos(w0) * z + (2 * gain - 1) * z ** 2)
    return np.abs(h) ** 2


def _stands_out_db(freqs: np.ndarray, power: np.ndarray, hz: float) -> float:
    """How far (dB) the strongest bin within 1 Hz of `hz` stands above the median of the bins 3-8 Hz away:
    a line (hum; the Hann frame's main lobe ends 2 Hz from it) stands out of that narrow neighbourhood,
    a voice's harmonics, smeared over tens of Hz by the moving pitch, do not."""
    offset = np.abs(freqs - hz)
    peak = power[offset <= 1.0]
    around = power[(offset >= 3.0) & (offset <= 8.0)]
    if not peak.size or not around.size:
        return 0.0
    return float(10 * np.log10((peak.max() + 1e-30) / (np.median(around) + 1e-30)))


def _find_hum(wave: np.ndarray, sample_rate: int) -> tuple[float | None, np.ndarray, np.ndarray]:
    """The mains frequency `wave` hums at (or None), with the average spectrum it was found in."""
    if wave.size < sample_rate // 2:
        return None, np.empty(0), np.empty(0)
    freqs, power = _average_spectrum(wave, sample_rate)
    found = {hz: _stands_out_db(freqs, power, hz) for hz in MAINS_HZ}
    hz = max(found, key=found.get)
    return (hz if found[hz] >= FUNDAMENTAL_DB else None), freqs, power


def hum_frequency(wave: np.ndarray, sample_rate: int) -> float | None:
    """50.0 or 60.0 where `wave` carries mains hum, else None (also for audio under 0.5 s, too short to tell)."""
    return _find_hum(wave, sample_rate)[0]


def notch_hum(wave: np.ndarray, sample_rate: int) -> tuple[np.ndarray, float | None]:
    """`remove_hum`'s result with the mains frequency found (None without hum): the predictors hand it on to
    the whine notch, which leaves its harmonics alone, without finding the hum twice."""
    mains, freqs, power = _find_hum(wave, sample_rate)
    if mains is None:
        return wave, None
    spectrum = np.fft.rfft(wave.astype(np.float64))
    bins = np.fft.rfftfreq(wave.size, 1 / sample_rate)
    for k in range(1, int(min(TOP_HZ, sample_rate / 2 - 1) // mains) + 1):
        if k == 1 or _stands_out_db(freqs, power, k * mains) >= HARMONIC_DB:
            spectrum *= notch_gain(bins, k * mains, sample_rate)
    return np.fft.irfft(spectrum, n=wave.size).astype(wave.dtype), mains


def remove_hum(wave: np.ndarray, sample_rate: int) -> np.ndarray:
    """`wave` with mains hum notched out at each harmonic that stands out, or `wave` itself without hum."""
    return notch_hum(wave, sample_rate)[0]
