"""The model that ships in the package: it loads safely, matches its card, and needs no model argument."""

import re
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from typer.testing import CliRunner

from specser.bundled import bundled_models, default_model
from specser.cli.main import app
from specser.inference.model_file import ModelFile

CARD = Path(__file__).resolve().parents[1] / "docs" / "model-card.md"
runner = CliRunner()


def _card_table() -> dict[str, str]:
    """The card's "Shipped file" table: | key | value | rows."""
    text = CARD.read_text()
    section = text[text.index("## Shipped file"):]
    section = section[: section.find("\n## ", 4)]
    return {m.group(1).strip(): m.group(2).strip() for m in re.finditer(r"^\| ([^|]+) \| ([^|]+) \|$", section, re.M)}


def test_shipped_model_matches_its_card():
    path = default_model()
    assert path.stat().st_size <= 5_000_000 and "default" in bundled_models()
    mf = ModelFile.load(path)  # torch.load(weights_only=True) inside: no pickled code
    card = _card_table()
    assert ", ".join(mf.labels) == card["labels"]
    assert mf.model_name == card["architecture"] and f"{mf.n_parameters:,}" == card["parameters"]
    fc = mf.features
    assert f"{fc.sample_rate} Hz" == card["sample rate"] and str(fc.n_mels) == card["Mel bands"]
    assert f"{fc.clip_seconds:g} s" == card["clip length"] and str(fc.level_norm).lower() == card["level_norm"]
    assert f"{fc.top_db:g} dB" == card["floor below the loudest bin"]
    assert mf.extra["recipe"] == card["recipe"] and "non-commercial" in mf.extra["licence"]
    assert {v.dtype for k, v in mf.state_dict.items() if k.endswith("conv1.weight")} == {__import__("torch").float16}


def test_predict_and_models_need_no_model_argument(tmp_path):
    t = np.arange(32000) / 16000
    clip = tmp_path / "voice.wav"
    sf.write(clip, (0.3 * np.sin(2 * np.pi * 170 * t) * (1 + np.sin(2 * np.pi * 4 * t)) / 2).astype(np.float32), 16000)
    result = runner.invoke(app, ["predict", str(clip), "--no-progress", "--format", "json"])
    assert result.exit_code == 0, result.output
    import json

    row = json.loads(result.stdout)[0]
    assert row["status"] == "ok" and row["label"] in ModelFile.load(default_model()).labels
    listing = runner.invoke(app, ["models"])
    assert listing.exit_code == 0 and "default" in listing.output and "non-commercial" in listing.output


def test_a_model_file_that_is_not_one_says_so(tmp_path):
    clip = tmp_path / "clip.wav"
    sf.write(clip, np.zeros(1600, dtype=np.float32), 16000)
    for bad in (clip, tmp_path / "x.onnx"):
        if bad.suffix == ".onnx":
            bad.write_bytes(b"not onnx at all")
        result = runner.invoke(app, ["predict", "--model", str(bad), str(clip), "--backend", "torch"])
        assert result.exit_code == 2 and "not a specser model file" in result.output
        assert "weights_only" not in result.output and len(result.output.strip().splitlines()) == 1


@pytest.mark.parametrize("port", ["99999", "0"])
def test_serve_refuses_a_bad_port_in_one_line(port):
    result = runner.invoke(app, ["serve", "--port", port])
    assert result.exit_code == 2 and "Traceback" not in result.output and "serving " not in result.output


def test_serve_refuses_a_busy_port_before_serving():
    import socket

    pytest.importorskip("fastapi")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        result = runner.invoke(app, ["serve", "--port", str(busy.getsockname()[1])])
    assert result.exit_code == 2 and "cannot listen on" in result.output and "serving " not in result.output
    assert "Traceback" not in result.output


def test_serve_refuses_a_profiles_path_that_is_a_file(tmp_path):
    pytest.importorskip("fastapi")
    (tmp_path / "notes.txt").write_text("not a folder")
    result = runner.invoke(app, ["serve", "--profiles", str(tmp_path / "notes.txt")])
    assert result.exit_code == 2 and "not a folder" in result.output and "serving " not in result.output
