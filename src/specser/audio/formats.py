"""Which audio specser reads: one list of file extensions, and content checks before decoding.

Folders are searched by extension (`AUDIO_EXTENSIONS`); uploads, whose names mean nothing, are
checked by their first bytes (`sniff_audio`). Both cover the containers libsndfile decodes.
"""

from __future__ import annotations

AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".aiff", ".aif", ".aifc", ".au")

# (magic test, format name). Checked on the first bytes of the upload, whatever the client claims.
_SIGNATURES = (
    (lambda b: b[:4] == b"RIFF" and b[8:12] == b"WAVE", "wav"),
    (lambda b: b[:4] == b"RF64" and b[8:12] == b"WAVE", "wav"),
    (lambda b: b[:4] == b"fLaC", "flac"),
    (lambda b: b[:4] == b"OggS", "ogg"),
    (lambda b: b[:4] == b"FORM" and b[8:12] in (b"AIFF", b"AIFC"), "aiff"),
    (lambda b: b[:4] == b".snd", "au"),
    (lambda b: b[:3] == b"ID3" or (len(b) > 1 and b[0] == 0xFF and (b[1] & 0xE0) == 0xE0), "mp3"),
)


def sniff_audio(head: bytes) -> str | None:
    """The container format of an upload from its first bytes, or None if it is not one we decode."""
    for test, name in _SIGNATURES:
        if len(head) >= 4 and test(head):
            return name
    return None
