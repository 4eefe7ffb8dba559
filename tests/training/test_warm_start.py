"""`train.init_from`: a run starts from another run's network, where names and shapes match."""

import dataclasses

import pytest
import torch

from specser.config import ConfigError
from specser.inference.model_file import ModelFile
from specser.models import create_model
from specser.training.warm_start import warm_start


def test_matching_weights_are_copied_and_another_label_count_gets_a_fresh_output_layer(trained_run):
    source = ModelFile.load(trained_run / "model.specser")
    options = {**source.model_config, "num_classes": len(source.labels) + 2}  # e.g. ravdess8 after ravdess6
    torch.manual_seed(1)
    model = create_model(source.model_name, **options)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    fresh = warm_start(model, source.model_name, source.features, trained_run / "model.specser")
    after = model.state_dict()
    assert fresh and all(after[k].shape != source.state_dict[k].shape for k in fresh)
    assert all(torch.equal(after[k], before[k]) for k in fresh)  # left as initialised
    copied = [k for k in after if k not in fresh]
    assert len(copied) > len(fresh) and all(torch.equal(after[k], source.state_dict[k]) for k in copied)


def test_another_input_or_architecture_is_refused(trained_run, tmp_path):
    source = ModelFile.load(trained_run / "model.specser")
    model = create_model(source.model_name, **source.model_config)
    other_rate = dataclasses.replace(source.features, sample_rate=24000)
    with pytest.raises(ConfigError, match=r"other features: sample_rate \(16000 there, 24000 here\)"):
        warm_start(model, source.model_name, other_rate, trained_run / "model.specser")
    with pytest.raises(ConfigError, match="holds a spec_resnet, this run trains a spec_crnn"):
        warm_start(model, "spec_crnn", source.features, trained_run / "model.specser")
    (tmp_path / "junk.specser").write_bytes(b"junk")
    with pytest.raises(ConfigError, match="train.init_from"):
        warm_start(model, source.model_name, source.features, tmp_path / "junk.specser")


def test_a_cli_run_starts_from_the_source_and_says_so(trained_run, synth_corpus, tmp_path):
    from typer.testing import CliRunner

    from specser.cli.main import app
    from tests.synth import FAST_OVERRIDES

    sets = FAST_OVERRIDES + ["train.max_epochs=1", f"train.init_from={trained_run / 'model.specser'}"]
    done = CliRunner().invoke(app, ["train", "--data", str(synth_corpus), "--out", str(tmp_path / "tuned"),
                                    "--no-progress", *[a for s in sets for a in ("--set", s)]])
    assert done.exit_code == 0, done.output[-2000:]
    assert f"initialised from {trained_run / 'model.specser'}" in done.output
    assert "fresh" not in done.output.split("initialised from")[1].splitlines()[0]  # same labels: every tensor
