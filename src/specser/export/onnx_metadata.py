"""The schema of a specser ONNX file's `metadata_props`, shared by the exporter and the torch-free backend.

ONNX metadata values are strings: lists and configs travel as JSON, float arrays as
base64 float32 with their shape. Every key is spelled here once.
"""

from __future__ import annotations

import base64
import json
from dataclasses import asdict, dataclass

import numpy as np

from specser.config import FeatureConfig, from_dict

ONNX_FORMAT = "specser-onnx"
_PREFIX = "specser."


def encode_array(a: np.ndarray) -> str:
    a = np.ascontiguousarray(a, dtype=np.float32)
    return json.dumps({"shape": list(a.shape), "float32_base64": base64.b64encode(a.tobytes()).decode()})


def decode_array(text: str) -> np.ndarray:
    record = json.loads(text)
    return np.frombuffer(base64.b64decode(record["float32_base64"]), dtype=np.float32).reshape(record["shape"])


@dataclass
class OnnxMetadata:
    """Everything `OnnxPredictor` needs besides the graph, which maps standardised log-Mels to probabilities."""

    labels: list[str]
    features: FeatureConfig
    model_name: str
    model_config: dict
    parameters: int
    filterbank: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    tta_crops: int = 1
    input: str = "features"  # the graph's input: standardised log-Mels, or an encoder's "layers", or "waves"
    time_views: tuple[int, ...] = ()  # test-time circular rolls (frames), as the model file recorded
    familiarity_threshold: float | None = None  # the graph has a `familiarity` output: warn above this score

    @classmethod
    def from_model_file(cls, mf, input: str = "features", familiarity_threshold: float | None = None) -> "OnnxMetadata":
        """From a `specser.inference.model_file.ModelFile` (an encoder model has no log-Mel front-end:
        its filterbank and statistics travel empty)."""
        empty = np.zeros(0, np.float32)
        native = mf.features.mode == "native"
        return cls(list(mf.labels), mf.features, mf.model_name, dict(mf.model_config), mf.n_parameters,
                   mf.filterbank.numpy() if native else empty, mf.mean.numpy() if native else empty,
                   mf.std.numpy() if native else empty, mf.tta_crops, input, tuple(mf.time_views), familiarity_threshold)

    def to_props(self) -> dict[str, str]:
        props = {
            "format": ONNX_FORMAT,
            "labels": json.dumps(self.labels),
            "feature_config": json.dumps(asdict(self.features)),
            "model": json.dumps({"name": self.model_name, "config": self.model_config, "parameters": self.parameters}),
            "normalization_mean": encode_array(self.mean),
            "normalization_std": encode_array(self.std),
            "filterbank": encode_array(self.filterbank),
            "tta_crops": str(self.tta_crops),
            "time_views": json.dumps(list(self.time_views)),
            "input": self.input,
        }
        if self.familiarity_threshold is not None:
            props["familiarity_threshold"] = repr(float(self.familiarity_threshold))
        return {_PREFIX + k: v for k, v in props.items()}

    @classmethod
    def from_props(cls, props: dict[str, str], source: str) -> "OnnxMetadata":
        """Raises ValueError when the file is ONNX but not a specser export."""
        if props.get(_PREFIX + "format") != ONNX_FORMAT:
            raise ValueError(f"{source}: an ONNX file, but not one exported by `specser export`")

        def get(key: str) -> str:
            return props[_PREFIX + key]

        model = json.loads(get("model"))
        return cls(
            labels=json.loads(get("labels")),
            features=from_dict(FeatureConfig, json.loads(get("feature_config")), "feature_config"),
            model_name=model["name"], model_config=model["config"], parameters=int(model["parameters"]),
            filterbank=decode_array(get("filterbank")), mean=decode_array(get("normalization_mean")),
            std=decode_array(get("normalization_std")), tta_crops=int(props.get(_PREFIX + "tta_crops", "1")),
            input=props.get(_PREFIX + "input", "features"),
            time_views=tuple(json.loads(props.get(_PREFIX + "time_views", "[]"))),
            familiarity_threshold=(float(props[_PREFIX + "familiarity_threshold"])
                                   if _PREFIX + "familiarity_threshold" in props else None),
        )
