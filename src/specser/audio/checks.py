"""Is there speech to classify? Checks that never depend on the clip's own peak.

A model trained on studio speech gives a confident label to anything: a 10 ms file, a
noise floor, near-silence. Before a clip (or a window of a long recording) reaches the
network it must be long enough and hold speech. The speech check is an energy detector
with absolute thresholds: a 25 ms frame counts as active when it is louder than
`ABSOLUTE_FLOOR_DB` dBFS *and* at least `ABOVE_FLOOR_DB` above the recording's own noise
floor (a low percentile of its frame energies). Stationary noise, however loud, never rises
above its own floor; near-silence never reaches the absolute threshold; speech, whose
energy swings by 20-40 dB between syllables and pauses, does both. So do claps, typing and
bursts of noise: the active frames must also hold a voice (`specser.audio.voicing`).
"""

from __future__ import annotations

import numpy as np

from specser.audio.load import remove_dc
from specser.audio.voicing import voiced_seconds

MIN_DURATION_S = 0.25  # shorter audio is refused as too short
MIN_SPEECH_S = 0.1  # less active time than this is "no speech"
MIN_VOICED_S = 0.1  # nor is less voiced time than this (a short "no" has about 0.2 s)
ABSOLUTE_FLOOR_DB = -75.0  # dBFS: quieter frames are never speech; RAVDESS clips peak as low as -52 dBFS
ABOVE_FLOOR_DB = 6.0  # an active frame is this far above the recording's noise floor
FRAME_S, HOP_S = 0.025, 0.010
_FLOOR_PERCENTILE = 5


def frame_db(wave: np.ndarray, sample_rate: int) -> np.ndarray:
    """Energy of 25 ms frames every 10 ms around the recording's mean, in dBFS (a full-scale sine is -3 dB).
    A DC offset is left out: a constant is not speech, and it would hide the speech above the floor."""
    wave = remove_dc(wave)
    frame, hop = int(FRAME_S * sample_rate), int(HOP_S * sample_rate)
    if wave.size < frame:
        return np.array([10 * np.log10(np.mean(np.square(wave, dtype=np.float64)) + 1e-12)]) if wave.size else np.array([])
    frames = np.lib.stride_tricks.sliding_window_view(wave, frame)[::hop]
    return 10 * np.log10(np.mean(np.square(frames, dtype=np.float64), axis=1) + 1e-12)


def active_frames(wave: np.ndarray, sample_rate: int, absolute: bool = True) -> np.ndarray:
    """(frames,) mask of the 25 ms frames (every 10 ms) at least `ABOVE_FLOOR_DB` above the recording's
    noise floor and, with `absolute`, louder than `ABSOLUTE_FLOOR_DB`. Without it a level change moves
    no frame in or out."""
    db = frame_db(wave, sample_rate)
    audible = db[db > -100.0]  # digital zeros (padding, gaps) say nothing about the noise floor
    if audible.size == 0:
        return np.zeros(db.shape, dtype=bool)
    floor = np.percentile(audible, _FLOOR_PERCENTILE)
    above = db >= floor + ABOVE_FLOOR_DB
    return above & (db >= ABSOLUTE_FLOOR_DB) if absolute else above


def speech_seconds(wave: np.ndarray, sample_rate: int) -> float:
    """Seconds of frames that pass both the absolute and the above-floor threshold."""
    return float(active_frames(wave, sample_rate).sum() * HOP_S)


def trim_silence(wave: np.ndarray, sample_rate: int, keep_s: float, over_s: float | None = None) -> np.ndarray:
    """`wave` with the stretches before its first and after its last active frame shortened to `keep_s`
    seconds when they are longer than `over_s` (default `keep_s`), else left alone, as when no frame is
    active. People press record, wait,
    then speak; the corpora open with about a second of silence, and a clip's 4 s crop or a window
    that is mostly silence reads as another emotion (docs/results.md, "Silence around the speech")."""
    # Relative to the floor only: a quieter copy of a recording is trimmed where the recording is.
    active = np.flatnonzero(active_frames(wave, sample_rate, absolute=False))
    if active.size == 0:
        return wave
    hop, frame, keep = int(HOP_S * sample_rate), int(FRAME_S * sample_rate), int(keep_s * sample_rate)
    longer = int((keep_s if over_s is None else over_s) * sample_rate)
    first, last = active[0] * hop, min(wave.size, active[-1] * hop + frame)
    start = first - keep if first > longer else 0
    stop = last + keep if wave.size - last > longer else wave.size
    return wave if (start, stop) == (0, wave.size) else wave[start:stop]


def speech_problem(wave: np.ndarray, sample_rate: int, min_duration_s: float = MIN_DURATION_S,
                   min_speech_s: float = MIN_SPEECH_S, min_voiced_s: float = MIN_VOICED_S) -> tuple[str, str] | None:
    """None when `wave` can be classified, else (kind, reason): ``too_short`` or ``no_speech`` (too little
    active time, or active time without a voice). `min_voiced_s` 0 leaves the voice check out."""
    duration = wave.size / sample_rate
    if duration < min_duration_s:
        return "too_short", f"too short to classify ({1000 * duration:.0f} ms; at least {1000 * min_duration_s:.0f} ms)"
    active = active_frames(wave, sample_rate)
    speech = float(active.sum() * HOP_S)
    peak = 20 * np.log10(float(np.max(np.abs(wave))) + 1e-12)
    if speech < min_speech_s:
        return "no_speech", (f"no speech found ({1000 * speech:.0f} ms of speech-like energy, peak {peak:.0f} dBFS): "
                             "silence, a steady noise, or a level too low")
    if min_voiced_s > 0:
        voiced = voiced_seconds(remove_dc(wave), sample_rate, active, HOP_S, enough_s=min_voiced_s)
        if voiced < min_voiced_s:
            return "no_speech", (f"no voice found ({1000 * voiced:.0f} ms voiced in {1000 * speech:.0f} ms of sound, "
                                 f"peak {peak:.0f} dBFS): claps, knocks, typing, noise or wind; whispering, which "
                                 "is not classified; or a voice too faint over its noise")
    return None
