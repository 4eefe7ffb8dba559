import numpy as np
import pytest
import soundfile as sf

from specser.audio.load import AudioError, downmix, load_audio


def _tone(sr, seconds=0.5, channels=1):
    t = np.arange(int(sr * seconds)) / sr
    x = 0.5 * np.sin(2 * np.pi * 440 * t).astype(np.float32)
    return np.stack([x, 0.5 * x], axis=1) if channels == 2 else x


def test_stereo_48k_is_mixed_and_resampled(tmp_path):
    path = tmp_path / "stereo.flac"
    sf.write(path, _tone(48000, channels=2), 48000)
    wave = load_audio(path, 16000)
    assert wave.dtype == np.float32 and wave.ndim == 1
    assert len(wave) == 8000
    assert np.max(np.abs(wave)) == pytest.approx(0.375, abs=0.01)  # mean of 0.5 and 0.25 peaks


def test_one_channel_is_kept_when_asked_and_a_missing_one_is_named(tmp_path):
    path = tmp_path / "call.flac"
    sf.write(path, _tone(48000, channels=2), 48000)  # right = left at half the level
    left, right = load_audio(path, 16000, channel=0), load_audio(path, 16000, channel=1)
    assert np.max(np.abs(left)) == pytest.approx(0.5, abs=0.01) and np.max(np.abs(right)) == pytest.approx(0.25, abs=0.01)
    with pytest.raises(AudioError, match=r"call\.flac: has 2 channels, so no channel 3") as err:
        load_audio(path, 16000, channel=2)
    assert err.value.kind == "bad_input"
    mono = tmp_path / "mono.wav"
    sf.write(mono, _tone(16000), 16000)
    assert np.array_equal(load_audio(mono, 16000, channel=0), load_audio(mono, 16000))
    with pytest.raises(AudioError, match="has 1 channel, so no channel 2"):
        load_audio(mono, 16000, channel=1)


def _speechlike(seconds=1.0, sr=16000, seed=0):
    """Noise shaped like speech's spectrum (most power below 1 kHz), so a one-sample delay barely changes it."""
    rng = np.random.default_rng(seed)
    x = np.convolve(rng.standard_normal(int(sr * seconds)), np.hanning(15), mode="same")
    return (0.2 * x / np.max(np.abs(x))).astype(np.float32)


def test_a_laptop_array_with_one_channel_inverted_is_mixed_without_cancelling(tmp_path):
    speech = _speechlike()
    path = tmp_path / "array.wav"
    sf.write(path, np.stack([speech, -0.9 * speech], axis=1), 16000, subtype="FLOAT")  # a talker in front
    wave = load_audio(path, 16000)
    assert np.corrcoef(wave, speech)[0, 1] > 0.999 and np.std(wave) > 0.9 * np.std(speech)
    plain = np.stack([speech, -0.9 * speech], axis=1).mean(axis=1)
    assert np.std(plain) < 0.1 * np.std(speech)  # what a plain mean left: a faint residue
    off_axis = np.stack([speech, -np.concatenate([[0.0], speech[:-1]])], axis=1).astype(np.float32)
    assert np.corrcoef(downmix(off_axis), speech)[0, 1] > 0.97
    assert np.corrcoef(off_axis.mean(axis=1), speech)[0, 1] < 0.5  # a plain mean high-passes it


@pytest.mark.parametrize("second", ["identical", "unrelated", "dead", "quieter copy", "offset"])
def test_channels_that_do_not_cancel_mix_as_a_plain_mean(second):
    speech = _speechlike()
    other = {"identical": speech, "unrelated": _speechlike(seed=1), "dead": np.zeros_like(speech),
             "quieter copy": 0.3 * speech, "offset": speech + 0.05}[second].astype(np.float32)
    data = np.stack([speech, other], axis=1)
    assert np.array_equal(downmix(data), data.mean(axis=1))


def test_one_channel_is_returned_as_it_is():
    speech = _speechlike()
    assert np.array_equal(downmix(speech[:, None]), speech)


def test_bytes_input(tmp_path):
    path = tmp_path / "a.wav"
    sf.write(path, _tone(16000), 16000)
    assert len(load_audio(path.read_bytes(), 16000)) == 8000


def test_a_dc_offset_is_removed_and_an_offset_alone_is_no_speech(tmp_path):
    from specser.audio.checks import speech_problem

    path = tmp_path / "offset.wav"
    sf.write(path, _tone(16000) + 0.05, 16000, subtype="FLOAT")
    wave = load_audio(path, 16000)
    assert abs(float(np.mean(wave))) < 1e-6 and np.max(np.abs(wave)) == pytest.approx(0.5, abs=0.01)
    sf.write(path, np.full(16000, 0.01, dtype=np.float32), 16000, subtype="FLOAT")  # a sound card's offset, no signal
    offset_only = load_audio(path, 16000)
    assert np.max(np.abs(offset_only)) < 1e-6 and speech_problem(offset_only, 16000)[0] == "no_speech"


@pytest.mark.parametrize("case, reason", [
    ("missing", "file not found"), ("empty", "empty file"), ("corrupt", "corrupt or unsupported"),
    ("silent", "all-silent"), ("long", "too long"), ("noframes", "no audio samples"),
])
def test_errors_name_the_file_and_the_reason(tmp_path, case, reason):
    path = tmp_path / f"{case}.wav"
    if case == "empty":
        path.write_bytes(b"")
    elif case == "corrupt":
        path.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunkjunkjunk" * 10)
    elif case == "silent":
        sf.write(path, np.zeros(16000, dtype=np.float32), 16000)
    elif case == "long":
        sf.write(path, _tone(16000, seconds=3.0), 16000)
    elif case == "noframes":
        sf.write(path, np.zeros(0, dtype=np.float32), 16000)
    with pytest.raises(AudioError) as info:
        load_audio(path, 16000, max_duration_s=2.0)
    assert str(path) in str(info.value) and reason in info.value.reason
