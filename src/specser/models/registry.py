"""A tiny model registry: `@register_model(name, ConfigClass)` and `create_model(name, **options)`."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, Callable

from torch import nn

from specser.config import ConfigError, from_dict

_MODELS: dict[str, tuple[type, Callable[[Any], nn.Module]]] = {}


def register_model(name: str, config_cls: type):
    """Register a model class built as ``cls(config)`` from the dataclass `config_cls`."""

    def wrap(builder):
        if name in _MODELS:
            raise ValueError(f"model {name!r} is registered twice")
        _MODELS[name] = (config_cls, builder)
        return builder

    return wrap


def list_models() -> list[str]:
    return sorted(_MODELS)


def model_config(name: str, **options: Any) -> Any:
    """The model's config dataclass with `options` applied and type-checked."""
    if name not in _MODELS:
        raise ConfigError(f"unknown model {name!r}; registered: {', '.join(list_models())}")
    return from_dict(_MODELS[name][0], options, f"model.options[{name}]")


def create_model(name: str, **options: Any) -> nn.Module:
    """Build a registered model; unknown options raise ConfigError."""
    config = model_config(name, **options)  # checks the name first
    return _MODELS[name][1](config)


def config_dict(name: str, **options: Any) -> dict[str, Any]:
    return asdict(model_config(name, **options))


def count_parameters(model: nn.Module) -> dict[str, int]:
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    total = sum(p.numel() for p in model.parameters())
    buffers = sum(b.numel() for name, b in model.named_buffers() if not name.endswith("num_batches_tracked"))
    return {"total": total, "trainable": trainable, "non_trainable": total - trainable, "buffers": buffers}
