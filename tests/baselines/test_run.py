"""Baselines: real scikit-learn pipelines, tuned on training data only, evaluated like Spec-ResNet."""

import dataclasses
import json

import numpy as np
import pytest

from specser.baselines.classifiers import GRIDS, build_pipeline
from specser.baselines.run import baseline_runner, utterance_features
from specser.config import load_config
from specser.runs.cv import run_cv
from specser.features.prepare import prepare_corpus
from tests.synth import FAST_OVERRIDES


def _cfg(corpus, *extra):
    return load_config(overrides=FAST_OVERRIDES + [f"data.path={corpus}", "baseline.n_jobs=1", *extra])


@pytest.mark.slow
@pytest.mark.parametrize("model", ["svm", "mlp"])
def test_tuned_baseline_learns_and_records_its_search(synth_corpus, tmp_path, model, monkeypatch):
    # Two points of each grid: the search and its record are under test, not the grid's values (the full
    # MLP grid is 34 fits of a 512-256 network here, 50 s).
    small = {"svm": {"clf__C": [10.0, 1.0], "clf__gamma": ["scale"]},
             "mlp": {"clf__hidden_layer_sizes": [(512, 256)], "clf__alpha": [1.0, 3.0]}}
    monkeypatch.setitem(GRIDS, model, small[model])
    cfg = _cfg(synth_corpus, "cv.protocol=actor-5fold", "cv.n_folds=2", "baseline.inner_folds=2", f"baseline.model={model}")
    summary = run_cv(cfg, tmp_path / model, lambda c, corpus: baseline_runner(c, corpus, False), model, progress=False)
    assert summary.accuracy.mean > 0.8 and summary.uar.mean > 0.75
    fold = json.loads((tmp_path / model / "fold_01" / "metrics.json").read_text())
    search = fold["run"]["search"]
    assert search["searched"] and len(search["grid"]) == np.prod([len(v) for v in GRIDS[model].values()])
    assert fold["run"]["n_features"] == 6 * 40  # mean and std of 40 MFCCs, deltas and delta-deltas
    chosen = fold["run"]["params"]
    assert all((list(v) if isinstance(v, tuple) else v) in [list(g) if isinstance(g, tuple) else g for g in GRIDS[model][k]]
               for k, v in chosen.items())
    probs = [p["probabilities"] for p in fold["predictions"]]
    assert np.allclose([sum(p.values()) for p in probs], 1.0, atol=1e-4)


def test_fixed_hyper_parameters_skip_the_search(synth_corpus, tmp_path):
    cfg = _cfg(synth_corpus, "cv.protocol=random-5fold", "baseline.search=false", "baseline.deltas=false")
    run_cv(cfg, tmp_path / "run", lambda c, corpus: baseline_runner(c, corpus, False), "svm", progress=False)
    fold = json.loads((tmp_path / "run" / "fold_02" / "metrics.json").read_text())
    assert fold["run"]["search"] == {"searched": False} and fold["run"]["params"]["clf__C"] == GRIDS["svm"]["clf__C"][0]
    assert fold["run"]["n_features"] == 2 * 40


def test_scaler_statistics_come_from_training_data_only():
    rng = np.random.default_rng(0)
    x_train, y_train = rng.normal(size=(60, 5)), np.repeat([0, 1, 2], 20)
    pipe = build_pipeline("svm", seed=0).fit(x_train, y_train)
    np.testing.assert_allclose(pipe.named_steps["scale"].mean_, x_train.mean(axis=0))
    with pytest.raises(ValueError, match="unknown baseline"):
        build_pipeline("forest", seed=0)


def test_egemaps_functionals_are_cached(synth_corpus, tmp_path):
    pytest.importorskip("opensmile", reason="eGeMAPS needs the optional opensmile package (specser[baselines])")
    cfg = _cfg(synth_corpus, "baseline.features=egemaps", f"data.cache_dir={tmp_path / 'cache'}")
    corpus = prepare_corpus(cfg, progress=False)
    corpus.rows = corpus.rows[:6]
    feats = utterance_features(cfg, corpus, progress=False)
    assert len(feats) == 6 and all(v.shape == (88,) and np.isfinite(v).all() for v in feats.values())
    assert len(list((tmp_path / "cache").glob("egemaps-v02-16000/*.npy"))) == 6
    again = utterance_features(cfg, corpus, progress=False)
    assert all(np.array_equal(feats[k], again[k]) for k in feats)


def test_egemaps_and_mfcc_together_put_both_vectors_side_by_side(synth_corpus, tmp_path):
    pytest.importorskip("opensmile", reason="eGeMAPS needs the optional opensmile package (specser[baselines])")
    cache = f"data.cache_dir={tmp_path / 'cache'}"
    both_cfg, egemaps_cfg, mfcc_cfg = (_cfg(synth_corpus, f"baseline.features={f}", cache)
                                       for f in ("egemaps+mfcc", "egemaps", "mfcc"))
    corpus = prepare_corpus(both_cfg, progress=False)
    corpus.rows = corpus.rows[:4]
    both, egemaps, mfcc = (utterance_features(c, corpus, progress=False) for c in (both_cfg, egemaps_cfg, mfcc_cfg))
    for k, v in both.items():
        assert v.shape == (88 + 6 * 40,) and np.array_equal(v, np.concatenate([egemaps[k], mfcc[k]]))
    with pytest.raises(ValueError, match="unknown baseline.features"):
        utterance_features(dataclasses.replace(both_cfg, baseline=dataclasses.replace(both_cfg.baseline, features="lpc")),
                           corpus, progress=False)
