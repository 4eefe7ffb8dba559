"""Phone and browser recordings: AAC in M4A/MP4 and ADTS, Opus in WebM, AMR in .amr and 3GP, decoded with PyAV.

The files are encoded here, with the same FFmpeg, from a synthetic vowel-like tone."""

import io

import numpy as np
import pytest

from specser.audio.formats import AUDIO_EXTENSIONS, CONTAINER_FORMATS, sniff_audio
from specser.audio.load import AudioError, audio_info, load_audio
from tests.synth import encode_with_ffmpeg

pytest.importorskip("av")

RATE = 16000

# (muxer, codec, codec rate, channels, extension, sniffed as)
KINDS = [
    ("ipod", "aac", 16000, 1, ".m4a", "mp4"),  # a voice memo
    ("mp4", "aac", 44100, 2, ".mp4", "mp4"),  # a phone video's sound
    ("adts", "aac", 16000, 1, ".aac", "aac"),
    ("webm", "libopus", 48000, 1, ".webm", "webm"),  # a browser's MediaRecorder
    ("amr", "libopencore_amrnb", 8000, 1, ".amr", "amr"),  # an Android recorder
    ("3gp", "libopencore_amrnb", 8000, 1, ".3gp", "mp4"),
    ("mov", "aac", 48000, 2, ".mov", "mp4"),  # an iPhone video's sound
    ("matroska", "libopus", 48000, 1, ".mkv", "webm"),
]


def voice(seconds: float = 2.0) -> np.ndarray:
    """A 150 Hz pulse train shaped by two formants, at -12 dBFS: enough like speech for the codecs."""
    t = np.arange(int(seconds * RATE)) / RATE
    wave = sum(np.sin(2 * np.pi * 150 * k * t) / k * (1 + 3 * np.exp(-((150 * k - f) / 200) ** 2))
               for k in range(1, 25) for f in (700,))
    return (0.25 * wave / np.abs(wave).max()).astype(np.float32)


def spectrum_correlation(a: np.ndarray, b: np.ndarray) -> float:
    """How alike the two magnitude spectra are over the telephone band (1 s of each). A codec delays the
    signal (AAC primes its decoder with ~1024 samples) and AMR keeps the spectrum, not the waveform."""
    n = RATE
    spectra = [np.abs(np.fft.rfft(x[2000:2000 + n] * np.hanning(n))) for x in (a, b)]
    freqs = np.fft.rfftfreq(n, 1 / RATE)
    band = (freqs > 100) & (freqs < 3400)
    return float(np.corrcoef(spectra[0][band], spectra[1][band])[0, 1])


@pytest.mark.parametrize("muxer, codec, rate, channels, ext, sniffed", KINDS)
def test_phone_and_browser_recordings_decode_to_the_same_sound(tmp_path, muxer, codec, rate, channels, ext, sniffed):
    original = voice()
    data = encode_with_ffmpeg(original, muxer, codec, rate, channels)
    assert sniff_audio(data[:16]) == sniffed and sniffed in CONTAINER_FORMATS and ext in AUDIO_EXTENSIONS
    path = tmp_path / f"memo{ext}"
    path.write_bytes(data)
    wave = load_audio(path, RATE)
    assert wave.dtype == np.float32 and wave.ndim == 1
    assert abs(wave.size / RATE - 2.0) < 0.2, wave.size / RATE  # codec priming and padding only
    assert spectrum_correlation(wave, original) > 0.95
    assert spectrum_correlation(wave, np.random.default_rng(0).standard_normal(32000)) < 0.5  # the check can fail
    info = audio_info(path)
    assert info["sample_rate"] == rate and info["channels"] == channels and abs(info["duration_s"] - 2.0) < 0.2
    assert np.array_equal(load_audio(data, RATE), wave)  # bytes (uploads) and files alike


@pytest.mark.parametrize("muxer, codec, rate, channels, ext, sniffed", KINDS)
def test_a_recording_cut_off_gets_a_named_error_never_a_label(tmp_path, muxer, codec, rate, channels, ext, sniffed):
    data = encode_with_ffmpeg(voice(), muxer, codec, rate, channels)
    path = tmp_path / f"cut{ext}"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(AudioError) as err:
        load_audio(path, RATE)
    assert err.value.kind in ("corrupt", "truncated") and str(path) in str(err.value)


def test_webm_cut_off_says_how_much_is_missing(tmp_path):
    data = encode_with_ffmpeg(voice(), "webm", "libopus", 48000, 1)
    with pytest.raises(AudioError, match=r"truncated: the container announces 2\.0\d s of audio, the file holds 1\.\d\d s"):
        load_audio(data[: len(data) // 2], RATE, name="memo.webm")


def test_a_container_without_sound_or_with_garbage_inside_is_named(tmp_path):
    with pytest.raises(AudioError, match="corrupt") as err:
        load_audio(b"\x00\x00\x00\x18ftypM4A " + b"\x00" * 200, RATE, name="fake.m4a")
    assert err.value.kind == "corrupt"
    with pytest.raises(AudioError, match="memo.webm"):
        load_audio(b"\x1a\x45\xdf\xa3" + bytes(range(256)) * 4, RATE, name="memo.webm")
    with pytest.raises(AudioError, match="unreadable header"):
        audio_info(b"\x00\x00\x00\x18ftypM4A " + b"\x00" * 200)
    with pytest.raises(AudioError, match="missing.m4a: cannot be read") as err:
        audio_info(tmp_path / "missing.m4a")
    assert err.value.kind == "not_found"


def test_a_browser_recording_without_a_duration_in_its_header_is_measured_from_its_packets():
    """A WebM written live (a browser's recorder may write one) states no duration; its length still counts,
    so the service queues a long one apart, and it decodes whole with no truncation claimed."""
    import av

    data = encode_with_ffmpeg(np.tile(voice(), 5), "webm", "libopus", 48000, live=True)  # 10 s
    with av.open(io.BytesIO(data)) as container:
        assert container.duration is None and container.streams.audio[0].duration is None  # the case itself
    assert audio_info(data)["duration_s"] == pytest.approx(10.0, abs=0.05)
    assert load_audio(data, RATE).size == pytest.approx(10 * RATE, rel=0.01)
    with pytest.raises(AudioError, match="too long") as err:
        load_audio(data, RATE, max_duration_s=5.0)
    assert err.value.kind == "too_long"


@pytest.mark.parametrize("muxer, codec, rate", [("ipod", "aac", 16000), ("webm", "libopus", 48000), ("adts", "aac", 16000)])
def test_a_long_recording_is_refused_before_or_while_decoding(muxer, codec, rate):
    data = encode_with_ffmpeg(np.tile(voice(), 6), muxer, codec, rate)  # 12 s
    with pytest.raises(AudioError, match=r"memo: too long") as err:
        load_audio(data, RATE, max_duration_s=5.0, name="memo")
    assert err.value.kind == "too_long"
    assert load_audio(data, RATE, max_duration_s=13.0).size == pytest.approx(12 * RATE, rel=0.02)


def test_phone_photos_in_the_same_box_are_not_audio():
    assert sniff_audio(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00") is None  # an iPhone photo
    assert sniff_audio(b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00") is None
    assert sniff_audio(b"\x00\x00\x00\x1cftypM4A \x00\x00\x00\x00") == "mp4"


def test_adts_is_not_taken_for_mp3():
    assert sniff_audio(bytes([0xFF, 0xF1, 0x60, 0x40])) == "aac"
    assert sniff_audio(bytes([0xFF, 0xFB, 0x90, 0x64])) == "mp3"  # MPEG-1 layer III
