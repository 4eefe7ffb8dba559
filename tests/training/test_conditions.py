"""Recording-condition augmentation: each effect is the physical one, at the asked amount, on the chosen clips only."""

import pytest
import torch

from specser.training import conditions


def _speech_like(b: int, n: int = 16000) -> torch.Tensor:
    t = torch.arange(n) / 16000
    f0 = torch.linspace(120, 260, b)[:, None]
    return 0.2 * torch.sin(2 * torch.pi * f0 * t) * (1 + torch.sin(2 * torch.pi * 3 * t)) / 2


def _band_power(x: torch.Tensor, lo: float, hi: float, sr: int = 16000) -> torch.Tensor:
    spec = torch.fft.rfft(x).abs().square()
    freqs = torch.fft.rfftfreq(x.shape[-1], 1 / sr)
    return spec[..., (freqs >= lo) & (freqs < hi)].mean(dim=-1)


def test_pink_noise_falls_by_3_db_per_octave():
    torch.manual_seed(0)
    noise = conditions.pink_noise(8, 32000, "cpu")
    assert torch.allclose(noise.square().mean(dim=1), torch.ones(8), atol=1e-4)
    ratio = (_band_power(noise, 250, 500) / _band_power(noise, 2000, 4000)).mean()
    assert 6 < ratio < 10, ratio  # three octaves apart: 1/f power gives 8x


def test_noise_is_at_the_asked_snr_and_only_on_chosen_clips():
    torch.manual_seed(0)
    x = _speech_like(6)
    chosen = torch.tensor([True, True, True, True, True, False])
    for kind in conditions.NOISE_TYPES:
        out = conditions.add_noise(x, chosen, torch.full((6,), 10.0), [kind])
        noise = out - x
        snr = 10 * torch.log10(x.square().mean(1) / noise.square().mean(1).clamp(min=1e-30))
        assert torch.allclose(snr[:5], torch.full((5,), 10.0), atol=0.01), (kind, snr)
        assert torch.equal(out[5], x[5])


def test_babble_is_made_of_other_clips_never_the_clip_itself():
    torch.manual_seed(0)
    x = torch.eye(5)  # clip i is the indicator of sample i, so a sum shows which clips it holds
    mix = conditions.babble(x, torch.arange(5), talkers=3)
    assert torch.equal(mix.diagonal(), torch.zeros(5))
    assert torch.equal(mix.sum(dim=1), torch.full((5,), 3.0))


@pytest.mark.parametrize("room", ["simple", "bands"])
def test_both_rooms_keep_the_level_and_ring_longer_in_a_longer_room(room):
    torch.manual_seed(0)
    x = torch.zeros(3, 16000)
    x[:, 4000:4400] = torch.randn(3, 400)
    out = conditions.reverberate(x, torch.tensor([True, True, False]), 16000, torch.tensor([0.3, 0.9, 0.5]), room)
    assert torch.equal(out[2], x[2])
    assert torch.allclose(out[:2].square().mean(1), x[:2].square().mean(1), rtol=1e-4)
    tail = out[:, 4400 + 1600:4400 + 3200].square().mean(1)
    assert tail[1] > tail[0] > 0


def band_energy(rir: torch.Tensor, low: float, high: float, start_s: float) -> torch.Tensor:
    """Energy of each response between `low` and `high` Hz, from `start_s` on."""
    spectrum = torch.fft.rfft(rir[:, int(start_s * 16000):])
    freqs = torch.fft.rfftfreq(rir.shape[-1] - int(start_s * 16000), 1 / 16000)
    return spectrum[:, (freqs >= low) & (freqs < high)].abs().square().sum(-1)


def test_band_rooms_decay_faster_at_high_frequencies_and_vary_the_distance():
    torch.manual_seed(0)
    rooms = conditions.band_rooms(200, 16000, torch.full((200,), 0.8), "cpu")
    assert torch.allclose(rooms.square().sum(-1), torch.ones(200), atol=1e-4)
    # The share of each band's energy still there after 0.3 s: the highs have died away sooner.
    late_low = band_energy(rooms, 100, 500, 0.3) / band_energy(rooms, 100, 500, 0.0)
    late_high = band_energy(rooms, 4500, 7500, 0.3) / band_energy(rooms, 4500, 7500, 0.0)
    assert (late_high < late_low).float().mean() > 0.95
    direct = rooms[:, 0].square()
    drr_db = 10 * torch.log10(direct / (1 - direct))
    assert -4 < drr_db.min() < 0 and 9 < drr_db.max() < 13  # about the drawn -3 to +12 dB
    early = rooms[:, int(0.003 * 16000):int(0.040 * 16000)].abs().max(-1).values
    later = rooms[:, int(0.040 * 16000):int(0.077 * 16000)].abs().max(-1).values
    assert (early > later).float().mean() > 0.9  # the discrete early reflections stand out
    assert torch.equal(rooms[:, 1:int(0.003 * 16000)], torch.zeros(200, int(0.003 * 16000) - 1))


def test_quantize_puts_chosen_clips_on_the_grid():
    x = _speech_like(3)
    out = conditions.quantize(x, torch.tensor([True, False, True]), torch.tensor([8.0, 8.0, 4.0]))
    assert torch.equal(out[0] * 128, torch.round(out[0] * 128)) and (out[0] - x[0]).abs().max() <= 0.5 / 128 + 1e-7
    assert torch.equal(out[1], x[1])
    assert torch.equal(out[2] * 8, torch.round(out[2] * 8)) and not torch.equal(out[2] * 128, out[0] * 128)
    assert torch.equal(conditions.quantize(x, torch.zeros(3, dtype=torch.bool), torch.full((3,), 8.0)), x)


@pytest.mark.parametrize("n, rt60", [(16001, 0.40), (15997, 0.7131), (9973, 0.2)])
def test_a_room_is_a_linear_convolution_whatever_the_lengths(n, rt60):
    """The FFT is padded to a fast size (`fft_size`): the result is still the plain convolution, cut to the clip."""
    import numpy as np

    x = torch.randn(2, n)
    rt = torch.tensor([rt60, rt60])
    torch.manual_seed(3)
    out = conditions.reverberate(x, torch.tensor([True, False]), 16000, rt)
    torch.manual_seed(3)
    rir = conditions.room_impulses(1, 16000, rt[:1], "cpu")[0]
    wet = np.convolve(x[0].double().numpy(), rir.double().numpy())[:n]
    wet *= np.sqrt((x[0].double().numpy() ** 2).mean() / (wet ** 2).mean())
    np.testing.assert_allclose(out[0].numpy(), wet, atol=2e-5)
    assert torch.equal(out[1], x[1])
    size = conditions.fft_size(n + rir.numel() - 1)
    assert size >= n + rir.numel() - 1 and size < 1.1 * (n + rir.numel())
    for prime in (2, 3, 5):
        while size % prime == 0:
            size //= prime
    assert size == 1  # no prime factor above 5


def test_band_mask_passes_speech_and_cuts_lows_and_highs():
    mask = conditions.band_mask(torch.tensor([True, False]), 513, 16000, torch.tensor([300.0, 300.0]),
                                torch.tensor([3400.0, 3400.0]))
    freqs = torch.linspace(0, 8000, 513)
    at = lambda hz: mask[0, int(torch.argmin((freqs - hz).abs()))]  # noqa: E731
    assert at(1000) > 0.99 and at(75) < 1e-4 and at(7000) < 0.01
    assert torch.equal(mask[1], torch.ones(513))


def test_bass_rolloff_is_a_butterworth_high_pass_at_each_clips_cutoff_and_order():
    freqs = torch.linspace(0, 8000, 513)
    at = lambda gains, hz: gains[:, int(torch.argmin((freqs - hz).abs()))]  # noqa: E731
    gains = conditions.bass_rolloff(torch.tensor([True, True, False]), 513, 16000,
                                    torch.tensor([125.0, 250.0, 250.0]), torch.tensor([4.0, 1.0, 4.0]))
    assert at(gains[:1], 125) == pytest.approx(0.5, abs=1e-6)  # -3 dB at the cutoff
    assert at(gains[1:2], 250) == pytest.approx(0.5, abs=1e-6)
    assert at(gains[:1], 62.5) < 0.005 and at(gains[:1], 1000) > 0.9999  # 4th order: -24 dB an octave down
    assert 0.19 < at(gains[1:2], 125) < 0.21  # 1st order: 1 / (1 + 4) an octave down
    assert torch.equal(gains[2], torch.ones(513))


def test_overload_clips_the_chosen_clips_at_full_scale_by_the_asked_drive():
    x = _speech_like(2)
    out = conditions.overload(x, torch.tensor([True, False]), torch.tensor([20.0, 20.0]))
    assert torch.equal(out[1], x[1])
    assert out[0].abs().max() == 1.0
    clipped = (out[0].abs() == 1.0).float().mean()
    assert 0.01 < clipped < 0.9  # 20 dB past full scale flattens the peaks, not the whole clip
    unclipped = out[0].abs() < 1.0  # below full scale the wave is the clip scaled so its peak sits 20 dB over
    torch.testing.assert_close(out[0][unclipped], (x[0] / x[0].abs().max() * 10.0)[unclipped])
    none = conditions.overload(x, torch.tensor([True, True]), torch.tensor([0.0, 0.0]))
    torch.testing.assert_close(none, x / x.abs().amax(dim=-1, keepdim=True))  # 0 dB: peak at full scale


def _loud_then_quiet(b: int) -> torch.Tensor:
    """A syllable at full voice, then one 30 dB quieter."""
    x = _speech_like(b, 32000)
    x[:, 16000:] *= 10 ** (-30 / 20)
    return x


def _rms_db(x: torch.Tensor) -> torch.Tensor:
    return 10 * torch.log10(x.square().mean(dim=-1))


def test_compress_narrows_the_level_range_by_the_ratio_and_keeps_the_peak():
    x = _loud_then_quiet(3)
    out = conditions.compress(x, torch.tensor([True, True, False]), 16000, torch.tensor([4.0, 2.0, 4.0]),
                              torch.tensor([10.0, 10.0, 10.0]))
    assert torch.equal(out[2], x[2])
    torch.testing.assert_close(out[:2].abs().amax(dim=-1), x[:2].abs().amax(dim=-1))  # make-up gain to the peak
    gap_before = _rms_db(x[0, :16000]) - _rms_db(x[0, 16000:])  # 30 dB
    gaps = [float(_rms_db(o[:16000]) - _rms_db(o[16000:])) for o in out[:2]]
    # A threshold 10 dB below the peak leaves the quiet syllable alone and squeezes the loud one's top 10 dB
    assert abs(gap_before - 30) < 0.1 and 30 - 7.5 < gaps[0] < gaps[1] < 30 - 2, gaps  # 4:1 more than 2:1
    deep = conditions.compress(x, torch.tensor([True, True, True]), 16000, torch.full((3,), 4.0),
                               torch.full((3,), 40.0))
    assert float(_rms_db(deep[0, :16000]) - _rms_db(deep[0, 16000:])) < 15  # 40 dB down: both syllables squeezed


def test_telephone_mask_keeps_the_call_band_and_drops_everything_above_4_khz():
    torch.manual_seed(0)
    mask = conditions.telephone_mask(torch.tensor([True] * 8 + [False]), 513, 16000)
    freqs = torch.linspace(0, 8000, 513)
    at = lambda hz: mask[:8, int(torch.argmin((freqs - hz).abs()))]  # noqa: E731
    assert (at(1000) > 0.99).all() and (at(2800) > 0.5).all() and (at(100) < 1e-3).all() and (at(3900) < 0.3).all()
    assert (mask[:8, freqs > 4000] == 0).all()
    assert torch.equal(mask[8], torch.ones(513))


def test_equalizer_tilts_and_bends_the_chosen_spectra_within_bounds_and_smoothly():
    torch.manual_seed(0)
    chosen = torch.arange(64) % 2 == 0
    gains = conditions.equalizer(chosen, 513, 16000, 9.0)
    assert torch.equal(gains[~chosen], torch.ones(32, 513))
    db = 10 * torch.log10(gains[chosen])
    # tilt up to 9 dB per 3 octaves (13 dB at 50 Hz, 4.3 octaves down) plus three bumps of up to 3 dB each
    assert db.abs().max() <= 13.0 + 9.0 + 1e-4
    assert db[:, 256:].std(dim=1).mean() > 0.5  # the curves differ across the band, not only a gain
    assert db[:, 32:].diff(dim=1).abs().max() < 1.0  # smooth: under 1 dB between adjacent bins above 500 Hz
    spread = db[:, -1] - db[:, 64]  # 8 kHz against 1 kHz: both signs, up to the 9 dB tilt plus the bumps
    assert spread.min() < -3 and spread.max() > 3 and spread.abs().max() <= 9.0 + 6.0 + 1e-4


def test_a_simple_room_takes_each_clips_direct_to_reverberant_ratio():
    torch.manual_seed(0)
    drr = torch.tensor([-18.0, 0.0, 12.0])
    rooms = conditions.room_impulses(3, 16000, torch.full((3,), 0.6), "cpu", drr)
    direct = rooms[:, 0].square()
    assert torch.allclose(10 * torch.log10(direct / (1 - direct)), drr, atol=1e-3)
    far = conditions.room_impulses(3, 16000, torch.tensor([0.2, 0.6, 1.0]), "cpu")  # the fixed tail: metres away
    far_drr = 10 * torch.log10(far[:, 0].square() / (1 - far[:, 0].square()))
    assert bool((far_drr < -12).all() and (far_drr > -21).all())
    x = torch.zeros(2, 16000)
    x[:, 4000:4400] = torch.randn(2, 400)
    close = conditions.reverberate(x, torch.tensor([True, True]), 16000, torch.full((2,), 0.6), drr_db=torch.tensor([12.0, -18.0]))
    late = close[:, 4400 + 800:4400 + 4000].square().mean(1)
    assert late[0] < late[1]  # the close microphone hears less of the room


def test_dropouts_zero_whole_20_ms_frames_of_the_chosen_clips_in_bursts_at_about_the_asked_loss():
    torch.manual_seed(0)
    x = torch.randn(64, 64000) + 5.0  # no zeros of its own
    chosen = torch.arange(64) % 2 == 0
    loss = torch.linspace(0.02, 0.2, 64)
    y = conditions.dropouts(x, chosen, 16000, loss)
    assert torch.equal(y[~chosen], x[~chosen])
    zero = (y[chosen] == 0).view(32, -1, 320)
    assert torch.equal(zero.all(-1), zero.any(-1))  # a frame is lost whole or not at all
    lost = zero.all(-1).float()
    assert torch.equal(y[chosen][y[chosen] != 0], x[chosen][y[chosen] != 0])
    assert abs(lost.mean().item() - loss[chosen].mean().item()) < 0.03
    assert lost[-8:].mean() > 2 * lost[:8].mean()  # more lost where more was asked
    bursts = ((lost[:, 1:] == 1) & (lost[:, :-1] == 0)).sum() + lost[:, 0].sum()
    assert 1.6 <= (lost.sum() / bursts).item() <= 3.0
