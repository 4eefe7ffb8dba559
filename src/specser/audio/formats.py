"""Which audio specser reads: one list of file extensions, and content checks before decoding.

Folders are searched by extension (`AUDIO_EXTENSIONS`); uploads, whose names mean nothing, are
checked by their first bytes (`sniff_audio`). Both cover the containers libsndfile decodes and those of
`CONTAINER_FORMATS`, which `specser.audio.containers` decodes.
"""

from __future__ import annotations

AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".aiff", ".aif", ".aifc", ".au",
                    ".m4a", ".mp4", ".mov", ".aac", ".webm", ".mkv", ".mka", ".3gp", ".amr")
# Containers libsndfile does not read; `specser.audio.containers` decodes them (phones, browsers).
CONTAINER_FORMATS = ("mp4", "webm", "aac", "amr")
FORMAT_NAMES = "WAV, FLAC, Ogg/Opus, AIFF, MP3, M4A/MP4 (AAC), WebM or AMR"  # for people: errors, the page, the API

_IMAGE_BRANDS = (b"heic", b"heix", b"hevc", b"mif1", b"msf1", b"avif", b"avis")

# (magic test, format name). Checked on the first bytes of the upload, whatever the client claims.
_SIGNATURES = (
    (lambda b: b[:4] == b"RIFF" and b[8:12] == b"WAVE", "wav"),
    (lambda b: b[:4] == b"RF64" and b[8:12] == b"WAVE", "wav"),
    (lambda b: b[:4] == b"fLaC", "flac"),
    (lambda b: b[:4] == b"OggS", "ogg"),
    (lambda b: b[:4] == b"FORM" and b[8:12] in (b"AIFF", b"AIFC"), "aiff"),
    (lambda b: b[:4] == b".snd", "au"),
    # MP4, M4A, 3GP: an ISO base media file, but not the still images that share the box (HEIC, AVIF)
    (lambda b: b[4:8] == b"ftyp" and b[8:12] not in _IMAGE_BRANDS, "mp4"),
    (lambda b: b[:4] == b"\x1a\x45\xdf\xa3", "webm"),  # EBML: WebM, Matroska
    (lambda b: b[:6] == b"#!AMR\n", "amr"),
    # ADTS (raw AAC): a 12-bit sync word and layer 00, where an MP3 frame's layer bits are not 00.
    (lambda b: len(b) > 1 and b[0] == 0xFF and (b[1] & 0xF6) == 0xF0, "aac"),
    (lambda b: b[:3] == b"ID3" or (len(b) > 1 and b[0] == 0xFF and (b[1] & 0xE0) == 0xE0), "mp3"),
)


def sniff_audio(head: bytes) -> str | None:
    """The container format of an upload from its first bytes, or None if it is not one we decode."""
    for test, name in _SIGNATURES:
        if len(head) >= 4 and test(head):
            return name
    return None


def wav_truncation(head: bytes, size: int) -> tuple[float, float] | None:
    """For a RIFF/WAVE file cut short, (seconds its header promises, seconds it holds); else None.

    libsndfile quietly decodes what is there, so a WAV whose body was cut off mid-transfer
    would otherwise be classified as if it were whole. `head` is the file's first bytes
    (the chunk headers before the samples), `size` its length in bytes. A data size of 0 or
    0xFFFFFFFF (written by streaming recorders that never go back to fix it) is not a claim.
    """
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return None
    pos, byte_rate = 12, 0
    while pos + 8 <= len(head):
        chunk, length = head[pos:pos + 4], int.from_bytes(head[pos + 4:pos + 8], "little")
        if chunk == b"fmt " and pos + 20 <= len(head):
            byte_rate = int.from_bytes(head[pos + 16:pos + 20], "little")
        if chunk == b"data":
            available = size - (pos + 8)
            if length in (0, 0xFFFFFFFF) or byte_rate <= 0 or length <= available + 1:
                return None
            return length / byte_rate, max(0, available) / byte_rate
        pos += 8 + length + (length & 1)
    return None
