"""Models: plain nn.Modules, one per file, registered by name."""

from specser.models import attention_pool, crnn, encoder_classifier, encoder_head, spec_resnet  # noqa: F401  (register their models)
from specser.models.registry import count_parameters, create_model, list_models, model_config

__all__ = ["count_parameters", "create_model", "list_models", "model_config"]
