"""Lightning DDP on CPU (gloo): `specser cv` in 2 processes goes through every fold together and learns."""

import json
import subprocess
import sys

import pytest

from specser.inference.model_file import ModelFile
from tests.synth import FAST_OVERRIDES


@pytest.mark.slow
def test_two_process_ddp_cross_validation_learns_and_rank_zero_alone_reports(synth_corpus, tmp_path):
    """One command covers DDP training and the CV loop around it: both processes go through every fold, each fold
    learns to the single-process learning test's bar, rank 0 evaluates whole test splits and alone writes."""
    out = tmp_path / "cv"
    sets = FAST_OVERRIDES + ["cv.n_folds=2", "train.devices=2", "train.strategy=ddp", "train.accelerator=cpu"]
    cmd = [sys.executable, "-m", "specser.cli.main", "cv", "--data", str(synth_corpus), "--protocol", "actor-5fold",
           "--out", str(out), "--no-progress", *[a for s in sets for a in ("--set", s)]]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    printed = done.stdout + done.stderr
    assert "MEMBER: 2/2" in printed, "a second process did not join"  # the process group lives through the folds
    assert done.stdout.count("run folder:") == 1 and done.stdout.count("fold 2/2: accuracy") == 1  # rank 1 stays quiet
    summary = json.loads((out / "cv_summary.json").read_text())
    assert len(summary["accuracy"]["per_fold"]) == 2 and summary["run"]["n_files"] == 264
    folds = json.loads((out / "folds.json").read_text())["folds"]
    for k, fold in enumerate(folds, start=1):
        metrics = json.loads((out / f"fold_{k:02d}" / "metrics.json").read_text())
        assert metrics["n"] == len(fold["test"])  # rank 0 evaluated the whole test split, not a shard
        assert metrics["accuracy"] >= 0.6, metrics["accuracy"]  # chance: 17 %
        assert metrics["history"]["val_loss"]
        assert ModelFile.load(out / f"fold_{k:02d}" / "model.specser").labels == metrics["labels"]
