"""The model that ships with specser, so `specser predict clip.wav` and `specser serve` work out of the box.

`default.specser` is the `robust` recipe trained on every six-emotion clip of RAVDESS and nEMO
(`python benchmarks/release_model.py` rebuilds it); its card is docs/model-card.md. Both corpora are
CC BY-NC-SA 4.0, so the model is for non-commercial use. Weights are stored in half precision.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

DEFAULT_NAME = "default"


def bundled_models() -> dict[str, Path]:
    """Name -> path of every model file shipped in this package."""
    folder = resources.files("specser.bundled")
    return {Path(str(f)).stem: Path(str(f)) for f in folder.iterdir() if str(f).endswith(".specser")}


def default_model() -> Path:
    """The shipped default model's path; a clear error when this install lacks it."""
    models = bundled_models()
    if DEFAULT_NAME not in models:
        raise FileNotFoundError("this specser install has no bundled model (src/specser/bundled/default.specser); "
                                "pass a model file, or rebuild it with `python benchmarks/release_model.py`")
    return models[DEFAULT_NAME]
