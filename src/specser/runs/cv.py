"""Cross-validation into one run folder: the same engine runs Spec-ResNet and the baselines.

    RUN_DIR/config.yaml      the resolved config (protocol included)
    RUN_DIR/folds.json       the fold assignment: test speakers and file ids per fold
    RUN_DIR/fold_01/ ...     one complete run folder per fold; its metrics.json is written
                             last and atomically, so it alone marks the fold as finished
    RUN_DIR/cv_summary.json  mean / std / per-fold figures (written last of all)
    RUN_DIR/report.md, cv_confusion_matrix.png, cv_fold_curves.png

Started again with the same arguments, a stopped run skips its finished folds, and a
fold that was mid-training resumes from its own `last.ckpt`.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Callable, Iterator

from specser.config import ExperimentConfig, from_dict
from specser.data.folds import GROUPED_PROTOCOLS, Fold, fold_split, make_folds
from specser.data.splits import Split, with_extra_train
from specser.evaluation.cv_summary import summarize_folds
from specser.evaluation.summaries import CVRun, CVSummary, FoldRecord
from specser.features.prepare import PreparedCorpus, prepare_corpus
from specser.runs.folder import RunFolder, RunFolderError

FoldRunner = Callable[[Split, Path], dict]  # (split, fold folder) -> test metrics; writes fold/metrics.json


def fold_dir(run_dir: Path, index: int) -> Path:
    return Path(run_dir) / f"fold_{index:02d}"


def finished_metrics(folder: Path) -> dict | None:
    """A fold's metrics if it finished (metrics.json exists: it is written last, atomically)."""
    return RunFolder(folder).finished_metrics()


def _write_folds(folder: RunFolder, folds: list[Fold], protocol: str, seed: int) -> None:
    path = folder / "folds.json"
    record = {"protocol": protocol, "seed": seed, "folds": [f.to_dict() for f in folds]}
    if path.exists() and json.loads(path.read_text()) != record:
        raise RunFolderError(f"{path}: the folds of the unfinished run differ from the folds of this corpus "
                             "(did the corpus change?); pass --overwrite to start again")
    folder.write_json("folds.json", record)


def _report_fold(fold: Fold, n_folds: int, done: dict) -> None:
    print(f"fold {fold.index}/{n_folds}: accuracy {done['accuracy']:.4f}  UA {done['uar']:.4f}  "
          f"macro-F1 {done['macro_f1']:.4f}")


def _sequential(cfg: ExperimentConfig, corpus: PreparedCorpus, pending: list[tuple[Fold, Split]], folder: RunFolder,
                runner_factory, n_folds: int) -> Iterator[tuple[Fold, dict]]:
    runner = runner_factory(cfg, corpus)
    for fold, split in pending:
        print(f"fold {fold.index}/{n_folds}: train {len(split.train)} / val {len(split.val)} / test "
              f"{len(split.test)} files; test speakers {', '.join(fold.test_speakers)}")
        done = runner(split, fold_dir(folder.path, fold.index))
        if done:  # empty on a non-zero DDP rank: rank 0 writes the results
            yield fold, finished_metrics(fold_dir(folder.path, fold.index)) or done


def run_cv(
    cfg: ExperimentConfig,
    run_dir: Path,
    runner_factory: Callable[[ExperimentConfig, PreparedCorpus], FoldRunner],
    model_label: str,
    progress: bool = True,
    overwrite: bool = False,
    finish: Callable[[Path, list[Fold], CVSummary], list[str]] | None = None,
    pool_fold: Callable[[dict, Split, str, int], dict] | None = None,
) -> CVSummary | None:
    """Run (or resume) every fold of `cfg.cv.protocol` and aggregate them.

    Args:
        runner_factory: builds the per-fold trainer once the corpus is prepared.
        model_label: how reports and `specser compare` name this model.
        finish: optional hook writing extra plots; returns their file names.
        pool_fold: a module-level (picklable) function ``(config dict, split, fold folder, threads)
            -> metrics`` that trains one fold in a worker process; used when
            ``cv.parallel_folds > 1``. `threads` is an int, or a `ThreadShare` when
            `train.threads` is 0.

    Returns:
        The summary (also written to ``run_dir/cv_summary.json``); None on a DDP rank other than 0.
    """
    folder = RunFolder(run_dir, "cv").open(cfg, overwrite)
    started = time.time()
    protocol = cfg.cv.protocol
    corpus = prepare_corpus(cfg, progress)
    fold_seed = cfg.seed if cfg.cv.fold_seed is None else cfg.cv.fold_seed
    folds = make_folds(corpus.main_rows, protocol, fold_seed, cfg.cv.n_folds)
    _write_folds(folder, folds, protocol, fold_seed)
    folder.write_start(cfg, corpus)

    results: dict[int, dict] = {}
    pending: list[tuple[Fold, Split]] = []
    for fold in folds:
        done = finished_metrics(fold_dir(folder.path, fold.index))
        if done is not None:
            print(f"fold {fold.index}/{len(folds)}: already finished (accuracy {done['accuracy']:.4f}), skipped")
            results[fold.index] = done
        else:
            split = fold_split(fold, corpus.rows_by_id, protocol, cfg.data.val_size, cfg.seed, len(folds),
                               cfg.data.val_split)
            pending.append((fold, with_extra_train(split, corpus.extra_train)))
    resumed = sorted(results)
    if pool_fold is not None and cfg.cv.parallel_folds > 1 and len(pending) > 1:
        from specser.runs.workers import run_parallel

        finished = run_parallel(cfg, pending, folder.path, pool_fold, fold_dir)
    else:
        finished = _sequential(cfg, corpus, pending, folder, runner_factory, len(folds))
    for fold, done in finished:
        results[fold.index] = done
        _report_fold(fold, len(folds), done)
    if len(results) < len(folds):  # a non-zero DDP rank
        return None
    fold_metrics = [results[f.index] for f in folds]
    summary = summarize_folds(fold_metrics, _cv_run(cfg, folder, corpus, folds, fold_metrics, model_label,
                                                    started, resumed))
    _write_summary(folder, summary, folds, finish)
    return summary


def _cv_run(cfg: ExperimentConfig, folder: RunFolder, corpus: PreparedCorpus, folds: list[Fold],
            fold_metrics: list[dict], model_label: str, started: float, resumed: list[int]) -> CVRun:
    fold_runs = [m.get("run", {}) for m in fold_metrics]  # Spec-ResNet's RunSummary, or a baseline's record
    records = [FoldRecord(f.index, f.test_speakers, len(f.test), r.get("wall_time_s"), r.get("epochs"),
                          r.get("best_epoch"), r.get("params"), r.get("val_accuracy"), r.get("val_by_speaker"))
               for f, r in zip(folds, fold_runs)]
    return CVRun(
        run_name=folder.path.name, model=model_label, protocol=cfg.cv.protocol, preset=cfg.preset,
        speaker_independent=cfg.cv.protocol in GROUPED_PROTOCOLS, n_folds=len(folds),
        data_path=str(corpus.data_path), corpus=corpus.manifest.corpus, label_set=cfg.data.label_set,
        n_files=len(corpus.main_rows), n_skipped=len(corpus.skipped), seed=cfg.seed, folds=records,
        fold_wall_time_s=sum(r.get("wall_time_s") or 0.0 for r in fold_runs),
        session_wall_time_s=time.time() - started, resumed_folds=resumed,
        speaker_norm=cfg.features.speaker_norm)


def _write_summary(folder: RunFolder, summary: CVSummary, folds: list[Fold], finish) -> None:
    """Plots and report.md, then cv_summary.json (last: it marks the cross-validation finished)."""
    from specser.evaluation import plots
    from specser.evaluation.cv_report import render_cv_report
    from specser.evaluation.report import write_report

    run = summary.run
    plot_files = ["cv_confusion_matrix.png"]
    plots.plot_confusion(summary.confusion_matrix, summary.labels, folder / plot_files[0],
                         title=f"{run.model}, {run.protocol}: confusion summed over {len(folds)} folds")
    if finish is not None:
        plot_files += finish(folder.path, folds, summary)
    write_report(folder / "report.md", render_cv_report(summary, plot_files))
    folder.write_json("cv_summary.json", summary.to_dict())


_WORKER_CORPUS: dict[str, PreparedCorpus] = {}


def train_fold_in_process(config: dict, split: Split, folder: str, threads) -> dict:
    """`pool_fold` for Spec-ResNet: one fold in a worker process (the corpus comes from the cache), on
    `threads` CPU threads (an int), or on its share of the cores (a `ThreadShare`), read at every epoch."""
    import torch

    from specser.runs.train import train_run
    from specser.runs.workers import ThreadShare
    from specser.training.fit import FollowThreadShare

    share = threads if isinstance(threads, ThreadShare) else None
    torch.set_num_threads(share.threads() if share else threads)
    cfg = from_dict(ExperimentConfig, config)
    key = json.dumps([config["data"], config["features"]], sort_keys=True)
    if key not in _WORKER_CORPUS:
        _WORKER_CORPUS[key] = prepare_corpus(cfg, progress=False)
    return train_run(cfg, Path(folder), progress=False, split=split, corpus=_WORKER_CORPUS[key],
                     callbacks=[FollowThreadShare(share.threads)] if share else [])


def spec_resnet_runner(cfg: ExperimentConfig, corpus: PreparedCorpus, progress: bool = True) -> FoldRunner:
    """Each fold is a complete `train_run` folder (checkpoints, plots, model.specser)."""
    from specser.runs.train import train_run

    def run(split: Split, folder: Path) -> dict:
        return train_run(cfg, folder, progress=progress, split=split, corpus=corpus)

    return run


def fold_curves(run_dir: Path, folds: list[Fold], summary: CVSummary) -> list[str]:
    """Per-fold training curves from each fold's CSV log."""
    from specser.evaluation import plots

    logs = {f.index: plots.read_epoch_log(fold_dir(run_dir, f.index) / "logs" / "metrics.csv") for f in folds}
    plots.plot_fold_curves(logs, run_dir / "cv_fold_curves.png")
    return ["cv_fold_curves.png"]
