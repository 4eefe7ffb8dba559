"""What every backend shares: audio in, windows for long recordings, labelled results out.

The one inference path: waveform -> clipped peaks repaired, DC offset removed, knocks turned down, hum
notched out -> log-Mel, rumble's bands put back on its floor (`logmels`) -> the length policy and
test-time crops (`feature_probabilities`) -> standardisation and the network (`network_probabilities`, or
`network_outputs` with each input's familiarity score for a model that carries its training clips' statistics).
Evaluation enters at the log-Mel step with cached features; the CLI, the service and the ensemble enter
with audio. A backend (torch in `predictor.py`, onnxruntime in `specser.export.onnx_predictor`)
implements `wave_features` and `network_probabilities` (and `network_outputs` where it can score familiarity).
This module needs numpy, soundfile and soxr, nothing more.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from specser.audio.checks import MIN_DURATION_S, MIN_SPEECH_S, MIN_VOICED_S, speech_problem, trim_silence
from specser.audio.declip import declip
from specser.audio.echo import remove_echo
from specser.audio.hum import notch_hum
from specser.audio.knocks import remove_knocks
from specser.audio.load import AudioError, decode_audio, load_audio, prepare_wave, remove_dc
from specser.audio.quality import QualityWarning, quality_warnings, unfamiliar_warning
from specser.audio.whine import remove_whines
from specser.config import FeatureConfig
from specser.features.bass_noise import applies_to, floor_noisy_bass
from specser.features.length import crop_windows
from specser.features.normalize import speaker_stats, standardize
from specser.inference.results import Prediction, Segment
from specser.inference.segments import sliding_windows


# Silence longer than TRIM_OVER_S before the first or after the last speech is shortened to KEEP_SILENCE_S.
# Chosen under benchmarks/results/real_voices/rule_trim_silence_3.txt: 24 more points of labels kept after a
# 3 s wait, and not one label moved on clean clips or under the release conditions, since the corpora's own
# openings (about a second) are never touched.
KEEP_SILENCE_S: float | None = 1.0
TRIM_OVER_S: float | None = 2.0


class BasePredictor:
    """Probabilities over `labels` for any audio: a path, raw file bytes, or an array and its rate.

    Args:
        labels: class names in output order.
        features: the model's feature settings (sample rate, clip length...).
        max_duration_s: longer audio is refused (protects a service); None accepts any length.
        window_s, hop_s: sliding windows for long recordings; default window = the model's
            training clip length, hop = half of it. A recording longer than one window plus
            one hop is windowed; shorter ones are one input, cropped or padded like training.
        tta_crops: test-time crops per clip (see `specser.features.length.crop_windows`);
            None takes the number the model was evaluated with.
        min_duration_s, min_speech_s, min_voiced_s: audio shorter than the first, with less speech than
            the second, or with less voiced time than the third (`specser.audio.checks`; claps, typing,
            noise) gets a named error (`too_short`, `no_speech`), never a label; a long recording's
            windows without speech are marked, not classified. `min_voiced_s=0` leaves the voice out.
        repair_clipping: a recording the ``clipped`` warning flags (`specser.audio.quality`) has its cut
            peaks re-estimated before its features are computed (`specser.audio.declip`); False reads
            it as it is.
        keep_silence_s: silence before the first and after the last speech of a recording is shortened
            to this many seconds before it is cropped or cut into windows (`specser.audio.checks.
            trim_silence`); None keeps it all.
        trim_over_s: only a stretch of silence longer than this is shortened (None: any longer than
            `keep_silence_s`). By default a wait of more than 2 s becomes 1 s.
        channel: label only this channel (0-based) of a multichannel recording, e.g. one party of a
            call with each party on its own channel; None mixes the channels (`specser.audio.load.downmix`).
        time_views: circular shifts in frames (as training's `time_shift_s` rolls its inputs); each
            clip-length window is labelled by the mean of its probabilities under each shift. The network
            downsamples time by 32 frames, so a recording that starts 16 ms later can change its label;
            shifts spread over that stride average it out. Empty: the window as it is.
    """

    backend = "none"
    familiarity_threshold: float | None = None  # a backend whose model scores familiarity sets it

    def __init__(self, labels: list[str], features: FeatureConfig, max_duration_s: float | None = None,
                 window_s: float | None = None, hop_s: float | None = None, tta_crops: int | None = None,
                 min_duration_s: float = MIN_DURATION_S, min_speech_s: float = MIN_SPEECH_S,
                 min_voiced_s: float = MIN_VOICED_S, repair_clipping: bool = True,
                 keep_silence_s: float | None = KEEP_SILENCE_S, trim_over_s: float | None = TRIM_OVER_S,
                 channel: int | None = None, time_views: tuple[int, ...] = ()):
        self.labels = list(labels)
        self.time_views = tuple(int(k) for k in time_views)
        self.channel = channel
        self.repair_clipping, self.keep_silence_s, self.trim_over_s = repair_clipping, keep_silence_s, trim_over_s
        self.min_duration_s, self.min_speech_s, self.min_voiced_s = min_duration_s, min_speech_s, min_voiced_s
        self.features = features
        self.tta_crops = max(1, tta_crops or 1)
        self.sample_rate = features.sample_rate
        self.max_duration_s = max_duration_s
        self.window_s = window_s or features.clip_seconds
        self.hop_s = hop_s or self.window_s / 2
        if self.hop_s <= 0 or self.window_s <= 0:
            raise ValueError("window and hop must be positive")
        self.speaker_stats: tuple[np.ndarray, np.ndarray] | None = None  # `set_speaker`

    def set_speaker(self, waves: list[np.ndarray]) -> None:
        """Name `waves` (model-rate, checked) as recordings of the speaker to come: a `features.speaker_norm`
        model then normalises every input by their statistics instead of each recording's own. More and
        longer recordings give steadier statistics (a minute of speech is plenty)."""
        if not self.features.speaker_norm:
            raise ValueError("this model does not use speaker statistics (features.speaker_norm is off)")
        if not waves:
            raise ValueError("speaker statistics need at least one recording")
        self.speaker_stats = logmel_speaker_stats(self.logmels(waves))

    def speaker_normalized(self, logmels: list, stats: tuple[np.ndarray, np.ndarray] | None = None) -> list:
        """For a `features.speaker_norm` model, each log-Mel relative to `stats`, else to the statistics of
        `set_speaker`, else to its own (each recording its own speaker); other models' pass unchanged."""
        if not self.features.speaker_norm:
            return logmels
        stats = stats or self.speaker_stats
        out = []
        for f in logmels:
            mean, std = stats or logmel_speaker_stats([f])
            out.append(standardize(f, _like(f, mean), _like(f, std)))
        return out

    def logmels(self, waves: list[np.ndarray]) -> list:
        """The (n_mels, frames) log-Mel of each model-rate waveform (backend arrays), its clipped peaks
        repaired first (`repair_clipping`), then its DC offset removed (arrays handed in directly have
        not been through the loader, which removes it too), then any discrete echo cancelled, then any
        knock turned down, then any mains
        hum and any steady whine notched out (the whine notch leaves the hum's harmonics alone); in the
        log-Mel, the lowest bands that steady rumble fills are set back to its floor
        (`specser.features.bass_noise`). Every path from audio to the network comes through here, so each
        recording is repaired once."""
        sr = self.sample_rate
        repaired = []
        for wave in waves:
            wave = np.asarray(wave, dtype=np.float32)  # a float64 array handed in directly is read as float32
            wave = remove_echo(remove_dc(declip(wave) if self.repair_clipping else wave), sr)
            notched, mains = notch_hum(remove_knocks(wave, sr), sr)
            repaired.append(remove_whines(notched, sr, mains_hz=mains))
        feats = self.wave_features(repaired)
        return [floor_noisy_bass(f) for f in feats] if applies_to(self.features) else feats

    def wave_features(self, waves: list[np.ndarray]) -> list:
        """The backend's features of each model-rate waveform, as they are."""
        raise NotImplementedError

    def network_probabilities(self, logmels: list) -> np.ndarray:
        """(N, C) probabilities for log-Mels of equal length: standardisation (or the image
        transform) and the network."""
        raise NotImplementedError

    def trimmed(self, wave: np.ndarray) -> np.ndarray:
        """`wave` with the silence before and after its speech shortened to `keep_silence_s`."""
        if self.keep_silence_s is None:
            return wave
        return trim_silence(wave, self.sample_rate, self.keep_silence_s, self.trim_over_s)

    def probabilities(self, waves: list[np.ndarray], stats: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
        """(N, C) class probabilities for model-rate waveforms, one input each, long silence around the
        speech shortened first (`stats`: see `speaker_normalized`)."""
        return self._input_outputs([self.trimmed(w) for w in waves], stats)[0]

    def _input_outputs(self, inputs: list[np.ndarray], stats: tuple[np.ndarray, np.ndarray] | None = None
                       ) -> tuple[np.ndarray, np.ndarray | None]:
        """`feature_outputs` of waveforms already trimmed (`trimmed`)."""
        return self.feature_outputs(self.speaker_normalized(self.logmels(inputs), stats))

    def probabilities_by_speaker(self, waves: list[np.ndarray], speakers: list[str]) -> np.ndarray:
        """(N, C) probabilities, with a `features.speaker_norm` model's statistics taken per named speaker
        from that speaker's waves here (evaluation on a labelled corpus)."""
        if not self.features.speaker_norm:
            return self.probabilities(waves)
        logmels = self.logmels([self.trimmed(w) for w in waves])
        groups: dict[str, list[int]] = {}
        for i, s in enumerate(speakers):
            groups.setdefault(s, []).append(i)
        normalised = [None] * len(waves)
        for rows in groups.values():
            stats = logmel_speaker_stats([logmels[i] for i in rows])
            for i, f in zip(rows, self.speaker_normalized([logmels[i] for i in rows], stats)):
                normalised[i] = f
        return self.feature_probabilities(normalised)

    def feature_probabilities(self, logmels: list) -> np.ndarray:
        """(N, C) class probabilities for log-Mels (speaker-normalised already, for a `features.speaker_norm`
        model), as training built its inputs.

        ``pad_crop`` models see clip-length windows (the mean over `tta_crops` windows);
        ``pad_batch`` and image-mode models see each clip whole, batched with clips of the
        same length only, so a result never depends on which clips share a batch.
        """
        return self.feature_outputs(logmels)[0]

    def feature_outputs(self, logmels: list) -> tuple[np.ndarray, np.ndarray | None]:
        """`feature_probabilities`, and each log-Mel's familiarity score (the mean over its windows) where
        the model scores familiarity, else None."""
        if not len(logmels):
            return np.zeros((0, len(self.labels)), dtype=np.float32), None
        flat, owner = self.network_inputs(logmels)
        probs = np.zeros((len(flat), len(self.labels)), dtype=np.float32)
        scores = np.zeros(len(flat), dtype=np.float32)
        scored = True
        for group in same_length_groups(flat):
            probs[group], group_scores = self.network_outputs([flat[i] for i in group])
            if group_scores is None:
                scored = False
            else:
                scores[group] = group_scores
        return per_input_mean(probs, owner, len(logmels)), per_input_mean(scores, owner, len(logmels)) if scored else None

    def network_inputs(self, logmels: list) -> tuple[list, np.ndarray]:
        """What the network reads of each log-Mel, flattened, and the index of the log-Mel each came from."""
        fc = self.features
        if fc.mode == "native" and fc.length_mode == "pad_crop":
            windows = [crop_windows(f, fc.clip_frames, self.tta_crops) for f in logmels]
        else:
            windows = [[f] for f in logmels]
        if self.time_views:
            windows = [[_roll(w, k) for w in ws for k in self.time_views] for ws in windows]
        return [w for ws in windows for w in ws], np.repeat(np.arange(len(windows)), [len(ws) for ws in windows])

    def network_outputs(self, logmels: list) -> tuple[np.ndarray, np.ndarray | None]:
        """(N, C) probabilities and (N,) familiarity scores for log-Mels of equal length; a backend whose
        model has no familiarity statistics returns None for the scores."""
        return self.network_probabilities(logmels), None

    def load(self, source: str | Path | bytes | np.ndarray, sample_rate: int | None = None, name: str | None = None,
             channel: int | None = None, notes: list | None = None) -> np.ndarray:
        """Mono float32 at the model's rate, checked to hold speech; raises `AudioError` naming the
        source, the reason and its kind. `channel` (0-based) keeps that channel alone, for this source
        only; None takes the predictor's `channel`. `notes` (a list) gets the warnings that only the
        channels show, which the mono result cannot (`specser.audio.load.prepare_wave`)."""
        name = name or _source_name(source)
        channel = self.channel if channel is None else channel
        if isinstance(source, np.ndarray):
            wave = self._from_array(source, sample_rate, name, channel, notes)
        else:
            wave = load_audio(source, self.sample_rate, self.max_duration_s, name=name, channel=channel, notes=notes)
        self.check_speech(wave, name)
        return wave

    def load_channels(self, source: str | Path | bytes, name: str | None = None
                      ) -> list[tuple[int | None, np.ndarray | AudioError]]:
        """Each channel of a recording on its own, as `load` with `channel` would read it: (channel number,
        1-based, and its checked waveform, or the `AudioError` that channel alone gets, e.g. a silent one),
        one entry per channel, the file decoded once. A mono recording is one entry, numbered None. For a
        call with each party on its own channel: every party labelled in one pass. Raises `AudioError`
        when the file itself cannot be read."""
        name = name or _source_name(source)
        data, sr = decode_audio(source, self.max_duration_s, name)
        numbers = [None] if data.shape[1] == 1 else list(range(1, data.shape[1] + 1))
        out: list[tuple[int | None, np.ndarray | AudioError]] = []
        for number in numbers:
            named = channel_name(name, number)
            try:
                wave = prepare_wave(data, sr, self.sample_rate, self.max_duration_s, named,
                                    None if number is None else number - 1)
                self.check_speech(wave, named)
                out.append((number, wave))
            except AudioError as exc:
                out.append((number, exc))
        return out

    def check_speech(self, wave: np.ndarray, name: str) -> None:
        """Raises `AudioError` (``too_short`` / ``no_speech``) for audio with nothing to classify."""
        problem = speech_problem(wave, self.sample_rate, self.min_duration_s, self.min_speech_s, self.min_voiced_s)
        if problem is not None:
            raise AudioError(name, problem[1], problem[0])

    def window_has_speech(self, window: np.ndarray) -> bool:
        """Whether a long recording's window holds speech to classify: `check_speech`'s checks but the
        minimum duration."""
        return speech_problem(window, self.sample_rate, 0.0, self.min_speech_s, self.min_voiced_s) is None

    def _from_array(self, wave: np.ndarray, sample_rate: int | None, name: str, channel: int | None,
                    notes: list | None = None) -> np.ndarray:
        if sample_rate is None:
            raise ValueError(f"{name}: an array needs its sample rate")
        wave = np.asarray(wave, dtype=np.float32)
        if wave.ndim not in (1, 2):
            raise AudioError(name, f"expected a 1-D or (frames, channels) array, got shape {wave.shape}", "bad_input")
        frames = wave[:, None] if wave.ndim == 1 else wave  # (frames, channels) as soundfile returns it
        return prepare_wave(frames, sample_rate, self.sample_rate, self.max_duration_s, name, channel, notes)

    def is_long(self, wave: np.ndarray) -> bool:
        return wave.size / self.sample_rate > self.window_s + self.hop_s

    def predict(self, source, sample_rate: int | None = None, name: str | None = None,
                channel: int | None = None) -> Prediction:
        name = name or _source_name(source)
        notes: list[QualityWarning] = []  # what only the channels show (separate parties of a call)
        prediction = self.predict_wave(self.load(source, sample_rate, name, channel, notes), name)
        prediction.warnings.extend(notes)
        return prediction

    def predict_wave(self, wave: np.ndarray, name: str = "<audio>") -> Prediction:
        """A checked waveform (`load`) -> its prediction, with the recording's quality warnings. A long
        recording (still long once the silence around its speech is shortened) is cut into windows;
        windows without speech are marked ``no_speech`` and left out of the overall label."""
        trimmed = self.trimmed(wave)
        if not self.is_long(trimmed):  # one input once long silence around the speech is shortened
            probs, scores = self._input_outputs([trimmed])
            return self.prediction(probs[0], wave.size / self.sample_rate, wave=wave,
                                   familiarity=None if scores is None else float(scores[0]))
        return self._windowed(wave, name)

    def _windowed(self, wave: np.ndarray, name: str = "<audio>") -> Prediction:
        """A long recording's prediction from its windows, each marked or labelled (`predict_wave`)."""
        duration = wave.size / self.sample_rate
        windows = sliding_windows(wave, self.sample_rate, self.window_s, self.hop_s)
        speech = [self.window_has_speech(w) for _, _, w in windows]
        if not any(speech):
            raise AudioError(name, "no speech found in any window of the recording", "no_speech")
        logmels = self.logmels([w for (_, _, w), ok in zip(windows, speech) if ok])
        stats = None  # a speaker_norm model: the whole recording's statistics for every window
        if self.features.speaker_norm and self.speaker_stats is None:
            stats = logmel_speaker_stats(logmels)
        probs, scores = self.feature_outputs(self.speaker_normalized(logmels, stats))
        by_window = iter(probs)
        timeline = [Segment(start, end, *self._labelled(next(by_window))) if ok else Segment(start, end, None, None,
                                                                                             "no_speech")
                    for (start, end, _), ok in zip(windows, speech)]
        weights = np.array([end - start for (start, end, _), ok in zip(windows, speech) if ok])
        overall = (probs * weights[:, None]).sum(axis=0) / weights.sum()
        # Unfamiliar when most windows are: a window that cuts across two utterances can lie far on its own.
        familiarity = None if scores is None else float(np.median(scores))
        return self.prediction(overall, duration, timeline, wave=wave, familiarity=familiarity)

    def _labelled(self, probs: np.ndarray) -> tuple[str, dict[str, float]]:
        return self.labels[int(probs.argmax())], self._named(probs)

    def predict_batch(self, waves: list[np.ndarray]) -> list[Prediction]:
        """Short clips in one forward pass; long ones each through their windows."""
        out: list[Prediction | None] = [None] * len(waves)
        trimmed = [self.trimmed(w) for w in waves]
        short = [i for i, t in enumerate(trimmed) if not self.is_long(t)]
        if short:
            probs, scores = self._input_outputs([trimmed[i] for i in short])
            for k, i in enumerate(short):
                out[i] = self.prediction(probs[k], waves[i].size / self.sample_rate, wave=waves[i],
                                         familiarity=None if scores is None else float(scores[k]))
        for i, w in enumerate(waves):
            if out[i] is None:
                out[i] = self._windowed(w)
        return out

    def _named(self, probs: np.ndarray) -> dict[str, float]:
        return {label: round(float(p), 6) for label, p in zip(self.labels, probs)}

    def prediction(self, probs: np.ndarray, duration: float, timeline: list[Segment] | None = None,
                   wave: np.ndarray | None = None, familiarity: float | None = None) -> Prediction:
        """The labelled result; with the `wave`, its quality warnings (`specser.audio.quality`); with its
        `familiarity` score, an ``unfamiliar`` warning when that lies over the model's threshold."""
        warnings = quality_warnings(wave, self.sample_rate, self.repair_clipping) if wave is not None else []
        if familiarity is not None and self.familiarity_threshold is not None and familiarity > self.familiarity_threshold:
            warnings.append(unfamiliar_warning())
        return Prediction(self.labels[int(np.argmax(probs))], self._named(probs), duration, timeline or [], warnings)


def same_length_groups(inputs: list) -> list[list[int]]:
    """Indices of `inputs` grouped by time length: a batch holds one length, so a result never depends on
    which clips share it."""
    by_length: dict[int, list[int]] = {}
    for i, x in enumerate(inputs):
        by_length.setdefault(int(x.shape[-1]), []).append(i)
    return list(by_length.values())


def per_input_mean(values: np.ndarray, owner: np.ndarray, n: int) -> np.ndarray:
    """The mean of `values` (rows) over the windows of each of `n` inputs (`owner`: each row's input)."""
    out = np.zeros((n, *values.shape[1:]), dtype=np.float64)
    np.add.at(out, owner, values)
    counts = np.bincount(owner, minlength=n).reshape(-1, *([1] * (values.ndim - 1)))
    return (out / counts).astype(np.float32)


def logmel_speaker_stats(logmels: list) -> tuple[np.ndarray, np.ndarray]:
    """`specser.features.normalize.speaker_stats` of a backend's log-Mels."""
    return speaker_stats([_as_numpy(f) for f in logmels])


def _as_numpy(f) -> np.ndarray:
    """A backend's log-Mel (numpy, or a torch tensor on any device) as numpy."""
    return f if isinstance(f, np.ndarray) else f.detach().cpu().numpy()


def _roll(f, frames: int):
    """`f` (..., frames) rolled circularly along time, numpy or torch."""
    return np.roll(f, frames, axis=-1) if isinstance(f, np.ndarray) else f.roll(frames, dims=-1)


def _like(f, array: np.ndarray):
    """`array` in `f`'s kind: numpy for numpy, a tensor on `f`'s device for torch."""
    if isinstance(f, np.ndarray):
        return array
    return f.new_tensor(array)


def channel_name(name: str, channel: int | None) -> str:
    """How errors and results name one channel (1-based) of a recording, or the recording itself (None)."""
    return name if channel is None else f"{name} (channel {channel})"


def _source_name(source) -> str:
    """How errors name a source the caller gave no name for."""
    if isinstance(source, np.ndarray):
        return "<array>"
    return "<bytes>" if isinstance(source, (bytes, bytearray)) else str(source)


def open_predictor(path: Path | str, backend: str = "auto", **kwargs) -> BasePredictor:
    """A predictor for a model file: `.onnx` runs on onnxruntime (no torch), anything else on torch.
    A folder (a cross-validation run, or a folder of model files) gives the ensemble of its models."""
    path = Path(path)
    if path.is_dir():
        from specser.inference.ensemble import EnsemblePredictor, ensemble_files

        # How a recording is read, repaired and windowed is the ensemble's to do once; members only compute.
        window = {k: kwargs.pop(k) for k in ("max_duration_s", "window_s", "hop_s", "tta_crops", "min_duration_s",
                                             "min_speech_s", "min_voiced_s", "repair_clipping", "keep_silence_s",
                                             "trim_over_s", "channel") if k in kwargs}
        members = [open_predictor(f, backend, **kwargs) for f in ensemble_files(path)]
        return EnsemblePredictor(members, **window)
    if backend == "auto":
        backend = "onnx" if path.suffix == ".onnx" else "torch"
    if backend == "onnx":
        from specser.export.onnx_predictor import OnnxPredictor

        return OnnxPredictor(path, **kwargs)
    if backend == "torch":
        from specser.inference.model_file import ModelFile
        from specser.inference.predictor import Predictor

        return Predictor(ModelFile.load(path), **kwargs)
    raise ValueError(f"unknown backend {backend!r}; choose torch, onnx or auto")
