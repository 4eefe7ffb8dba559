"""ONNX for pretrained-encoder models, in one of two shapes:

- the head alone (a frozen-encoder model, by default): input ``layers`` (batch, layers, frames, dim),
  every hidden layer of the encoder, zero-padded in time; the predictor computes them with the
  encoder in `transformers`, so the file stays small and the encoder is the user's own;
- the encoder and the head as one graph (a fine-tuned model always; a frozen one with
  `with_encoder`): input ``waves`` (batch, samples) at the encoder's rate, its input normalisation
  inside, so onnxruntime alone runs it.

Both map to class probabilities and carry the same metadata as a log-Mel export.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from specser.export.onnx_export import MAX_BATCH, MAX_LENGTH, _graph, _save, _WithSoftmax
from specser.export.onnx_metadata import OnnxMetadata

PARITY_SECONDS = (0.5, 1.0, 2.3)  # waveform lengths the parity check tries
MIN_SAMPLES = 400  # the shortest waveform a wav2vec2-style encoder frames (25 ms at 16 kHz)


def _waveform_model(mf):
    """The `encoder_classifier` ModelFile of an encoder model: itself, or a frozen head with its encoder embedded."""
    if mf.model_name == "encoder_classifier":
        return mf
    from specser.encoders.pretrained import embedded

    return embedded(mf)


def export_encoder_onnx(mf, out: Path, opset: int, with_encoder: bool) -> dict:
    """Write the head-alone or the encoder + head graph of `mf` (a `ModelFile` with `features.mode=encoder`)."""
    if with_encoder or mf.model_name == "encoder_classifier":
        full = _waveform_model(mf)
        model = full.build()
        example = torch.randn(2, int(full.features.sample_rate)) * 0.1
        longest = model.n_samples if model.whisper else MAX_LENGTH  # Whisper reads at most 30 s
        proto = _graph(_WithSoftmax(model).eval(), example, opset, "waves",
                       {0: ("batch", 1, MAX_BATCH), 1: ("samples", MIN_SAMPLES, longest)})
        metadata = OnnxMetadata.from_model_file(full, input="waves").to_props()
    else:
        head = mf.build()
        example = torch.randn(2, head.cfg.in_channels, 5, head.cfg.input_dim)
        proto = _graph(_WithSoftmax(head).eval(), example, opset, "layers",
                       {0: ("batch", 1, MAX_BATCH), 2: ("frames", 1, MAX_LENGTH)})
        metadata = OnnxMetadata.from_model_file(mf, input="layers").to_props()
    _save(proto, metadata, out)
    return metadata


def encoder_parity(mf, session, seed: int = 0) -> float:
    """Max |probability difference| between torch and onnxruntime on random inputs of the graph's kind
    (layers or waveforms), at several batch sizes and lengths."""
    rng = np.random.default_rng(seed)
    name = session.get_inputs()[0].name
    if name == "waves":
        full = _waveform_model(mf)
        model, rate = full.build(), int(full.features.sample_rate)
        inputs = [(0.1 * rng.standard_normal((b, int(s * rate)))).astype(np.float32)
                  for b, s in zip((1, 3, 2), PARITY_SECONDS)]
    else:
        model = mf.build()
        shape = (model.cfg.in_channels, model.cfg.input_dim)
        inputs = [rng.standard_normal((b, shape[0], t, shape[1])).astype(np.float32) for b, t in ((1, 1), (3, 25), (2, 117))]
    wrapped, worst = _WithSoftmax(model).eval(), 0.0
    for x in inputs:
        with torch.inference_mode():
            expected = wrapped(torch.from_numpy(x)).numpy()
        got = session.run(["probabilities"], {name: x})[0]
        worst = max(worst, float(np.abs(expected - got).max()))
    return worst
