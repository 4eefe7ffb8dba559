"""Tiny randomly initialised encoders of each family, saved with `save_pretrained` the way a hub
checkpoint is laid out, so the tests load them through exactly the code a user runs."""

from __future__ import annotations

from pathlib import Path

FAMILIES = ("wav2vec2", "hubert", "wavlm", "whisper")


def make_tiny_encoder(family: str, folder: Path) -> Path:
    import torch
    import transformers as T

    torch.manual_seed(0)
    small = dict(hidden_size=16, num_hidden_layers=2, num_attention_heads=2, intermediate_size=24,
                 conv_dim=(8,) * 7, num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=2, vocab_size=8)
    if family == "whisper":
        config = T.WhisperConfig(d_model=16, encoder_layers=2, encoder_attention_heads=2, decoder_layers=1,
                                 decoder_attention_heads=2, encoder_ffn_dim=24, decoder_ffn_dim=24, num_mel_bins=80,
                                 vocab_size=64, max_target_positions=16, decoder_start_token_id=1, pad_token_id=0,
                                 bos_token_id=1, eos_token_id=2)
        model, extractor = T.WhisperModel(config), T.WhisperFeatureExtractor(feature_size=80)
    else:
        config_class, model_class = {"wav2vec2": (T.Wav2Vec2Config, T.Wav2Vec2Model),
                                     "hubert": (T.HubertConfig, T.HubertModel),
                                     "wavlm": (T.WavLMConfig, T.WavLMModel)}[family]
        model = model_class(config_class(**small))
        extractor = T.Wav2Vec2FeatureExtractor(feature_size=1, sampling_rate=16000, do_normalize=True,
                                               return_attention_mask=False)
    model.save_pretrained(folder)
    extractor.save_pretrained(folder)
    return folder


def encoder_config(corpus: Path, encoder: Path, cache: Path, family: str, *extra: str):
    """The `encoder` preset on `corpus` for two epochs; Whisper's 30 s windows pool attentively over frames."""
    from specser.config import load_config

    pooling = ["features.encoder_time_mean=false", "model.options.pooling=attentive"] if family == "whisper" else []
    return load_config(preset="encoder", overrides=[f"data.path={corpus}", f"features.encoder={encoder}",
                                                    f"data.cache_dir={cache}", "train.max_epochs=2", *pooling, *extra])
