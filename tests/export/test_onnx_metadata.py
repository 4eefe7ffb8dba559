"""The ONNX metadata schema: what the exporter writes, the backend reads, key for key."""

import numpy as np
import pytest

from specser.config import FeatureConfig
from specser.export.onnx_metadata import OnnxMetadata


def test_metadata_round_trips_through_string_properties():
    rng = np.random.default_rng(0)
    meta = OnnxMetadata(["a", "b"], FeatureConfig(n_mels=8), "spec_resnet", {"num_classes": 2}, 1234,
                        rng.random((8, 33)).astype(np.float32), rng.random(8).astype(np.float32),
                        rng.random(8).astype(np.float32), tta_crops=3, time_views=(-12, 4))
    props = meta.to_props()
    assert all(isinstance(v, str) and k.startswith("specser.") for k, v in props.items())
    back = OnnxMetadata.from_props(props, "m.onnx")
    assert (back.labels, back.features, back.model_name, back.parameters, back.tta_crops, back.time_views) == \
        (meta.labels, meta.features, "spec_resnet", 1234, 3, (-12, 4))
    for name in ("filterbank", "mean", "std"):
        np.testing.assert_array_equal(getattr(back, name), getattr(meta, name))
    del props["specser.tta_crops"], props["specser.time_views"]  # files exported before these were recorded
    old = OnnxMetadata.from_props(props, "old.onnx")
    assert (old.tta_crops, old.time_views) == (1, ())


def test_an_onnx_file_from_elsewhere_is_named_as_such():
    with pytest.raises(ValueError, match="not one exported by `specser export`"):
        OnnxMetadata.from_props({"producer": "someone"}, "other.onnx")
