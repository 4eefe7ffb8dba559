"""The encoders' input preparation in torch (`specser.encoders.inputs`), which fine-tuning and the
encoder + head ONNX graph run, against each feature extractor's own numpy code on the same clips."""

import numpy as np
import pytest
import torch

transformers = pytest.importorskip("transformers", reason="encoders need the ssl extra: pip install 'specser[ssl]'")

from specser.encoders.inputs import normalized_waves, sample_mask, whisper_log_mel  # noqa: E402
from tests.synth import emotional_tone  # noqa: E402


def _clips() -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [emotional_tone(code, 2, rng, seconds=s) * gain for code, s, gain in (("05", 0.7, 1.0), ("03", 1.3, 0.1),
                                                                                   ("01", 1.0, 3.0))]


def _padded(waves: list[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    lengths = torch.tensor([len(w) for w in waves])
    batch = torch.zeros(len(waves), int(lengths.max()))
    for row, w in zip(batch, waves):
        row[: len(w)] = torch.from_numpy(w)
    return batch, lengths


def test_wav2vec2_style_normalisation_is_each_clips_own_as_the_extractor_does_it():
    """Each clip alone through the extractor (as the frozen cache computes it), then zero-padded: a clip's
    input does not depend on which clips share its batch."""
    extractor = transformers.Wav2Vec2FeatureExtractor(feature_size=1, sampling_rate=16000, do_normalize=True)
    clips = _clips()
    batch, lengths = _padded(clips)
    got = normalized_waves(batch, lengths).numpy()
    for row, clip in zip(got, clips):
        reference = extractor(clip, sampling_rate=16000, return_tensors="np").input_values[0]
        assert np.abs(row[: len(clip)] - reference).max() < 1e-4
        assert not row[len(clip):].any()  # padding stays zero
    assert sample_mask(batch, lengths).sum(dim=1).tolist() == lengths.tolist()


def test_whisper_log_mel_matches_the_whisper_extractor():
    extractor = transformers.WhisperFeatureExtractor(feature_size=80)
    clips = _clips()
    batch, lengths = _padded(clips)
    got = whisper_log_mel(batch * sample_mask(batch, lengths), torch.from_numpy(extractor.mel_filters).float(),
                          extractor.n_fft, extractor.hop_length, extractor.n_samples).numpy()
    reference = extractor(clips, sampling_rate=16000, return_tensors="np").input_features
    assert got.shape == reference.shape == (3, 80, 3000)
    assert np.abs(got - reference).max() < 1e-4
