import pytest
import torch

from specser.config import FeatureConfig
from specser.inference.model_file import ModelFile, ModelFileError
from specser.models import create_model

OPTIONS = {"num_classes": 3, "widths": [8, 8, 16, 16], "stem_channels": 8}


def _model_file(**info) -> tuple[torch.nn.Module, ModelFile]:
    model = create_model("spec_resnet", **OPTIONS).eval()
    mf = ModelFile.from_model(model, "spec_resnet", OPTIONS, ["a", "b", "c"], FeatureConfig(n_mels=40),
                              torch.rand(40, 513), torch.zeros(40), torch.ones(40), **info)
    return model, mf


def test_model_file_round_trip_is_self_describing(tmp_path):
    model, mf = _model_file(tta_crops=3, protocol="actor-5fold (fold 1/5)")
    mf.save(tmp_path / "m.specser")
    raw = torch.load(tmp_path / "m.specser", weights_only=True)  # never an unsafe pickle
    assert raw["format"] == "specser-model" and raw["labels"] == ["a", "b", "c"]
    loaded = ModelFile.load(tmp_path / "m.specser")
    assert loaded.features == FeatureConfig(n_mels=40) and loaded.tta_crops == 3
    assert loaded.protocol == "actor-5fold (fold 1/5)" and loaded.labels == ["a", "b", "c"]
    assert loaded.n_parameters == sum(p.numel() for p in model.parameters())
    x = torch.randn(2, 1, 40, 50)
    with torch.no_grad():
        torch.testing.assert_close(loaded.build()(x), model(x))


def test_a_file_written_by_an_earlier_release_loads(tmp_path):
    """The payload dict exactly as specser 0.1 wrote it (save_artifact), without tta_crops."""
    model = create_model("spec_resnet", **OPTIONS).eval()
    old = {"format": "specser-model", "format_version": 1, "specser_version": "0.1.0", "model_name": "spec_resnet",
           "model_config": OPTIONS, "labels": ["a", "b", "c"], "feature_config": {"n_mels": 40, "hop_length": 256},
           "normalization": {"mean": torch.zeros(40), "std": torch.ones(40)}, "filterbank": torch.rand(40, 513),
           "state_dict": model.state_dict(), "extra": {"protocol": "random-holdout", "test_accuracy": 0.5}}
    torch.save(old, tmp_path / "old.specser")
    mf = ModelFile.load(tmp_path / "old.specser")
    assert (mf.tta_crops, mf.protocol, mf.test_accuracy, mf.specser_version) == (1, "random-holdout", 0.5, "0.1.0")
    assert mf.features.n_mels == 40 and mf.mean.shape == (40,)
    mf.save(tmp_path / "again.specser")  # and writes back the same layout
    again = torch.load(tmp_path / "again.specser", weights_only=True)
    assert set(again) == set(old) and again["extra"]["protocol"] == "random-holdout"


def test_bad_model_files(tmp_path):
    with pytest.raises(ModelFileError, match="not found"):
        ModelFile.load(tmp_path / "none.specser")
    (tmp_path / "junk.specser").write_bytes(b"not a model")
    with pytest.raises(ModelFileError, match="not a specser model file"):
        ModelFile.load(tmp_path / "junk.specser")
    torch.save({"weights": torch.zeros(2)}, tmp_path / "other.pt")
    with pytest.raises(ModelFileError, match="not a specser model"):
        ModelFile.load(tmp_path / "other.pt")
    _, mf = _model_file()
    payload = mf.to_payload()
    payload["format_version"] = 99
    torch.save(payload, tmp_path / "future.specser")
    with pytest.raises(ModelFileError, match="newer specser"):
        ModelFile.load(tmp_path / "future.specser")
