import dataclasses

import numpy as np
import pytest
import torch

from specser.audio.load import load_audio
from specser.config import FeatureConfig, load_config
from specser.features.extract import extract_logmels
from specser.features.logmel import LogMel, librosa_logmel
from specser.corpus.manifest import load_manifest
from tests.synth import emotional_tone

# Measured on 15 real RAVDESS files: max 0.0014 dB, mean 3e-6 dB. The bound leaves room for BLAS differences.
MAX_DB = 0.01
MEAN_DB = 1e-4


def _agreement(wave, cfg):
    ours = LogMel(cfg)(torch.from_numpy(wave)).numpy()
    ref = librosa_logmel(wave, cfg)
    assert ours.shape == ref.shape
    diff = np.abs(ours - ref)
    return diff.max(), diff.mean()


@pytest.mark.parametrize("cfg", [FeatureConfig(), FeatureConfig(n_fft=512, win_length=400, hop_length=160, n_mels=64, f_max=7600)])
def test_torch_logmel_matches_librosa_on_synthetic_audio(cfg):
    wave = emotional_tone("05", 3, np.random.default_rng(1), sr=cfg.sample_rate, seconds=1.3)
    worst, mean = _agreement(wave, cfg)
    assert worst < MAX_DB and mean < MEAN_DB


def test_torch_logmel_matches_librosa_on_real_ravdess(ravdess_dir):
    cfg = FeatureConfig()
    files = sorted(ravdess_dir.glob("Actor_0[1-3]/*.flac"))[::45]
    assert files
    for f in files:
        worst, mean = _agreement(load_audio(f, cfg.sample_rate), cfg)
        assert worst < MAX_DB and mean < MEAN_DB, f


def test_batched_equals_single():
    cfg = FeatureConfig()
    rng = np.random.default_rng(0)
    batch = torch.from_numpy(np.stack([emotional_tone(c, 1, rng) for c in ("01", "03", "05")]))
    lm = LogMel(cfg)
    stacked = lm(batch)
    for i in range(3):
        torch.testing.assert_close(stacked[i], lm(batch[i]))


def test_cache_second_run_computes_nothing(synth_corpus, tmp_path):
    cfg = FeatureConfig(n_mels=40)
    rows = load_manifest(synth_corpus).rows[:20]
    first = extract_logmels(rows, cfg, tmp_path, progress=False)
    assert (first.computed, first.cached) == (20, 0)
    second = extract_logmels(rows, cfg, tmp_path, progress=False)
    assert (second.computed, second.cached) == (0, 20)
    for k in first.features:
        np.testing.assert_array_equal(first.features[k], second.features[k])
    # Another setting is another cache entry.
    other = extract_logmels(rows, FeatureConfig(n_mels=64), tmp_path, progress=False)
    assert other.computed == 20


def test_cache_keys_on_content_not_name(tmp_path):
    import soundfile as sf

    from specser.corpus.manifest import Utterance

    path = tmp_path / "a.wav"
    sf.write(path, emotional_tone("01", 1, np.random.default_rng(0)), 16000)
    row = [Utterance("a", str(path), "neutral", "1")]
    cfg = FeatureConfig(n_mels=40)
    before = extract_logmels(row, cfg, tmp_path / "c", progress=False).features["a"]
    sf.write(path, emotional_tone("08", 1, np.random.default_rng(0)), 16000)
    after = extract_logmels(row, cfg, tmp_path / "c", progress=False)
    assert after.computed == 1 and not np.allclose(before, after.features["a"])


def test_bad_files_are_skipped_with_reasons(synth_corpus, tmp_path):
    import shutil

    from specser.corpus.manifest import Utterance

    good = load_manifest(synth_corpus).rows[0]
    empty = tmp_path / "03-01-01-01-01-01-09.wav"
    empty.write_bytes(b"")
    rows = [good, Utterance("e", str(empty), "neutral", "9"), Utterance("m", str(tmp_path / "gone.wav"), "neutral", "9")]
    result = extract_logmels(rows, FeatureConfig(n_mels=40), tmp_path / "c", progress=False)
    assert list(result.features) == [good.utt_id]
    reasons = dict(result.skipped)
    assert "empty" in reasons[str(empty)] and "unreadable" in reasons[str(tmp_path / "gone.wav")]
    shutil.rmtree(tmp_path / "c")


def test_banded_mel_equals_the_dense_projection():
    lm = LogMel(FeatureConfig())
    power = torch.rand(2, 40, lm.filterbank.shape[1])  # (batch, frames, n_freq)
    torch.testing.assert_close(lm.mel(power), power @ lm.filterbank.T, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("n_fft,win", [(1024, 1024), (512, 400)])
def test_framing_equals_torch_stft(n_fft, win):
    cfg = FeatureConfig(n_fft=n_fft, win_length=win, hop_length=160)
    lm = LogMel(cfg)
    wave = torch.randn(2, 9999)
    spec = torch.stft(wave, n_fft, 160, win, torch.hann_window(win), center=True, pad_mode="constant", return_complex=True)
    power = (spec.real.square() + spec.imag.square()).transpose(1, 2)
    expected = 10 * torch.log10(torch.clamp(lm.mel(power), min=1e-10)).transpose(1, 2)
    torch.testing.assert_close(lm._db(wave), expected, rtol=1e-4, atol=1e-3)


def test_forward_list_equals_one_by_one():
    """Padding a batch to its longest wave changes no frame of the shorter ones, nor their top_db clip."""
    lm = LogMel(FeatureConfig())
    rng = np.random.default_rng(3)
    waves = [torch.from_numpy(emotional_tone(c, 1, rng, seconds=s)) for c, s in (("01", 0.7), ("05", 1.9), ("08", 1.2))]
    waves[2][4000:] *= 1e-3  # a loud start and quiet end: its own peak must set its clip
    for wave, out in zip(waves, lm.forward_list(waves)):
        torch.testing.assert_close(out, lm(wave), rtol=1e-5, atol=1e-4)


def test_batched_extraction_equals_threaded(synth_corpus):
    cfg = FeatureConfig(n_mels=40)
    rows = load_manifest(synth_corpus).rows[:10]
    threads = torch.get_num_threads()
    one = extract_logmels(rows, cfg, None, progress=False)
    assert torch.get_num_threads() == threads  # lowered to 1 while the threads work, then restored
    batched = extract_logmels(rows, cfg, None, progress=False, batched=True, batch_size=4)
    assert one.keys == batched.keys and batched.computed == 10
    for k, v in one.features.items():
        np.testing.assert_allclose(batched.features[k], v, atol=1e-3)


def test_cpu_chunking_changes_nothing(monkeypatch):
    import specser.features.logmel as logmel

    lm = LogMel(FeatureConfig())
    wave = torch.randn(5, 8000)
    whole = lm(wave)
    monkeypatch.setattr(logmel, "CPU_CHUNK_ELEMENTS", 2 * 32 * 1024)  # two 32-frame waves per chunk
    torch.testing.assert_close(lm(wave), whole)


def test_level_normalised_log_mel_ignores_the_recording_gain_in_torch_and_numpy():
    """features.level_norm: the log-Mel relative to the utterance's speech level, so 20 dB quieter or
    louder gives the same features; the numpy front-end (ONNX backend) computes the same."""
    import dataclasses

    from specser.features.logmel_np import logmel_numpy

    cfg = dataclasses.replace(FeatureConfig(), level_norm=True)
    wave = emotional_tone("05", 2, np.random.default_rng(0), seconds=1.5) * 0.3
    front = LogMel(cfg)
    ref = front(torch.from_numpy(wave)).numpy()
    for scale in (0.1, 3.0):
        got = front(torch.from_numpy((wave * scale).astype(np.float32))).numpy()
        assert np.abs(got - ref).max() < 1e-3
    plain = LogMel(FeatureConfig())(torch.from_numpy(wave * 0.1)).numpy()
    assert np.abs(plain - LogMel(FeatureConfig())(torch.from_numpy(wave)).numpy()).max() > 19  # without it: 20 dB
    assert np.percentile(10 * np.log10((10 ** (ref / 10)).sum(axis=0)), 90) == pytest.approx(0.0, abs=1e-3)
    numpy_db = logmel_numpy(wave, front.filterbank.numpy(), cfg.n_fft, cfg.hop_length, cfg.win_length, cfg.top_db,
                            level_norm=True)
    assert np.abs(numpy_db - ref).max() < 2e-3
    batch = front.forward_list([torch.from_numpy(wave), torch.from_numpy(wave[:8000] * 0.2)])
    assert np.abs(batch[0].numpy() - ref).max() < 1e-4


@pytest.mark.parametrize("norm", ["level_norm", "utterance_norm"])
def test_the_frame_levels_from_the_mel_power_equal_those_from_the_db(norm):
    """Training hands `_clip` the Mel power it already has; the result is what the dB alone gives."""
    import dataclasses

    front = LogMel(dataclasses.replace(FeatureConfig(), **{norm: True}))
    wave = torch.from_numpy(emotional_tone("03", 1, np.random.default_rng(4), seconds=1.2).astype(np.float32))
    mel = front.mel(front.power(torch.stack([wave, 0.01 * wave])))
    mel[1, :5] = 0.0  # digital silence: the AMIN floor, in both
    db = front.to_db(mel)
    torch.testing.assert_close(front._clip(db, mel), front._clip(db), rtol=0, atol=1e-4)


def test_utterance_normalised_log_mel_cancels_a_microphone_filter_and_gain_in_torch_and_numpy():
    """features.utterance_norm: minus the utterance's mean spectrum over speech frames, so a fixed filter
    (a microphone's or a corpus's colouring) and the gain leave the speech frames nearly unchanged."""
    import dataclasses

    from scipy.signal import lfilter

    from specser.features.logmel_np import logmel_numpy

    cfg = dataclasses.replace(FeatureConfig(), utterance_norm=True)
    wave = emotional_tone("05", 2, np.random.default_rng(0), seconds=1.5) * 0.3
    coloured = (lfilter([1.0, -0.9], [1.0], wave) * 0.05).astype(np.float32)  # +-15 dB tilt, 26 dB quieter
    front, plain = LogMel(cfg), LogMel(FeatureConfig(level_norm=True))
    ref, got = front(torch.from_numpy(wave)).numpy(), front(torch.from_numpy(coloured)).numpy()
    energy = 10 * np.log10((10 ** (ref / 10)).sum(axis=0))
    speech = energy > np.percentile(energy, 90) - 20
    assert np.abs(got - ref)[:, speech].mean() < 0.5
    tilted = plain(torch.from_numpy(coloured)).numpy() - plain(torch.from_numpy(wave)).numpy()
    assert np.abs(tilted)[:, speech].mean() > 5  # level_norm alone keeps the colouring
    numpy_db = logmel_numpy(wave, front.filterbank.numpy(), cfg.n_fft, cfg.hop_length, cfg.win_length, cfg.top_db,
                            utterance_norm=True)
    assert np.abs(numpy_db - ref).max() < 2e-3
    batch = front.forward_list([torch.from_numpy(wave), torch.from_numpy(wave[:8000] * 0.2)])
    assert np.abs(batch[0].numpy() - ref).max() < 1e-4


def test_the_robust_front_end_does_not_see_a_faint_noise_floor():
    """A -60 dBFS white-noise floor under speech at -30 dBFS, with pauses: with the `robust` preset's floor
    (40 dB below the loudest bin, relative to the speech level) the log-Mel hardly moves; with the paper's
    80 dB range the floor fills the pauses and the high bands, which a model trained on studio audio read as
    an emotion (docs/results.md)."""
    rng = np.random.default_rng(0)
    silence = np.zeros(8000, np.float32)
    speech = np.concatenate([silence, emotional_tone("05", 2, rng, seconds=2.0), silence])
    speech = speech / np.sqrt(np.mean(speech[speech != 0] ** 2)) * 10 ** (-30 / 20)
    floor = rng.standard_normal(speech.size) * 10 ** (-60 / 20)
    robust = load_config(preset="robust").features
    change = {}
    for top_db in (robust.top_db, 80.0):
        front = LogMel(dataclasses.replace(robust, top_db=top_db))
        clean, noisy = (front(torch.from_numpy(x.astype(np.float32))) for x in (speech, speech + floor))
        change[top_db] = float((clean - noisy).abs().mean())
    assert robust.top_db == 40.0 and change[40.0] < 0.5 and change[80.0] > 5.0, change


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU (runs where one is present)")
@pytest.mark.parametrize("level_norm", [False, True])
def test_cuda_front_end_matches_cpu(level_norm):
    """On the lent H200, 8 real RAVDESS files differed by at most 0.00076 dB (paper front-end) and
    0.00002 dB (level-normalised); the bound is the same as against librosa."""
    cfg = dataclasses.replace(FeatureConfig(), level_norm=level_norm, top_db=40.0 if level_norm else 80.0)
    rng = np.random.default_rng(2)
    waves = [torch.from_numpy(emotional_tone(c, 2, rng, seconds=s)) for c, s in (("01", 1.1), ("05", 2.3), ("06", 0.7))]
    lm = LogMel(cfg)
    on_cpu = lm.forward_list(waves)
    on_gpu = lm.to("cuda").forward_list([w.to("cuda") for w in waves])
    for a, b in zip(on_cpu, on_gpu):
        assert (a - b.cpu()).abs().max() < MAX_DB
