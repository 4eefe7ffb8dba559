"""Start a run from another run's network (`train.init_from`): pretraining on one corpus, fine-tuning on another.

The source is a `model.specser`, loaded without pickles. Every tensor whose name and shape match is copied;
the rest (the output layer, when the label sets differ in size) keeps its fresh initialisation. The
source must have heard the same input: a network trained on other log-Mel settings would start from
features it never saw, so those are refused rather than silently mixed.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from torch import nn

from specser.config import ConfigError, FeatureConfig

# What the network's input depends on. Clip length, length policy and test-time settings do not change
# what one frame means, so they may differ.
INPUT_FIELDS = ("mode", "sample_rate", "n_fft", "win_length", "hop_length", "n_mels", "f_min", "f_max", "top_db",
                "level_norm", "utterance_norm", "speaker_norm", "compression", "image_size", "image_cmap", "encoder")


def input_differences(theirs: FeatureConfig, ours: FeatureConfig) -> list[str]:
    """The input settings in which a saved network's features differ from a run's, for an error message."""
    a, b = asdict(theirs), asdict(ours)
    return [f"{k} ({a.get(k)!r} there, {b[k]!r} here)" for k in INPUT_FIELDS if a.get(k) != b[k]]


def warm_start(model: nn.Module, model_name: str, features: FeatureConfig, source: str | Path) -> list[str]:
    """Copy `source`'s matching weights into `model` in place; returns the names of those left fresh.

    Raises:
        ConfigError: `source` is another architecture, was trained on another input, or shares no weights.
    """
    from specser.inference.model_file import ModelFile, ModelFileError

    try:
        mf = ModelFile.load(source)
    except ModelFileError as exc:
        raise ConfigError(f"train.init_from: {exc}") from exc
    if mf.model_name != model_name:
        raise ConfigError(f"train.init_from: {source} holds a {mf.model_name}, this run trains a {model_name}")
    differ = input_differences(mf.features, features)
    if differ:
        raise ConfigError(f"train.init_from: {source} was trained on other features: {', '.join(differ)}")
    own = model.state_dict()
    matching = {k: v for k, v in mf.state_dict.items() if k in own and own[k].shape == v.shape}
    if not matching:
        raise ConfigError(f"train.init_from: {source} shares no weight of this network's shape")
    model.load_state_dict(matching, strict=False)
    fresh = sorted(set(own) - set(matching))
    print(f"initialised from {source}: {len(matching)} of {len(own)} tensors"
          + (f"; fresh: {', '.join(fresh)}" if fresh else ""))
    return fresh
