"""Recording conditions: each does what its name says, reproducibly."""

import numpy as np
import pytest

from specser.audio.degrade import (CONDITIONS, add_noise, babble_for, codec, compress, dc_offset, degrade_all, gain,
                                   high_pass, inverted_stereo, pink_noise, quantize, reverberate, telephone, uses_babble)
from tests.synth import emotional_tone

SR = 16000
WAVE = emotional_tone("05", 2, np.random.default_rng(0), seconds=1.5)


def _rms_db(x):
    return 10 * np.log10(np.mean(np.square(x, dtype=np.float64)))


def test_noise_is_added_at_the_asked_snr():
    rng = np.random.default_rng(0)
    for noise in (rng.standard_normal(WAVE.size), pink_noise(WAVE.size, rng)):
        noisy = add_noise(WAVE, noise, 20.0)
        assert _rms_db(WAVE) - _rms_db(noisy - WAVE) == pytest.approx(20.0, abs=0.01)


def test_pink_noise_falls_3_db_per_octave():
    noise = pink_noise(2 ** 16, np.random.default_rng(0))
    power = np.abs(np.fft.rfft(noise)) ** 2
    octave = lambda lo: power[lo:2 * lo].mean()  # noqa: E731
    assert 10 * np.log10(octave(1000) / octave(2000)) == pytest.approx(3.0, abs=0.5)


def test_level_quantisation_band_codec_and_room():
    assert _rms_db(gain(WAVE, -20)) == pytest.approx(_rms_db(WAVE) - 20, abs=0.01)
    assert np.abs(gain(WAVE, 40)).max() == 1.0  # clipped at full scale
    assert len(np.unique(quantize(WAVE, 8))) <= 256
    spectrum = np.abs(np.fft.rfft(telephone(WAVE, SR))) ** 2
    freqs = np.fft.rfftfreq(WAVE.size, 1 / SR)
    assert spectrum[freqs > 4500].sum() < 1e-4 * spectrum.sum()  # nothing above the 8 kHz-sampled band
    opus = codec(WAVE, SR)
    assert opus.shape == WAVE.shape and 0.5 < np.corrcoef(opus, WAVE)[0, 1] < 0.9999
    wet = reverberate(WAVE, SR, 0.6, np.random.default_rng(0))
    assert wet.shape == WAVE.shape and _rms_db(wet) == pytest.approx(_rms_db(WAVE), abs=0.01)
    assert np.corrcoef(wet, WAVE)[0, 1] < 0.9


def test_phone_codecs_keep_the_sound_and_amr_keeps_only_the_call_band():
    pytest.importorskip("av")
    from specser.audio.degrade import phone_codec

    spectrum = lambda x: np.abs(np.fft.rfft(x)) ** 2  # noqa: E731
    freqs = np.fft.rfftfreq(WAVE.size, 1 / SR)
    aac = phone_codec(WAVE, SR, "ipod", "aac", 16000, 32000)
    amr = phone_codec(WAVE, SR, "3gp", "libopencore_amrnb", 8000, 12200)
    for coded in (aac, amr):
        assert coded.shape == WAVE.shape and coded.dtype == np.float32
        assert abs(_rms_db(coded) - _rms_db(WAVE)) < 3  # the level kept
    high = lambda x: spectrum(x)[freqs > 4200].sum() / spectrum(x).sum()  # noqa: E731 - the share above 4.2 kHz
    assert high(amr) < 1e-3 * high(WAVE)  # an 8 kHz codec: nothing above 4 kHz
    assert high(aac) > 0.5 * high(WAVE)  # a 16 kHz memo keeps the upper band


def test_babble_comes_from_other_speakers_and_conditions_are_reproducible():
    waves = [np.full(100, float(k), np.float32) for k in range(6)]
    speakers = ["a", "a", "b", "b", "c", "c"]
    babble = babble_for(0, waves, speakers)
    assert babble.shape == (100,) and babble.min() >= 4 * 2  # four talkers, never speaker a's own clips (0 and 1)
    for name, condition in CONDITIONS.items():
        b = babble_for(0, [WAVE, WAVE * 0.5], ["x", "y"]) if uses_babble(name) else None
        one = condition(WAVE, SR, np.random.default_rng(3), b)
        two = condition(WAVE, SR, np.random.default_rng(3), b)
        assert np.array_equal(one, two), name
        assert one.shape == WAVE.shape or name.endswith(("before", "either side")), name  # those add a room's silence


def test_compressor_narrows_the_level_range_and_keeps_the_peak():
    loud_then_quiet = np.concatenate([WAVE, WAVE * 10 ** (-30 / 20)])
    out = compress(loud_then_quiet, SR, 4.0, 40.0)
    half = WAVE.size
    assert np.max(np.abs(out)) == pytest.approx(np.max(np.abs(loud_then_quiet)), rel=1e-5)
    assert _rms_db(out[:half]) - _rms_db(out[half:]) < 15  # was 30 dB apart
    assert np.array_equal(compress(WAVE, SR, 1.0, 20.0), WAVE)  # 1:1 is no compressor


def test_dc_offset_adds_a_constant():
    assert np.allclose(dc_offset(WAVE, 0.01) - WAVE, 0.01, atol=1e-7)


def test_surround_adds_a_quiet_room_before_and_after():
    out = CONDITIONS["2 s of room noise either side"](WAVE, SR, np.random.default_rng(0), None)
    assert out.size == WAVE.size + 4 * SR
    assert -61 < _rms_db(out[: SR]) < -59 and np.allclose(out[2 * SR:-2 * SR], WAVE, atol=0.01)


def test_inverted_stereo_goes_through_the_products_downmix():
    # The downmix flips the inverted channel back, so the mix is the speech at the mean of the two levels.
    assert np.allclose(inverted_stereo(WAVE, quieter_db=1.0), WAVE * (1 + 10 ** (-1 / 20)) / 2, atol=1e-6)
    assert inverted_stereo(WAVE, delay=1).shape == WAVE.shape


def test_high_pass_takes_the_bass_and_keeps_the_voice_band():
    t = np.arange(SR) / SR
    low, mid = np.sin(2 * np.pi * 80 * t), np.sin(2 * np.pi * 1000 * t)
    assert _rms_db(high_pass(low, SR, 200.0)[SR // 4:-SR // 4]) < _rms_db(low) - 30  # 4th order, run both ways
    assert abs(_rms_db(high_pass(mid, SR, 200.0)) - _rms_db(mid)) < 0.1


def test_condition_names_may_hold_commas():
    from specser.audio.degrade import condition_names

    assert condition_names("clean, mains hum 50 Hz, 20 dB below speech,8-bit") == [
        "clean", "mains hum 50 Hz, 20 dB below speech", "8-bit"]
    assert condition_names("compressor 4:1, 20 dB below peak") == ["compressor 4:1, 20 dB below peak"]
    assert condition_names("stereo, one channel inverted, off-axis,stereo, one channel inverted") == [
        "stereo, one channel inverted, off-axis", "stereo, one channel inverted"]
    with pytest.raises(ValueError, match="unknown condition 'mains hum 50 Hz'"):
        condition_names("mains hum 50 Hz")
    with pytest.raises(ValueError, match="unknown condition 'loud'"):
        condition_names("clean,loud")


@pytest.mark.parametrize("name, above_db, seconds", [("a knock 12 dB above the speech's peak", 12.0, 0.05),
                                                     ("a thud 12 dB above the speech's peak", 12.0, 0.15),
                                                     ("a knock at the speech's peak", 0.0, 0.05)])
def test_a_knock_adds_one_short_burst_at_its_level_in_the_middle_of_the_clip(name, above_db, seconds):
    quiet = (0.1 * WAVE).astype(np.float32)  # room for the burst under full scale
    out = CONDITIONS[name](quiet, SR, np.random.default_rng(3), None)
    changed = np.flatnonzero(out != quiet)
    assert 0.1 * quiet.size <= changed[0] and changed[-1] < 0.9 * quiet.size + seconds * SR
    assert changed[-1] - changed[0] <= seconds * SR
    burst = out[changed[0]:changed[-1] + 1] - quiet[changed[0]:changed[-1] + 1]
    assert 20 * np.log10(np.max(np.abs(burst)) / np.max(np.abs(quiet))) == pytest.approx(above_db, abs=0.01)
    assert np.array_equal(CONDITIONS[name](quiet, SR, np.random.default_rng(3), None), out)


@pytest.mark.parametrize("name, below_db", [("typing at the speech's peak", 0.0),
                                            ("typing 6 dB below the speech's peak", 6.0)])
def test_typing_adds_short_clicks_all_through_the_clip_at_most_at_its_level(name, below_db):
    quiet = np.tile((0.1 * WAVE).astype(np.float32), 4)  # a long clip: the rate is an average
    out = CONDITIONS[name](quiet, SR, np.random.default_rng(3), None)
    added = np.abs(out.astype(np.float64) - quiet)
    frames = added[: added.size // 160 * 160].reshape(-1, 160).max(axis=1)  # 10 ms frames
    busy = frames > 1e-3 * np.max(added)
    onsets = np.flatnonzero(busy[1:] & ~busy[:-1]).size + int(busy[0])
    seconds = quiet.size / SR
    assert 4 * seconds <= onsets <= 16 * seconds  # about 6 keystrokes a second, a press and a release each
    assert np.mean(busy) < 0.6  # clicks, not a noise floor
    level = np.max(np.abs(quiet)) * 10 ** (-below_db / 20)
    assert 0.6 * level <= np.max(added) <= level + 1e-6
    assert np.array_equal(CONDITIONS[name](quiet, SR, np.random.default_rng(3), None), out)


@pytest.mark.parametrize("name, below_db", [("a steady whine 20 dB below speech", 20.0),
                                            ("a steady whine 10 dB below speech", 10.0)])
def test_a_whine_adds_one_steady_sine_its_level_under_the_clip(name, below_db):
    quiet = (0.1 * WAVE).astype(np.float32)
    out = CONDITIONS[name](quiet, SR, np.random.default_rng(3), None)
    added = out.astype(np.float64) - quiet
    spectrum = np.abs(np.fft.rfft(added * np.hanning(added.size))) ** 2
    hz = np.fft.rfftfreq(added.size, 1 / SR)[np.argmax(spectrum)]
    assert 300 <= hz <= 4000
    near = np.abs(np.fft.rfftfreq(added.size, 1 / SR) - hz) <= 3
    assert spectrum[near].sum() > 0.99 * spectrum.sum()  # one line
    rms = np.sqrt(np.mean(quiet.astype(np.float64) ** 2))
    assert 20 * np.log10(np.sqrt(np.mean(added ** 2)) / rms) == pytest.approx(-below_db, abs=0.1)
    assert np.array_equal(CONDITIONS[name](quiet, SR, np.random.default_rng(3), None), out)


@pytest.mark.parametrize("name, below_db", [("a fan (blade tone and hiss) 20 dB below speech", 20.0),
                                            ("a fan (blade tone and hiss) 10 dB below speech", 10.0)])
def test_a_fan_adds_its_blade_tone_harmonics_and_hiss_its_level_under_the_clip(name, below_db):
    quiet = (0.1 * WAVE).astype(np.float32)
    added = CONDITIONS[name](quiet, SR, np.random.default_rng(3), None).astype(np.float64) - quiet
    rms = np.sqrt(np.mean(quiet.astype(np.float64) ** 2))
    assert 20 * np.log10(np.sqrt(np.mean(added ** 2)) / rms) == pytest.approx(-below_db, abs=0.1)
    spectrum = np.abs(np.fft.rfft(added * np.hanning(added.size))) ** 2
    freqs = np.fft.rfftfreq(added.size, 1 / SR)
    lines = [spectrum[np.abs(freqs - 180 * k) <= 2].sum() for k in range(1, 6)]
    assert all(line > 100 * np.median(spectrum) * 5 for line in lines)  # five lines, far above the hiss
    assert spectrum[freqs > 1000].sum() > 0.05 * spectrum.sum()  # and a hiss across the band


def test_colour_tilts_and_muffles_by_the_gain_asked_and_an_echo_adds_one_delayed_copy():
    from specser.audio.degrade import echo, muffle, tilt

    t = np.arange(2 * SR) / SR
    tones = {hz: (0.1 * np.sin(2 * np.pi * hz * t)).astype(np.float32) for hz in (250, 1000, 4000)}
    level = {hz: _rms_db(w[SR // 2:-SR // 2]) for hz, w in tones.items()}

    def change(make, hz):
        return _rms_db(make(tones[hz])[SR // 2:-SR // 2]) - level[hz]

    assert change(lambda w: tilt(w, SR, 3.0), 250) == pytest.approx(0.0, abs=0.1)  # flat below 500 Hz
    assert change(lambda w: tilt(w, SR, 3.0), 1000) == pytest.approx(3.0, abs=0.1)
    assert change(lambda w: tilt(w, SR, -3.0), 4000) == pytest.approx(-9.0, abs=0.1)
    assert change(lambda w: muffle(w, SR, 15.0), 250) == pytest.approx(0.0, abs=0.1)
    assert change(lambda w: muffle(w, SR, 15.0), 4000) == pytest.approx(-15 / (1 + 0.5 ** 4), abs=0.1)
    click = np.zeros(SR, np.float32)
    click[100] = 0.5
    out = echo(click, SR, 0.15, 6.0)
    assert np.flatnonzero(out).tolist() == [100, 100 + int(0.15 * SR)]
    assert out[100 + int(0.15 * SR)] == pytest.approx(0.5 * 10 ** (-6 / 20))


def test_every_condition_name_parses_back_from_the_comma_joined_list():
    """`--conditions` takes the names joined by commas, and many hold commas themselves."""
    from specser.audio.degrade import condition_names

    assert condition_names(",".join(CONDITIONS)) == list(CONDITIONS)


def test_every_clip_of_a_set_is_degraded_with_its_own_draws_and_other_speakers_babble():
    waves = [emotional_tone(code, actor, np.random.default_rng(actor), seconds=1.0)
             for code, actor in (("01", 1), ("05", 2), ("04", 3))]
    speakers = ["a", "b", "c"]
    cafe = "a voice memo in a cafe (babble 10 dB SNR, aac 32 kbit/s)"
    assert uses_babble(cafe) and not uses_babble("reverb RT60 0.6 s")
    out = degrade_all(cafe, waves, speakers, SR, seed=3)
    expected = CONDITIONS[cafe](waves[1], SR, np.random.default_rng(4), babble_for(1, waves, speakers))
    assert np.array_equal(out[1], expected.astype(np.float32)) and out[1].dtype == np.float32
    rooms = degrade_all("reverb RT60 0.6 s", waves, speakers, SR, seed=3)
    assert np.array_equal(rooms[2], reverberate(waves[2], SR, 0.6, np.random.default_rng(5)).astype(np.float32))


def test_a_room_is_heard_from_metres_away_unless_its_direct_sound_is_set():
    from specser.audio.degrade import direct_to_reverberant_db, room_impulse

    rng = np.random.default_rng(0)
    assert -19.5 < direct_to_reverberant_db(room_impulse(SR, 0.6, rng)) < -16.5  # the benchmark's far room
    for drr in (-5.0, 0.0, 10.0):
        room = room_impulse(SR, 0.6, rng, drr_db=drr)
        assert direct_to_reverberant_db(room) == pytest.approx(drr, abs=1e-6)
        assert np.sum(room ** 2) == pytest.approx(1.0)
    near = reverberate(WAVE, SR, 0.6, np.random.default_rng(1), drr_db=10.0)
    far = reverberate(WAVE, SR, 0.6, np.random.default_rng(1))
    assert np.corrcoef(near, WAVE)[0, 1] > 0.9 > np.corrcoef(far, WAVE)[0, 1]  # close: mostly the dry voice


@pytest.mark.parametrize("name, loss", [("dropouts, 5 % of 20 ms frames lost", 0.05),
                                        ("dropouts, 15 % of 20 ms frames lost", 0.15)])
def test_dropouts_zero_whole_20_ms_frames_in_bursts_at_the_asked_rate(name, loss):
    long = np.tile((0.1 * WAVE).astype(np.float32), 20) + np.float32(0.01)  # no zeros of its own
    out = CONDITIONS[name](long, SR, np.random.default_rng(3), None)
    frame = SR // 50
    lost = (out[: out.size // frame * frame].reshape(-1, frame) == 0)
    assert np.all(lost.all(axis=1) | ~lost.any(axis=1))  # a frame is lost whole or not at all
    gone = lost.all(axis=1)
    assert np.array_equal(out[np.repeat(~gone, frame)], long[: gone.size * frame][np.repeat(~gone, frame)])
    assert gone.mean() == pytest.approx(loss, abs=0.4 * loss)
    bursts = np.flatnonzero(gone[1:] & ~gone[:-1]).size + int(gone[0])
    assert 1.4 <= gone.sum() / bursts <= 2.8  # two frames in a burst on average
    assert np.array_equal(CONDITIONS[name](long, SR, np.random.default_rng(3), None), out)
