"""ONNX for pretrained-encoder models (tiny self-made encoders, `encoder_runs`): the head alone for every
family, the encoder and head as one graph through the CLI, and weights too large for one protobuf."""

import json
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("transformers", reason="encoders need the ssl extra: pip install 'specser[ssl]'")
pytest.importorskip("onnxruntime", reason="export needs the export extra")

from specser.audio.load import load_audio  # noqa: E402
from specser.export import onnx_export  # noqa: E402
from specser.export.onnx_export import export_onnx, external_data_path, parity_check  # noqa: E402
from specser.export.onnx_predictor import OnnxPredictor  # noqa: E402
from tests.encoders.tiny import FAMILIES  # noqa: E402


def _reproduces_metrics(onnx_path, run) -> float:
    """Max |probability difference| between the ONNX backend on the run's test files and metrics.json."""
    metrics = json.loads((run / "metrics.json").read_text())
    predictor = OnnxPredictor(onnx_path)
    probs = predictor.probabilities([load_audio(r["path"], 16000) for r in metrics["predictions"]])
    expected = np.array([[r["probabilities"][label] for label in predictor.labels] for r in metrics["predictions"]])
    return float(np.abs(probs - expected).max())


@pytest.mark.parametrize("family", FAMILIES)
def test_the_head_alone_exports_with_parity_and_predicts_as_evaluated(encoder_runs, family, tmp_path):
    """A small file that reads the encoder's layers; the predictor computes them with the user's encoder."""
    run, out = encoder_runs[family], tmp_path / "head.onnx"
    metadata = export_onnx(run / "model.specser", out)
    assert metadata["specser.input"] == "layers" and out.stat().st_size < 200_000
    assert parity_check(run / "model.specser", out) < 1e-4
    assert _reproduces_metrics(out, run) < 1e-3  # metrics.json came from float16 cached layers


def test_the_encoder_and_head_export_as_one_graph_that_onnxruntime_runs_alone(encoder_runs, tmp_path):
    from typer.testing import CliRunner

    from specser.cli.main import app

    run, out = encoder_runs["wavlm"], tmp_path / "full.onnx"
    result = CliRunner().invoke(app, ["export", str(run / "model.specser"), "--with-encoder", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "parity with torch" in result.output and "Traceback" not in result.output
    assert _reproduces_metrics(out, run) < 1e-3
    clip = json.loads((run / "metrics.json").read_text())["predictions"][0]["path"]
    code = ("import sys; from specser.inference.base import open_predictor; "
            f"r = open_predictor({str(out)!r}).predict({clip!r}); "
            "assert 'torch' not in sys.modules and 'transformers' not in sys.modules, 'torch was imported'; print(r.label)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == OnnxPredictor(out).predict(clip).label


def test_weights_too_large_for_one_protobuf_go_to_a_side_file(encoder_runs, tmp_path, monkeypatch):
    run, out = encoder_runs["hubert"], tmp_path / "head.onnx"
    monkeypatch.setattr(onnx_export, "EXTERNAL_DATA_BYTES", 0)
    export_onnx(run / "model.specser", out)
    side, graph_alone = external_data_path(out), out.stat().st_size
    assert side.is_file() and side.stat().st_size > 10_000  # the head's weights: 2 x 16 x 256 floats and more
    assert parity_check(run / "model.specser", out) < 1e-4  # onnxruntime finds the weights beside the graph
    monkeypatch.undo()
    export_onnx(run / "model.specser", out)
    assert not side.exists()  # a small export removes the stale side file
    assert out.stat().st_size > graph_alone + 10_000  # the weights are back inside
    assert parity_check(run / "model.specser", out) < 1e-4
