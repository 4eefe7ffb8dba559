"""Cross-validation into one run folder: the same engine runs Spec-ResNet and the baselines.

    RUN_DIR/config.yaml      the resolved config (protocol included)
    RUN_DIR/folds.json       the fold assignment: test speakers and file ids per fold
    RUN_DIR/fold_01/ ...     one complete run folder per fold; its metrics.json is written
                             last and atomically, so it alone marks the fold as finished
    RUN_DIR/cv_summary.json  mean / std / per-fold figures (written last of all)
    RUN_DIR/report.md, cv_confusion_matrix.png, cv_fold_curves.png

Started again with the same arguments, a killed run skips its finished folds, and a
fold that was mid-training resumes from its own `last.ckpt`.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Callable

import yaml

from specser.config import ExperimentConfig, from_dict, without_runtime_keys
from specser.corpus.manifest import write_manifest_csv
from specser.data.folds import GROUPED_PROTOCOLS, Fold, fold_split, make_folds
from specser.data.splits import Split
from specser.evaluation.cv_summary import summarize_folds
from specser.atomic import atomic_write_json
from specser.features.prepare import PreparedCorpus, prepare_corpus

FoldRunner = Callable[[Split, Path], dict]  # (split, fold folder) -> test metrics; writes fold/metrics.json


class CVFolderError(RuntimeError):
    pass


def fold_dir(run_dir: Path, index: int) -> Path:
    return Path(run_dir) / f"fold_{index:02d}"


def _check_folder(run_dir: Path, cfg: ExperimentConfig, overwrite: bool) -> None:
    if overwrite:
        for child in run_dir.glob("fold_*"):
            shutil.rmtree(child)
        for name in ("cv_summary.json", "folds.json", "config.yaml"):
            (run_dir / name).unlink(missing_ok=True)
        return
    if (run_dir / "cv_summary.json").exists():
        raise CVFolderError(f"{run_dir} already holds a finished cross-validation; choose another --out or pass --overwrite")
    saved = run_dir / "config.yaml"
    if saved.exists() and without_runtime_keys(yaml.safe_load(saved.read_text())) != cfg.outcome_dict():
        raise CVFolderError(f"{run_dir} holds an unfinished cross-validation with a different config; resume it with "
                            "the same arguments, choose another --out, or pass --overwrite")


def _write_folds(run_dir: Path, folds: list[Fold], protocol: str, seed: int) -> None:
    path = run_dir / "folds.json"
    record = {"protocol": protocol, "seed": seed, "folds": [f.to_dict() for f in folds]}
    if path.exists() and json.loads(path.read_text()) != record:
        raise CVFolderError(f"{path}: the folds of the unfinished run differ from the folds of this corpus "
                            "(did the corpus change?); pass --overwrite to start again")
    atomic_write_json(path, record)


def finished_metrics(folder: Path) -> dict | None:
    """A fold's metrics if it finished (metrics.json exists: it is written last, atomically)."""
    path = Path(folder) / "metrics.json"
    return json.loads(path.read_text()) if path.exists() else None


def run_cv(
    cfg: ExperimentConfig,
    run_dir: Path,
    runner_factory: Callable[[ExperimentConfig, PreparedCorpus], FoldRunner],
    model_label: str,
    progress: bool = True,
    overwrite: bool = False,
    finish: Callable[[Path, list[dict], dict], list[str]] | None = None,
    pool_fold: Callable[[dict, Split, str, int], dict] | None = None,
) -> dict:
    """Run (or resume) every fold of `cfg.cv.protocol` and aggregate them.

    Args:
        runner_factory: builds the per-fold trainer once the corpus is prepared.
        model_label: how reports and `specser compare` name this model.
        finish: optional hook writing extra plots; returns their file names.
        pool_fold: a module-level (picklable) function ``(config dict, split, fold folder, threads)
            -> metrics`` that trains one fold in a worker process; used when
            ``cv.parallel_folds > 1``.

    Returns:
        The cv_summary dict (also written to ``run_dir/cv_summary.json``).
    """
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    _check_folder(run_dir, cfg, overwrite)
    started = time.time()
    protocol = cfg.cv.protocol
    corpus = prepare_corpus(cfg, progress)
    folds = make_folds(corpus.rows, protocol, cfg.seed, cfg.cv.n_folds)
    _write_folds(run_dir, folds, protocol, cfg.seed)
    cfg.save(run_dir / "config.yaml")
    write_manifest_csv(corpus.manifest, run_dir / "manifest.csv")
    atomic_write_json(run_dir / "skipped.json", [{"path": p, "reason": r} for p, r in corpus.skipped])

    results: dict[int, dict] = {}
    resumed, pending = [], []
    for fold in folds:
        done = finished_metrics(fold_dir(run_dir, fold.index))
        if done is not None:
            print(f"fold {fold.index}/{len(folds)}: already finished (accuracy {done['accuracy']:.4f}), skipped")
            resumed.append(fold.index)
            results[fold.index] = done
        else:
            pending.append((fold, fold_split(fold, corpus.rows_by_id, protocol, cfg.data.val_size, cfg.seed, len(folds))))

    def report(fold: Fold, done: dict) -> None:
        print(f"fold {fold.index}/{len(folds)}: accuracy {done['accuracy']:.4f}  UA {done['uar']:.4f}  "
              f"macro-F1 {done['macro_f1']:.4f}")

    if pool_fold is not None and cfg.cv.parallel_folds > 1 and len(pending) > 1:
        for fold, done in _run_parallel(cfg, pending, run_dir, pool_fold, len(folds)):
            results[fold.index] = done
            report(fold, done)
    elif pending:
        runner = runner_factory(cfg, corpus)
        for fold, split in pending:
            folder = fold_dir(run_dir, fold.index)
            print(f"fold {fold.index}/{len(folds)}: train {len(split.train)} / val {len(split.val)} / test "
                  f"{len(split.test)} files; test speakers {', '.join(fold.test_speakers)}")
            done = runner(split, folder)
            if not done:  # a non-zero DDP rank: it trains every fold with rank 0, which writes the results
                continue
            results[fold.index] = finished_metrics(folder) or done  # the same record a resumed run reads
            report(fold, results[fold.index])

    if len(results) < len(folds):  # a non-zero DDP rank
        return {}
    fold_metrics = [results[f.index] for f in folds]
    fold_runs = [m.get("run", {}) for m in fold_metrics]
    run = {
        "run_name": run_dir.name, "model": model_label, "protocol": protocol, "preset": cfg.preset,
        "speaker_independent": protocol in GROUPED_PROTOCOLS, "n_folds": len(folds),
        "data_path": str(corpus.data_path), "corpus": corpus.manifest.corpus, "label_set": cfg.data.label_set,
        "n_files": len(corpus.rows), "n_skipped": len(corpus.skipped), "seed": cfg.seed,
        "folds": [{"fold": f.index, "test_speakers": f.test_speakers, "n_test": len(f.test),
                   "wall_time_s": r.get("wall_time_s"), "epochs": r.get("epochs"), "best_epoch": r.get("best_epoch"),
                   "params": r.get("params")}
                  for f, r in zip(folds, fold_runs)],
        "fold_wall_time_s": sum(r.get("wall_time_s") or 0.0 for r in fold_runs),
        "session_wall_time_s": time.time() - started, "resumed_folds": resumed,
    }
    summary = summarize_folds(fold_metrics, run)

    from specser.evaluation import plots
    from specser.evaluation.cv_report import render_cv_report
    from specser.evaluation.report import write_report

    plot_files = ["cv_confusion_matrix.png"]
    plots.plot_confusion(summary["confusion_matrix"], summary["labels"], run_dir / plot_files[0],
                         title=f"{model_label}, {protocol}: confusion summed over {len(folds)} folds")
    if finish is not None:
        plot_files += finish(run_dir, folds, summary)
    write_report(run_dir / "report.md", render_cv_report(summary, plot_files))
    atomic_write_json(run_dir / "cv_summary.json", summary)
    return summary


def _run_parallel(cfg: ExperimentConfig, pending: list[tuple[Fold, Split]], run_dir: Path,
                  pool_fold: Callable, n_folds: int):
    """Train pending folds `cfg.cv.parallel_folds` at a time in spawned processes; yields (fold, metrics)
    as they finish. Each process gets an equal share of the CPU threads."""
    import multiprocessing
    import os
    from concurrent.futures import ProcessPoolExecutor, as_completed

    if "ddp" in cfg.train.strategy:
        raise ValueError("cv.parallel_folds > 1 cannot be combined with a DDP strategy: choose one")
    workers = min(cfg.cv.parallel_folds, len(pending))
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    threads = cfg.train.threads or max(1, cores // workers)
    print(f"training {len(pending)} folds, {workers} at a time ({threads} CPU threads each)")
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = {pool.submit(pool_fold, cfg.to_dict(), split, str(fold_dir(run_dir, fold.index)), threads): fold
                   for fold, split in pending}
        for future in as_completed(futures):
            fold = futures[future]
            yield fold, finished_metrics(fold_dir(run_dir, fold.index)) or future.result()


_WORKER_CORPUS: dict[str, PreparedCorpus] = {}


def train_fold_in_process(config: dict, split: Split, folder: str, threads: int) -> dict:
    """`pool_fold` for Spec-ResNet: one fold in a worker process (the corpus comes from the cache)."""
    import torch

    from specser.runs.train import train_run

    torch.set_num_threads(threads)
    cfg = from_dict(ExperimentConfig, config)
    key = json.dumps([config["data"], config["features"]], sort_keys=True)
    if key not in _WORKER_CORPUS:
        _WORKER_CORPUS[key] = prepare_corpus(cfg, progress=False)
    return train_run(cfg, Path(folder), progress=False, split=split, corpus=_WORKER_CORPUS[key])


def spec_resnet_runner(cfg: ExperimentConfig, corpus: PreparedCorpus, progress: bool = True) -> FoldRunner:
    """Each fold is a complete `train_run` folder (checkpoints, plots, model.specser)."""
    from specser.runs.train import train_run

    def run(split: Split, folder: Path) -> dict:
        return train_run(cfg, folder, progress=progress, split=split, corpus=corpus)

    return run


def fold_curves(run_dir: Path, folds: list[Fold], summary: dict) -> list[str]:
    """Per-fold training curves from each fold's CSV log."""
    from specser.evaluation import plots

    logs = {f.index: plots.read_epoch_log(fold_dir(run_dir, f.index) / "logs" / "metrics.csv") for f in folds}
    plots.plot_fold_curves(logs, run_dir / "cv_fold_curves.png")
    return ["cv_fold_curves.png"]
