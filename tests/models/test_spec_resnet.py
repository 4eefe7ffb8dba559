"""Spec-ResNet options beyond the registry-wide checks of test_models.py."""

import torch

from specser.inference.predictor import fold_batch_norms
from specser.models import create_model
from specser.models.spec_resnet import Blur


def test_antialias_adds_no_weights_and_its_batch_norms_still_fold():
    torch.manual_seed(0)
    plain = create_model("spec_resnet", num_classes=6)
    blurred = create_model("spec_resnet", num_classes=6, antialias=True).eval()
    assert sum(p.numel() for p in plain.parameters()) == sum(p.numel() for p in blurred.parameters())
    assert "stem.0.weight" in plain.state_dict() and "stem.1.weight" in blurred.state_dict()  # the blur comes first
    x = torch.randn(2, 1, 32, 64)
    with torch.no_grad():
        before = blurred(x)
        after = fold_batch_norms(blurred)(x)
    torch.testing.assert_close(after, before, atol=1e-5, rtol=1e-5)
    constant = torch.ones(1, 4, 5, 7)
    torch.testing.assert_close(Blur()(constant), constant)  # a low-pass: flat input stays flat, edges too
