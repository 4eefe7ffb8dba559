"""An `EncoderClassifier` around a pretrained encoder: the start of fine-tuning, and a frozen-head model
file made self-contained (`specser export --format specser --embed-encoder`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from specser.encoders.hub import EncoderError, _transformers, load_config, load_pretrained, not_found_message


def classifier_options(name_or_path: str | Path, head: dict[str, Any], num_classes: int,
                       gradient_checkpointing: bool = False) -> dict[str, Any]:
    """`encoder_classifier` options for an encoder (its config and its feature extractor's, no weights):
    they travel in the model file, so it rebuilds the encoder without the hub. `head` holds `EncoderHead`
    options; its layer count and width come from the encoder."""
    config = load_config(name_or_path)
    try:
        extractor = _transformers().AutoFeatureExtractor.from_pretrained(str(name_or_path))
    except OSError as exc:
        raise EncoderError(not_found_message(str(name_or_path))) from exc
    head = {k: v for k, v in head.items() if k not in ("in_channels", "input_dim", "num_classes")}
    return {"encoder_config": config.to_dict(), "extractor_config": extractor.to_dict(), "head": head,
            "num_classes": num_classes, "gradient_checkpointing": gradient_checkpointing}


def pretrained_classifier(name_or_path: str | Path, options: dict[str, Any], head_state: dict | None = None):
    """The `encoder_classifier` of `options` with the pretrained encoder's weights, and the head's when
    given (a trained frozen head); a fresh head otherwise."""
    from specser.models import create_model

    classifier = create_model("encoder_classifier", **options)
    pretrained, _ = load_pretrained(name_or_path)
    classifier.encoder.load_state_dict(pretrained.state_dict())
    if head_state is not None:
        classifier.head.load_state_dict(head_state)
    return classifier


def embedded(model_file):
    """A frozen-head `ModelFile` (`encoder_head`) as a self-contained one (`encoder_classifier`): the
    encoder's weights join the head's, so it runs where the encoder cannot be fetched."""
    from dataclasses import replace

    if model_file.model_name != "encoder_head":
        raise ValueError(f"only a frozen-encoder model (encoder_head) can embed its encoder; this one is "
                         f"{model_file.model_name!r}")
    name = model_file.features.encoder
    options = classifier_options(name, model_file.model_config, int(model_file.model_config["num_classes"]))
    classifier = pretrained_classifier(name, options, head_state=model_file.state_dict)
    state = {k: v.detach().cpu().clone() for k, v in classifier.state_dict().items()}
    return replace(model_file, model_name="encoder_classifier", model_config=options, state_dict=state)
