import pytest
import torch

from specser.config import ConfigError
from specser.models import count_parameters, create_model, list_models


@pytest.mark.parametrize("name", list_models())
@pytest.mark.parametrize("in_channels, shape", [(1, (40, 101)), (3, (224, 224))])
def test_every_model_forward_backward_no_nan(name, in_channels, shape):
    model = create_model(name, in_channels=in_channels, num_classes=5)
    x = torch.randn(3, in_channels, *shape)
    logits = model(x)
    assert logits.shape == (3, 5) and torch.isfinite(logits).all()
    logits.sum().backward()
    grads = [p.grad for p in model.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert model.forward_features(x).dim() == 4


def test_spec_resnet_size_and_variable_length():
    model = create_model("spec_resnet").eval()
    # Paper: 1,404,678. Ours with the default widths: see the module docstring.
    assert count_parameters(model)["total"] == 1_228_646
    with torch.no_grad():
        assert model(torch.randn(2, 1, 128, 251)).shape == (2, 6)
        assert model(torch.randn(1, 1, 128, 77)).shape == (1, 6)


def test_registry_rejects_unknown_models_and_options():
    with pytest.raises(ConfigError, match="unknown model"):
        create_model("resnet9000")
    with pytest.raises(ConfigError, match="unknown config key"):
        create_model("spec_resnet", width=3)
    with pytest.raises(ValueError, match="same length"):
        create_model("spec_resnet", widths=[8, 16], blocks=[1, 1, 1])
