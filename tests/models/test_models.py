import pytest
import torch

from specser.config import ConfigError
from specser.models import count_parameters, create_model, list_models


SPECTROGRAM_MODELS = [name for name in list_models() if not name.startswith("encoder_")]  # encoder models: their own files


@pytest.mark.parametrize("name", SPECTROGRAM_MODELS)
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


@pytest.mark.parametrize("name", ["spec_resnet_attn", "spec_crnn"])
def test_heads_share_spec_resnets_stem_and_stages(name):
    """Same stem and stage weights as spec_resnet (their state loads into it); only the head differs."""
    torch.manual_seed(0)
    variant = create_model(name)
    base = create_model("spec_resnet")
    body = {k: v for k, v in variant.state_dict().items() if k.startswith(("stem.", "stages."))}
    assert body and set(body) == {k for k in base.state_dict() if k.startswith(("stem.", "stages."))}
    base.load_state_dict(body, strict=False)
    x = torch.randn(2, 1, 128, 251)
    with torch.no_grad():
        torch.testing.assert_close(variant.eval().forward_features(x), base.eval().forward_features(x))
    assert count_parameters(variant)["total"] > count_parameters(base)["total"]


def test_attention_pooling_weights_time_steps():
    """Unlike average pooling, the attention head's output depends on where in time the energy sits."""
    model = create_model("spec_resnet_attn").eval()
    feats = torch.zeros(1, model.num_features, 4, 8)
    feats[..., 0] = 1.0
    with torch.no_grad():
        pooled = model.pool(feats.mean(dim=2))
    c = model.num_features
    assert pooled.shape == (1, 2 * c) and torch.isfinite(pooled).all()
    plain_mean = feats.mean(dim=(2, 3))  # what global average pooling gives: 1/8 everywhere
    assert not torch.allclose(pooled[:, :c], plain_mean, atol=1e-3)
    weights = torch.softmax(model.pool.score(feats.mean(dim=2)), dim=-1)
    torch.testing.assert_close(pooled[:, :c], (weights * feats.mean(dim=2)).sum(-1))


def test_width_and_depth_options_change_the_size():
    small = count_parameters(create_model("spec_crnn", widths=[16, 32, 64, 128], rnn_hidden=64))["total"]
    deep = count_parameters(create_model("spec_crnn", blocks=[2, 2, 2, 2]))["total"]
    assert small < count_parameters(create_model("spec_crnn"))["total"] < deep


def test_time_deltas_are_librosas_away_from_the_edges():
    """The delta channels are librosa.feature.delta (width 9) wherever the 9-frame window fits the clip."""
    import librosa
    import numpy as np

    from specser.models.spec_resnet import TimeDeltas

    x = np.random.default_rng(0).normal(size=(1, 1, 20, 60)).astype(np.float32)
    stacked = TimeDeltas()(torch.from_numpy(x)).numpy()
    assert stacked.shape == (1, 3, 20, 60)
    np.testing.assert_allclose(stacked[0, 0], x[0, 0])
    np.testing.assert_allclose(stacked[0, 1, :, 4:-4], librosa.feature.delta(x[0, 0])[:, 4:-4], atol=1e-5)
    second = librosa.feature.delta(stacked[0, 1])  # delta of the delta, as the network computes it
    np.testing.assert_allclose(stacked[0, 2, :, 4:-4], second[:, 4:-4], atol=1e-5)
    ramp = torch.arange(30.0).view(1, 1, 1, 30).expand(1, 1, 4, 30)
    assert torch.allclose(TimeDeltas()(ramp)[0, 1, :, 4:-4], torch.ones(4, 22))  # slope of a ramp: 1 per frame


def test_delta_channels_widen_only_the_stem():
    plain, with_deltas = create_model("spec_resnet"), create_model("spec_resnet", deltas=True)
    extra = count_parameters(with_deltas)["total"] - count_parameters(plain)["total"]
    assert extra == 2 * 32 * 7 * 7  # two more input channels into the 32-channel 7x7 stem
    with torch.no_grad():
        assert with_deltas.eval()(torch.randn(2, 1, 128, 77)).shape == (2, 6)
