"""Teachers for knowledge distillation (`train.distill`): frozen networks whose mean probabilities the
student learns besides the labels.

The teachers read the student's own training batches, after every augmentation, so the soft targets
describe exactly what the student is shown. A batch arrives standardised with the student's training
statistics; each teacher gets it back in dB and re-standardised with its own (fold models of a CV
were trained on different parts, so their statistics differ).
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from specser.config import ConfigError, DistillConfig, FeatureConfig
from specser.training.warm_start import input_differences


def check_distill(cfg: DistillConfig) -> None:
    if not 0.0 <= cfg.weight <= 1.0:
        raise ConfigError(f"train.distill.weight: {cfg.weight} must be between 0 and 1")
    if cfg.temperature <= 0:
        raise ConfigError(f"train.distill.temperature: {cfg.temperature} must be > 0")


def clips_seen(model: Path, clip_ids: frozenset[str]) -> int | None:
    """How many of `clip_ids` the model trained or validated on, by the split.json beside it; None when
    it has none (a model file on its own: nothing to check)."""
    split = Path(model).parent / "split.json"
    if not split.is_file():
        return None
    try:
        record = json.loads(split.read_text())
    except (OSError, ValueError) as exc:
        raise ConfigError(f"train.distill.teachers: {split} is unreadable: {exc}") from exc
    return len(clip_ids & {*record.get("train", []), *record.get("val", [])})


def teacher_files(sources: list[str], test_ids: frozenset[str] = frozenset()) -> list[Path]:
    """Model files named by `train.distill.teachers` that never saw this run's test clips.

    A file as given must not have trained on `test_ids` (a teacher that did would leak them into the
    student). A folder gives those of its models that did not: in a CV with the same folds, a teacher CV
    gives exactly the model of the same fold.
    """
    from specser.inference.ensemble import ensemble_files

    files: list[Path] = []
    for source in map(Path, sources):
        if source.is_dir():
            try:
                found = [f for f in ensemble_files(source) if f.suffix == ".specser"]
            except FileNotFoundError as exc:
                raise ConfigError(f"train.distill.teachers: {exc}") from exc
            clean = [f for f in found if not clips_seen(f, test_ids)]
            if found and not clean:
                raise ConfigError(f"train.distill.teachers: every model in {source} trained on some of this "
                                  f"run's {len(test_ids)} test clips; distil from models of the same split or folds")
            files += clean
        elif source.is_file():
            seen = clips_seen(source, test_ids)
            if seen:
                raise ConfigError(f"train.distill.teachers: {source} trained on {seen} of this run's test clips, "
                                  "and would leak them into the student")
            files.append(source)
        else:
            raise ConfigError(f"train.distill.teachers: {source} does not exist")
    if not files:
        raise ConfigError(f"train.distill.teachers: no model.specser in {', '.join(sources)}")
    return files


class Teachers(nn.Module):
    """Frozen teacher networks -> their mean softened probabilities for a student batch.

    Args:
        networks: the teachers, in eval mode.
        means, stds: each teacher's standardisation statistics (None where its input is not standardised).
        student_mean, student_std: the statistics the student's batches were standardised with.
        temperature: the softening temperature.
    """

    def __init__(self, networks: list[nn.Module], means: list, stds: list, student_mean, student_std,
                 temperature: float):
        super().__init__()
        self.networks = nn.ModuleList(networks).requires_grad_(False).eval()
        self.temperature = temperature
        self.restandardise = student_mean is not None
        if self.restandardise:
            self.register_buffer("student_mean", torch.as_tensor(student_mean, dtype=torch.float32))
            self.register_buffer("student_std", torch.as_tensor(student_std, dtype=torch.float32))
            self.register_buffer("means", torch.stack([torch.as_tensor(m, dtype=torch.float32) for m in means]))
            self.register_buffer("stds", torch.stack([torch.as_tensor(s, dtype=torch.float32) for s in stds]))

    def train(self, mode: bool = True) -> "Teachers":
        return super().train(False)  # batch norm and dropout stay in inference mode

    @torch.no_grad()
    def forward(self, x: torch.Tensor, *rest: torch.Tensor) -> torch.Tensor:
        """(B, C, n_mels, frames) student inputs (and any further inputs of the network, such as a fine-tuned
        encoder's waveform lengths) -> (B, n_classes) mean teacher probabilities at the temperature."""
        probs = []
        if self.restandardise:  # back to dB once; then (dB - mean_t) / std_t per teacher, per Mel bin
            db = x * self.student_std[:, None] + self.student_mean[:, None]
        for i, net in enumerate(self.networks):
            inputs = (db - self.means[i][:, None]) / self.stds[i][:, None] if self.restandardise else x
            probs.append(F.softmax(net(inputs, *rest).float() / self.temperature, dim=1))
        return torch.stack(probs).mean(dim=0)


def load_teachers(cfg: DistillConfig, features: FeatureConfig, labels: list[str], student_mean,
                  student_std, test_ids: frozenset[str] = frozenset()) -> Teachers | None:
    """The teachers of `cfg`, checked against the student's labels, input features and test clips
    (`test_ids`, see `teacher_files`); None when off.

    Raises:
        ConfigError: a teacher is missing, unreadable, trained on this run's test clips, or was trained on
            other labels or other features.
    """
    check_distill(cfg)
    if not cfg.teachers:
        return None
    from specser.inference.model_file import ModelFile, ModelFileError

    networks, means, stds = [], [], []
    paths = teacher_files(cfg.teachers, test_ids)
    for path in paths:
        try:
            mf = ModelFile.load(path)
        except ModelFileError as exc:
            raise ConfigError(f"train.distill.teachers: {exc}") from exc
        if mf.labels != list(labels):
            raise ConfigError(f"train.distill.teachers: {path} predicts {mf.labels}, this run {list(labels)}")
        differ = input_differences(mf.features, features)
        if differ:
            raise ConfigError(f"train.distill.teachers: {path} was trained on other features: {', '.join(differ)}")
        if (mf.mean is None) != (student_mean is None):
            raise ConfigError(f"train.distill.teachers: {path} standardises its input differently from this run")
        networks.append(mf.build())
        means.append(mf.mean)
        stds.append(mf.std)
    print(f"distilling from {len(networks)} teacher(s): weight {cfg.weight}, temperature {cfg.temperature}")
    for path in paths:
        print(f"  teacher {path}")
    return Teachers(networks, means, stds, student_mean, student_std, cfg.temperature)


def distillation_loss(student_logits: torch.Tensor, teacher_probs: torch.Tensor, temperature: float) -> torch.Tensor:
    """KL(teachers || student) at the temperature, times its square so its gradients keep their scale."""
    log_student = F.log_softmax(student_logits.float() / temperature, dim=1)
    return F.kl_div(log_student, teacher_probs, reduction="batchmean") * temperature ** 2
