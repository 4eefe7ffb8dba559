"""Every hidden layer of a clip from a pretrained encoder, as (layers, frames, dim).

The EmoBox recipe reads all layers (the input embedding and each transformer block) and learns
which to weigh; the cache stores them all so that choice never needs the encoder again. Inputs go
through the encoder's own feature extractor: its rate, its waveform normalisation (wav2vec2-large
style `do_normalize`), Whisper's log-Mel and 30 s padding.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from specser.encoders.hub import load_pretrained

WHISPER_SECONDS = 30.0  # Whisper's encoder sees exactly 30 s; shorter audio is padded, and its frames kept
WHISPER_SAMPLES_PER_FRAME = 320  # 10 ms Mel hop, then a stride-2 convolution: 50 frames a second


class Encoder:
    """A loaded encoder. `hidden_states(wave)` -> float32 (layers, frames, dim).

    Args:
        name_or_path: hub name (``microsoft/wavlm-base-plus``) or a folder from `save_pretrained`.
        device: where it runs ("cpu", "cuda").
    """

    def __init__(self, name_or_path: str | Path, device: str = "cpu"):
        self.name = str(name_or_path)
        self.model, self.extractor = load_pretrained(name_or_path)
        self.device = torch.device(device)
        self.model.to(self.device)
        self.family = self.model.config.model_type
        self.sample_rate = int(self.extractor.sampling_rate)

    def hidden_states(self, wave: np.ndarray) -> np.ndarray:
        """float32 (layers, frames, dim) for a mono waveform at `sample_rate`."""
        wave = np.asarray(wave, dtype=np.float32)
        whisper = self.family == "whisper"
        if whisper and wave.size > WHISPER_SECONDS * self.sample_rate:
            raise ValueError(f"Whisper's encoder takes at most {WHISPER_SECONDS:.0f} s; got {wave.size / self.sample_rate:.1f} s")
        inputs = self.extractor(wave, sampling_rate=self.sample_rate, return_tensors="pt")
        frames = -(-wave.size // WHISPER_SAMPLES_PER_FRAME) if whisper else None
        name = "input_features" if whisper else "input_values"
        args = {name: inputs[name].to(self.device)}
        with torch.inference_mode():
            out = self.model(**args, output_hidden_states=True)
        stacked = torch.stack(out.hidden_states)[:, 0]  # (layers, frames, dim)
        if frames is not None:
            stacked = stacked[:, : max(1, frames)]
        return stacked.float().cpu().numpy()
