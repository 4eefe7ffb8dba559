"""`train.distill`: a student learns its teachers' softened mean probabilities besides the labels."""

import dataclasses
import shutil

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from specser.config import ConfigError, DistillConfig, load_config
from specser.inference.model_file import ModelFile
from specser.training.distill import Teachers, distillation_loss, load_teachers
from specser.training.module import EmotionClassifier


class Recorder(nn.Module):
    """Logits = a fixed projection of the input's per-bin means; remembers what it was given."""

    def __init__(self, n_mels: int, n_classes: int, seed: int):
        super().__init__()
        self.proj = nn.Linear(n_mels, n_classes)
        torch.manual_seed(seed)
        nn.init.normal_(self.proj.weight)
        self.seen = None

    def forward(self, x):
        self.seen = x.clone()
        return self.proj(x.mean(dim=(1, 3)))


def test_each_teacher_reads_the_batch_in_its_own_standardisation_and_the_probabilities_are_averaged():
    n_mels, classes = 5, 3
    student_mean, student_std = torch.linspace(-40, -20, n_mels), torch.linspace(5, 9, n_mels)
    means = [torch.full((n_mels,), -30.0), torch.linspace(-50, -10, n_mels)]
    stds = [torch.full((n_mels,), 4.0), torch.linspace(2, 6, n_mels)]
    nets = [Recorder(n_mels, classes, 0), Recorder(n_mels, classes, 1)]
    teachers = Teachers(nets, means, stds, student_mean, student_std, temperature=2.0)
    db = -35 + 10 * torch.randn(4, 1, n_mels, 7)
    x = (db - student_mean[:, None]) / student_std[:, None]
    probs = teachers(x)
    expected = []
    for net, m, s in zip(nets, means, stds):
        torch.testing.assert_close(net.seen, (db - m[:, None]) / s[:, None], atol=1e-4, rtol=1e-5)
        expected.append(F.softmax(net(net.seen) / 2.0, dim=1))
    torch.testing.assert_close(probs, torch.stack(expected).mean(0))
    assert not any(p.requires_grad for p in teachers.parameters())
    teachers.train()
    assert not teachers.training  # batch norm of a teacher never updates


def test_distillation_loss_is_zero_at_agreement_and_scaled_by_the_squared_temperature():
    logits = torch.tensor([[2.0, 0.0, -1.0], [0.5, 0.5, 1.0]])
    same = F.softmax(logits / 3.0, dim=1)
    assert distillation_loss(logits, same, 3.0).abs() < 1e-6
    other = torch.tensor([[0.2, 0.5, 0.3], [0.6, 0.2, 0.2]])
    at_1 = F.kl_div(F.log_softmax(logits / 3.0, dim=1), other, reduction="batchmean")
    torch.testing.assert_close(distillation_loss(logits, other, 3.0), at_1 * 9.0)


def test_the_training_loss_mixes_labels_and_teachers_and_validation_keeps_the_labels():
    cfg = load_config(overrides=["train.specaugment.enabled=false", "train.augment.mixup_alpha=0",
                                 "train.distill.weight=0.25", "train.distill.temperature=2"]).train
    student = Recorder(4, 3, 2)
    teacher = Recorder(4, 3, 3)
    teachers = Teachers([teacher], [None], [None], None, None, temperature=2.0)
    module = EmotionClassifier(student, dataclasses.replace(cfg, channels_last=False), teachers=teachers)
    x, y = torch.randn(6, 1, 4, 5), torch.tensor([0, 1, 2, 0, 1, 2])
    with pytest.warns(UserWarning):  # self.log outside a Trainer
        train_loss = module.training_step((x, y), 0)
    logits = student(x)
    hard = F.cross_entropy(logits, y)
    soft = distillation_loss(logits, F.softmax(teacher(x) / 2.0, dim=1), 2.0)
    torch.testing.assert_close(train_loss, 0.75 * hard + 0.25 * soft)
    with pytest.warns(UserWarning):
        module.validation_step((x, y), 0)
    assert "_teachers" not in dict(module.named_children())
    assert not any(k.startswith("_teachers") for k in module.state_dict())


def test_teachers_must_share_labels_and_input_features(trained_run, tmp_path):
    source = ModelFile.load(trained_run / "model.specser")
    ok = DistillConfig(teachers=[str(trained_run / "model.specser")])
    teachers = load_teachers(ok, source.features, source.labels, source.mean, source.std)
    assert len(teachers.networks) == 1
    with pytest.raises(ConfigError, match="predicts"):
        load_teachers(ok, source.features, list(reversed(source.labels)), source.mean, source.std)
    with pytest.raises(ConfigError, match=r"other features: n_mels \(40 there, 64 here\)"):
        load_teachers(ok, dataclasses.replace(source.features, n_mels=64), source.labels, source.mean, source.std)
    with pytest.raises(ConfigError, match="does not exist"):
        load_teachers(DistillConfig(teachers=[str(tmp_path / "none.specser")]), source.features, source.labels,
                      source.mean, source.std)
    with pytest.raises(ConfigError, match="weight"):
        load_teachers(DistillConfig(weight=1.5), source.features, source.labels, source.mean, source.std)
    cv = tmp_path / "cv"  # a CV folder gives its fold models
    for fold in ("fold_01", "fold_02"):
        (cv / fold).mkdir(parents=True)
        shutil.copy(trained_run / "model.specser", cv / fold / "model.specser")
    folded = load_teachers(DistillConfig(teachers=[str(cv)]), source.features, source.labels, source.mean, source.std)
    assert len(folded.networks) == 2


def test_a_teacher_that_trained_on_the_test_clips_is_refused_and_a_teacher_cv_gives_the_same_fold(
        trained_run, tmp_path):
    import json

    source = ModelFile.load(trained_run / "model.specser")
    test_ids = frozenset({"a", "b"})
    cv = tmp_path / "teacher-cv"  # fold 1 tested a and b (trained on the rest); fold 2 trained on them
    for fold, split in (("fold_01", {"train": ["c", "d"], "val": ["e"], "test": ["a", "b"]}),
                        ("fold_02", {"train": ["a", "c"], "val": ["b"], "test": ["d", "e"]})):
        (cv / fold).mkdir(parents=True)
        shutil.copy(trained_run / "model.specser", cv / fold / "model.specser")
        (cv / fold / "split.json").write_text(json.dumps(split))

    def load(*sources, ids=test_ids):
        return load_teachers(DistillConfig(teachers=[str(s) for s in sources]), source.features, source.labels,
                             source.mean, source.std, ids)

    assert len(load(cv).networks) == 1  # the same fold's model only
    assert len(load(cv, ids=frozenset({"x"})).networks) == 2  # no overlap: the whole CV
    with pytest.raises(ConfigError, match=r"fold_02/model.specser trained on 2 of this run's test clips"):
        load(cv / "fold_02" / "model.specser")
    assert len(load(cv / "fold_01" / "model.specser").networks) == 1
    with pytest.raises(ConfigError, match="every model in .* trained on some of this run's 3 test clips"):
        load(cv, ids=frozenset({"a", "d", "e"}))
    loose = tmp_path / "loose"  # a model file without its split cannot be checked, and is taken as given
    loose.mkdir()
    shutil.copy(trained_run / "model.specser", loose / "model.specser")
    assert len(load(loose / "model.specser").networks) == 1


def test_a_distilled_run_says_so_and_its_model_holds_the_student_alone(trained_run, synth_corpus, tmp_path):
    from typer.testing import CliRunner

    from specser.cli.main import app
    from tests.synth import FAST_OVERRIDES

    sets = FAST_OVERRIDES + ["train.max_epochs=1", f"train.distill.teachers=['{trained_run / 'model.specser'}']"]
    done = CliRunner().invoke(app, ["train", "--data", str(synth_corpus), "--out", str(tmp_path / "student"),
                                    "--no-progress", *[a for s in sets for a in ("--set", s)]])
    assert done.exit_code == 0, done.output[-2000:]
    assert "distilling from 1 teacher(s): weight 0.5, temperature 2.0" in done.output
    student = ModelFile.load(tmp_path / "student" / "model.specser")
    teacher = ModelFile.load(trained_run / "model.specser")
    assert student.state_dict.keys() == teacher.state_dict.keys()
    ckpt = torch.load(tmp_path / "student" / "checkpoints" / "last.ckpt", weights_only=False)
    assert not any("teacher" in k for k in ckpt["state_dict"])
