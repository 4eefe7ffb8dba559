"""A pretrained speech encoder and the EmoBox head as one network on waveforms: fine-tuning
(`train.finetune.enabled`), and a model file that carries the encoder's weights (a fine-tuned
encoder, or `specser export --format specser --embed-encoder`), which runs with no hub at all.

Input: (B, N) waveforms at the encoder's rate, zero-padded, and their lengths. The encoder's own
input preparation runs inside (`specser.encoders.inputs`); every hidden layer goes to `EncoderHead`
with the frames past each clip's end zeroed, which the head reads as padding, exactly as it reads
the padding of cached layers. The encoder is rebuilt from its `transformers` config (stored in
the options), never fetched, so `transformers` is needed but not the network.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from specser.encoders.inputs import normalized_waves, sample_mask, whisper_log_mel
from specser.models.encoder_head import EncoderHead, EncoderHeadConfig
from specser.models.registry import model_config, register_model

WHISPER_SAMPLES_PER_FRAME = 320  # 10 ms Mel hop, then a stride-2 convolution


@dataclass
class EncoderClassifierConfig:
    encoder_config: dict[str, Any] = field(default_factory=dict)  # the encoder's transformers config (to_dict)
    extractor_config: dict[str, Any] = field(default_factory=dict)  # its feature extractor's (to_dict)
    head: dict[str, Any] = field(default_factory=dict)  # EncoderHead options; layers and size come from the encoder
    num_classes: int = 6
    gradient_checkpointing: bool = False  # recompute activations in the backward pass: less memory, more time


def build_encoder(encoder_config: dict[str, Any]) -> nn.Module:
    """A randomly initialised encoder of this architecture (the encoder half of Whisper), LayerDrop off:
    the head mixes every layer, and a layer skipped in training would vanish from the hidden states."""
    from specser.encoders.hub import _transformers

    transformers = _transformers()
    options = {**encoder_config, "layerdrop": 0.0}
    if options.get("model_type") == "whisper":
        options.update(encoder_layerdrop=0.0, decoder_layerdrop=0.0)
    config = transformers.AutoConfig.for_model(options.pop("model_type"), **options)
    if config.model_type == "whisper":
        from transformers.models.whisper.modeling_whisper import WhisperEncoder

        return WhisperEncoder(config)
    return transformers.AutoModel.from_config(config)


class EncoderClassifier(nn.Module):
    def __init__(self, cfg: EncoderClassifierConfig):
        super().__init__()
        if not cfg.encoder_config or not cfg.extractor_config:
            raise ValueError("encoder_classifier needs the encoder's and its feature extractor's configs")
        self.cfg = cfg
        self.encoder = build_encoder(cfg.encoder_config)
        config = self.encoder.config
        self.whisper = config.model_type == "whisper"
        extractor = cfg.extractor_config
        self.do_normalize = bool(extractor.get("do_normalize", False)) and not self.whisper
        self.use_attention_mask = bool(extractor.get("return_attention_mask", False)) and not self.whisper
        if self.whisper:
            from specser.encoders.hub import _transformers

            whisper_extractor = _transformers().WhisperFeatureExtractor(**{k: v for k, v in extractor.items()
                                                                             if k != "feature_extractor_type"})
            self.register_buffer("mel_filters", torch.from_numpy(whisper_extractor.mel_filters).float(),
                                 persistent=False)
            self.n_fft, self.hop_length = whisper_extractor.n_fft, whisper_extractor.hop_length
            self.n_samples = whisper_extractor.n_samples
        head = {**cfg.head, "in_channels": config.num_hidden_layers + 1, "input_dim": config.hidden_size,
                "num_classes": cfg.num_classes}
        self.head = EncoderHead(model_config("encoder_head", **head))
        if cfg.gradient_checkpointing:  # transformers 5 renamed it; 4.x has the old name only
            enable = getattr(self.encoder, "activation_checkpointing_enable", None) or self.encoder.gradient_checkpointing_enable
            enable()
        self._encoder_frozen = False

    @property
    def encoder_frozen(self) -> bool:
        """While frozen the encoder runs without gradients and in eval mode (no dropout), so only the head learns."""
        return self._encoder_frozen

    @encoder_frozen.setter
    def encoder_frozen(self, value: bool) -> None:
        self._encoder_frozen = bool(value)
        self.train(self.training)

    def train(self, mode: bool = True) -> "EncoderClassifier":
        super().train(mode)
        if self._encoder_frozen:
            self.encoder.eval()
        return self

    def freeze_feature_encoder(self) -> None:
        """Keep the convolutional waveform front-end of a wav2vec2-style encoder fixed (its own fine-tuning
        recipes do); Whisper has none. Some `transformers` model classes lack a method for it (HuBERT)."""
        front_end = getattr(self.encoder, "feature_extractor", None)
        if front_end is None:
            return
        for parameter in front_end.parameters():
            parameter.requires_grad = False

    def layer_weights(self) -> torch.Tensor:
        return self.head.layer_weights()

    def hidden_states(self, waves: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """(B, layers, frames, dim), zero past each clip's last frame."""
        n = torch.full((waves.shape[0],), waves.shape[1], device=waves.device) if lengths is None else lengths.to(waves.device)
        with torch.set_grad_enabled(torch.is_grad_enabled() and not self._encoder_frozen):
            if self.whisper:
                if waves.shape[1] > self.n_samples:
                    raise ValueError(f"Whisper's encoder takes at most {self.n_samples} samples; got {waves.shape[1]}")
                features = whisper_log_mel(waves * sample_mask(waves, lengths), self.mel_filters, self.n_fft,
                                           self.hop_length, self.n_samples)
                out = self.encoder(features, output_hidden_states=True)
                frames = torch.div(n + WHISPER_SAMPLES_PER_FRAME - 1, WHISPER_SAMPLES_PER_FRAME, rounding_mode="floor")
            else:
                values = normalized_waves(waves, lengths) if self.do_normalize else waves * sample_mask(waves, lengths)
                mask = sample_mask(waves, lengths).long() if self.use_attention_mask and lengths is not None else None
                out = self.encoder(values, attention_mask=mask, output_hidden_states=True)
                frames = self.encoder._get_feat_extract_output_lengths(n)
            stacked = torch.stack(out.hidden_states, dim=1)
        frames = frames.clamp(min=1)  # Whisper's 1,500 frames stay (zero past the clip): no data-dependent shape
        valid = torch.arange(stacked.shape[2], device=stacked.device)[None, :] < frames[:, None]
        return stacked * valid[:, None, :, None].to(stacked.dtype)

    def forward(self, waves: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        return self.head(self.hidden_states(waves, lengths))


@register_model("encoder_classifier", EncoderClassifierConfig)
def build_encoder_classifier(cfg: EncoderClassifierConfig) -> EncoderClassifier:
    return EncoderClassifier(cfg)
