import dataclasses
import sys
from pathlib import Path

import pytest

from specser.config import (AugmentConfig, ConfigError, DistillConfig, ExperimentConfig, FinetuneConfig, SpecAugmentConfig,
                            load_config)

SRC = Path(__file__).resolve().parents[1] / "src" / "specser"


def test_paper_preset_is_the_papers_recipe():
    cfg = load_config()
    assert cfg.preset == "paper"
    t = cfg.train
    assert (t.optimizer, t.lr, t.batch_size, t.max_epochs) == ("adam", 1e-3, 64, 50)
    assert (t.early_stopping_patience, t.lr_factor, t.min_lr) == (5, 0.2, 4e-5)
    assert t.lr_patience < t.early_stopping_patience
    assert cfg.data.val_size == 0.2 and cfg.data.label_set == "ravdess6"
    assert cfg.train.specaugment.enabled is False


def test_dotted_overrides_are_typed():
    cfg = load_config(overrides=["train.max_epochs=5", "train.lr=3e-4", "data.test_speakers=['01', '02']",
                                 "train.specaugment.enabled=true", "model.options={widths: [8, 16, 32, 64]}"])
    assert cfg.train.max_epochs == 5 and isinstance(cfg.train.max_epochs, int)
    assert cfg.train.lr == pytest.approx(3e-4)
    assert cfg.data.test_speakers == ["01", "02"]
    assert cfg.train.specaugment.enabled is True
    assert cfg.model.options == {"widths": [8, 16, 32, 64]}


@pytest.mark.parametrize("override, message", [
    ("train.max_epoch=5", "unknown config key"),
    ("nosuch.key=1", "unknown config key"),
    ("train.max_epochs=five", "expected an integer"),
    ("train.max_epochs=2.5", "expected an integer"),
    ("train.specaugment.enabled=3", "expected true/false"),
    ("train.lr", "section.key=value"),
    ("train.optimizer=adamx", "'adamx' is not allowed; choose one of adam, adamw"),
    ("train.scheduler=linear", "choose one of plateau, cosine, onecycle"),
    ("cv.protocol=random-10fold", "choose one of random-5fold, actor-5fold, emobox, loso"),
    ("features.mode=png", "choose one of native, image"),
    ("baseline.model=knn", "choose one of svm, mlp"),
    ("train.augment.reverb_drr_db=[10, -10]", "must be \\[low, high\\] dB"),
    ("train.augment.dropout_loss=[0.2, 1.0]", "dropout_loss be \\[low, high\\]"),
    ("train.augment.dropout_prob=1.5", "dropout_prob must lie in"),
])
def test_bad_overrides_are_errors(override, message):
    with pytest.raises(ConfigError, match=message):
        load_config(overrides=[override])


def test_yaml_file_then_overrides(tmp_path):
    path = tmp_path / "exp.yaml"
    path.write_text("train:\n  max_epochs: 7\n  lr: 0.01\nfeatures:\n  n_mels: 64\n")
    cfg = load_config(path, ["train.lr=0.002"])
    assert (cfg.train.max_epochs, cfg.train.lr, cfg.features.n_mels) == (7, 0.002, 64)


def test_config_round_trips_through_yaml(tmp_path):
    cfg = load_config(overrides=["train.max_epochs=3"])
    cfg.save(tmp_path / "config.yaml")
    assert load_config(tmp_path / "config.yaml") == cfg


def test_unknown_preset_and_missing_file():
    with pytest.raises(ConfigError, match="unknown preset"):
        load_config(preset="nope")
    with pytest.raises(ConfigError, match="not found"):
        load_config("/nonexistent/config.yaml")


CONFIG_CLASSES = [ExperimentConfig, *(f.default_factory for f in dataclasses.fields(ExperimentConfig)
                                      if f.default_factory is not dataclasses.MISSING),
                  AugmentConfig, SpecAugmentConfig, FinetuneConfig, DistillConfig]
# Reads made by the config's own machinery (asdict, ==, save, properties) are not uses: a key read only there
# changes nothing. Only reads from the rest of the package count.
_NOT_USES = (dataclasses.__file__, "<string>", str(SRC / "config.py"))


@pytest.fixture
def config_reads(monkeypatch):
    """Record (class, field) for every config field read outside the config's own machinery."""
    reads: set[tuple[str, str]] = set()
    for cls in CONFIG_CLASSES:
        names = {f.name for f in dataclasses.fields(cls)}

        def recorder(self, name, _names=names, _cls=cls.__name__):
            if name in _names and sys._getframe(1).f_code.co_filename not in _NOT_USES:
                reads.add((_cls, name))
            return object.__getattribute__(self, name)

        monkeypatch.setattr(cls, "__getattribute__", recorder)
    return reads


def _encoder_run(tmp_path) -> None:
    """One-epoch pretrained-encoder runs on a tiny self-made encoder, frozen and fine-tuned (the ssl extra is
    part of the test install)."""
    import importlib.util

    if importlib.util.find_spec("transformers") is None:
        pytest.skip("the encoder keys need the ssl extra: pip install 'specser[ssl]'")
    from specser.runs.train import train_run
    from tests.encoders.tiny import make_tiny_encoder
    from tests.synth import make_ravdess_corpus

    make_ravdess_corpus(tmp_path / "tiny", actors=(1, 2, 3), emotions=("neutral", "angry"))
    encoder = make_tiny_encoder("wavlm", tmp_path / "encoder")
    overrides = [f"data.path={tmp_path / 'tiny'}", f"features.encoder={encoder}", f"data.cache_dir={tmp_path / 'cache'}",
                 "train.max_epochs=1"]
    train_run(load_config(preset="encoder", overrides=overrides), tmp_path / "encoder-run", progress=False)
    tuned = load_config(preset="encoder", overrides=overrides + ["train.finetune.enabled=true",
                                                                 "train.finetune.gradient_checkpointing=true"])
    train_run(tuned, tmp_path / "encoder-finetune", progress=False)


@pytest.mark.slow
@pytest.mark.tiny_encoder
def test_every_config_key_is_read_by_a_short_run_of_each_command(config_reads, synth_corpus, tmp_path):
    """A key nobody reads is a silent no-op for the user. This runs each command's code path briefly
    (a CV with the full augmentation recipe, an image-mode holdout run, a baseline) and fails for any
    config field that none of them read. Delete the one line that reads a key and it goes red."""
    from specser.baselines.run import baseline_runner
    from specser.runs.cv import run_cv, spec_resnet_runner, train_fold_in_process
    from specser.runs.train import train_run
    from tests.synth import FAST_OVERRIDES

    base = FAST_OVERRIDES + [f"data.path={synth_corpus}", f"data.cache_dir={tmp_path / 'cache'}", "train.max_epochs=1"]
    recipe = load_config(preset="robust", overrides=base + [
        "cv.protocol=actor-5fold", "cv.n_folds=2", "train.class_weights=true", "train.label_smoothing=0.1",
        "train.tta_crops=2", "train.specaugment.enabled=true", "train.balance_corpora=true", "train.augment.eq_prob=0.3",
        "train.augment.overload_prob=0.3", "train.augment.telephone_prob=0.3", "train.augment.compress_prob=0.3",
        "train.augment.bass_prob=0.3", "train.augment.dropout_prob=0.3"])
    run_cv(recipe, tmp_path / "cv", lambda c, corpus: spec_resnet_runner(c, corpus, False), "Spec-ResNet",
           progress=False, pool_fold=train_fold_in_process)
    image = load_config(overrides=base + ["features.mode=image", "features.image_size=32", "data.test_speakers=['05']",
                                          "data.labels=[]", "data.corpus=ravdess"])
    train_run(image, tmp_path / "image", progress=False)
    baseline = load_config(overrides=base + ["cv.protocol=actor-5fold", "cv.n_folds=2", "baseline.inner_folds=2",
                                             "baseline.n_jobs=1"])
    run_cv(baseline, tmp_path / "svm", lambda c, corpus: baseline_runner(c, corpus, False), "svm", progress=False)
    _encoder_run(tmp_path)

    every = {(cls.__name__, f.name) for cls in CONFIG_CLASSES for f in dataclasses.fields(cls)
             if not dataclasses.is_dataclass(f.default_factory if f.default_factory is not dataclasses.MISSING else None)}
    assert not every - config_reads, f"config keys that no command reads: {sorted(every - config_reads)}"


def test_robust_preset_is_best_plus_the_real_voice_ingredients():
    best, robust = load_config(preset="best"), load_config(preset="robust")
    assert robust.features.level_norm and not best.features.level_norm
    assert robust.model == best.model and robust.train.optimizer == best.train.optimizer
    aug = robust.train.augment
    assert set(aug.noise_types) == {"white", "pink", "babble"} and 0 < aug.noise_prob < 1
    assert aug.reverb_prob > 0 and aug.band_prob > 0 and aug.quantize_prob > 0 and aug.audio_domain
    assert robust.train.label_smoothing == 0.1 and best.train.label_smoothing == 0.0  # chosen on development speakers
    assert (robust.train.max_epochs, best.train.max_epochs) == (90, 60)  # rule_epochs90: the longer budget won there
    assert robust.train.min_epochs == 60  # early stopping waits for the stretched cosine's LR to come down


def test_best_preset_differs_from_paper_only_in_recipe():
    paper, best = load_config(preset="paper"), load_config(preset="best")
    assert best.preset == "best" and best.features == paper.features
    # the data differ only in validation: whole speakers when the test's are held out, random clips in the paper
    assert dataclasses.replace(best.data, val_split="random") == paper.data
    assert (best.data.val_split, paper.data.val_split) == ("auto", "random")
    assert best.train != paper.train or best.model != paper.model  # the recipe, whatever the ablation chose
    assert load_config(preset="best", overrides=["train.max_epochs=3"]).train.max_epochs == 3


def test_a_bad_choice_fails_at_once_on_the_command_line(tmp_path):
    """Choices are checked when the config loads, before any corpus is read or heavy module imported."""
    import subprocess
    import sys
    import time

    started = time.time()
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "specser.cli.main", "cv", "--data",
                           str(tmp_path / "nowhere"), "--out", str(tmp_path / "cv"), "--set", "train.optimizer=adamx"],
                          capture_output=True, text=True)
    assert done.returncode == 2 and "choose one of adam, adamw" in done.stderr
    # What "at once" means, checked by what was imported rather than by a clock that a busy machine slows.
    imported = {line.rsplit("|", 1)[1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    heavy = {"torch", "lightning", "sklearn"} & imported
    assert not heavy, sorted(heavy)
    assert time.time() - started < 10.0  # a heavy import alone takes longer here (lightning: 14 s)
    assert not (tmp_path / "cv").exists()
