"""`specser export --format onnx`: the network as one self-describing ONNX file.

The graph maps standardised log-Mel features ``(batch, 1, n_mels, frames)`` to class
probabilities, with dynamic batch and time axes; for a model that carries its training clips' familiarity
statistics (`specser.inference.familiarity`), a second output ``familiarity`` holds each input's score. The front-end settings, the Mel
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
from specser.inference.familiarity import ScoredNetwork, supports_familiarity
from specser.inference.model_file import ModelFile


class _WithSoftmax(nn.Module):
    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.model(features), dim=1)


MAX_BATCH, MAX_LENGTH = 4096, 10_000_000  # the exported graphs' largest batch and time axis


def _graph(wrapped: torch.nn.Module, example: torch.Tensor, opset: int, input_name: str = "features",
           dynamic: dict[int, tuple[str, int, int]] | None = None, outputs: tuple[str, ...] = ("probabilities",)):
    """The ONNX graph with dynamic axes (`dynamic`: axis -> (name, smallest size, largest); by default the
    batch and time of a log-Mel batch): torch.export (dynamo) first; models it cannot decompose (recurrent layers:
    the CRNN head's GRU) go through the TorchScript exporter."""
    import io

    import onnx

    dynamic = dynamic or {0: ("batch", 1, MAX_BATCH), 3: ("frames", 8, MAX_LENGTH)}
    names = {"input_names": [input_name], "output_names": list(outputs), "opset_version": opset}
    dims = {axis: torch.export.Dim(name, min=smallest, max=largest) for axis, (name, smallest, largest) in dynamic.items()}
    try:
        return torch.onnx.export(wrapped, (example,), dynamo=True, dynamic_shapes=(dims,), verbose=False,
                                 **names).model_proto
    except Exception:  # noqa: BLE001 - torch.onnx raises several error types; the fallback is checked below
        if not any(isinstance(m, torch.nn.RNNBase) for m in wrapped.modules()):
            raise
    buffer = io.BytesIO()
    torch.onnx.export(wrapped, (example,), buffer, dynamo=False,
                      dynamic_axes={input_name: {axis: name for axis, (name, *_) in dynamic.items()},
                                    **{name: {0: "batch"} for name in outputs}}, **names)
    return onnx.load_from_string(buffer.getvalue())


EXTERNAL_DATA_BYTES = 1_500_000_000  # larger weights go to a side file: one protobuf holds at most 2 GB


def external_data_path(out: Path) -> Path:
    """Where the weights of a graph too large for one protobuf (a large encoder's) go, beside the .onnx."""
    return Path(out).with_name(Path(out).name + ".data")


def _save(proto, metadata: dict[str, str], out: Path) -> None:
    """Write `proto` with `metadata`, checked, atomically. Weights over `EXTERNAL_DATA_BYTES` (Whisper-large's
    encoder: 2.5 GB) go to `external_data_path(out)`, which onnxruntime finds beside the graph."""
    import onnx

    for key, value in metadata.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    weights = sum(len(t.raw_data) for t in proto.graph.initializer)
    side = external_data_path(out)
    large = weights > EXTERNAL_DATA_BYTES
    if not large:
        onnx.checker.check_model(proto)
    with atomic_path(Path(out)) as tmp:
        if large:  # the side file first: the graph that names it appears last, atomically
            side.unlink(missing_ok=True)
            onnx.save_model(proto, str(tmp), save_as_external_data=True, all_tensors_to_one_file=True,
                            location=side.name, size_threshold=1024)
            onnx.checker.check_model(str(tmp))
        else:
            onnx.save_model(proto, str(tmp), save_as_external_data=False)
    if not large:
        side.unlink(missing_ok=True)  # a previous large export's weights, now stale


def quiet_exporter() -> None:
    import logging
    import warnings

    # The exporter logs every torchvision op it cannot register (we use none) and an upstream deprecation.
    logging.getLogger("torch.onnx").setLevel(logging.ERROR)
    logging.getLogger("onnxscript").setLevel(logging.ERROR)  # "Skipping constant folding ..." per encoder layer
    warnings.filterwarnings("ignore", message=r".*isinstance\(treespec, LeafSpec\)")


def export_onnx(model_path: Path, out: Path, opset: int = 18, with_encoder: bool = False) -> dict:
    """Export `model.specser` to `out`; returns the metadata written (`OnnxMetadata.to_props`).

    A pretrained-encoder model exports its head alone (input: the encoder's layers), or with
    `with_encoder` (always, for a fine-tuned one) the encoder and head as one graph on waveforms
    (`specser.export.onnx_encoder`)."""
    mf = ModelFile.load(model_path)
    fc = mf.features
    quiet_exporter()
    if fc.mode == "encoder":
        from specser.export.onnx_encoder import export_encoder_onnx

        return export_encoder_onnx(mf, out, opset, with_encoder)
    if fc.mode != "native":
        raise ValueError(f"{model_path}: ONNX export supports native-mode models; this one uses image mode "
                         "(its PNG front-end has no portable equivalent)")
    model, familiarity = mf.build(), mf.familiarity
    scored = familiarity is not None and supports_familiarity(model)
    wrapped = (ScoredNetwork(model, familiarity) if scored else _WithSoftmax(model)).eval()
    example = torch.randn(2, 1, fc.n_mels, fc.clip_frames)
    metadata = OnnxMetadata.from_model_file(mf, familiarity_threshold=familiarity.threshold if scored else None).to_props()
    outputs = ("probabilities", "familiarity") if scored else ("probabilities",)
    _save(_graph(wrapped, example, opset, outputs=outputs), metadata, out)
    return metadata


def parity_check(model_path: Path, onnx_path: Path, seed: int = 0) -> float:
    """Max |probability difference| between torch and onnxruntime on random standardised inputs
    with several batch sizes and time lengths (the dynamic axes)."""
    import onnxruntime as ort

    mf = ModelFile.load(model_path)
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    fc = mf.features
    if fc.mode == "encoder":
        from specser.export.onnx_encoder import encoder_parity

        return encoder_parity(mf, session, seed)
    model = _WithSoftmax(mf.build()).eval()
    rng = np.random.default_rng(seed)
    worst = 0.0
    for batch, frames in ((1, fc.clip_frames), (5, fc.clip_frames), (3, fc.clip_frames // 2), (2, 3 * fc.clip_frames)):
        x = rng.standard_normal((batch, 1, fc.n_mels, frames)).astype(np.float32)
        with torch.inference_mode():
            expected = model(torch.from_numpy(x)).numpy()
        got = session.run(["probabilities"], {"features": x})[0]
        worst = max(worst, float(np.abs(expected - got).max()))
    return worst


def familiarity_parity(model_path: Path, onnx_path: Path, seed: int = 0) -> float:
    """Max relative difference between torch's familiarity scores and the exported graph's, on random
    standardised inputs of several lengths (0 for a model without familiarity statistics)."""
    import onnxruntime as ort

    mf = ModelFile.load(model_path)
    if mf.familiarity is None:
        return 0.0
    scored = ScoredNetwork(mf.build(), mf.familiarity).eval()
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    rng, fc, worst = np.random.default_rng(seed), mf.features, 0.0
    for batch, frames in ((1, fc.clip_frames), (3, fc.clip_frames // 2), (2, 3 * fc.clip_frames)):
        x = rng.standard_normal((batch, 1, fc.n_mels, frames)).astype(np.float32)
        with torch.inference_mode():
            expected = scored(torch.from_numpy(x))[1].numpy()
        got = session.run(["familiarity"], {"features": x})[0]
        worst = max(worst, float(np.max(np.abs(expected - got) / np.maximum(np.abs(expected), 1e-6))))
    return worst
