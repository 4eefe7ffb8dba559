"""The frozen-encoder head: a learned layer mix, pooling that ignores padding, and the time-mean shortcut."""

import pytest
import torch

from specser.models import create_model


def _clips(lengths, layers=5, dim=12, seed=0):
    torch.manual_seed(seed)
    return [torch.randn(layers, n, dim) for n in lengths]


def _padded(clips):
    batch = torch.zeros(len(clips), clips[0].shape[0], max(c.shape[1] for c in clips), clips[0].shape[2])
    for row, c in zip(batch, clips):
        row[:, : c.shape[1]] = c
    return batch


@pytest.mark.parametrize("pooling", ["mean", "attentive"])
def test_padding_changes_nothing_and_gradients_reach_the_layer_mix(pooling):
    head = create_model("encoder_head", in_channels=5, input_dim=12, num_classes=4, pooling=pooling).eval()
    clips = _clips([7, 3, 11])
    with torch.no_grad():
        together = head(_padded(clips))
        alone = torch.cat([head(c[None]) for c in clips])
    torch.testing.assert_close(together, alone, atol=1e-5, rtol=1e-5)
    head.train()
    head(_padded(clips)).sum().backward()
    assert head.layer_logits.grad is not None and head.layer_logits.grad.abs().sum() > 0
    assert torch.isfinite(torch.cat([p.grad.flatten() for p in head.parameters()])).all()


def test_mean_pooling_of_the_time_means_equals_mean_pooling_of_the_frames():
    """Why `features.encoder_time_mean` is exact: the layer mix and the mean over time commute."""
    head = create_model("encoder_head", in_channels=5, input_dim=12, num_classes=4).eval()
    with torch.no_grad():
        head.layer_logits.copy_(torch.tensor([0.3, -1.0, 2.0, 0.0, 0.5]))
        clips = _clips([9, 4])
        frames = head(_padded(clips))
        means = head(torch.stack([c.mean(dim=1, keepdim=True) for c in clips]))
    torch.testing.assert_close(frames, means, atol=1e-5, rtol=1e-5)
    assert torch.allclose(head.layer_weights().sum(), torch.tensor(1.0))
