"""Loading an encoder by hub name or local folder, the way `transformers` users do, with one clear
line when it is not there: this machine, like many lab servers, cannot reach the hub."""

from __future__ import annotations

from pathlib import Path

# `config.model_type` of the families specser knows how to run and to cache.
FAMILIES = ("wav2vec2", "hubert", "wavlm", "whisper", "data2vec-audio", "wav2vec2-conformer")


class EncoderError(ValueError):
    """An encoder that cannot be used: not found offline, or not a speech encoder specser runs."""


def not_found_message(name: str) -> str:
    return (f"encoder {name!r} was not found on this machine and could not be fetched (no network, or no "
            f"such model). Fetch it where the internet is reachable: `hf download {name}` fills the hub cache "
            "($HF_HOME, by default ~/.cache/huggingface), which you can copy here; or give the path of a folder "
            "holding its config.json, preprocessor_config.json and weights (from `save_pretrained`).")


def _transformers():
    try:
        import transformers
    except ImportError as exc:  # pragma: no cover - the ssl extra is part of the test install
        raise ImportError("pretrained encoders need the ssl extra: pip install 'specser[ssl]'") from exc
    transformers.logging.set_verbosity_error()  # weight-loading chatter and progress bars are not for our users
    transformers.logging.disable_progress_bar()
    return transformers


def load_config(name_or_path: str | Path):
    """The encoder's `transformers` config (no weights), checked to be a speech encoder specser runs.

    Raises:
        EncoderError: not found (offline or misspelt), or not one of `FAMILIES`.
    """
    transformers = _transformers()
    name = str(name_or_path)
    try:
        config = transformers.AutoConfig.from_pretrained(name)
    except (OSError, ValueError) as exc:
        raise EncoderError(not_found_message(name)) from exc
    if config.model_type not in FAMILIES:
        raise EncoderError(f"encoder {name!r} is a {config.model_type!r} model; specser runs the speech encoders "
                           f"{', '.join(FAMILIES)}")
    return config


def identity(name_or_path: str | Path, config=None) -> str:
    """The cache's name for an encoder: its name, architecture and hub revision when known, from the
    config alone (a cached run never loads the weights). A local folder re-trained in place keeps its
    name: save it to a new folder, or clear the cache."""
    import hashlib
    import json

    config = config or load_config(name_or_path)
    payload = json.dumps({"name": str(name_or_path), "config": config.to_dict(),
                          "revision": getattr(config, "_commit_hash", None)}, sort_keys=True, default=str)
    return f"{Path(str(name_or_path)).name or 'encoder'}-{hashlib.sha1(payload.encode()).hexdigest()[:12]}"


def sample_rate(name_or_path: str | Path) -> int:
    """The rate the encoder's feature extractor expects (its JSON only; no weights)."""
    transformers = _transformers()
    try:
        return int(transformers.AutoFeatureExtractor.from_pretrained(str(name_or_path)).sampling_rate)
    except OSError as exc:
        raise EncoderError(not_found_message(str(name_or_path))) from exc


def load_pretrained(name_or_path: str | Path):
    """(model, feature extractor) of an encoder; the encoder half of an encoder-decoder (Whisper).

    Raises:
        EncoderError: not found (offline or misspelt), or not one of `FAMILIES`.
    """
    transformers = _transformers()
    name = str(name_or_path)
    config = load_config(name)
    try:
        extractor = transformers.AutoFeatureExtractor.from_pretrained(name)
        model = transformers.AutoModel.from_pretrained(name, config=config)
    except OSError as exc:
        raise EncoderError(not_found_message(name)) from exc
    if config.model_type == "whisper":
        model = model.get_encoder()
    return model.eval(), extractor
