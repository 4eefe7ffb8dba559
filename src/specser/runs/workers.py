"""Folds trained side by side in worker processes, under supervision: nothing outlives the command.

The parent starts at most `cv.parallel_folds` spawned processes and polls them. On SIGINT
or SIGTERM (Ctrl-C, `timeout`, a job scheduler, a container stop) it stops every worker:
SIGTERM first (Lightning finishes the batch in hand and stops; checkpoints of finished epochs
stay, so the fold resumes), SIGKILL for any still alive after a grace period. A worker whose
parent disappears (killed with SIGKILL) stops itself within a second.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path
from typing import Callable, Iterator

from specser.config import ExperimentConfig
from specser.data.folds import Fold
from specser.data.splits import Split
from specser.training.interrupt import TrainingInterrupted

GRACE_S = 10.0  # how long a stopped worker may take to finish its batch before SIGKILL


def _watch_parent(parent: int) -> None:
    """Exit this process as soon as its parent is gone (the worker was orphaned)."""
    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os.kill(os.getpid(), signal.SIGKILL)

    threading.Thread(target=watch, name="specser-parent-watch", daemon=True).start()


class ThreadShare:
    """The CPU cores divided among the fold processes running now, for folds whose `train.threads` is
    left to specser (0). Each worker reads it again at every epoch, so the last fold of an uneven round
    (5 folds, 2 at a time) takes both cores once the fold beside it has finished, instead of leaving
    one idle for a third of the CV."""

    def __init__(self, ctx, cores: int):
        self.cores = cores
        self.running = ctx.Value("i", 0)  # shared with the spawned workers

    def threads(self) -> int:
        return max(1, self.cores // max(1, self.running.value))

    def add(self, n: int) -> None:
        with self.running.get_lock():
            self.running.value += n


def _worker(pool_fold: Callable, config: dict, split: Split, folder: str, threads: "int | ThreadShare",
            parent: int) -> None:
    _watch_parent(parent)
    try:
        pool_fold(config, split, folder, threads)
    except (TrainingInterrupted, KeyboardInterrupt, SystemExit):
        os._exit(130)


def _stop(processes, grace_s: float = GRACE_S) -> None:
    for proc in processes:
        if proc.is_alive():
            proc.terminate()  # SIGTERM
    deadline = time.monotonic() + grace_s
    for proc in processes:
        proc.join(max(0.0, deadline - time.monotonic()))
        if proc.is_alive():
            proc.kill()
            proc.join()


class _StopRequested(KeyboardInterrupt):
    pass


def _raise_stop(signum, _frame) -> None:
    raise _StopRequested(f"signal {signum}")


def run_parallel(cfg: ExperimentConfig, pending: list[tuple[Fold, Split]], run_dir: Path, pool_fold: Callable,
                 fold_dir: Callable[[Path, int], Path]) -> Iterator[tuple[Fold, dict]]:
    """Train `pending` folds `cfg.cv.parallel_folds` at a time; yields (fold, metrics) as each finishes.

    Raises:
        TrainingInterrupted: stopped by SIGINT / SIGTERM; every worker has been stopped.
        RuntimeError: a worker failed (its traceback is on stderr); the others have been stopped.
    """
    import multiprocessing

    from specser.runs.folder import RunFolder

    if "ddp" in cfg.train.strategy:
        raise ValueError("cv.parallel_folds > 1 cannot be combined with a DDP strategy: choose one")
    workers = min(cfg.cv.parallel_folds, len(pending))
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    ctx = multiprocessing.get_context("spawn")
    share = None if cfg.train.threads else ThreadShare(ctx, cores)
    threads = cfg.train.threads or max(1, cores // workers)
    print(f"training {len(pending)} folds, {workers} at a time ({threads} CPU thread{'s' if threads > 1 else ''} each"
          f"{', more for a fold left training alone' if share and threads < cores else ''})")
    queue, running = list(pending), {}
    in_main = threading.current_thread() is threading.main_thread()  # only there can Python handle signals
    previous = signal.signal(signal.SIGTERM, _raise_stop) if in_main else None
    try:
        while queue or running:
            while queue and len(running) < workers:
                fold, split = queue.pop(0)
                proc = ctx.Process(target=_worker, name=f"specser-fold-{fold.index}", daemon=True,
                                   args=(pool_fold, cfg.to_dict(), split, str(fold_dir(run_dir, fold.index)),
                                         share or threads, os.getpid()))
                if share:
                    share.add(1)
                proc.start()
                running[proc] = fold
            time.sleep(0.2)
            for proc in [p for p in running if not p.is_alive()]:
                fold = running.pop(proc)
                if share:
                    share.add(-1)
                done = RunFolder(fold_dir(run_dir, fold.index)).finished_metrics()
                if proc.exitcode != 0 or done is None:
                    raise RuntimeError(f"fold {fold.index} failed in its worker process (exit code {proc.exitcode}); "
                                       "see the error above. Run the same command again to resume.")
                yield fold, done
    except KeyboardInterrupt as exc:
        _stop(list(running))
        raise TrainingInterrupted("cross-validation stopped; every fold worker has been stopped. Run the same "
                                  "command again to resume") from exc
    finally:
        _stop(list(running))
        if in_main:
            signal.signal(signal.SIGTERM, previous)
