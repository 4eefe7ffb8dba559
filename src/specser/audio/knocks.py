"""Knocks: a tap on the desk or the microphone, a key struck beside a laptop, found and turned down
before a recording is labelled.

Such a transient lasts a few tens of milliseconds, and a model trained on studio speech reads it as
emotion: one knock 12 dB above the speech's peak moved 10-15 % of two development models' labels, and the
same 50 ms simply zeroed moved 1-2 % (docs/results.md, "Knocks: a tap or a thud"). A knock differs from
speech in one way that needs no model: it stands far above what comes just before it *and* what comes a
few tens of milliseconds after it, where a voice's loud sounds are vowels that last. Typing beside a
laptop's microphone is many quieter clicks: clicks as loud as the speech's peak moved 23-35 % of the
development models' labels, most of them through the clicks in pauses ("Keyboard clicks"). A click in a
pause is found by the pause after it, where a plosive is followed by its vowel, and only in a stream of
them, where a mouth click comes alone. Each stretch found is turned down to the level around it; a
recording without one is returned as it is.
"""

from __future__ import annotations

import numpy as np

FRAME_S = 0.002  # energy frames of 2 ms: a knock's attack fits in one
JUMP_DB = 15.0  # a knock's loudest frame stands this far above the loudest just before it and the sound just after it
ABOVE_SPEECH_DB = 6.0  # ... and stands this far above the recording's speech level (a voice's plosives seldom do)
SPEECH_PERCENTILE = 90  # the speech level: this percentile of the frames' energies
BEFORE_S = (0.010, 0.004)  # "just before": the loudest frame from 10 to 4 ms before it (a knock's attack is instant)
AFTER_S = (0.020, 0.040)  # "just after": the median from 20 to 40 ms after it (a knock has died away, a vowel has not)
MAX_S = 0.100  # the longest stretch turned down after a knock's loudest frame
LATER_S = (0.100, 0.150)  # what a knock is turned down to: the louder of "just before" and the median here
TAIL_DB = 3.0  # the stretch ends where the energy is back within this of that level
CLICK_UNDER_SPEECH_DB = 6.0  # a click in a pause: its loudest frame lies no further than this under the speech level
PAUSE_UNDER_SPEECH_DB = 20.0  # ... and the loudest frame 20-40 ms after it lies this far under (a pause)
MIN_PAUSE_CLICKS = 3  # ... and the recording holds this many such clicks (typing is many; a mouth click one)
CLICK_GAP_S = 0.020  # frames found further apart than this are separate clicks


def _frame_energies_db(wave: np.ndarray, frame: int) -> np.ndarray:
    n = wave.size // frame
    power = np.mean(np.square(wave[: n * frame].reshape(n, frame), dtype=np.float64), axis=1)
    return 10 * np.log10(power + 1e-20)


def _around(energy: np.ndarray, frames: np.ndarray, start: int, stop: int, reduce) -> np.ndarray:
    """`reduce` (np.nanmax, np.nanmedian) of the energies of frames `start`..`stop` (offsets, stop exclusive)
    around each of `frames`; frames beyond the recording are left out, and a frame with none gets +inf
    (never a knock)."""
    width = stop - start
    padded = np.concatenate([np.full(max(0, -start), np.nan), energy, np.full(max(0, stop), np.nan)])
    rows = np.lib.stride_tricks.sliding_window_view(padded, width)[frames + start + max(0, -start)]
    out = np.full(frames.size, np.inf)
    some = ~np.all(np.isnan(rows), axis=1)
    if some.any():
        out[some] = reduce(rows[some], axis=1)
    return out


def find_knocks(wave: np.ndarray, sample_rate: int) -> list[tuple[int, int, float]]:
    """The knocks in `wave`: (first sample, end sample, level around it in dB) for each, in order."""
    frame = max(1, int(round(FRAME_S * sample_rate)))
    return _knocks(_frame_energies_db(np.asarray(wave), frame), frame)


def _knocks(energy: np.ndarray, frame: int) -> list[tuple[int, int, float]]:
    """`find_knocks` on the recording's frame energies (dB, frames of `frame` samples)."""
    if energy.size < int(AFTER_S[1] / FRAME_S):
        return []
    speech = np.percentile(energy, SPEECH_PERCENTILE)
    loud = np.flatnonzero(energy >= speech - CLICK_UNDER_SPEECH_DB)  # the medians run on these frames only
    if loud.size == 0:
        return []
    f = 1 / FRAME_S
    before = _around(energy, loud, -int(BEFORE_S[0] * f), -int(BEFORE_S[1] * f) + 1, np.nanmax)
    after = _around(energy, loud, int(AFTER_S[0] * f), int(AFTER_S[1] * f) + 1, np.nanmedian)
    hits = (energy[loud] >= speech + ABOVE_SPEECH_DB) & (energy[loud] >= np.maximum(before, after) + JUMP_DB)
    hits |= _clicks_in_pauses(energy, loud, speech, before)
    # A thud's tail may still fill "just after", so it is turned down to the sound once it is surely over
    # (or, at the end of a recording, just after it).
    later = _around(energy, loud[hits], int(LATER_S[0] * f), int(LATER_S[1] * f) + 1, np.nanmedian)
    levels = np.maximum(before[hits], np.where(np.isfinite(later), later, after[hits]))
    knocks, end = [], -1
    for k, level in zip(loud[hits], levels):
        if k < end:  # a later frame of a knock already found
            continue
        stop, limit = k + 1, min(energy.size, k + int(MAX_S * f))
        while stop < limit and energy[stop] > level + TAIL_DB:
            stop += 1
        first = max(0, k - 1)  # the attack may begin in the frame before the loudest
        knocks.append((first * frame, stop * frame, float(level)))
        end = stop
    return knocks


def _clicks_in_pauses(energy: np.ndarray, frames: np.ndarray, speech: float, before: np.ndarray) -> np.ndarray:
    """Which of `frames` (each within `CLICK_UNDER_SPEECH_DB` of the `speech` level, `before` the loudest frame
    4-10 ms before each) are a click followed by a pause: `JUMP_DB` above the loudest frame before and the
    loudest 20-40 ms after, which lies `PAUSE_UNDER_SPEECH_DB` under the speech. A keystroke is quieter than
    a knock, and a voice's plosive bursts are as loud; but a plosive runs into its vowel. None where the
    recording holds fewer than `MIN_PAUSE_CLICKS`: a lip's click or a plosive released into a pause comes
    alone or in two, keystrokes in a stream."""
    f = 1 / FRAME_S
    after = _around(energy, frames, int(AFTER_S[0] * f), int(AFTER_S[1] * f) + 1, np.nanmax)
    clicks = (energy[frames] >= np.maximum(before, after) + JUMP_DB) & (after <= speech - PAUSE_UNDER_SPEECH_DB)
    separate = np.count_nonzero(np.diff(frames[clicks], prepend=-np.inf) > CLICK_GAP_S * f)
    return clicks if separate >= MIN_PAUSE_CLICKS else np.zeros_like(clicks)


def remove_knocks(wave: np.ndarray, sample_rate: int) -> np.ndarray:
    """`wave` with each knock (`find_knocks`) turned down, frame by frame, to the level around it, the gain
    moving smoothly between frame centres; `wave` itself when it has none."""
    frame = max(1, int(round(FRAME_S * sample_rate)))
    energy = _frame_energies_db(np.asarray(wave), frame)
    knocks = _knocks(energy, frame)
    if not knocks:
        return wave
    gain_db = np.zeros(energy.size)
    for start, stop, level in knocks:
        k0, k1 = start // frame, stop // frame
        gain_db[k0:k1] = np.minimum(0.0, level - energy[k0:k1])
    centres = (np.arange(energy.size) + 0.5) * frame
    gain = 10 ** (np.interp(np.arange(wave.size), centres, gain_db) / 20)
    return (wave * gain).astype(wave.dtype)
