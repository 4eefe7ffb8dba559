import pytest
import torch

from specser.inference.model_file import ArtifactError, build_model, load_artifact, save_artifact
from specser.config import FeatureConfig
from specser.models import create_model


def test_model_file_round_trip_is_self_describing(tmp_path):
    model = create_model("spec_resnet", num_classes=3, widths=[8, 8, 16, 16], stem_channels=8).eval()
    cfg = FeatureConfig(n_mels=40)
    save_artifact(tmp_path / "m.specser", model, "spec_resnet", {"num_classes": 3, "widths": [8, 8, 16, 16],
                  "stem_channels": 8}, ["a", "b", "c"], cfg, torch.zeros(40), torch.ones(40), torch.rand(40, 513))
    raw = torch.load(tmp_path / "m.specser", weights_only=True)  # never an unsafe pickle
    assert raw["format"] == "specser-model" and raw["labels"] == ["a", "b", "c"]
    payload = load_artifact(tmp_path / "m.specser")
    assert payload["feature_config"] == cfg
    rebuilt = build_model(payload)
    x = torch.randn(2, 1, 40, 50)
    with torch.no_grad():
        torch.testing.assert_close(rebuilt(x), model(x))


def test_bad_model_files(tmp_path):
    with pytest.raises(ArtifactError, match="not found"):
        load_artifact(tmp_path / "none.specser")
    (tmp_path / "junk.specser").write_bytes(b"not a model")
    with pytest.raises(ArtifactError, match="not a readable"):
        load_artifact(tmp_path / "junk.specser")
    torch.save({"weights": torch.zeros(2)}, tmp_path / "other.pt")
    with pytest.raises(ArtifactError, match="not a specser model"):
        load_artifact(tmp_path / "other.pt")
