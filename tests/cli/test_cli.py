"""The `specser` command line, end to end, on synthetic audio."""

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from specser.cli.main import app
from tests.synth import FAST_OVERRIDES

runner = CliRunner()


def _sets(*extra):
    return [arg for s in (*FAST_OVERRIDES, *extra) for arg in ("--set", s)]


@pytest.mark.parametrize("command", [[], ["data"], ["data", "fetch"], ["features"], ["train"], ["evaluate"], ["models"],
                                     ["cv"], ["baseline"], ["compare"], ["predict"], ["adapt"]])
def test_every_command_has_help(command):
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0 and "Usage" in result.output


def test_help_is_fast_and_imports_no_torch():
    code = "import sys; from specser.cli.main import app; print('torch' in sys.modules, 'lightning' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_python_dash_m_runs_the_same_cli():
    result = subprocess.run([sys.executable, "-m", "specser", "predict", "--help"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "Usage: specser predict" in result.stdout


def test_data_summary(synth_corpus):
    result = runner.invoke(app, ["data", "--data", str(synth_corpus)])
    assert result.exit_code == 0, result.output
    assert "264 files, 6 labels" in result.output
    assert "neutral" in result.output and "sample rates: 16000 Hz x264" in result.output
    assert "could not be parsed: 0 files" in result.output


def test_train_then_evaluate(synth_corpus, tmp_path):
    out = tmp_path / "run"
    result = runner.invoke(app, ["train", "--data", str(synth_corpus), "--out", str(out), "--no-progress",
                                 "--test-speakers", "05,06", *_sets("train.max_epochs=3")])
    assert result.exit_code == 0, result.output
    assert "test accuracy" in result.output and (out / "model.specser").is_file()
    trained = json.loads((out / "metrics.json").read_text())

    again = runner.invoke(app, ["train", "--data", str(synth_corpus), "--out", str(out), "--no-progress"])
    assert again.exit_code == 2 and "already holds a finished run" in again.output

    result = runner.invoke(app, ["evaluate", str(out), "--no-progress"])
    assert result.exit_code == 0, result.output
    evaluated = json.loads((out / "evaluation" / "metrics.json").read_text())
    assert evaluated["accuracy"] == pytest.approx(trained["accuracy"])
    assert evaluated["n"] == trained["n"]
    assert evaluated["calibration"]["ece"] == pytest.approx(trained["calibration"]["ece"])
    assert (out / "evaluation" / "reliability.png").is_file()
    assert "How far to trust its probabilities" in (out / "evaluation" / "report.md").read_text()

    result = runner.invoke(app, ["evaluate", str(out), "--all", "--out", str(tmp_path / "all"), "--no-progress"])
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "all" / "metrics.json").read_text())["n"] == 264


@pytest.mark.parametrize("args, message", [
    (["train", "--out", "X", "--set", "train.max_epoch=1"], "unknown config key"),
    (["train", "--out", "X", "--data", "/no/such/corpus"], "does not exist"),
    (["data", "--data", "/no/such/corpus"], "does not exist"),
    (["data", "fetch", "iemocap", "--to", "X"], "unknown corpus 'iemocap'; choose one of ravdess, nemo"),
    (["evaluate", "/no/such/run"], "not a run folder"),
])
def test_clear_errors(args, message, tmp_path):
    args = [str(tmp_path / a) if a == "X" else a for a in args]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert message in result.output


def test_features_command_reports_cache_and_skips(synth_corpus, tmp_path):
    import shutil

    corpus = tmp_path / "corpus"
    shutil.copytree(synth_corpus / "Actor_01", corpus / "Actor_01")
    (corpus / "Actor_01" / "03-01-05-01-01-01-09.wav").write_bytes(b"RIFFjunk")
    args = ["features", "--data", str(corpus), "--no-progress", "--set", f"data.cache_dir={tmp_path / 'c'}",
            "--images", str(tmp_path / "png")]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    assert "44 files ready" in first.output and "44 computed, 0 from cache" in first.output
    assert "03-01-05-01-01-01-09.wav: corrupt or unsupported audio" in first.output
    assert len(list((tmp_path / "png").glob("*_new.png"))) == 44
    second = runner.invoke(app, args)
    assert "0 computed, 44 from cache" in second.output


def test_baseline_then_compare(synth_corpus, tmp_path):
    out = tmp_path / "svm"
    result = runner.invoke(app, ["baseline", "--data", str(synth_corpus), "--protocol", "loso", "--model", "svm",
                                 "--out", str(out), "--no-progress", *_sets("baseline.search=false")])
    assert result.exit_code == 0, result.output
    assert "loso, 6 folds: accuracy" in result.output
    result = runner.invoke(app, ["compare", str(out), "--out", str(tmp_path / "cmp.md")])
    assert result.exit_code == 0 and "| loso | ravdess6 | MFCC + SVM |" in result.output


@pytest.mark.parametrize("args, message", [
    (["cv", "--protocol", "random-3fold"], "'random-3fold' is not allowed; choose one of random-5fold"),
    (["cv", "--protocol", "emobox"], "emobox: fold with test actors"),
    (["baseline", "--model", "forest"], "'forest' is not allowed; choose one of svm, mlp"),
])
def test_cv_errors_are_one_clear_line(synth_corpus, tmp_path, args, message):
    result = runner.invoke(app, [*args, "--data", str(synth_corpus), "--out", str(tmp_path / "r"), "--no-progress", *_sets()])
    assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output


def test_evaluate_under_recording_conditions(trained_run, tmp_path):
    import json

    result = runner.invoke(app, ["evaluate", str(trained_run), "--out", str(tmp_path), "--no-progress",
                                 "--conditions", "clean,gain -20 dB,babble 20 dB SNR,mains hum 60 Hz, 20 dB below speech"])
    assert result.exit_code == 0, result.output
    record = json.loads((tmp_path / "robustness.json").read_text())
    assert list(record["conditions"]) == ["clean", "gain -20 dB", "babble 20 dB SNR", "mains hum 60 Hz, 20 dB below speech"]
    clean = record["conditions"]["clean"]
    assert clean["agreement"] == 1.0 and clean["refused"] == 0 and record["n"] > 0
    assert "by_corpus" not in clean  # one corpus: the pooled figures are its own
    assert "| gain -20 dB |" in (tmp_path / "robustness.md").read_text()
    bad = runner.invoke(app, ["evaluate", str(trained_run), "--out", str(tmp_path), "--conditions", "underwater"])
    assert bad.exit_code == 2 and "unknown condition 'underwater'" in bad.output
