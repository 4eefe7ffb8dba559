"""`OnnxPredictor`: an exported `.onnx` file on onnxruntime, with no torch import at all."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from specser.export.onnx_metadata import OnnxMetadata
from specser.features.logmel_np import logmel_numpy, mel_bands
from specser.features.pcen import smoothing_coefficient
from specser.features.normalize import standardize
from specser.inference.base import BasePredictor


class OnnxPredictor(BasePredictor):
    """onnxruntime backend (CPU). `threads` sets onnxruntime's intra-op threads; see `BasePredictor`
    for the rest (`tta_crops` defaults to the number recorded at export)."""

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
        except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own exception types
            raise ValueError(f"{path}: not a readable ONNX model ({type(exc).__name__})") from exc
        self.metadata = OnnxMetadata.from_props(self.session.get_modelmeta().custom_metadata_map, str(path))
        kwargs.setdefault("tta_crops", self.metadata.tta_crops)
        kwargs.setdefault("time_views", self.metadata.time_views)
        super().__init__(self.metadata.labels, self.metadata.features, **kwargs)
        self.bands = mel_bands(self.metadata.filterbank) if self.metadata.input == "features" else None
        outputs = {o.name for o in self.session.get_outputs()}
        if "familiarity" in outputs and self.metadata.familiarity_threshold is not None:
            self.familiarity_threshold = self.metadata.familiarity_threshold
        self._encoder = None

    @classmethod
    def from_file(cls, path: Path | str, **kwargs) -> "OnnxPredictor":
        return cls(path, **kwargs)

    @property
    def n_parameters(self) -> int:
        return self.metadata.parameters

    @property
    def encoder(self):
        """A head-alone export's encoder, in `transformers` (torch): loaded once, on first use."""
        if self._encoder is None:
            from specser.encoders.hidden import Encoder

            self._encoder = Encoder(self.features.encoder)
        return self._encoder

    def wave_features(self, waves: list[np.ndarray]) -> list[np.ndarray]:
        """What the graph reads of each wave: its log-Mel, an encoder's layers (a head-alone export; float16,
        time-averaged with `features.encoder_time_mean`, as in training), or the waveform itself."""
        if self.metadata.input == "waves":
            return [np.ascontiguousarray(w, dtype=np.float32) for w in waves]
        if self.metadata.input == "layers":
            layers = [self.encoder.hidden_states(w) for w in waves]
            if self.features.encoder_time_mean:
                layers = [x.mean(axis=1, keepdims=True) for x in layers]
            return [x.astype(np.float16) for x in layers]
        fc = self.features
        pcen = smoothing_coefficient(fc.sample_rate, fc.hop_length) if fc.compression == "pcen" else None
        return [logmel_numpy(w, self.metadata.filterbank, fc.n_fft, fc.hop_length, fc.win_length, fc.top_db, self.bands,
                             fc.level_norm, fc.utterance_norm, pcen) for w in waves]

    def network_probabilities(self, logmels: list[np.ndarray]) -> np.ndarray:
        if self.metadata.input == "waves":
            return self.session.run(["probabilities"], {"waves": np.stack(logmels).astype(np.float32)})[0]
        if self.metadata.input == "layers":  # zero-padded in time, as training batched them
            longest = max(x.shape[1] for x in logmels)
            batch = np.stack([np.pad(x.astype(np.float32), ((0, 0), (0, longest - x.shape[1]), (0, 0))) for x in logmels])
            return self.session.run(["probabilities"], {"layers": batch})[0]
        batch = standardize(np.stack(logmels), self.metadata.mean, self.metadata.std).astype(np.float32)[:, None]
        return self.session.run(["probabilities"], {"features": batch})[0]

    def network_outputs(self, logmels: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray | None]:
        """Probabilities and, from a graph exported with familiarity statistics, each input's score."""
        if self.metadata.input != "features" or self.familiarity_threshold is None:
            return self.network_probabilities(logmels), None
        batch = standardize(np.stack(logmels), self.metadata.mean, self.metadata.std).astype(np.float32)[:, None]
        probs, scores = self.session.run(["probabilities", "familiarity"], {"features": batch})
        return probs, scores
