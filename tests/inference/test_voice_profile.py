"""Voice profiles: the statistics of a model adapted to one speaker, kept apart from the model."""

from dataclasses import replace

import numpy as np
import pytest
import torch

from specser.inference.adapt import adapt_to_logmels
from specser.inference.base import logmel_speaker_stats
from specser.inference.model_file import ModelFile
from specser.inference.predictor import Predictor
from specser.inference.voice_profile import ProfileError, VoiceProfile, make_profile, model_digest
from tests.inference.test_adapt import _waves


@pytest.fixture(scope="module")
def model_file(trained_run):
    return ModelFile.load(trained_run / "model.specser")


def test_a_profile_round_trips_and_predicts_as_the_adapted_model(model_file, tmp_path):
    waves = _waves(12, seed=5, gain=0.4, noise=0.004)
    profile = make_profile(model_file, waves, min_inputs=10)
    assert (profile.recordings, profile.inputs, profile.seconds) == (12, 12, 12.0) and profile.speaker_mean is None
    assert set(profile.statistics) == {k for k in model_file.state_dict if "running_" in k or "num_batches" in k}
    profile.save(tmp_path / "me.profile")
    again = VoiceProfile.load(tmp_path / "me.profile")  # weights_only: a safe file
    applied, stats = again.apply(model_file)
    assert stats is None
    reference = adapt_to_logmels(model_file, Predictor(model_file, device="cpu", tta_crops=1).logmels(waves), min_inputs=10)
    test = _waves(6, seed=6, gain=0.4, noise=0.004)
    mine = Predictor(applied, device="cpu").probabilities(test)
    assert np.allclose(mine, Predictor(reference, device="cpu").probabilities(test), atol=1e-5)
    assert not np.allclose(mine, Predictor(model_file, device="cpu").probabilities(test), atol=1e-3)


def test_a_profile_belongs_to_its_model(model_file, tmp_path):
    profile = make_profile(model_file, _waves(10, seed=7), min_inputs=10)
    other = replace(model_file, state_dict={k: v + 1 if k.endswith("weight") else v for k, v in model_file.state_dict.items()})
    assert model_digest(other) != profile.model
    with pytest.raises(ProfileError, match="another model"):
        profile.apply(other)
    (tmp_path / "junk.profile").write_bytes(b"not a profile")
    with pytest.raises(ProfileError, match="not a voice profile"):
        VoiceProfile.load(tmp_path / "junk.profile")
    torch.save({"format": "specser-model"}, tmp_path / "model.profile")
    with pytest.raises(ProfileError, match="not a voice profile"):
        VoiceProfile.load(tmp_path / "model.profile")


def test_too_little_speech_is_a_clear_error(model_file):
    silence_and_speech = [np.zeros(32000, np.float32)] * 5 + _waves(3, seed=8)
    with pytest.raises(ValueError, match="at least 10 clips or windows of speech; got 3"):
        make_profile(model_file, silence_and_speech[5:], min_inputs=10)


def test_a_speaker_norm_model_keeps_the_speakers_statistics(model_file):
    speaker_norm = replace(model_file, features=replace(model_file.features, speaker_norm=True))
    waves = _waves(10, seed=9, gain=0.5)
    profile = make_profile(speaker_norm, waves, min_inputs=10)
    predictor = Predictor(speaker_norm, device="cpu", tta_crops=1)
    logmels = predictor.logmels(waves)
    mean, std = logmel_speaker_stats(logmels)
    assert np.allclose(profile.speaker_mean, mean) and np.allclose(profile.speaker_std, std)
    reference = adapt_to_logmels(speaker_norm, predictor.speaker_normalized(logmels, (mean, std)), min_inputs=10)
    first = next(k for k in reference.state_dict if k.endswith("running_mean"))
    assert torch.allclose(profile.statistics[first], reference.state_dict[first])
    applied, stats = profile.apply(speaker_norm)
    assert np.allclose(stats[0], mean)
