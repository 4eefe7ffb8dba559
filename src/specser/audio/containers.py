"""Phone and browser recordings that libsndfile does not read: AAC in M4A/MP4 (voice memos, Safari, phone
videos), Opus in WebM (Chrome and Firefox recorders), raw AAC (ADTS) and AMR (3GP and .amr, Android recorders).

These are what people record their own voice with, so they are decoded with PyAV (FFmpeg's decoders,
bundled in its wheels). `av` is imported only when such a file arrives: WAV, FLAC, Ogg and MP3 keep the
libsndfile path and the inference start-up stays as it was.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

# Decoded audio this much shorter than the container announces is a file cut off mid-transfer. Codecs
# add or drop a frame or two at the ends (an AAC frame is 64 ms at 16 kHz), hence the margin.
TRUNCATION_MARGIN_S = 0.25


class ContainerError(ValueError):
    """Why a container could not be decoded; `kind` is ``corrupt``, ``truncated`` or ``too_long`` (as `AudioError`'s)."""

    def __init__(self, reason: str, kind: str = "corrupt"):
        super().__init__(reason)
        self.kind = kind


def _open(source: str | Path | bytes):
    import av

    handle = io.BytesIO(source) if isinstance(source, (bytes, bytearray)) else str(source)
    try:
        return av.open(handle, mode="r")
    except (av.error.FFmpegError, UnicodeDecodeError) as exc:
        raise ContainerError(f"corrupt or unsupported audio ({_reason(exc)})") from exc


def _reason(exc: Exception) -> str:
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return text[:1].lower() + text[1:].rstrip(".")


# Demuxers whose duration is written in the file's header. For raw AAC (ADTS) and AMR, FFmpeg estimates it
# from the bit rate of the first frames, which a variable bit rate makes wrong: no truncation test on those.
HEADER_DURATION_DEMUXERS = ("mov", "matroska")


def _announced_seconds(container, stream) -> float | None:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / 1_000_000  # av.time_base: microseconds
    return None


def _audio_stream(container):
    """The container's first audio stream, which is what specser labels."""
    if not container.streams.audio:
        raise ContainerError("the file holds no audio stream")
    return container.streams.audio[0]


def _packet_end_seconds(container, stream) -> float | None:
    """Where the stream's last packet ends, read from the packets' timestamps without decoding them: the length
    of a file whose header does not state it (a live WebM, as browsers' recorders may write). About 0.3 s for
    ten minutes of Opus (30,000 packets), a fraction of decoding them."""
    end = None
    for packet in container.demux(stream):
        if packet.pts is not None and packet.time_base is not None:
            stop = float((packet.pts + (packet.duration or 0)) * packet.time_base)
            end = stop if end is None else max(end, stop)
    return end


def container_info(source: str | Path | bytes) -> dict:
    """Header facts of the first audio stream (rate, channels, duration), without decoding it, as
    `specser.audio.load.audio_info` gives them. Where the header states no duration, it is where the last
    packet ends, so that a long browser recording still counts as long (the service queues it apart).

    Raises:
        ContainerError: not a container FFmpeg opens, or no audio stream in it.
    """
    import av

    with _open(source) as container:
        stream = _audio_stream(container)
        seconds = _announced_seconds(container, stream)
        if seconds is None:
            try:
                seconds = _packet_end_seconds(container, stream)
            except av.error.FFmpegError:
                seconds = None  # damaged further on: decoding will say how
        return {"sample_rate": stream.rate or stream.codec_context.sample_rate, "channels": stream.channels,
                "duration_s": seconds}


def decode_container(source: str | Path | bytes, max_duration_s: float | None = None) -> tuple[np.ndarray, int]:
    """The first audio stream as float32 samples (frames, channels) at its own rate, as `soundfile.read`
    returns them.

    A few megabytes of AAC or Opus can hold hours of audio, so `max_duration_s` is checked against the
    announced duration before decoding and against the decoded samples while decoding.

    Raises:
        ContainerError: no audio stream, undecodable data, fewer samples than the container announces
            (``truncated``), or more than `max_duration_s` seconds (``too_long``).
    """
    import av

    with _open(source) as container:
        stream = _audio_stream(container)
        rate = stream.rate or stream.codec_context.sample_rate
        # Planar float at the stream's own rate and channels: (channels, samples) per frame.
        to_float = av.AudioResampler(format="fltp", rate=rate)
        announced = _announced_seconds(container, stream)
        if container.format.name.split(",")[0] not in HEADER_DURATION_DEMUXERS:
            announced = None  # an estimate, not a promise
        limit = None if max_duration_s is None else max_duration_s * rate
        if limit is not None and announced is not None and announced * rate > limit:
            raise ContainerError(f"too long ({announced:.1f} s > limit {max_duration_s:g} s)", "too_long")
        chunks, held = [], 0
        try:
            for frame in container.decode(stream):
                chunks.extend(f.to_ndarray() for f in to_float.resample(frame))
                held += frame.samples
                if limit is not None and held > limit:
                    raise ContainerError(f"too long (more than the limit of {max_duration_s:g} s)", "too_long")
            chunks.extend(f.to_ndarray() for f in to_float.resample(None))
        except av.error.FFmpegError as exc:
            raise ContainerError(f"corrupt audio ({_reason(exc)})") from exc
    if not chunks or not rate:
        return np.zeros((0, 1), dtype=np.float32), int(rate or 1)
    data = np.concatenate(chunks, axis=1).T.astype(np.float32, copy=False)
    seconds = data.shape[0] / rate
    if announced is not None and seconds < announced - TRUNCATION_MARGIN_S:
        raise ContainerError(f"truncated: the container announces {announced:.2f} s of audio, the file holds "
                             f"{seconds:.2f} s", "truncated")
    return np.ascontiguousarray(data), int(rate)
