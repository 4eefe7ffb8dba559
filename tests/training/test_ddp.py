"""Lightning DDP on CPU (gloo): `specser train` in 2 processes learns as well as in one."""

import json
import subprocess
import sys

import pytest

from specser.inference.model_file import ModelFile
from tests.synth import FAST_OVERRIDES


@pytest.mark.slow
def test_two_process_ddp_training_on_cpu(synth_corpus, trained_run, tmp_path):
    """Same config as the single-process `trained_run` fixture, in 2 processes: same quality."""
    out = tmp_path / "ddp"
    sets = FAST_OVERRIDES + ["train.devices=2", "train.strategy=ddp", "train.accelerator=cpu"]
    cmd = [sys.executable, "-m", "specser.cli.main", "train", "--data", str(synth_corpus), "--out", str(out),
           "--no-progress", *[a for s in sets for a in ("--set", s)]]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "MEMBER: 2/2" in done.stdout + done.stderr, "a second process did not join"
    assert done.stdout.count("run folder:") == 1  # rank 0 reports, rank 1 stays quiet
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["accuracy"] >= 0.6  # the single-process learning test's bar (chance: 17 %)
    single = json.loads((trained_run / "metrics.json").read_text())
    print(f"test accuracy: 1 process {single['accuracy']:.3f}, 2 DDP processes {metrics['accuracy']:.3f}")
    assert metrics["accuracy"] >= single["accuracy"] - 0.1, (metrics["accuracy"], single["accuracy"])
    assert metrics["n"] == single["n"]  # rank 0 evaluated the whole test split, not a shard
    assert metrics["history"]["val_loss"]
    assert ModelFile.load(out / "model.specser").labels == metrics["labels"]


@pytest.mark.slow
def test_two_process_ddp_cross_validation(synth_corpus, tmp_path):
    """Both processes go through every fold together; rank 0 alone writes the summary."""
    out = tmp_path / "cv"
    sets = FAST_OVERRIDES + ["train.max_epochs=1", "cv.n_folds=2", "train.devices=2", "train.strategy=ddp",
                             "train.accelerator=cpu"]
    cmd = [sys.executable, "-m", "specser.cli.main", "cv", "--data", str(synth_corpus), "--protocol", "actor-5fold",
           "--out", str(out), "--no-progress", *[a for s in sets for a in ("--set", s)]]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads((out / "cv_summary.json").read_text())
    assert len(summary["accuracy"]["per_fold"]) == 2 and summary["run"]["n_files"] == 264
