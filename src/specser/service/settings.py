"""Service settings: one dataclass, filled from `specser serve` options (or SPECSER_SERVE_* variables
for worker processes, which uvicorn starts from an import string)."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from specser.audio.checks import MIN_DURATION_S

# Voice profiles (POST /v1/profiles), chosen by benchmarks/results/real_voices/rule_profile_prior.txt: see
# docs/results.md, "Voice profiles: how many clips, and how far they move the model".
# (the same as `specser adapt`'s, `specser.inference.adapt.MIN_INPUTS` and `PRIOR`, which import torch).
PROFILE_MIN_INPUTS = 5
PROFILE_PRIOR = 10.0

ENV_KEY = "SPECSER_SERVE_SETTINGS"


@dataclass
class ServiceSettings:
    model: Path
    backend: str = "auto"  # torch | onnx | auto (by suffix)
    max_upload_mb: float = 20.0  # larger bodies get 413 before they are read
    max_duration_s: float = 600.0  # longer audio gets 422
    min_duration_s: float = MIN_DURATION_S  # shorter audio gets 422 too_short
    inference_threads: int = 2  # concurrent decode + inference jobs per process, for clips
    long_threads: int = 1  # recordings longer than `long_after_s` run here, so they never hold up short clips
    long_after_s: float = 30.0
    window_s: float | None = None  # sliding windows for long audio (default: the model's clip length)
    hop_s: float | None = None
    profiles_dir: Path | None = None  # voice profiles (POST /v1/profiles); None: a temporary folder per app
    max_profiles: int = 1000  # beyond this many, the oldest profiles are removed
    profile_min_inputs: int = PROFILE_MIN_INPUTS
    profile_prior: float = PROFILE_PRIOR  # the trained statistics count as this many inputs
    profile_max_files: int = 64  # recordings in one POST /v1/profiles

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)

    def to_env(self) -> str:
        return json.dumps({k: str(v) if isinstance(v, Path) else v for k, v in asdict(self).items()})

    @classmethod
    def from_env(cls) -> "ServiceSettings":
        raw = os.environ.get(ENV_KEY)
        if not raw:
            raise RuntimeError(f"{ENV_KEY} is not set; start the service with `specser serve MODEL`")
        values = json.loads(raw)
        values["model"] = Path(values["model"])
        if values.get("profiles_dir"):
            values["profiles_dir"] = Path(values["profiles_dir"])
        return cls(**values)
