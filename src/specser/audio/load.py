"""Audio loading: soundfile decode, mono mix-down, soxr resampling, and clear errors.

Every failure raises `AudioError` naming the file and the reason, so batch jobs
can list skipped files and go on.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from specser.audio.containers import ContainerError, container_info, decode_container
from specser.audio.formats import CONTAINER_FORMATS, sniff_audio, wav_truncation
from specser.audio.quality import few_bits_warning, parties_warning, separate_parties

SILENCE_PEAK = 1e-4  # about -80 dBFS: below this the whole clip counts as silent


class AudioError(ValueError):
    """Unusable audio. `str()` reads ``<file>: <reason>``; `kind` names the problem for programs:
    ``not_found``, ``empty``, ``corrupt``, ``truncated``, ``too_long``, ``too_short``, ``not_finite``,
    ``silent``, ``no_speech`` or ``bad_input``."""

    def __init__(self, source: str, reason: str, kind: str = "corrupt"):
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason
        self.kind = kind


def _decoder_message(exc: Exception) -> str:
    """libsndfile's reason without the Python object it was handed (``Error opening <_io.BytesIO object at
    0x7f...>: Format not recognised.`` becomes ``format not recognised``): people read this."""
    text = getattr(exc, "error_string", None) or str(exc)
    text = re.sub(r"Error opening <[^>]*>:\s*", "", text)
    text = re.sub(r"Error opening '[^']*':\s*", "", text)
    text = re.sub(r"<[^<>]* object at 0x[0-9a-fA-F]+>", "the file", text).strip().rstrip(".")
    return text[:1].lower() + text[1:] if text else type(exc).__name__


def _decode(source: str | Path | bytes, name: str, head: bytes, max_duration_s: float | None) -> tuple[np.ndarray, int]:
    """`head`: the first bytes, which route phone and browser containers to FFmpeg, the rest to libsndfile."""
    if sniff_audio(head[:16]) in CONTAINER_FORMATS:
        try:
            return decode_container(source, max_duration_s)
        except ContainerError as exc:
            raise AudioError(name, str(exc), exc.kind) from exc
    try:
        handle = io.BytesIO(source) if isinstance(source, (bytes, bytearray)) else source
        data, sr = sf.read(handle, dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError) as exc:
        raise AudioError(name, f"corrupt or unsupported audio ({_decoder_message(exc)})") from exc
    return data, sr


def load_audio(
    source: str | Path | bytes,
    sample_rate: int,
    max_duration_s: float | None = None,
    name: str | None = None,
    channel: int | None = None,
    notes: list | None = None,
) -> np.ndarray:
    """Decode audio to a mono float32 waveform at `sample_rate`.

    Args:
        source: a file path or the file's bytes.
        sample_rate: target rate; soxr (high quality) resamples when it differs.
        max_duration_s: reject longer audio; None allows any length.
        name: how errors name the source (defaults to the path).
        channel: keep only this channel (0-based) instead of mixing them all, e.g. one party of a call
            recorded in stereo; a file without it is refused (``bad_input``).
        notes: a list that gets the warnings only the channels show (`prepare_wave`).

    Returns:
        1-D float32 array.

    Raises:
        AudioError: missing, empty, corrupt, silent or too long audio.
    """
    name = _name(source, name)
    data, sr = decode_audio(source, max_duration_s, name)
    return prepare_wave(data, sr, sample_rate, max_duration_s, name, channel, notes)


def _name(source: str | Path | bytes, name: str | None) -> str:
    if name is not None:
        return name
    return "<bytes>" if isinstance(source, (bytes, bytearray)) else str(source)


def decode_audio(source: str | Path | bytes, max_duration_s: float | None = None,
                 name: str | None = None) -> tuple[np.ndarray, int]:
    """The samples (frames, channels) as decoded and their rate, after the checks the file alone allows
    (missing, empty, a WAV body shorter than its header says). `prepare_wave` makes them a checked mono
    waveform; decoding once and preparing each channel labels every party of a call.

    Raises:
        AudioError: missing, empty, truncated, corrupt or unsupported audio.
    """
    name = _name(source, name)
    if isinstance(source, (bytes, bytearray)):
        if len(source) == 0:
            raise AudioError(name, "empty file (0 bytes)", "empty")
        head, size = bytes(source[:65536]), len(source)
    else:
        path = Path(source)
        if not path.exists():
            raise AudioError(name, "file not found", "not_found")
        if not path.is_file():
            raise AudioError(name, "not a regular file", "not_found")
        size = path.stat().st_size
        if size == 0:
            raise AudioError(name, "empty file (0 bytes)", "empty")
        with open(path, "rb") as handle:
            head = handle.read(65536)
    missing = wav_truncation(head, size)
    if missing is not None:
        raise AudioError(name, f"truncated: the header promises {missing[0]:.2f} s of audio, the file holds "
                               f"{missing[1]:.2f} s", "truncated")
    return _decode(source, name, head, max_duration_s)


def remove_dc(wave: np.ndarray) -> np.ndarray:
    """`wave` minus its mean. Cheap sound cards and USB microphones record a constant offset; the corpora
    have almost none, and an offset of 0.01 (-40 dBFS) cut a development model's accuracy from 72 to 24 %
    (docs/results.md, "A DC offset"). Speech has no energy at 0 Hz, so nothing of it is lost. A single
    sample is its own mean and is left as it is (it is too short to classify, not silent)."""
    if wave.size < 2:
        return wave
    return wave - np.asarray(np.mean(wave, dtype=np.float64), dtype=wave.dtype)


CANCELLING_MIX = 0.25  # a mean that keeps under this share of its channels' power: they oppose each other


def downmix(data: np.ndarray) -> np.ndarray:
    """(frames, channels) -> mono: the channels' mean, with any channel in opposite polarity to the loudest
    flipped first when the plain mean would cancel. Some laptops' two-microphone arrays record one channel
    inverted, and a plain mean of them leaves a faint, high-passed residue of speech from in front of the
    laptop (docs/results.md, "Stereo with one channel inverted"). Identical channels keep all their power
    in the mean, unrelated ones or a dead one half, so only opposing channels fall under the quarter, and
    every other recording mixes exactly as a plain mean."""
    if data.shape[1] == 1:
        return data[:, 0]
    n = data.shape[0]
    sums = data.sum(axis=0, dtype=np.float64)
    gram = (data.T @ data).astype(np.float64) - np.outer(sums, sums) / n  # channel covariances x n, without DC
    power = np.diag(gram)
    if gram.sum() / data.shape[1] ** 2 >= CANCELLING_MIX * power.mean():
        return data.mean(axis=1)
    signs = np.where(gram[int(np.argmax(power))] < 0, -1.0, 1.0)
    return data @ (signs / data.shape[1]).astype(data.dtype)


def prepare_wave(data: np.ndarray, sr: int, sample_rate: int, max_duration_s: float | None, name: str,
                 channel: int | None = None, notes: list | None = None) -> np.ndarray:
    """Decoded samples (frames, channels) -> checked mono float32 at `sample_rate`, without DC offset:
    the channels mixed (`downmix`), or only `channel` (0-based). When they are mixed and each of several
    channels holds a voice of its own (`quality.separate_parties`), `notes` (a list) gets the warning:
    the mono result cannot show it.

    Raises:
        AudioError: no such channel, no samples, too long, NaN/inf, or silent.
    """
    if channel is not None:
        if not 0 <= channel < data.shape[1]:
            n = data.shape[1]
            raise AudioError(name, f"has {n} channel{'s' if n != 1 else ''}, so no channel {channel + 1}",
                             "bad_input")
        data = data[:, channel:channel + 1]
    if data.shape[0] == 0:
        raise AudioError(name, "no audio samples", "empty")
    duration = data.shape[0] / sr
    if max_duration_s is not None and duration > max_duration_s:
        raise AudioError(name, f"too long ({duration:.1f} s > limit {max_duration_s:g} s)", "too_long")
    wave = downmix(data)
    if not np.all(np.isfinite(wave)):
        raise AudioError(name, "contains NaN or infinite samples", "not_finite")
    if float(np.max(np.abs(wave))) < SILENCE_PEAK:
        raise AudioError(name, "all-silent (peak below -80 dBFS)", "silent")
    if notes is not None and channel is None:
        parties = separate_parties(data, sr)
        if parties:
            notes.append(parties_warning(parties))
    if notes is not None:
        few = few_bits_warning(wave)  # at the file's rate: resampling hides the grid
        if few is not None:
            notes.append(few)
    wave = remove_dc(wave)  # after the silence check: a short blip of one value is too short, not silent
    if sr != sample_rate:
        wave = soxr.resample(wave, sr, sample_rate, quality="HQ")
    return np.ascontiguousarray(wave, dtype=np.float32)


def audio_info(source: str | Path | bytes) -> dict:
    """Header facts (rate, channels, duration in seconds) of a file or its bytes, without decoding the samples.

    Raises:
        AudioError: a header neither libsndfile nor (for phone and browser containers) FFmpeg reads.
    """
    raw = isinstance(source, (bytes, bytearray))
    name = "<bytes>" if raw else str(source)
    try:
        if raw:
            head = bytes(source[:16])
        else:
            with open(source, "rb") as handle:
                head = handle.read(16)
    except OSError as exc:
        raise AudioError(name, f"cannot be read ({exc.strerror or exc})", "not_found") from exc
    try:
        if sniff_audio(head) in CONTAINER_FORMATS:
            return container_info(source)
        info = sf.info(io.BytesIO(source) if raw else str(source))
    except (ContainerError, sf.LibsndfileError, RuntimeError, TypeError) as exc:
        raise AudioError(name, f"unreadable header ({_decoder_message(exc)})") from exc
    return {"sample_rate": info.samplerate, "channels": info.channels, "duration_s": info.duration}
