"""`encoder_classifier`: a pretrained encoder and the EmoBox head as one network on waveforms."""

import numpy as np
import pytest
import torch

pytest.importorskip("transformers", reason="encoders need the ssl extra: pip install 'specser[ssl]'")

from specser.encoders.pretrained import classifier_options, pretrained_classifier  # noqa: E402
from tests.encoders.tiny import make_tiny_encoder  # noqa: E402


@pytest.fixture(scope="module")
def hubert(tmp_path_factory):
    folder = make_tiny_encoder("hubert", tmp_path_factory.mktemp("hubert"))
    return pretrained_classifier(folder, classifier_options(folder, {}, num_classes=3))


def _batch():
    torch.manual_seed(0)
    return torch.randn(3, 12000) * 0.1, torch.tensor([12000, 8000, 5000])


def test_every_layer_reaches_the_mix_in_training(hubert):
    """HuBERT and wav2vec2 drop whole layers in training by default (LayerDrop); with a learned layer mix a
    dropped layer would vanish from the hidden states and the mix would not line up."""
    hubert.train()
    waves, lengths = _batch()
    assert hubert.encoder.config.layerdrop == 0.0
    for _ in range(8):
        assert hubert.hidden_states(waves, lengths).shape[1] == 3  # the input embedding and 2 blocks


def test_padding_is_zero_in_every_layer(hubert):
    hubert.eval()
    waves, lengths = _batch()
    with torch.no_grad():
        layers = hubert.hidden_states(waves, lengths)
    frames = hubert.encoder._get_feat_extract_output_lengths(lengths)
    for row, n in zip(layers, frames.tolist()):
        assert not row[:, n:].any() and row[:, :n].abs().amax(dim=(0, 2)).min() > 0


def test_a_frozen_encoder_gets_no_gradient_and_runs_in_eval_mode(hubert):
    waves, lengths = _batch()
    hubert.encoder_frozen = True
    hubert.train()
    assert not hubert.encoder.training and hubert.head.training  # no dropout in the frozen encoder
    hubert.zero_grad()
    hubert(waves, lengths).sum().backward()
    assert all(p.grad is None for p in hubert.encoder.parameters())
    assert all(p.grad is not None for p in hubert.head.parameters() if p.requires_grad)

    hubert.encoder_frozen = False
    hubert.freeze_feature_encoder()
    assert hubert.encoder.training
    hubert.zero_grad()
    hubert(waves, lengths).sum().backward()
    front_end = {id(p) for p in hubert.encoder.feature_extractor.parameters()}
    assert all(p.grad is None and not p.requires_grad for p in hubert.encoder.feature_extractor.parameters())
    learning = [p for p in hubert.encoder.parameters() if id(p) not in front_end]
    assert learning and all(p.grad is not None for p in learning)


def test_gradient_checkpointing_gives_the_same_gradients(tmp_path):
    """Recomputing the encoder's activations in the backward pass trades time for memory, nothing else."""
    folder = make_tiny_encoder("wavlm", tmp_path / "wavlm")
    gradients = []
    for checkpointing in (False, True):
        torch.manual_seed(1)  # the same head, and the same dropout masks: checkpointing replays the RNG state
        np.random.seed(1)  # the same time masks (wav2vec2-style encoders mask frames in training, drawn in numpy)
        model = pretrained_classifier(folder, classifier_options(folder, {}, 3, gradient_checkpointing=checkpointing))
        model.train()
        waves, lengths = _batch()
        model(waves, lengths).sum().backward()
        gradients.append({k: p.grad.clone() for k, p in model.named_parameters() if p.grad is not None})
    plain, checkpointed = gradients
    assert plain.keys() == checkpointed.keys() and any(k.startswith("encoder.encoder.layers.") for k in plain)
    assert max(float((plain[k] - checkpointed[k]).abs().max()) for k in plain) < 1e-5
