"""One baseline fold: inner-CV hyper-parameter search on the training part, then test.

The fold's validation part is given back to training: the inner CV (grouped by speaker
for speaker-independent protocols) does the model selection, on training data only.
The SVM's probabilities are Platt-scaled (sigmoid calibration on internal cross-validation
of the training part, then one SVM refit on all of it); predictions are their argmax.
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, StratifiedGroupKFold, StratifiedKFold

from specser.baselines.classifiers import GRIDS, build_pipeline, first_values
from specser.config import ExperimentConfig
from specser.runs.cv import FoldRunner
from specser.data.folds import GROUPED_PROTOCOLS
from specser.data.splits import Split
from specser.evaluation.metrics import compute_metrics
from specser.features.mfcc import mfcc_from_logmel, utterance_statistics
from specser.atomic import atomic_write_json
from specser.paths import default_cache_dir
from specser.features.prepare import PreparedCorpus

FEATURE_NAMES = {"mfcc": "MFCC", "egemaps": "eGeMAPS", "egemaps+mfcc": "eGeMAPS + MFCC"}


def baseline_label(cfg: ExperimentConfig) -> str:
    return f"{FEATURE_NAMES.get(cfg.baseline.features, cfg.baseline.features)} + {cfg.baseline.model.upper()}"


def utterance_features(cfg: ExperimentConfig, corpus: PreparedCorpus, progress: bool = True) -> dict[str, np.ndarray]:
    """One vector per utterance: MFCC statistics from the cached log-Mels, eGeMAPS functionals, or both
    side by side (the scaler then standardises each dimension alike)."""
    b = cfg.baseline
    if b.features not in FEATURE_NAMES:
        raise ValueError(f"unknown baseline.features {b.features!r}; choose one of {', '.join(FEATURE_NAMES)}")
    named, parts = b.features.split("+"), []
    if "egemaps" in named:
        from specser.features.egemaps import egemaps_features

        feats, skipped = egemaps_features(corpus.rows, default_cache_dir(cfg.data.cache_dir), cfg.data.max_duration_s, progress)
        if skipped:
            raise ValueError(f"eGeMAPS failed on {len(skipped)} files, first: {skipped[0]}")
        parts.append(feats)
    if "mfcc" in named:
        parts.append({r.utt_id: utterance_statistics(mfcc_from_logmel(corpus.features[r.utt_id], b.n_mfcc), b.deltas)
                      for r in corpus.rows})
    return {r.utt_id: np.concatenate([part[r.utt_id] for part in parts]) for r in corpus.rows}


def _inner_cv(cfg: ExperimentConfig, groups: np.ndarray):
    """Grouped by speaker when the outer protocol is: hyper-parameters then favour unseen voices."""
    if cfg.cv.protocol in GROUPED_PROTOCOLS and len(set(groups)) >= cfg.baseline.inner_folds:
        return StratifiedGroupKFold(cfg.baseline.inner_folds, shuffle=True, random_state=cfg.seed), groups
    return StratifiedKFold(cfg.baseline.inner_folds, shuffle=True, random_state=cfg.seed), None


def baseline_runner(cfg: ExperimentConfig, corpus: PreparedCorpus, progress: bool = True) -> FoldRunner:
    vectors = utterance_features(cfg, corpus, progress)
    labels = corpus.manifest.labels
    index = {label: i for i, label in enumerate(labels)}
    rows_by_id = corpus.rows_by_id

    def run(split: Split, folder: Path) -> dict:
        started = time.time()
        train_ids = sorted(split.train + split.val)
        x_train = np.stack([vectors[i] for i in train_ids])
        y_train = np.array([index[rows_by_id[i].label] for i in train_ids])
        groups = np.array([rows_by_id[i].speaker for i in train_ids])
        pipeline = build_pipeline(cfg.baseline.model, cfg.seed)
        grid = GRIDS[cfg.baseline.model]
        search_record: dict = {"searched": cfg.baseline.search}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            if cfg.baseline.search:
                inner, inner_groups = _inner_cv(cfg, groups)
                search = GridSearchCV(pipeline, grid, cv=inner, scoring="accuracy", n_jobs=cfg.baseline.n_jobs, refit=False)
                search.fit(x_train, y_train, groups=inner_groups)
                params = search.best_params_
                search_record |= {"inner_folds": cfg.baseline.inner_folds, "inner_cv_accuracy": float(search.best_score_),
                                  "grid": [{"params": _jsonable(p), "inner_cv_accuracy": float(s)}
                                           for p, s in zip(search.cv_results_["params"], search.cv_results_["mean_test_score"])]}
            else:
                params = first_values(grid)
            final = with_probabilities(clone(pipeline).set_params(**params), cfg.seed)
            final.fit(x_train, y_train)
        test_rows = [rows_by_id[i] for i in split.test]
        probs = final.predict_proba(np.stack([vectors[r.utt_id] for r in test_rows]))
        targets = np.array([index[r.label] for r in test_rows])
        metrics = compute_metrics(test_rows, targets, probs, labels)
        metrics["run"] = {
            "model": baseline_label(cfg), "protocol": split.protocol, "n_train": len(train_ids), "n_test": len(test_rows),
            "n_features": int(x_train.shape[1]), "params": _jsonable(params), "search": search_record,
            "wall_time_s": time.time() - started,
        }
        atomic_write_json(Path(folder) / "metrics.json", metrics)
        return metrics

    return run


def with_probabilities(pipeline, seed: int):
    """An SVC gives no probabilities of its own: wrap it in sigmoid (Platt) calibration."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.svm import SVC

    clf = pipeline.named_steps["clf"]
    if isinstance(clf, SVC):
        pipeline.steps[-1] = ("clf", CalibratedClassifierCV(clf, method="sigmoid", cv=5, ensemble=False))
    return pipeline


def _jsonable(params: dict) -> dict:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in params.items()}
