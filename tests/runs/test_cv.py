"""The cross-validation engine: summary schema, shared folds, resume after a kill, refusals."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from specser.baselines.run import baseline_runner
from specser.cli.main import app
from specser.config import load_config
from specser.evaluation.summaries import CVSummary
from specser.runs.cv import run_cv
from specser.runs.folder import RunFolderError
from tests.synth import FAST_OVERRIDES


def _cfg(corpus, *extra):
    return load_config(overrides=FAST_OVERRIDES + [f"data.path={corpus}", "baseline.n_jobs=1", *extra])


def _svm(cfg, corpus):
    return baseline_runner(cfg, corpus, progress=False)


def test_summary_schema_and_fold_files(synth_corpus, tmp_path):
    cfg = _cfg(synth_corpus, "cv.protocol=actor-5fold")
    summary = run_cv(cfg, tmp_path / "run", _svm, "MFCC + SVM", progress=False)
    saved = json.loads((tmp_path / "run" / "cv_summary.json").read_text())
    assert saved == json.loads(json.dumps(summary.to_dict()))
    for metric in ("accuracy", "uar", "macro_f1"):
        assert set(saved[metric]) == {"mean", "std", "per_fold"} and len(saved[metric]["per_fold"]) == 5
    assert set(saved["f1_per_class"]) == set(saved["labels"]) and "mean" in saved["f1_per_class"]["sad"]
    assert sum(map(sum, saved["confusion_matrix"])) == saved["run"]["n_files"] == 264
    assert saved["accuracy"]["mean"] > 0.8  # the synthetic classes are learnable by MFCC + SVM
    folds = json.loads((tmp_path / "run" / "folds.json").read_text())
    assert folds["protocol"] == "actor-5fold" and len(folds["folds"]) == 5
    report = (tmp_path / "run" / "report.md").read_text()
    assert "speaker-independent" in report and "Per class" in report and "cv_confusion_matrix.png" in report
    assert (tmp_path / "run" / "cv_confusion_matrix.png").stat().st_size > 1000


def test_killed_cv_resumes_only_unfinished_folds(synth_corpus, tmp_path):
    cfg = _cfg(synth_corpus, "cv.protocol=actor-5fold", "baseline.search=false")
    calls = []

    def flaky(c, corpus):
        inner = _svm(c, corpus)

        def run(split, folder):
            calls.append(folder.name)
            if folder.name == "fold_03" and len(calls) == 3:
                # Die mid-write: a partial metrics file must never count as a finished fold.
                folder.mkdir(parents=True, exist_ok=True)
                (folder / ".metrics.json.x.tmp").write_text('{"accuracy": 0.')
                raise KeyboardInterrupt
            return inner(split, folder)

        return run

    with pytest.raises(KeyboardInterrupt):
        run_cv(cfg, tmp_path / "run", flaky, "MFCC + SVM", progress=False)
    assert not (tmp_path / "run" / "cv_summary.json").exists()
    finished = {p.parent.name: p.stat().st_mtime_ns for p in (tmp_path / "run").glob("fold_*/metrics.json")}
    assert set(finished) == {"fold_01", "fold_02"}

    calls.clear()
    summary = run_cv(cfg, tmp_path / "run", flaky, "MFCC + SVM", progress=False)
    assert calls == ["fold_03", "fold_04", "fold_05"]
    assert summary.run.resumed_folds == [1, 2]
    assert {n: (tmp_path / "run" / n / "metrics.json").stat().st_mtime_ns for n in finished} == finished
    assert len(summary.accuracy.per_fold) == 5


def test_refuses_to_mix_configs_or_redo_a_finished_run(synth_corpus, tmp_path):
    cfg = _cfg(synth_corpus, "cv.protocol=actor-5fold", "baseline.search=false")
    run_cv(cfg, tmp_path / "run", _svm, "MFCC + SVM", progress=False)
    with pytest.raises(RunFolderError, match="already holds a finished"):
        run_cv(cfg, tmp_path / "run", _svm, "MFCC + SVM", progress=False)
    (tmp_path / "run" / "cv_summary.json").unlink()
    other = _cfg(synth_corpus, "cv.protocol=random-5fold", "baseline.search=false")
    with pytest.raises(RunFolderError, match="different config"):
        run_cv(other, tmp_path / "run", _svm, "MFCC + SVM", progress=False)
    summary = run_cv(other, tmp_path / "run", _svm, "MFCC + SVM", progress=False, overwrite=True)
    assert summary.run.protocol == "random-5fold" and summary.run.resumed_folds == []


@pytest.mark.slow
def test_specser_cv_killed_by_a_signal_resumes_and_baselines_share_its_folds(synth_corpus, tmp_path):
    """The real thing: SIGKILL `specser cv` after its first fold, start it again, get every fold.
    Then `specser baseline` on the same protocol and seed must test on exactly the same files."""
    out = tmp_path / "cv"
    sets = [a for s in FAST_OVERRIDES + ["train.max_epochs=1", "cv.n_folds=2"] for a in ("--set", s)]
    cmd = [sys.executable, "-m", "specser.cli.main", "cv", "--data", str(synth_corpus), "--protocol", "actor-5fold",
           "--out", str(out), "--no-progress", *sets]
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    first = out / "fold_01" / "metrics.json"
    deadline = time.time() + 120
    while not first.exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert first.exists(), "the first fold never finished"
    assert not (out / "cv_summary.json").exists(), "killed too late to test resuming"
    stamp = first.stat().st_mtime_ns
    # Started again in this process (the kill needed a process of its own; the resume does not).
    done = CliRunner().invoke(app, cmd[3:])
    assert done.exit_code == 0, done.output[-2000:]
    assert "fold 1/2: already finished" in done.output
    assert first.stat().st_mtime_ns == stamp
    summary = CVSummary.load(out / "cv_summary.json")
    assert len(summary.accuracy.per_fold) == 2 and 1 in summary.run.resumed_folds

    baseline = CliRunner().invoke(app, ["baseline", "--model", "svm", "--data", str(synth_corpus), "--protocol",
                                        "actor-5fold", "--out", str(tmp_path / "svm"), "--no-progress", *sets,
                                        "--set", "baseline.search=false", "--set", "baseline.n_jobs=1"])
    assert baseline.exit_code == 0, baseline.output[-2000:]
    nn, svm = (json.loads((d / "folds.json").read_text()) for d in (out, tmp_path / "svm"))
    assert nn == svm
    tested = [p["utt_id"] for k in range(1, 3)
              for p in json.loads((out / f"fold_{k:02d}" / "metrics.json").read_text())["predictions"]]
    assert sorted(tested) == sorted(i for f in nn["folds"] for i in f["test"])


@pytest.mark.slow
def test_fold_seed_keeps_the_folds_while_the_training_seed_changes(synth_corpus, tmp_path):
    """cv.fold_seed: CVs with other training seeds test the same clips in each fold (a seed ensemble on the
    CV's own test folds); without it the seed draws the folds too."""
    def folds(name, *extra):
        run_cv(_cfg(synth_corpus, "cv.protocol=actor-5fold", *extra), tmp_path / name, _svm, "MFCC + SVM", progress=False)
        return json.loads((tmp_path / name / "folds.json").read_text())

    base, kept, drawn = folds("a"), folds("b", "seed=7", "cv.fold_seed=42"), folds("c", "seed=7")
    assert kept == base and kept["seed"] == 42
    assert [f["test_speakers"] for f in drawn["folds"]] != [f["test_speakers"] for f in base["folds"]]


def test_parallel_folds_train_side_by_side_and_resume(synth_corpus, tmp_path, capsys):
    """cv.parallel_folds=2: folds train in two spawned processes; a rerun with another setting
    of this speed-only key resumes rather than refusing."""
    from specser.runs.cv import spec_resnet_runner, train_fold_in_process

    out = tmp_path / "cv"
    cfg = _cfg(synth_corpus, "cv.protocol=actor-5fold", "cv.n_folds=2", "train.max_epochs=1", "cv.parallel_folds=2")
    summary = run_cv(cfg, out, lambda c, corpus: spec_resnet_runner(c, corpus, False), "Spec-ResNet",
                     progress=False, pool_fold=train_fold_in_process)
    assert "training 2 folds, 2 at a time" in capsys.readouterr().out
    assert len(summary.accuracy.per_fold) == 2 and summary.run.n_files == 264
    for k in (1, 2):
        assert (out / f"fold_{k:02d}" / "model.specser").exists()
    (out / "cv_summary.json").unlink()
    (out / "fold_02" / "metrics.json").unlink()
    sequential = _cfg(synth_corpus, "cv.protocol=actor-5fold", "cv.n_folds=2", "train.max_epochs=1")
    again = run_cv(sequential, out, lambda c, corpus: spec_resnet_runner(c, corpus, False), "Spec-ResNet",
                   progress=False, pool_fold=train_fold_in_process, overwrite=False)
    assert again.run.resumed_folds == [1]


@pytest.mark.slow
def test_cv_on_a_folder_per_label_corpus_with_speaker_folders(synth_corpus, tmp_path):
    """Generalisation: the same protocol on a corpus in root/<label>/<speaker>/ layout, through the CLI."""
    from specser.corpus.manifest import load_manifest

    root = tmp_path / "folder-corpus"
    for i, row in enumerate(load_manifest(synth_corpus).rows):  # names that say nothing: the folders do
        target = root / row.label / f"spk{row.speaker}" / f"clip{i:04d}.wav"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.symlink_to(row.path)
    sets = FAST_OVERRIDES + ["train.max_epochs=1", "cv.n_folds=2"]
    args = ["cv", "--data", str(root), "--protocol", "actor-5fold", "--out", str(tmp_path / "cv"), "--no-progress",
            *[a for s in sets for a in ("--set", s)]]
    done = CliRunner().invoke(app, args)
    assert done.exit_code == 0, done.output[-2000:]
    summary = CVSummary.load(tmp_path / "cv" / "cv_summary.json")
    assert summary.run.corpus == "folder" and summary.run.speaker_independent
    folds = json.loads((tmp_path / "cv" / "folds.json").read_text())["folds"]
    tested = [s for f in folds for s in f["test_speakers"]]
    assert sorted(tested) == [f"spk{k:02d}" for k in range(1, 7)]  # each of the 6 speakers tested once

    flat = tmp_path / "flat"
    for i, row in enumerate(load_manifest(synth_corpus).rows[:60]):
        (flat / row.label).mkdir(parents=True, exist_ok=True)
        (flat / row.label / f"clip{i:04d}.wav").symlink_to(row.path)
    args[args.index(str(root))] = str(flat)
    args[args.index(str(tmp_path / "cv"))] = str(tmp_path / "cv-flat")
    refused = CliRunner().invoke(app, args)
    assert refused.exit_code != 0 and "root/<label>/<speaker>/" in refused.output


def _session_processes(sid: int) -> list[int]:
    """Live (not zombie) processes of session `sid`, from /proc."""
    alive = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == sid and fields[0] != "Z":  # fields: state ppid pgrp session ...
            alive.append(int(stat.parent.name))
    return alive


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc to list processes")
def test_sigterm_stops_cv_and_all_its_fold_workers(synth_corpus, tmp_path):
    """SIGTERM to `specser cv` alone (as `timeout` or a container stop sends it) stops the run and both
    fold workers within seconds; the folds keep their checkpoints, so the same command resumes."""
    out = tmp_path / "cv"
    sets = [a for s in FAST_OVERRIDES + ["train.max_epochs=200", "train.early_stopping_patience=200",
                                         "cv.parallel_folds=2", "cv.n_folds=2"] for a in ("--set", s)]
    cmd = [sys.executable, "-m", "specser.cli.main", "cv", "--data", str(synth_corpus), "--protocol", "actor-5fold",
           "--out", str(out), "--no-progress", *sets]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        deadline = time.time() + 120
        while time.time() < deadline and proc.poll() is None and \
                len(list(out.glob("fold_*/checkpoints/last.ckpt"))) < 2:
            time.sleep(0.1)
        assert len(list(out.glob("fold_*/checkpoints/last.ckpt"))) == 2, "the fold workers never started training"
        assert len(_session_processes(proc.pid)) >= 3  # the command and its two fold workers
        stopped = time.time()
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=30)
        assert proc.returncode == 130 and "every fold worker has been stopped" in stderr, stderr[-2000:]
        while _session_processes(proc.pid) and time.time() < stopped + 15:
            time.sleep(0.1)
        assert not _session_processes(proc.pid), "fold workers outlived the stopped command"
        assert time.time() - stopped < 15
        assert not (out / "cv_summary.json").exists() and (out / "config.yaml").exists()
    finally:
        if _session_processes(proc.pid):
            os.killpg(proc.pid, signal.SIGKILL)
