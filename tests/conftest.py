from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.synth import make_ravdess_corpus

SHARED_RAVDESS = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "ravdess"


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Never write features into the user's real cache from a test."""
    monkeypatch.setenv("SPECSER_CACHE", str(tmp_path_factory.getbasetemp() / "feature-cache"))


@pytest.fixture(scope="session")
def synth_corpus(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("synth-ravdess")
    make_ravdess_corpus(root)
    return root


@pytest.fixture(scope="session")
def ravdess_dir() -> Path:
    """The real RAVDESS copy: SPECSER_RAVDESS or ../shared/data/ravdess; skip if absent."""
    path = Path(os.environ.get("SPECSER_RAVDESS", SHARED_RAVDESS))
    if not (path / "Actor_01").is_dir():
        pytest.skip(f"RAVDESS not found at {path} (set SPECSER_RAVDESS to run real-data tests)")
    return path


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory, synth_corpus) -> Path:
    """A real small model trained on the synthetic corpus, shared by the tests that need one."""
    from specser.config import load_config
    from specser.runs.train import train_run
    from tests.synth import FAST_OVERRIDES

    cache = tmp_path_factory.mktemp("run-cache")
    cfg = load_config(overrides=FAST_OVERRIDES + [f"data.path={synth_corpus}", f"data.cache_dir={cache}"])
    run_dir = tmp_path_factory.mktemp("runs") / "synth"
    train_run(cfg, run_dir, progress=False)
    return run_dir
