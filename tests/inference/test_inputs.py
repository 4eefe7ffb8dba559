"""Every kind of input a user brings: valid variants get a label; degenerate audio and broken files get a
named error (`AudioError.kind`), never a label."""

import io

import numpy as np
import pytest
import soundfile as sf

from specser.audio.load import AudioError
from specser.audio.sounds import sound
from specser.inference.model_file import ModelFile
from specser.inference.predictor import Predictor
from tests.synth import emotional_tone

SPEECH = emotional_tone("05", 2, np.random.default_rng(3), seconds=1.5)


@pytest.fixture(scope="module")
def predictor(trained_run):
    return Predictor(ModelFile.load(trained_run / "model.specser"), device="cpu")


def _encode(wave, sr, fmt, subtype=None, channels=1):
    import soxr

    data = soxr.resample(wave, 16000, sr) if sr != 16000 else wave
    if channels == 2:
        data = np.stack([data, 0.8 * data], axis=1)
    buf = io.BytesIO()
    sf.write(buf, data, sr, format=fmt, subtype=subtype)
    return buf.getvalue()


@pytest.mark.parametrize("sr, fmt, subtype, channels", [
    (8000, "WAV", "PCM_16", 1), (16000, "WAV", "PCM_U8", 1), (22050, "WAV", "PCM_24", 1), (44100, "WAV", "FLOAT", 1),
    (48000, "WAV", "PCM_16", 2), (96000, "WAV", "PCM_32", 1), (48000, "FLAC", "PCM_16", 1), (16000, "OGG", "VORBIS", 1),
    (16000, "OGG", "OPUS", 1), (44100, "MP3", "MPEG_LAYER_III", 2),
])
def test_valid_variants_get_a_label(predictor, sr, fmt, subtype, channels):
    data = _encode(SPEECH, sr, fmt, subtype, channels)
    pred = predictor.predict(data, name=f"clip.{fmt.lower()}")
    assert pred.label in predictor.labels and abs(sum(pred.probabilities.values()) - 1) < 1e-4


def _wav(wave, sr=16000):
    buf = io.BytesIO()
    sf.write(buf, wave, sr, format="WAV", subtype="PCM_16")
    return buf.getvalue()


def _lying_header():
    """A WAV whose header claims 20 times the real sample rate: 1.5 s of audio reads as 75 ms."""
    data = bytearray(_wav(SPEECH))
    data[24:28] = (16000 * 20).to_bytes(4, "little")
    data[28:32] = (16000 * 20 * 2).to_bytes(4, "little")
    return bytes(data)


PNG = b"\x89PNG\r\n\x1a\n" + bytes(200)


@pytest.mark.parametrize("name, source, kind", [
    ("digital silence", _wav(np.zeros(24000, np.float32)), "silent"),
    ("near-silence at -78 dBFS", _wav(np.random.default_rng(0).uniform(-1, 1, 24000).astype(np.float32) * 10 ** (-78 / 20)),
     "no_speech"),
    ("a steady noise floor", _wav(np.random.default_rng(0).standard_normal(24000).astype(np.float32) * 1e-3), "no_speech"),
    ("hand claps", _wav(sound("hand claps", 3.0, 16000, np.random.default_rng(0), -6.0)), "no_speech"),
    ("bursts of noise", _wav(sound("white noise bursts", 3.0, 16000, np.random.default_rng(0), -6.0)), "no_speech"),
    ("a few milliseconds", _wav(SPEECH[4000:4080]), "too_short"),
    ("one sample", _wav(SPEECH[4000:4001]), "too_short"),
    ("no samples", _wav(np.zeros(0, np.float32)), "empty"),
    ("an empty file", b"", "empty"),
    ("a truncated header", _wav(SPEECH)[:30], "corrupt"),
    ("a truncated body", _wav(SPEECH)[: 44 + 12000], "truncated"),
    ("a header that lies about the rate", _lying_header(), "too_short"),
    ("text renamed .wav", b"just some text, not audio at all\n" * 20, "corrupt"),
    ("an image renamed .wav", PNG, "corrupt"),
])
def test_degenerate_and_broken_inputs_get_a_named_error(predictor, name, source, kind):
    with pytest.raises(AudioError) as caught:
        predictor.predict(source, name="upload.wav")
    assert caught.value.kind == kind, f"{name}: {caught.value}"
    assert str(caught.value).startswith("upload.wav: ")


def test_nan_samples_are_named(predictor):
    wave = SPEECH.copy()
    wave[100] = np.nan
    with pytest.raises(AudioError) as caught:
        predictor.predict(wave, sample_rate=16000)
    assert caught.value.kind == "not_finite"


def test_long_recording_windows_without_speech_are_marked_not_classified(predictor):
    rng = np.random.default_rng(4)
    pause = rng.standard_normal(4 * 16000).astype(np.float32) * 1e-3  # 4 s of room noise, no voice
    speech = np.concatenate([emotional_tone("05", 2, rng, seconds=1.0) for _ in range(3)])
    pred = predictor.predict(np.concatenate([speech, pause, speech]), sample_rate=16000)
    statuses = [s.status for s in pred.timeline]
    assert "no_speech" in statuses and statuses[0] == statuses[-1] == "ok"
    for seg in pred.timeline:
        assert (seg.label is None) == (seg.status == "no_speech") == (seg.probabilities is None)
    silent_only = [s for s in pred.timeline if 3.0 <= s.start_s and s.end_s <= 7.0]
    assert silent_only and all(s.status == "no_speech" for s in silent_only)
    with pytest.raises(AudioError, match="no speech"):
        predictor.predict(np.tile(pause, 3), sample_rate=16000)


def test_long_recording_windows_of_typing_without_a_voice_are_marked_not_classified(predictor):
    rng = np.random.default_rng(5)
    speech = np.concatenate([emotional_tone("05", 2, rng, seconds=1.0) for _ in range(3)])
    typing = sound("typing", 8.0, 16000, rng, -12.0)  # louder than the floor: the energy check passes it
    pred = predictor.predict(np.concatenate([speech, typing, speech]), sample_rate=16000)
    typing_only = [s for s in pred.timeline if 3.0 <= s.start_s and s.end_s <= 11.0]
    assert typing_only and all(s.status == "no_speech" and s.label is None for s in typing_only)
    assert pred.timeline[0].status == pred.timeline[-1].status == "ok"
