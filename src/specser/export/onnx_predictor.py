"""`OnnxPredictor`: an exported `.onnx` file on onnxruntime, with no torch import at all."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from specser.config import FeatureConfig, from_dict
from specser.features.length import fit_length
from specser.features.logmel_np import logmel_numpy, mel_bands
from specser.inference.base import BasePredictor
from specser.export.onnx_metadata import ONNX_FORMAT, decode_array


class OnnxPredictor(BasePredictor):
    backend = "onnx"

    def __init__(self, path: Path | str, threads: int | None = None, **kwargs):
        try:
            import onnxruntime as ort
        except ImportError as exc:
            raise ImportError("the onnx backend needs onnxruntime: pip install 'specser[export]'") from exc
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"model file not found: {path}")
        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        try:
            self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own exception types
            raise ValueError(f"{path}: not a readable ONNX model ({exc})") from exc
        meta = self.session.get_modelmeta().custom_metadata_map
        if meta.get("specser.format") != ONNX_FORMAT:
            raise ValueError(f"{path}: an ONNX file, but not one exported by `specser export`")
        features = from_dict(FeatureConfig, json.loads(meta["specser.feature_config"]), "feature_config")
        super().__init__(json.loads(meta["specser.labels"]), features, **kwargs)
        self.model_info = json.loads(meta["specser.model"])
        self.filterbank = decode_array(meta["specser.filterbank"])
        self.bands = mel_bands(self.filterbank)
        self.mean = decode_array(meta["specser.normalization_mean"])[:, None]
        self.std = decode_array(meta["specser.normalization_std"])[:, None]

    @classmethod
    def from_file(cls, path: Path | str, **kwargs) -> "OnnxPredictor":
        return cls(path, **kwargs)

    @property
    def n_parameters(self) -> int:
        return int(self.model_info["parameters"])

    def inputs(self, waves: list[np.ndarray]) -> np.ndarray:
        fc = self.features
        feats = [logmel_numpy(w, self.filterbank, fc.n_fft, fc.hop_length, fc.win_length, fc.top_db, self.bands)
                 for w in waves]
        frames = fc.clip_frames if fc.length_mode == "pad_crop" else max(f.shape[-1] for f in feats)
        batch = np.stack([fit_length(f, frames) for f in feats])
        return ((batch - self.mean) / self.std).astype(np.float32)[:, None]

    def probabilities(self, waves: list[np.ndarray]) -> np.ndarray:
        return self.session.run(["probabilities"], {"features": self.inputs(waves)})[0]
