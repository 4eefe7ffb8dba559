"""`specser predict` on files, folders and globs, in every format, with bad files in the mix."""

import csv
import io
import json
import shutil

import numpy as np
import pytest
import soundfile as sf
from typer.testing import CliRunner

from specser.cli.main import app
from tests.synth import emotional_tone

runner = CliRunner()


@pytest.fixture(scope="module")
def clips(tmp_path_factory, synth_corpus):
    root = tmp_path_factory.mktemp("clips")
    for src in sorted(synth_corpus.glob("Actor_01/*.wav"))[:5]:
        shutil.copy(src, root / src.name)
    (root / "nested").mkdir()
    rng = np.random.default_rng(0)
    long = np.concatenate([emotional_tone(c, 1, rng, seconds=1.0) for c in ("01", "05", "05", "08")])
    sf.write(root / "nested" / "long.flac", long, 16000)
    (root / "broken.wav").write_bytes(b"RIFF....WAVE not really")
    sf.write(root / "silent.wav", np.zeros(8000, dtype=np.float32), 16000)
    return root


def _predict(trained_run, *args):
    return runner.invoke(app, ["predict", str(trained_run / "model.specser"), *args, "--no-progress"])


def test_folder_json_with_timeline_and_skips(trained_run, clips):
    result = _predict(trained_run, str(clips), "--format", "json", "--out", str(clips.parent / "p.json"))
    assert result.exit_code == 1  # two files could not be read
    assert "skipped" in result.output and "broken.wav" in result.output and "silent" in result.output
    rows = json.loads((clips.parent / "p.json").read_text())
    assert len(rows) == 6
    long = next(r for r in rows if r["path"].endswith("long.flac"))
    assert long["duration_s"] == pytest.approx(4.0) and len(long["timeline"]) == 7
    assert all(abs(sum(r["probabilities"].values()) - 1) < 1e-4 for r in rows)


def test_csv_glob_keep_going_and_plot(trained_run, clips, tmp_path):
    result = _predict(trained_run, str(clips / "**" / "*.*"), "--format", "csv", "--keep-going", "--plot", str(tmp_path))
    assert result.exit_code == 0, result.output
    table = list(csv.reader(io.StringIO(result.stdout)))
    assert table[0][:4] == ["path", "label", "duration_s", "segments"] and len(table) == 7
    assert (tmp_path / "long.timeline.png").stat().st_size > 5000


def test_table_and_bad_arguments(trained_run, clips, tmp_path):
    one = sorted(clips.glob("*-01.wav"))[0]
    result = _predict(trained_run, str(one))
    assert result.exit_code == 0 and one.name in result.output and "surprised" in result.output
    assert _predict(trained_run, str(tmp_path / "nope.wav")).exit_code == 1
    missing_model = runner.invoke(app, ["predict", str(tmp_path / "none.specser"), str(one)])
    assert missing_model.exit_code == 2 and "model file not found" in missing_model.output
    assert _predict(trained_run, str(one), "--format", "xml").exit_code == 2
