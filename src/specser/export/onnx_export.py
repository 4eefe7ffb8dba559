"""`specser export --format onnx`: the network as one self-describing ONNX file.

The graph maps standardised log-Mel features ``(batch, 1, n_mels, frames)`` to class
probabilities, with dynamic batch and time axes. The front-end settings, the Mel
filterbank, the normalisation statistics and the labels travel in the file's
``metadata_props``, so `OnnxPredictor` rebuilds the whole pipeline with numpy and
onnxruntime alone. The log-Mel itself stays outside the graph: ONNX's STFT support
differs between runtimes, while a numpy STFT is portable and checked against torch.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from specser.atomic import atomic_path
from specser.export.onnx_metadata import OnnxMetadata
from specser.inference.model_file import ModelFile


class _WithSoftmax(nn.Module):
    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.model(features), dim=1)


def _graph(wrapped: torch.nn.Module, example: torch.Tensor, opset: int):
    """The ONNX graph with dynamic batch and time axes: torch.export (dynamo) first; models it cannot
    decompose (recurrent layers: the CRNN head's GRU) go through the TorchScript exporter."""
    import io

    import onnx

    names = {"input_names": ["features"], "output_names": ["probabilities"], "opset_version": opset}
    batch = torch.export.Dim("batch", min=1, max=4096)
    frames = torch.export.Dim("frames", min=8, max=1_000_000)
    try:
        return torch.onnx.export(wrapped, (example,), dynamo=True, dynamic_shapes=({0: batch, 3: frames},),
                                 verbose=False, **names).model_proto
    except Exception:  # noqa: BLE001 - torch.onnx raises several error types; the fallback is checked below
        if not any(isinstance(m, torch.nn.RNNBase) for m in wrapped.modules()):
            raise
    buffer = io.BytesIO()
    torch.onnx.export(wrapped, (example,), buffer, dynamo=False,
                      dynamic_axes={"features": {0: "batch", 3: "frames"}, "probabilities": {0: "batch"}}, **names)
    return onnx.load_from_string(buffer.getvalue())


def export_onnx(model_path: Path, out: Path, opset: int = 18) -> dict:
    """Export `model.specser` to `out`; returns the metadata written (`OnnxMetadata.to_props`)."""
    import onnx

    mf = ModelFile.load(model_path)
    fc = mf.features
    if fc.mode == "encoder":
        raise ValueError(f"{model_path}: ONNX export of pretrained-encoder models is not available yet; "
                         "`specser predict` and `specser serve` run them with torch")
    if fc.mode != "native":
        raise ValueError(f"{model_path}: ONNX export supports native-mode models; this one uses image mode "
                         "(its PNG front-end has no portable equivalent)")
    import logging
    import warnings

    # The exporter logs every torchvision op it cannot register (we use none) and an upstream deprecation.
    logging.getLogger("torch.onnx").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", message=r".*isinstance\(treespec, LeafSpec\)")
    wrapped = _WithSoftmax(mf.build()).eval()
    example = torch.randn(2, 1, fc.n_mels, fc.clip_frames)
    proto = _graph(wrapped, example, opset)
    metadata = OnnxMetadata.from_model_file(mf).to_props()
    for key, value in metadata.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(proto)
    with atomic_path(Path(out)) as tmp:
        onnx.save_model(proto, str(tmp), save_as_external_data=False)
    return metadata


def parity_check(model_path: Path, onnx_path: Path, seed: int = 0) -> float:
    """Max |probability difference| between torch and onnxruntime on random standardised inputs
    with several batch sizes and time lengths (the dynamic axes)."""
    import onnxruntime as ort

    mf = ModelFile.load(model_path)
    model = _WithSoftmax(mf.build()).eval()
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    fc = mf.features
    rng = np.random.default_rng(seed)
    worst = 0.0
    for batch, frames in ((1, fc.clip_frames), (5, fc.clip_frames), (3, fc.clip_frames // 2), (2, 3 * fc.clip_frames)):
        x = rng.standard_normal((batch, 1, fc.n_mels, frames)).astype(np.float32)
        with torch.inference_mode():
            expected = model(torch.from_numpy(x)).numpy()
        got = session.run(["probabilities"], {"features": x})[0]
        worst = max(worst, float(np.abs(expected - got).max()))
    return worst
