"""Which audio is accepted: by extension for folders, by first bytes for uploads."""

import io

import numpy as np
import pytest
import soundfile as sf

from specser.audio.formats import AUDIO_EXTENSIONS, sniff_audio


@pytest.mark.parametrize("fmt, subtype, expected", [("WAV", "PCM_16", "wav"), ("FLAC", "PCM_16", "flac"),
                                                    ("OGG", "VORBIS", "ogg"), ("AIFF", "PCM_16", "aiff"),
                                                    ("AU", "PCM_16", "au")])
def test_containers_soundfile_writes_are_recognised(fmt, subtype, expected):
    buf = io.BytesIO()
    sf.write(buf, np.zeros(1600, np.float32), 16000, format=fmt, subtype=subtype)
    assert sniff_audio(buf.getvalue()[:16]) == expected


def test_text_and_images_are_not_audio():
    assert sniff_audio(b"hello, world, this is text") is None
    assert sniff_audio(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR") is None
    assert sniff_audio(b"RIF") is None


def test_one_extension_list_serves_folders_and_corpora():
    from specser.corpus import manifest
    from specser.inference import sources

    assert manifest.AUDIO_EXTENSIONS is AUDIO_EXTENSIONS is sources.AUDIO_EXTENSIONS
    assert {".wav", ".flac", ".ogg", ".opus", ".mp3"} <= set(AUDIO_EXTENSIONS)
