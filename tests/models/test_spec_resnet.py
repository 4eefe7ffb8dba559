"""Spec-ResNet options beyond the registry-wide checks of test_models.py."""

import pytest
import torch

from specser.config import ConfigError
from specser.inference.predictor import fold_batch_norms
from specser.models import create_model
from specser.models.spec_resnet import Blur


@pytest.mark.parametrize("axes", ["time+frequency", "time"])
def test_antialias_adds_no_weights_and_its_batch_norms_still_fold(axes):
    torch.manual_seed(0)
    plain = create_model("spec_resnet", num_classes=6)
    blurred = create_model("spec_resnet", num_classes=6, antialias=True, antialias_axes=axes).eval()
    assert sum(p.numel() for p in plain.parameters()) == sum(p.numel() for p in blurred.parameters())
    assert "stem.0.weight" in plain.state_dict() and "stem.1.weight" in blurred.state_dict()  # the blur comes first
    x = torch.randn(2, 1, 32, 64)
    with torch.no_grad():
        before = blurred(x)
        after = fold_batch_norms(blurred)(x)
    torch.testing.assert_close(after, before, atol=1e-5, rtol=1e-5)


def test_blur_is_a_low_pass_along_the_axes_it_is_given():
    constant = torch.ones(1, 4, 5, 7)
    for axes in ("time+frequency", "time"):
        out = Blur(axes)(constant)
        assert out.shape == constant.shape
        torch.testing.assert_close(out[..., 1:-1, 1:-1], constant[..., 1:-1, 1:-1])  # flat stays flat inside
    impulse = torch.zeros(1, 1, 5, 7)
    impulse[0, 0, 2, 3] = 1.0
    along_time = Blur("time")(impulse)[0, 0]
    torch.testing.assert_close(along_time[2, 2:5], torch.tensor([0.25, 0.5, 0.25]))
    assert along_time.sum() == 1.0 and along_time[[0, 1, 3, 4]].abs().sum() == 0  # frequency left sharp
    both = Blur("time+frequency")(impulse)[0, 0]
    torch.testing.assert_close(both[1:4, 3], torch.tensor([0.25, 0.5, 0.25]) * 0.5)  # spread over frequency too


def test_a_time_blurred_network_moves_less_when_the_input_starts_one_frame_later():
    """Untrained, with the batch norms' default statistics: the pooled features of the same input one frame
    later differ far less with the blur, which is the whole point of the option."""
    torch.manual_seed(0)
    x = torch.randn(4, 1, 64, 160)
    later = torch.roll(x, 1, dims=-1)
    change = {}
    for antialias in (False, True):
        torch.manual_seed(1)
        net = create_model("spec_resnet", num_classes=6, antialias=antialias, antialias_axes="time").eval()
        with torch.no_grad():
            a, b = net.forward_features(x).mean((-2, -1)), net.forward_features(later).mean((-2, -1))
        change[antialias] = ((a - b).norm() / a.norm()).item()
    assert change[True] < 0.5 * change[False], change


def test_antialias_axes_are_checked():
    with pytest.raises(ConfigError, match="antialias_axes"):
        create_model("spec_resnet", num_classes=6, antialias=True, antialias_axes="frequency")
