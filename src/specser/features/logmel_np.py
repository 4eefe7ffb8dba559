"""The log-Mel front-end in numpy, for the onnxruntime backend (which must not need torch).

Same computation as `specser.features.logmel.LogMel` (centred frames with zero padding,
periodic Hann window, power spectrum, the stored Slaney filterbank, dB with ``amin=1e-10``,
optional speech-level normalisation, ``top_db`` clipping per utterance); the tests check the two agree.
"""

from __future__ import annotations

import numpy as np


def _rfft():
    """scipy's FFT: 10x numpy's on float32 frames here (0.23 vs 2.2 ms for a 4 s clip). Imported on
    first use, so modules that only need `mel_bands` (the torch front-end) do not load it."""
    try:
        from scipy.fft import rfft
    except ImportError:  # pragma: no cover - scipy comes with scikit-learn and librosa
        from numpy.fft import rfft
    return rfft

AMIN = 1e-10
LEVEL_PERCENTILE = 90  # the speech level: this percentile of an utterance's frame energies, in dB
ACTIVE_RANGE_DB = 30.0  # `utterance_norm`'s speech frames: frame energy within this of the speech level


def frame_energy_db(db: np.ndarray) -> np.ndarray:
    """(frames,) energy in dB of each frame of a (n_mels, frames) dB array: the Mel bands' power summed."""
    return 10.0 * np.log10(np.maximum(np.sum(10.0 ** (db.astype(np.float64) / 10.0), axis=0), AMIN))


def speech_level(db: np.ndarray) -> float:
    """An utterance's speech level from its (n_mels, frames) dB: the 90th percentile over frames of
    the frame energy. Loud frames are speech whatever the noise."""
    return float(np.percentile(frame_energy_db(db), LEVEL_PERCENTILE))


def speech_frames(db: np.ndarray) -> np.ndarray:
    """(frames,) mask of an utterance's speech frames: energy within `ACTIVE_RANGE_DB` of its speech level."""
    energy = frame_energy_db(db)
    return energy >= np.percentile(energy, LEVEL_PERCENTILE) - ACTIVE_RANGE_DB


def utterance_mean_removed(db: np.ndarray) -> np.ndarray:
    """`db` minus its mean spectrum over speech frames (`speech_frames`): a recording's microphone,
    channel and gain, a fixed filter on the spectrum, cancel out."""
    return db - db[:, speech_frames(db)].mean(axis=1, dtype=np.float64, keepdims=True)


def mel_bands(filterbank: np.ndarray, group: int = 16) -> list[tuple[int, int, np.ndarray]]:
    """(first bin, end bin, filters) per group of `group` Mel filters, over only the bins they cover:
    the same products as the dense filterbank, without the zeros (see `LogMel`'s `BandedMel`)."""
    bands = []
    for start in range(0, filterbank.shape[0], group):
        rows = filterbank[start:start + group]
        used = np.flatnonzero((rows != 0).any(axis=0))
        lo, hi = (int(used[0]), int(used[-1]) + 1) if used.size else (0, 1)
        bands.append((lo, hi, np.ascontiguousarray(rows[:, lo:hi].T)))
    return bands


def hann_window(win_length: int, n_fft: int) -> np.ndarray:
    """Periodic Hann of `win_length`, zero-padded on both sides to `n_fft` (torch.stft's convention)."""
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(win_length) / win_length)
    left = (n_fft - win_length) // 2
    return np.pad(window, (left, n_fft - win_length - left)).astype(np.float32)


def logmel_numpy(wave: np.ndarray, filterbank: np.ndarray, n_fft: int, hop_length: int, win_length: int,
                 top_db: float | None, bands: list | None = None, level_norm: bool = False,
                 utterance_norm: bool = False, pcen_coefficient: float | None = None) -> np.ndarray:
    """(n_mels, frames) log-Mel in dB of a mono float32 waveform (`bands`: `mel_bands(filterbank)`,
    precomputed by callers that convert many clips). `level_norm` expresses it relative to the
    utterance's speech level (`speech_level`), so a recording's gain does not change it; `utterance_norm`
    subtracts its mean spectrum over speech frames instead (`utterance_mean_removed`). With
    `pcen_coefficient` (`features.compression=pcen`) the result is PCEN of the Mel power, relative to
    the speech level with `level_norm`, instead of dB (`specser.features.pcen`)."""
    padded = np.pad(np.asarray(wave, dtype=np.float32), n_fft // 2)
    n_frames = 1 + (padded.size - n_fft) // hop_length
    frames = np.lib.stride_tricks.sliding_window_view(padded, n_fft)[::hop_length][:n_frames]
    spectrum = _rfft()(frames * hann_window(win_length, n_fft), axis=1)
    power = (spectrum.real ** 2 + spectrum.imag ** 2).astype(np.float32)  # (frames, n_freq)
    bands = bands if bands is not None else mel_bands(filterbank)
    mel = np.concatenate([power[:, lo:hi] @ band for lo, hi, band in bands], axis=1).T  # (n_mels, frames)
    db = 10.0 * np.log10(np.maximum(mel, AMIN))
    if utterance_norm:
        db = utterance_mean_removed(db)
    elif level_norm:
        db = db - speech_level(db)
    if pcen_coefficient is not None:  # PCEN of the (level-normalised) Mel power replaces the dB floor
        from specser.features.pcen import pcen_numpy

        return pcen_numpy(10.0 ** (db / 10.0), pcen_coefficient)
    if top_db is not None and top_db > 0:
        db = np.maximum(db, db.max() - top_db)
    return db.astype(np.float32)
