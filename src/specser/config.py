"""Typed experiment configuration: dataclasses, YAML presets and dotted overrides.

One `ExperimentConfig` describes a run completely. It is loaded from a preset
(``paper`` by default), then a user YAML, then ``--set section.key=value``
overrides, each checked against the field's type. An unknown key is an error,
never a silent no-op. The resolved config is saved into every run folder.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import asdict, dataclass, field, fields
from importlib import resources
from pathlib import Path
from typing import Any, Literal, get_args

import yaml


class ConfigError(ValueError):
    """A config file or override that does not fit the schema."""


# Choice-valued fields: a value outside these fails when the config loads, before any audio is read.
CorpusLayout = Literal["auto", "ravdess", "nemo", "folder", "csv"]
LabelSet = Literal["ravdess6", "ravdess8", "calm_neutral", "calm→neutral", "calm-neutral", "calm->neutral"]
FeatureMode = Literal["native", "image", "encoder"]
Compression = Literal["db", "pcen"]
LengthMode = Literal["pad_crop", "pad_batch"]
Optimizer = Literal["adam", "adamw"]
Scheduler = Literal["plateau", "cosine", "onecycle"]
Selection = Literal["best", "last"]
Accelerator = Literal["auto", "cpu", "gpu", "cuda", "mps"]
Precision = Literal["auto", "32-true", "32", "16-mixed", "bf16-mixed", "16-true", "bf16-true", "64-true"]
Protocol = Literal["random-5fold", "actor-5fold", "emobox", "loso", "loco"]
NoiseType = Literal["white", "pink", "babble"]
ValSplit = Literal["random", "speaker", "auto"]
BaselineModel = Literal["svm", "mlp"]
BaselineFeatures = Literal["mfcc", "egemaps", "egemaps+mfcc"]
PROTOCOLS: tuple[str, ...] = get_args(Protocol)


@dataclass
class DataConfig:
    """Where the corpus is and how it is split.

    `path` is a folder or a CSV manifest, or a list of them (combined, with labels
    harmonised); empty means `SPECSER_RAVDESS` or the shared RAVDESS copy.
    `extra_train` corpora join every training part and are never tested.
    `test_speakers` switches the holdout from a random, stratified split to a
    speaker-held-out one.
    `val_split` says how validation is carved from the training part: ``random`` (stratified
    clips; the paper's "20 % of the training data"), ``speaker`` (whole speakers), or ``auto``
    (whole speakers when the test speakers are held out, by `test_speakers` or a grouped CV protocol,
    and the training part has `specser.data.splits.AUTO_MIN_SPEAKERS` speakers or more).
    With shared speakers, validation runs far above a speaker-independent test and picks epochs
    for the wrong reason.
    """

    path: str | list[str] = ""  # one corpus, or several combined (`specser.corpus.combine`)
    extra_train: list[str] = field(default_factory=list)  # corpora added to every training part, never tested
    corpus: CorpusLayout = "auto"
    label_set: LabelSet = "ravdess6"  # RAVDESS only
    labels: list[str] = field(default_factory=list)  # restrict folder/CSV corpora
    test_size: float = 0.2
    val_size: float = 0.2
    test_speakers: list[str] = field(default_factory=list)
    val_split: ValSplit = "random"  # the presets other than `paper` use "auto"
    max_duration_s: float = 30.0
    cache_dir: str = ""  # empty: SPECSER_CACHE or ~/.cache/specser


@dataclass
class FeatureConfig:
    """Log-Mel front-end and the input the model sees.

    `mode` is ``native`` (1-channel standardised log-Mel), ``image`` (the
    paper's PNG round trip: 224x224, 3 channels, ImageNet normalisation) or ``encoder``
    (every hidden layer of the pretrained `encoder`, for `model.name=encoder_head`; needs
    specser[ssl]; the log-Mel settings are then unused).
    `length_mode` says how utterances of different lengths become a batch:
    ``pad_crop`` pads or centre-crops every clip to `clip_seconds`;
    ``pad_batch`` pads to the longest clip in the batch and lets global
    average pooling absorb the rest.
    """

    mode: FeatureMode = "native"
    sample_rate: int = 16000
    n_fft: int = 1024
    win_length: int = 1024
    hop_length: int = 256
    n_mels: int = 128
    f_min: float = 0.0
    f_max: float = 8000.0
    top_db: float = 80.0
    level_norm: bool = False  # log-Mel relative to the utterance's speech level: a recording's gain changes nothing
    # Minus the utterance's mean spectrum over its speech frames (supersedes level_norm): a microphone's or
    # channel's colouring, a fixed filter on the spectrum, cancels out with the gain.
    utterance_norm: bool = False
    # Each clip relative to its speaker's mean and spread per Mel bin, from all of that speaker's clips
    # (unlabelled; at test time too) or, at inference, from the recording itself or files named as the
    # same speaker (`specser predict --speaker-stats`). Native mode only.
    speaker_norm: bool = False
    # How the Mel power becomes the network's input. db: 10 log10, floored `top_db` below the peak.
    # pcen: per-channel energy normalisation (Wang et al. 2017; `specser.features.pcen`): each Mel band
    # divided by its own recent average (0.4 s), then root-compressed, so a steady background or a
    # channel's colouring fades and onsets stand out. `top_db` does not apply; native mode only.
    compression: Compression = "db"
    length_mode: LengthMode = "pad_crop"
    clip_seconds: float = 4.0
    image_size: int = 224
    image_cmap: str = "magma"
    encoder: str = ""  # mode=encoder: a hub name (microsoft/wavlm-base-plus) or a save_pretrained folder
    # mode=encoder: keep each clip's per-layer time mean only: exact for the head's mean pooling, and a
    # thousandth of the memory of the frames (attentive pooling needs the frames)
    encoder_time_mean: bool = False

    def __post_init__(self):
        if self.compression == "pcen":
            clash = [name for name, on in (("features.utterance_norm", self.utterance_norm),
                                           ("features.speaker_norm", self.speaker_norm),
                                           ("features.mode=image", self.mode == "image")) if on]
            if clash:
                raise ConfigError(f"features.compression=pcen cannot be combined with {', '.join(clash)}: "
                                  "those work on dB log-Mels")

    @property
    def clip_frames(self) -> int:
        """Frames in a `clip_seconds` clip with centred STFT framing."""
        return int(round(self.clip_seconds * self.sample_rate)) // self.hop_length + 1


@dataclass
class ModelConfig:
    """Registered model name plus its own options (checked by the model's dataclass)."""

    name: str = "spec_resnet"
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class SpecAugmentConfig:
    enabled: bool = False
    freq_masks: int = 2
    freq_width: int = 15
    time_masks: int = 2
    time_width: int = 25


@dataclass
class AugmentConfig:
    """Training-only augmentation besides SpecAugment (`train.specaugment`); all off in the paper preset.

    Feature domain: mixup, a random clip window, a random circular time shift.
    Audio domain: speed, pitch, gain, noise, reverberation, band-limiting and quantisation act
    on the waveform (or its spectrum), so when any is on the
    training clips are kept as waveforms and their log-Mels computed batch by batch
    (validation and test inputs are never augmented).
    """

    mixup_alpha: float = 0.0  # mixup with lambda ~ Beta(alpha, alpha); 0 = off
    random_crop: bool = False  # a random clip_seconds window (or pad position) instead of the centred one
    time_shift_s: float = 0.0  # circular shift by up to this many seconds either way
    speed: float = 0.0  # resample by a factor in [1 - speed, 1 + speed] (tempo and pitch together)
    pitch_semitones: float = 0.0  # warp the frequency axis by up to this many semitones either way
    gain_db: float = 0.0  # scale by up to this many dB either way
    noise_snr_db: list[float] = field(default_factory=list)  # [low, high]: white noise at an SNR drawn from it
    noise_prob: float = 1.0  # the share of training clips that get the noise (the rest stay clean)
    noise_types: list[NoiseType] = field(default_factory=lambda: ["white"])  # one drawn per clip
    # Recording conditions (`specser.training.conditions`), each on this share of the clips:
    reverb_prob: float = 0.0  # a synthetic room, RT60 drawn from `reverb_rt60_s`
    reverb_rt60_s: list[float] = field(default_factory=lambda: [0.2, 1.0])
    # simple: exponentially decaying noise, one decay at every frequency; bands: a faster decay at high
    # frequencies, early reflections and a random direct-to-reverberant ratio (`conditions.band_rooms`)
    reverb_room: Literal["simple", "bands"] = "simple"
    # [low, high] dB: the simple room's direct-to-reverberant ratio drawn from this range instead of its fixed
    # tail, which puts the talker several metres away (-13 dB at RT60 0.2 s, -18 dB at 0.6 s). Arm's length
    # from a laptop is about 0 dB, a phone held close about +10 dB. Empty: the fixed tail.
    reverb_drr_db: list[float] = field(default_factory=list)
    band_prob: float = 0.0  # band-pass: high-pass at 50-400 Hz, low-pass at 3-7.5 kHz (phones, calls)
    # A small microphone's bass roll-off (laptops, phones, headsets): a high-pass alone, its cutoff drawn
    # log-uniformly from `bass_hz` and its skirt from a 1st- to an 8th-order Butterworth's.
    bass_prob: float = 0.0
    bass_hz: list[float] = field(default_factory=lambda: [80.0, 400.0])
    quantize_prob: float = 0.0  # rounding to a bit depth drawn from `quantize_bits`, after the gain change
    # [low, high] bits, inclusive. A quiet clip keeps fewer bits of speech than its file's depth:
    # 8 bits on speech at -40 dBFS leave about 1.5, so lower depths stand for quiet 8-bit recordings.
    quantize_bits: list[int] = field(default_factory=lambda: [8, 12])
    # A recorder's gain set too high: the peak pushed past full scale by a dB amount drawn from
    # `overload_db`, then clamped at +-1. Loud speech at +20 dB clips; nothing in a studio corpus does.
    overload_prob: float = 0.0
    overload_db: list[float] = field(default_factory=lambda: [0.0, 20.0])
    # A narrow-band call (8 kHz sampling): 300-3400 Hz with steep skirts and nothing above 4 kHz,
    # which `band_prob`'s gentle 3-7.5 kHz low-pass rarely looks like.
    telephone_prob: float = 0.0
    # A compressor or automatic gain control (phones, conferencing): the level above a threshold drawn
    # from `compress_threshold_db` (dB below the clip's peak) reduced by a ratio drawn from `compress_ratio`.
    compress_prob: float = 0.0
    compress_ratio: list[float] = field(default_factory=lambda: [2.0, 8.0])
    compress_threshold_db: list[float] = field(default_factory=lambda: [10.0, 30.0])
    # Dropouts (a Bluetooth link or a USB stream that drops packets, a call recorded without concealment): on
    # this share of the clips, 20 ms frames written as zeros, in bursts of two frames on average, the share of
    # frames lost drawn from `dropout_loss`.
    dropout_prob: float = 0.0
    dropout_loss: list[float] = field(default_factory=lambda: [0.02, 0.2])
    eq_prob: float = 0.0  # a random equaliser: a spectral tilt and smooth bumps (other microphones, rooms, corpora)
    eq_db: float = 9.0  # the equaliser's largest tilt: +-eq_db at 8 kHz against 1 kHz, bumps up to eq_db / 3
    # Freq-MixStyle (feature domain): on this share of the clips, each Mel band's mean and standard deviation
    # over time are mixed with another clip's of the batch, lambda ~ Beta(alpha, alpha): the colouring of other
    # microphones, rooms and corpora, drawn from the training clips themselves.
    freq_mixstyle_prob: float = 0.0
    freq_mixstyle_alpha: float = 0.3
    # Consistency (AugMix's Jensen-Shannon term, Hendrycks et al. 2020): each training clip goes through the
    # network twice, once with the recording conditions above and once without them (the same window, speed,
    # pitch and mixup partner), and the loss adds this weight times the Jensen-Shannon divergence between the
    # two predictions. The network is asked for the same label under a recording condition, which is what
    # "agreement with the clean clip" measures, not only for the right one. Doubles the network's work.
    consistency: float = 0.0

    def __post_init__(self):
        if not 0 < self.bass_hz[0] <= self.bass_hz[-1]:
            raise ConfigError(f"train.augment.bass_hz: {self.bass_hz} must be [low, high] Hz with 0 < low <= high")
        if not 0 <= self.freq_mixstyle_prob <= 1 or self.freq_mixstyle_alpha <= 0:
            raise ConfigError(f"train.augment.freq_mixstyle_prob must lie in [0, 1] and freq_mixstyle_alpha be > 0 "
                              f"(got {self.freq_mixstyle_prob}, {self.freq_mixstyle_alpha})")
        if self.reverb_drr_db and (len(self.reverb_drr_db) != 2 or self.reverb_drr_db[0] > self.reverb_drr_db[1]):
            raise ConfigError(f"train.augment.reverb_drr_db: {self.reverb_drr_db} must be [low, high] dB with low <= high")
        if self.reverb_drr_db and self.reverb_room != "simple":
            raise ConfigError("train.augment.reverb_drr_db sets the simple room's direct sound; the bands room "
                              "draws its own (reverb_room=bands)")
        if not 0 <= self.dropout_prob <= 1 or not 0 <= self.dropout_loss[0] <= self.dropout_loss[-1] < 1:
            raise ConfigError(f"train.augment.dropout_prob must lie in [0, 1] and dropout_loss be [low, high] with "
                              f"0 <= low <= high < 1 (got {self.dropout_prob}, {self.dropout_loss})")
        if self.consistency < 0:
            raise ConfigError(f"train.augment.consistency: {self.consistency} must be >= 0 (0 = off)")
        if self.consistency > 0 and not self.audio_domain:
            raise ConfigError("train.augment.consistency compares each clip with and without its recording "
                              "conditions: it needs audio-domain augmentation (noise_snr_db, reverb_prob, ...)")

    @property
    def audio_domain(self) -> bool:
        return (self.speed > 0 or self.pitch_semitones > 0 or self.gain_db > 0 or bool(self.noise_snr_db)
                or self.reverb_prob > 0 or self.band_prob > 0 or self.bass_prob > 0 or self.quantize_prob > 0
                or self.eq_prob > 0 or self.overload_prob > 0 or self.telephone_prob > 0 or self.compress_prob > 0
                or self.dropout_prob > 0)


@dataclass
class FinetuneConfig:
    """Fine-tuning a pretrained encoder (`features.mode=encoder`) with its head, on waveforms: no layer cache.

    The head learns alone (the encoder frozen, in eval mode, without gradients) for the first
    `unfreeze_after_epochs` epochs, then both learn, the encoder at `encoder_lr` under the same
    schedule. The convolutional waveform front-end of wav2vec2-style encoders stays frozen, as in
    the encoders' own fine-tuning recipes.
    """

    enabled: bool = False
    unfreeze_after_epochs: int = 2
    encoder_lr: float = 1e-5
    freeze_feature_encoder: bool = True  # wav2vec2 / HuBERT / WavLM / data2vec: keep the CNN front-end fixed
    gradient_checkpointing: bool = False  # recompute the encoder's activations in the backward pass (less memory)


@dataclass
class DistillConfig:
    """Knowledge distillation (Hinton et al. 2015): the student also learns the teachers' mean probabilities.

    An ensemble (seeds, or a CV's fold models) is more accurate than one network but costs its size in
    inference. A student that matches the ensemble's softened probabilities on every training batch,
    augmentation included, keeps much of that gain in one network. The teachers see what the student
    sees, so they must share its labels and input features.
    """

    # model.specser files, or folders of them (a CV run folder gives its fold models); empty = off.
    teachers: list[str] = field(default_factory=list)
    weight: float = 0.5  # share of the loss from the teachers' soft targets; the rest is the labels'
    temperature: float = 2.0  # softens both distributions; the soft loss is scaled by its square


@dataclass
class TrainConfig:
    """Optimisation recipe; defaults are the paper's (Table 1 and section 2)."""

    optimizer: Optimizer = "adam"
    lr: float = 1e-3
    weight_decay: float = 0.0
    batch_size: int = 64
    eval_batch_size: int = 64
    max_epochs: int = 50
    # Which weights become the model. best: the epoch of lowest validation loss, and early stopping
    # after `early_stopping_patience` epochs without a new low. last: a fixed budget, every one of
    # `max_epochs` run and the final (averaged, with `ema_epochs`) weights kept; validation is only
    # reported. A cosine schedule ends at its lowest LR on the last epoch, and a validation set of one
    # or two speakers is too noisy to pick an epoch from; both are the case for `last`.
    selection: Selection = "best"
    early_stopping_patience: int = 5
    # Early stopping cannot end a run before this epoch: a warm-up, or a cosine schedule whose LR is
    # still high, raises the validation loss for a while before it falls. 0 = no floor.
    min_epochs: int = 0
    lr_factor: float = 0.2
    lr_patience: int = 2
    min_lr: float = 4e-5
    specaugment: SpecAugmentConfig = field(default_factory=SpecAugmentConfig)
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    finetune: FinetuneConfig = field(default_factory=FinetuneConfig)
    distill: DistillConfig = field(default_factory=DistillConfig)
    label_smoothing: float = 0.0
    class_weights: bool = False  # weight the loss by inverse class frequency of the training part
    balance_corpora: bool = False  # several corpora: each supplies the same share of every epoch
    scheduler: Scheduler = "plateau"  # plateau is ReduceLROnPlateau, the paper's
    warmup_epochs: int = 0  # linear warm-up before cosine
    # Weight averaging: an exponential moving average of the weights over about this many epochs,
    # from the end of the warm-up; validation, the checkpoints and the model file use the average.
    # Averaged weights are flatter minima and steadier from epoch to epoch. 0 = off.
    ema_epochs: float = 0.0
    # A model.specser whose network starts this run (pretrained on another corpus, then fine-tuned here):
    # tensors of matching name and shape are copied, the rest (an output layer for another number of
    # labels) start fresh. Same architecture and input features required. "" = a fresh network.
    init_from: str = ""
    tta_crops: int = 1  # test-time augmentation: average the predictions of this many clip windows
    # Test-time views: each clip window also labelled rolled circularly by these many frames (as `time_shift_s`
    # rolls training inputs), the probabilities averaged. The network downsamples time by 32 frames, so its
    # label can depend on where a recording starts; views spread over that stride steady it. [] = none.
    tta_time_views: list[int] = field(default_factory=list)
    num_workers: int = 0
    accelerator: Accelerator = "auto"
    devices: str = "auto"
    num_nodes: int = 1
    strategy: str = "auto"
    # "auto": bf16 mixed precision where the hardware computes bf16 natively (a CUDA GPU that supports it,
    # a CPU with AMX or AVX512-BF16), 32-bit elsewhere (`specser.training.fit.resolve_precision`).
    precision: Precision = "32-true"
    deterministic: bool = False
    # Speed (issue: performance); none of these changes what is computed.
    channels_last: bool = True  # NHWC convolutions: 1.6x faster epochs on this project's CPU
    compile: bool = False  # torch.compile the model; pays off on GPUs, not on small CPUs
    threads: int = 0  # torch intra-op threads; 0 keeps torch's default (one per core)
    data_on_device: bool | None = None  # hold all features on the GPU; None: yes on a single GPU


@dataclass
class CVConfig:
    """Cross-validation: which protocol (see `specser.data.folds.PROTOCOLS`) and how many folds."""

    protocol: Protocol = "random-5fold"
    n_folds: int = 5  # random-5fold and actor-5fold; emobox has 6 fixed folds, loso one per speaker
    parallel_folds: int = 1  # folds trained at once, each in its own process (a GPU with room to spare)
    # The seed that draws the folds; None: `seed`. Two CVs with other training seeds and one fold_seed test the
    # same clips in each fold, so their fold models make a seed ensemble measured on the CV's own test folds.
    fold_seed: int | None = None


@dataclass
class BaselineConfig:
    """Classic baselines: utterance statistics of MFCCs (or eGeMAPS) into a scikit-learn Pipeline."""

    model: BaselineModel = "svm"
    # egemaps needs the `opensmile` package; egemaps+mfcc puts both vectors side by side (88 + 6 x n_mfcc)
    features: BaselineFeatures = "mfcc"
    n_mfcc: int = 40
    deltas: bool = True
    inner_folds: int = 3  # inner CV on the training part picks the hyper-parameters
    search: bool = True  # false: use the first value of every grid entry, no inner CV
    n_jobs: int = -1


@dataclass
class ExperimentConfig:
    preset: str = "paper"
    seed: int = 42
    data: DataConfig = field(default_factory=DataConfig)
    features: FeatureConfig = field(default_factory=FeatureConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    cv: CVConfig = field(default_factory=CVConfig)
    baseline: BaselineConfig = field(default_factory=BaselineConfig)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def outcome_dict(self) -> dict[str, Any]:
        """`to_dict` without the settings that change only how fast a run goes, not its result:
        what a resumed run must match."""
        return without_runtime_keys(self.to_dict())

    def save(self, path: Path) -> None:
        from specser.atomic import atomic_write_text

        atomic_write_text(Path(path), yaml.safe_dump(self.to_dict(), sort_keys=False))


PRESETS = ("paper", "best", "robust", "encoder")
RUNTIME_KEYS = (("cv", "parallel_folds"), ("train", "threads"), ("train", "num_workers"))


def without_runtime_keys(config: dict[str, Any]) -> dict[str, Any]:
    """A saved config's dict minus `RUNTIME_KEYS`, for comparing a resumed run with the original."""
    out = {k: dict(v) if isinstance(v, dict) else v for k, v in config.items()}
    for section, key in RUNTIME_KEYS:
        if isinstance(out.get(section), dict):
            out[section].pop(key, None)
    return out


def _coerce(value: Any, tp: Any, where: str) -> Any:
    """Check `value` against the annotation `tp`, converting only lossless cases."""
    origin = typing.get_origin(tp)
    if tp is Any:
        return value
    if origin is Literal:
        choices = typing.get_args(tp)
        if value not in choices:
            raise ConfigError(f"{where}: {value!r} is not allowed; choose one of {', '.join(map(str, choices))}")
        return value
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(tp):
            if arg is type(None):
                if value is None:
                    return None
                continue
            try:
                return _coerce(value, arg, where)
            except ConfigError:
                continue
        raise ConfigError(f"{where}: {value!r} does not match {tp}")
    if origin is list:
        if isinstance(value, tuple):
            value = list(value)
        if not isinstance(value, list):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        (item_tp,) = typing.get_args(tp) or (Any,)
        return [_coerce(v, item_tp, f"{where}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a mapping, got {value!r}")
        return dict(value)
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a mapping, got {value!r}")
        return from_dict(tp, value, where)
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{where}: expected true/false, got {value!r}")
    if tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):  # YAML 1.1 reads "3e-4" as a string
            try:
                return float(value)
            except ValueError:
                pass
        raise ConfigError(f"{where}: expected a number, got {value!r}")
    if tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise ConfigError(f"{where}: expected an integer, got {value!r}")
    if tp is str:
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            return str(value)
        raise ConfigError(f"{where}: expected a string, got {value!r}")
    raise ConfigError(f"{where}: unsupported type {tp}")


def from_dict(cls: type, data: dict[str, Any], where: str = "") -> Any:
    """Build dataclass `cls` from a mapping; unknown keys and bad types raise ConfigError."""
    hints = typing.get_type_hints(cls)
    names = {f.name for f in fields(cls) if f.init}
    unknown = sorted(set(data) - names)
    if unknown:
        prefix = f"{where}." if where else ""
        raise ConfigError(
            f"unknown config key(s) {', '.join(prefix + k for k in unknown)}; "
            f"valid keys here: {', '.join(sorted(names))}"
        )
    kwargs = {
        k: _coerce(v, hints[k], f"{where}.{k}" if where else k) for k, v in data.items()
    }
    return cls(**kwargs)


def _merge(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict) and key != "options":
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def parse_override(text: str) -> tuple[list[str], Any]:
    """Split ``a.b.c=value`` into its key path and YAML-parsed value."""
    if "=" not in text:
        raise ConfigError(f"override {text!r} must look like section.key=value")
    key, raw = text.split("=", 1)
    parts = [p for p in key.strip().split(".") if p]
    if not parts:
        raise ConfigError(f"override {text!r} has an empty key")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError as exc:
        raise ConfigError(f"override {text!r}: cannot parse value: {exc}") from exc
    return parts, value


def _override_tree(overrides: list[str]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for text in overrides:
        parts, value = parse_override(text)
        node = tree
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(f"override {text!r} conflicts with an earlier one")
        node[parts[-1]] = value
    return tree


def preset_dict(name: str) -> dict[str, Any]:
    if name not in PRESETS:
        raise ConfigError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}")
    text = resources.files("specser.presets").joinpath(f"{name}.yaml").read_text()
    return yaml.safe_load(text) or {}


def load_config(
    path: Path | str | None = None,
    overrides: list[str] | None = None,
    preset: str | None = None,
) -> ExperimentConfig:
    """Resolve preset -> YAML file -> overrides into a checked ExperimentConfig.

    Args:
        path: optional YAML file with any subset of the config's sections.
        overrides: ``section.key=value`` strings (values are YAML: ``[1,2]``, ``true``).
        preset: preset name; defaults to the file's ``preset`` key, else ``paper``.

    Returns:
        The validated config. Model options are checked later by the model registry.
    """
    user: dict[str, Any] = {}
    if path is not None:
        p = Path(path)
        if not p.is_file():
            raise ConfigError(f"config file not found: {p}")
        user = yaml.safe_load(p.read_text()) or {}
        if not isinstance(user, dict):
            raise ConfigError(f"{p}: top level must be a mapping")
    tree = _override_tree(overrides or [])
    name = preset or tree.get("preset") or user.get("preset") or "paper"
    merged = _merge(_merge(preset_dict(name), user), tree)
    merged["preset"] = name
    return from_dict(ExperimentConfig, merged)
