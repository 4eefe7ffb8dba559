"""Adapt a trained model to a set of recordings, without their labels: each BatchNorm layer's statistics
are measured again on them (AdaBN, Li et al. 2016). No weight is trained.

Why: a model sees another corpus, microphone or language as a shift of what its layers compute. A
RAVDESS model hears most of nEMO (Polish, 16 kHz Opus) as "sad": its BatchNorm layers normalise with
RAVDESS's statistics, which nEMO's clips do not share. Measured on four development models (docs/
results.md, "Adapting a model to new recordings"), re-estimating those statistics on nEMO's unlabelled
clips raised RAVDESS -> nEMO accuracy by 4.3-9.6 points (10 clips: 2.9-7.5), helped under strong babble
noise on RAVDESS voices, and cost 1.7-3.4 points when adapting to telephone-band audio.

The recordings should be like the ones to be labelled (the same microphone, room, language or
speakers) and hold a mix of emotions, as a user's recordings do: statistics of one emotion alone
would adapt the model to that emotion and blur it with the others. The adapted model is an ordinary
model file (`extra["adapted"]` says to what); export and predict it like any other.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import numpy as np
import torch

from specser.inference.model_file import ModelFile
from specser.inference.segments import sliding_windows

# Chosen by the rule in benchmarks/results/real_voices/rule_profile_prior.txt (docs/results.md, "Voice profiles:
# how many clips, and how far they move the model"): with the trained statistics worth 10 inputs, 5 clips of a
# new voice of the training corpus changed accuracy by +0.8 points on average (without the prior: -3.6, and
# one speaker lost 20.8), while 5 clips of a speaker of the other corpus still gained 4.0.
MIN_INPUTS = 5
PRIOR = 10.0
BATCH = 32


def _batch_norms(network: torch.nn.Module) -> list[torch.nn.modules.batchnorm._BatchNorm]:
    return [m for m in network.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]


def speech_windows(predictor, wave: np.ndarray) -> list[np.ndarray]:
    """A checked recording as inputs for adaptation: itself, or a long one's back-to-back windows of the
    model's clip length that hold speech (windows of silence would adapt the model to silence)."""
    if not predictor.is_long(wave):
        return [wave]
    windows = sliding_windows(wave, predictor.sample_rate, predictor.window_s, predictor.window_s)
    return [w for _, _, w in windows if predictor.window_has_speech(w)]


def adapt_to_logmels(model_file: ModelFile, logmels: list, seed: int = 0, device: str = "cpu",
                     min_inputs: int = MIN_INPUTS, prior: float = 0.0) -> ModelFile:
    """A copy of `model_file` whose BatchNorm statistics are those of the network's inputs built from
    `logmels` (log-Mels as `Predictor.logmels` gives them; speaker-normalised already for a
    `features.speaker_norm` model). Each input counts once, in shuffled batches of `BATCH`.

    `prior` > 0 counts the trained statistics as that many inputs: the result is the mix
    n / (n + prior) of the measured ones and prior / (n + prior) of the trained ones, for n inputs
    (Schneider et al. 2020), so that a few clips move the model less than many.

    Raises ValueError for a model without BatchNorm layers, or fewer than `min_inputs` inputs.
    """
    from specser.inference.predictor import Predictor

    if len(logmels) < max(min_inputs, 1):
        raise ValueError(f"adaptation needs at least {min_inputs} clips or windows of speech; got {len(logmels)}")
    network = model_file.build()
    layers = _batch_norms(network)
    if not layers:
        raise ValueError(f"model {model_file.model_name!r} has no BatchNorm layers: there is nothing to adapt")
    for layer in layers:  # a cumulative average over the batches to come, starting from nothing
        layer.reset_running_stats()
        layer.momentum = None
        layer.train()
    predictor = Predictor(model_file, device=device, tta_crops=1, time_views=())  # each input once, as it is
    predictor.model = network.to(predictor.device, memory_format=torch.channels_last)
    order = np.random.default_rng(seed).permutation(len(logmels))
    for start in range(0, len(order), BATCH):  # the forward passes update the statistics; outputs unused
        predictor.feature_probabilities([logmels[i] for i in order[start:start + BATCH]])
    network.eval()
    measured = {k: v.detach().cpu() for k, v in network.state_dict().items()}
    weight = len(logmels) / (len(logmels) + max(prior, 0.0))
    state = {k: _mixed(measured[k], v, weight) if is_statistic(k) else v
             for k, v in model_file.state_dict.items()}
    record = {"method": "BatchNorm statistics re-estimated (AdaBN)", "inputs": len(logmels),
              "date": dt.date.today().isoformat(), **({"prior": prior} if prior > 0 else {})}
    return replace(model_file, state_dict=state, extra={**model_file.extra, "adapted": record})


def is_statistic(name: str) -> bool:
    """Whether a state-dict entry is a BatchNorm statistic (what adaptation measures), not a learned weight."""
    return "running_" in name or "num_batches_tracked" in name


def _mixed(measured: torch.Tensor, trained: torch.Tensor, weight: float) -> torch.Tensor:
    """`weight` of the measured statistic and the rest of the trained one, in the trained one's dtype
    (counters are the measured ones)."""
    if weight >= 1.0 or not trained.is_floating_point():
        return measured.to(trained.dtype)
    return (weight * measured.float() + (1.0 - weight) * trained.float()).to(trained.dtype)


def adapt(model_file: ModelFile, waves: list[np.ndarray], seed: int = 0, device: str = "cpu",
          prior: float = PRIOR) -> ModelFile:
    """`adapt_to_logmels` for checked model-rate recordings (`Predictor.load`); long ones give their
    windows of speech. The trained statistics count as `prior` inputs."""
    from specser.inference.predictor import Predictor

    predictor = Predictor(model_file, device=device, tta_crops=1)
    inputs = [w for wave in waves for w in speech_windows(predictor, wave)]
    logmels = predictor.speaker_normalized(predictor.logmels(inputs)) if inputs else []
    return adapt_to_logmels(model_file, logmels, seed, device, prior=prior)
