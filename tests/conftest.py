from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from tests.synth import make_ravdess_corpus

# oneDNN's AVX-512 kernels corrupt the heap on the tiny wav2vec2-style test encoders' convolutions (8
# channels, a 2-group positional convolution): glibc aborts with "corrupted size vs. prev_size" in
# mkldnn_convolution_backward_weights, or the process segfaults at exit (gdb, 2026-12-01, torch 2.13.0 CPU).
# Tests that build or run a tiny encoder (and the session fixtures they set up) use torch's own
# convolution kernels, which compute the same results; everything else keeps oneDNN, which trains the
# CNNs 2-3 times faster. SPECSER_TEST_MKLDNN=0 turns it off everywhere.
ONEDNN = os.environ.get("SPECSER_TEST_MKLDNN", "1") != "0"

# `make test` runs the suite in two pytest-xdist workers: most tests spend their time in Python (start-up,
# Lightning, plots, subprocesses), one core each. Each worker, and every command it starts, computes on one
# thread, so two workers never fight over the cores with two threads each.
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    torch.set_num_threads(1)

ENCODER_FIXTURES = {"encoder_corpus", "encoder_runs"}
ENCODER_TEST_FILES = ("encoders/", "export/test_onnx_encoder.py", "models/test_encoder_classifier.py")


def _runs_a_tiny_encoder(item: pytest.Item) -> bool:
    where = Path(str(item.path)).relative_to(Path(__file__).parent).as_posix()
    return (where.startswith(ENCODER_TEST_FILES) or item.get_closest_marker("tiny_encoder") is not None
            or bool(ENCODER_FIXTURES & set(getattr(item, "fixturenames", ()))))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    """Setup, call and teardown of each test run with oneDNN on or off, as `_runs_a_tiny_encoder` says."""
    torch.backends.mkldnn.enabled = ONEDNN and not _runs_a_tiny_encoder(item)
    yield
    torch.backends.mkldnn.enabled = ONEDNN


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Under `-n N --dist loadgroup` (as `make test` runs), tests that share an expensive fixture run in one
    worker, so it is built once, not once per worker: every tiny-encoder test in one group (their session
    fixtures train several models), and a module's tests together when they use a module-scoped fixture.

    Two conditions, both once unmet (every group split, both workers building these fixtures): the marks
    must be on the items before pytest-xdist's own modifyitems hook reads them (`tryfirst`; a conftest
    loaded at start-up is registered before xdist's worker plugin and would run after it), and xdist 3.8
    writes the group into `item._nodeid`, which pytest 9.2 no longer reads (constraints.txt pins 9.1.1)."""
    for item in items:
        if _runs_a_tiny_encoder(item):
            item.add_marker(pytest.mark.xdist_group("tiny_encoders"))
            continue
        fixtures = getattr(item, "_fixtureinfo", None)
        defs = fixtures.name2fixturedefs.values() if fixtures else ()
        if any(d[-1].scope == "module" for d in defs if d):
            item.add_marker(pytest.mark.xdist_group(item.module.__name__))
    # The slow tests first, so that the two workers do not end on one of them while the other idles.
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


def pytest_configure(config):
    config.addinivalue_line("markers", "tiny_encoder: the test builds or runs a tiny self-made encoder "
                            "(oneDNN off, see conftest)")
    config.addinivalue_line("markers", "slow: takes 20 s or more (it starts processes or trains several "
                            "models); runs first")


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
    # A CNN, whichever test asks first: with oneDNN even when that test is a tiny-encoder one (3x faster).
    during_test = torch.backends.mkldnn.enabled
    torch.backends.mkldnn.enabled = ONEDNN
    try:
        train_run(cfg, run_dir, progress=False)
    finally:
        torch.backends.mkldnn.enabled = during_test
    return run_dir


@pytest.fixture(scope="session")
def encoder_corpus(tmp_path_factory) -> Path:
    """Three speakers, three emotions (60 one-second files) for the encoder tests: the pipeline, not the
    accuracy, is under test."""
    root = tmp_path_factory.mktemp("encoder-corpus")
    make_ravdess_corpus(root, actors=range(1, 4), emotions=("neutral", "happy", "angry"))
    return root


@pytest.fixture(scope="session")
def encoder_runs(tmp_path_factory, encoder_corpus) -> dict[str, Path]:
    """family -> a frozen-encoder run on that family's tiny self-made encoder (`tests.encoders.tiny`), trained once."""
    pytest.importorskip("transformers", reason="encoders need the ssl extra: pip install 'specser[ssl]'")
    from specser.runs.train import train_run
    from tests.encoders.tiny import FAMILIES, encoder_config, make_tiny_encoder

    root = tmp_path_factory.mktemp("encoder-runs")
    runs = {}
    for family in FAMILIES:
        encoder = make_tiny_encoder(family, root / f"{family}-encoder")
        train_run(encoder_config(encoder_corpus, encoder, root / "cache", family), root / family, progress=False)
        runs[family] = root / family
    return runs
