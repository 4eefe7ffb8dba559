"""Float arrays inside ONNX `metadata_props` (strings): shared by the exporter and the torch-free backend."""

from __future__ import annotations

import base64
import json

import numpy as np

ONNX_FORMAT = "specser-onnx"


def encode_array(a: np.ndarray) -> str:
    a = np.ascontiguousarray(a, dtype=np.float32)
    return json.dumps({"shape": list(a.shape), "float32_base64": base64.b64encode(a.tobytes()).decode()})


def decode_array(text: str) -> np.ndarray:
    record = json.loads(text)
    return np.frombuffer(base64.b64decode(record["float32_base64"]), dtype=np.float32).reshape(record["shape"])
