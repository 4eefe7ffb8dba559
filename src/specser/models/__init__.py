"""Models: plain nn.Modules, one per file, registered by name."""

from specser.models import spec_resnet  # noqa: F401  (registers "spec_resnet")
from specser.models.registry import count_parameters, create_model, list_models, model_config

__all__ = ["count_parameters", "create_model", "list_models", "model_config"]
