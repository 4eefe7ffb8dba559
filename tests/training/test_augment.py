"""Augmentation: each transform does what it says, touches training batches only, and trains."""

import json

import numpy as np
import pytest
import torch

from specser.config import AugmentConfig, ConfigError, FeatureConfig, load_config
from specser.data.datasets import RandomCropDataset, WaveDataset
from specser.features.logmel import LogMel
from specser.training.augment import (WaveFeatures, freq_mixstyle, jensen_shannon, mixup, time_shift,
                                      warped_filterbank)
from tests.synth import FAST_OVERRIDES, emotional_tone


def test_time_shift_rolls_each_example_within_bounds():
    torch.manual_seed(0)
    x = torch.arange(20.0).view(1, 1, 1, 20).repeat(8, 1, 3, 1)
    out = time_shift(x, 3)
    shifts = set()
    for example in out:
        row = example[0, 0]
        matches = [k for k in range(-3, 4) if torch.equal(torch.roll(x[0, 0, 0], k), row)]
        assert len(matches) == 1, row  # a circular shift by at most 3 frames
        assert torch.equal(example, example[:, :1].expand_as(example))  # every band shifted alike
        shifts.add(matches[0])
    assert len(shifts) > 1
    assert torch.equal(time_shift(x, 0), x)


def test_mixup_is_a_convex_combination_of_batch_members():
    torch.manual_seed(0)
    x = torch.randn(6, 1, 4, 5)
    mixed, partner, lam = mixup(x, 0.4)
    assert 0 <= lam <= 1 and sorted(partner.tolist()) == list(range(6))
    torch.testing.assert_close(mixed, lam * x + (1 - lam) * x[partner])


def band_stats(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Each example's per-band mean and standard deviation over channels and time: (B, F) each."""
    return x.mean(dim=(1, 3)), x.var(dim=(1, 3)).sqrt()


def test_mixup_of_two_views_mixes_both_views_of_a_clip_with_the_same_partner():
    torch.manual_seed(0)
    x = torch.arange(12.0).view(12, 1, 1, 1)
    mixed, partner, lam = mixup(x, 0.4, views=2)
    assert sorted(partner[:6].tolist()) == list(range(6)) and torch.equal(partner[6:], partner[:6] + 6)
    torch.testing.assert_close(mixed, lam * x + (1 - lam) * x[partner])


def test_jensen_shannon_is_zero_for_agreeing_views_and_at_most_log_2():
    logits = torch.randn(5, 6)
    assert jensen_shannon(torch.cat([logits, logits])).item() == pytest.approx(0.0, abs=1e-6)
    sure = torch.full((2, 3), -1e4)
    sure[0, 0] = sure[1, 2] = 1e4  # view 1 sure of class 0, view 2 sure of class 2
    assert jensen_shannon(sure).item() == pytest.approx(np.log(2), rel=1e-4)
    p, q = logits.softmax(1)[:2], torch.randn(2, 6).softmax(1)
    m = (p + q) / 2
    expected = 0.5 * ((p * (p / m).log()).sum(1) + (q * (q / m).log()).sum(1)).mean()
    assert jensen_shannon(torch.cat([p.log(), q.log()])).item() == pytest.approx(expected.item(), rel=1e-4)


def test_freq_mixstyle_gives_each_clip_a_mix_of_two_clips_band_statistics():
    torch.manual_seed(0)
    x = torch.randn(16, 1, 12, 50) * (0.5 + 3 * torch.rand(16, 1, 12, 1)) + torch.randn(16, 1, 12, 1) * 5
    out = freq_mixstyle(x, 1.0, 0.3)
    mean, std = band_stats(x)
    out_mean, out_std = band_stats(out)
    moved = 0
    for i in range(16):
        if torch.allclose(out[i], x[i], atol=1e-4):
            continue  # its partner was itself
        moved += 1
        # out_mean = lam * mean_i + (1 - lam) * mean_j for one partner j and one lam over all bands.
        fits = []
        for j in range(16):
            if j == i:
                continue
            lam = ((out_mean[i] - mean[j]) @ (mean[i] - mean[j])) / (mean[i] - mean[j]).square().sum()
            fits.append((out_mean[i] - (lam * mean[i] + (1 - lam) * mean[j])).abs().max() < 1e-3
                        and (out_std[i] - (lam * std[i] + (1 - lam) * std[j])).abs().max() < 1e-3
                        and -1e-4 <= lam <= 1 + 1e-4)
        assert sum(fits) == 1, i
        # Within each band the clip's shape over time is kept: a positive affine map of the original.
        for band in range(12):
            r = torch.corrcoef(torch.stack([x[i, 0, band], out[i, 0, band]]))[0, 1]
            assert r > 0.9999
    assert moved >= 12


def test_freq_mixstyle_touches_only_the_asked_share_and_nothing_when_off():
    torch.manual_seed(1)
    x = torch.randn(400, 1, 8, 20) + torch.randn(400, 1, 8, 1) * 4
    assert freq_mixstyle(x, 0.0, 0.3) is x
    changed = ~torch.isclose(freq_mixstyle(x, 0.25, 0.3), x, atol=1e-4).flatten(1).all(dim=1)
    assert 0.15 < changed.float().mean() < 0.3
    assert freq_mixstyle(x[:1], 1.0, 0.3) is not None  # a batch of one has no partner: unchanged
    assert torch.equal(freq_mixstyle(x[:1], 1.0, 0.3), x[:1])


def test_freq_mixstyle_settings_are_checked():
    with pytest.raises(ValueError, match="freq_mixstyle"):
        AugmentConfig(freq_mixstyle_prob=1.5)
    with pytest.raises(ValueError, match="freq_mixstyle"):
        AugmentConfig(freq_mixstyle_alpha=0.0)


def test_warped_filterbank_with_ratio_one_is_the_filterbank():
    fb = LogMel(FeatureConfig()).filterbank
    torch.testing.assert_close(warped_filterbank(fb, torch.ones(2))[0], fb.T)


def test_pitch_warp_moves_a_tone_up():
    cfg = FeatureConfig()
    lm = LogMel(cfg)
    t = torch.arange(16000) / 16000
    power = lm.power(torch.sin(2 * torch.pi * 500 * t)[None])  # (1, frames, n_freq)
    up = power @ warped_filterbank(lm.filterbank, torch.tensor([2 ** (4 / 12)]))  # +4 semitones
    plain = lm.mel(power)
    assert up.mean(1).argmax() > plain.mean(1).argmax()


def _wave_features(aug: AugmentConfig, random_crop=False):
    cfg = FeatureConfig(clip_seconds=1.0)
    lm = LogMel(cfg)
    return WaveFeatures(cfg, aug, random_crop, lm.filterbank, torch.zeros(cfg.n_mels), torch.ones(cfg.n_mels)), lm


def test_wave_features_without_augmentation_is_the_clean_front_end():
    wf, lm = _wave_features(AugmentConfig())
    wave = torch.from_numpy(emotional_tone("05", 1, np.random.default_rng(0), seconds=1.0))
    out = wf(wave[None], torch.tensor([len(wave)]))
    torch.testing.assert_close(out[0, 0], lm(wave), rtol=1e-4, atol=1e-3)


def test_wave_features_augment_and_keep_the_shape():
    torch.manual_seed(0)
    aug = AugmentConfig(speed=0.1, pitch_semitones=2, gain_db=6, noise_snr_db=[10, 20], noise_types=["pink", "babble"],
                        reverb_prob=0.5, band_prob=0.5, quantize_prob=0.5)
    wf, lm = _wave_features(aug, random_crop=True)
    rng = np.random.default_rng(1)
    waves = [emotional_tone(c, 1, rng, seconds=s) for c, s in (("01", 0.7), ("05", 1.4))]
    batch, lengths, _ = WaveDataset(waves, [0, 1]).__getitems__([0, 1])
    out = wf(batch, lengths)
    assert out.shape == (2, 1, 128, lm.frames(16000)) and torch.isfinite(out).all()
    clean = _wave_features(AugmentConfig())[0](batch, lengths)
    assert not torch.allclose(out, clean)


def test_noise_reaches_only_the_asked_share_of_clips():
    """noise_prob: some clips stay clean, so a model trained with noise still sees clean speech."""
    torch.manual_seed(0)
    wave = torch.from_numpy(emotional_tone("05", 1, np.random.default_rng(0), seconds=1.0))
    batch, lengths = wave.repeat(400, 1), torch.full((400,), len(wave))
    clean = _wave_features(AugmentConfig())[0](batch[:1], lengths[:1])[0]
    for prob, expected in ((0.0, 0.0), (0.3, 0.3), (1.0, 1.0)):
        out = _wave_features(AugmentConfig(noise_snr_db=[10, 10], noise_prob=prob))[0](batch, lengths)
        changed = (out - clean).abs().amax(dim=(1, 2, 3)) > 1e-3
        assert changed.float().mean().item() == pytest.approx(expected, abs=0.07)


def test_quantisation_uses_the_asked_bit_depths():
    """quantize_bits: a 4-bit-only setting gives exactly the clean front-end of the 4-bit wave."""
    wave = 0.5 * torch.from_numpy(emotional_tone("05", 1, np.random.default_rng(0), seconds=1.0))
    lengths = torch.tensor([len(wave)])
    out = _wave_features(AugmentConfig(quantize_prob=1.0, quantize_bits=[4, 4]))[0](wave[None], lengths)
    grid = torch.clamp(torch.round(wave * 8), -8, 7) / 8
    clean = _wave_features(AugmentConfig())[0]
    torch.testing.assert_close(out, clean(grid[None], lengths), rtol=1e-4, atol=1e-3)
    assert not torch.allclose(out, clean(wave[None], lengths), atol=1e-2)
    with pytest.raises(ValueError, match="quantize_bits"):
        _wave_features(AugmentConfig(quantize_prob=1.0, quantize_bits=[12, 8]))


def test_overload_and_telephone_change_the_features_and_bad_drives_are_named():
    wave = 0.5 * torch.from_numpy(emotional_tone("05", 1, np.random.default_rng(0), seconds=1.0))
    lengths = torch.tensor([len(wave)])
    clean = _wave_features(AugmentConfig())[0](wave[None], lengths)
    for augment in (AugmentConfig(overload_prob=1.0, overload_db=[20, 20]), AugmentConfig(telephone_prob=1.0)):
        assert augment.audio_domain
        out = _wave_features(augment)[0](wave[None], lengths)
        assert out.shape == clean.shape and not torch.allclose(out, clean, atol=1e-2)
    with pytest.raises(ValueError, match="overload_db"):
        _wave_features(AugmentConfig(overload_prob=1.0, overload_db=[20, 5]))


def test_bass_rolloff_takes_the_lowest_bands_and_leaves_the_rest():
    """bass_prob: on the chosen clips the bands below the drawn cutoff lose power; the rest barely move."""
    torch.manual_seed(0)
    wave = 0.5 * torch.from_numpy(emotional_tone("05", 1, np.random.default_rng(0), seconds=1.0))
    lengths = torch.tensor([len(wave)])
    augment = AugmentConfig(bass_prob=1.0, bass_hz=[300.0, 300.0])
    assert augment.audio_domain
    wf, lm = _wave_features(augment)
    out, clean = wf(wave[None], lengths)[0, 0], lm(wave)
    centres = torch.from_numpy(lm.filterbank.numpy().argmax(axis=1) * 8000 / 512)
    low, high = centres < 150, centres > 1000
    assert (clean - out)[low].mean() > 10 and (clean - out)[high].abs().max() < 0.5
    with pytest.raises(ConfigError, match="bass_hz"):
        AugmentConfig(bass_hz=[400.0, 80.0])


def test_consistency_adds_a_view_of_the_same_windows_without_the_recording_conditions():
    """augment.consistency: the batch comes back twice as long; its second half is the clean front-end of the
    same clips, its first half is what the conditions made of them, unchanged by the second view."""
    wave = 0.5 * torch.from_numpy(emotional_tone("05", 1, np.random.default_rng(0), seconds=1.0))
    batch, lengths = torch.stack([wave, 0.5 * wave]), torch.full((2,), len(wave))
    conditions = dict(noise_snr_db=[10, 10], noise_prob=1.0, quantize_prob=1.0, quantize_bits=[6, 6])
    torch.manual_seed(0)
    paired = _wave_features(AugmentConfig(**conditions, consistency=3.0))[0](batch, lengths)
    torch.manual_seed(0)
    single = _wave_features(AugmentConfig(**conditions))[0](batch, lengths)
    clean = _wave_features(AugmentConfig())[0](batch, lengths)
    assert paired.shape == (4, *single.shape[1:])
    torch.testing.assert_close(paired[:2], single)
    torch.testing.assert_close(paired[2:], clean)
    assert not torch.allclose(paired[:2], paired[2:], atol=1e-2)
    with pytest.raises(ConfigError, match="consistency"):
        AugmentConfig(noise_snr_db=[10, 10], consistency=-1.0)
    with pytest.raises(ConfigError, match="needs audio-domain augmentation"):
        load_config(preset="paper", overrides=["train.augment.consistency=3"])


def test_random_crops_are_windows_of_the_clip():
    torch.manual_seed(0)
    long, short = np.arange(40, dtype=np.float32).reshape(1, 40), np.full((1, 6), 3.0, np.float32)
    short[0, 0] = -1
    ds = RandomCropDataset([long, short], [0, 1], np.zeros(1, np.float32), np.ones(1, np.float32), 10)
    starts = set()
    for _ in range(30):
        x, y = ds.__getitems__([0, 1])
        assert x.shape == (2, 1, 1, 10) and y.tolist() == [0, 1]
        row = x[0, 0, 0]
        assert torch.equal(row, torch.arange(row[0], row[0] + 10))
        starts.add(int(row[0]))
        assert (x[1, 0, 0] == -1).sum() == 10 - 6 + 1 and (x[1, 0, 0] == 3).sum() == 5  # padded with its floor
    assert len(starts) > 5


@pytest.mark.parametrize("extra", [
    ["model.name=spec_resnet_attn", "train.augment.mixup_alpha=0.2", "train.specaugment.enabled=true",
     "train.augment.random_crop=true", "train.augment.time_shift_s=0.1", "train.label_smoothing=0.1",
     "train.class_weights=true", "train.optimizer=adamw", "train.scheduler=cosine", "train.warmup_epochs=1",
     "train.tta_crops=3", "train.augment.freq_mixstyle_prob=0.4"],
    ["model.name=spec_crnn", "train.augment.speed=0.1", "train.augment.pitch_semitones=1", "train.augment.gain_db=6",
     "train.augment.noise_snr_db=[15, 30]", "train.augment.noise_types=[white, pink, babble]",
     "train.augment.reverb_prob=0.3", "train.augment.band_prob=0.3", "train.augment.quantize_prob=0.3",
     "train.scheduler=onecycle", "train.augment.consistency=3"],
])
def test_augmented_recipes_train_and_learn(synth_corpus, tmp_path, extra):
    from specser.runs.train import train_run

    cfg = load_config(overrides=FAST_OVERRIDES + [f"data.path={synth_corpus}", "train.max_epochs=10",
                                                  "model.options={stem_channels: 8, widths: [8, 16, 32, 32]}", *extra])
    metrics = train_run(cfg, tmp_path / "run", progress=False)
    assert metrics["accuracy"] >= 0.5, metrics["accuracy"]  # chance is 1/6
    saved = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert saved["run"]["model_name"] == cfg.model.name
