"""Where things live by default: the RAVDESS copy and the feature cache."""

from __future__ import annotations

import os
from pathlib import Path

RAVDESS_ENV = "SPECSER_RAVDESS"
CACHE_ENV = "SPECSER_CACHE"


def default_ravdess() -> Path | None:
    """`SPECSER_RAVDESS`, else ``../shared/data/ravdess`` (from the cwd or this checkout) if it exists."""
    env = os.environ.get(RAVDESS_ENV)
    if env:
        return Path(env).expanduser()
    here = Path(__file__).resolve()
    for base in (Path.cwd(), *here.parents):
        candidate = base.parent / "shared" / "data" / "ravdess"
        if candidate.is_dir():
            return candidate
    return None


def resolve_data_path(data: str | Path | None) -> Path:
    """The corpus path a command should use, or a clear error if there is none."""
    if data:
        return Path(data).expanduser()
    found = default_ravdess()
    if found is None:
        raise FileNotFoundError(
            f"no corpus given: pass --data DIR, set {RAVDESS_ENV}, or fetch RAVDESS with "
            "'specser data fetch ravdess --to DIR'"
        )
    return found


def default_cache_dir(configured: str = "") -> Path:
    if configured:
        return Path(configured).expanduser()
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env).expanduser()
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "specser"
