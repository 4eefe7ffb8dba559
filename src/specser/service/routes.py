"""The /v1 resources. The predictor and settings come in as dependencies, so tests and other apps can
swap them (`app.dependency_overrides`)."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from specser.audio.formats import FORMAT_NAMES
from specser.audio.load import AudioError
from specser.inference.base import BasePredictor, channel_name
from specser.service.errors import ApiError
from specser.service.profile_routes import profile_predictor, profiles_info
from specser.service.schemas import (ERROR_RESPONSES, PROFILE_ERRORS, ChannelPrediction, ChannelPredictions,
                                     Prediction)
from specser.service.settings import ServiceSettings
from specser.service.uploads import read_upload

router = APIRouter(prefix="/v1")


def get_predictor(request: Request) -> BasePredictor:
    return request.app.state.predictor


def get_settings(request: Request) -> ServiceSettings:
    return request.app.state.settings


def header_duration(data: bytes) -> float | None:
    """Seconds of audio the container's header announces (no decoding); None when it cannot tell."""
    from specser.audio.load import audio_info

    try:
        seconds = audio_info(data)["duration_s"]
    except Exception:  # noqa: BLE001 - undecodable uploads get their 422 from the predictor
        return None
    return None if seconds is None else float(seconds)


async def pool_for(request: Request, data: bytes) -> ThreadPoolExecutor:
    """The long-recording pool for audio longer than `long_after_s`, else the clip pool. The duration is read
    off the event loop: a browser recording whose header does not state it is measured from its packets
    (0.3 s for ten minutes)."""
    duration = await asyncio.to_thread(header_duration, data)
    state = request.app.state
    if duration is not None and duration > state.settings.long_after_s:
        return state.long_pool
    return state.pool


UPLOAD_BODY = {"requestBody": {"content": {  # the audio: a multipart field `file`, or the raw body
    "multipart/form-data": {"schema": {"type": "object",
                                       "properties": {"file": {"type": "string", "format": "binary"}}}},
    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}}
ProfileQuery = Annotated[str | None, Query(description="A voice profile (POST /v1/profiles): the model adapted to "
                                                     "the speaker's own recordings")]
PredictorDep = Annotated[BasePredictor, Depends(get_predictor)]
SettingsDep = Annotated[ServiceSettings, Depends(get_settings)]


@router.get("/health", summary="Liveness")
async def health() -> dict:
    return {"status": "ok"}


@router.get("/model", summary="The served model: labels, feature settings, size, limits")
async def model_info(request: Request, predictor: PredictorDep, settings: SettingsDep) -> dict:
    fc = predictor.features
    return {
        "labels": predictor.labels, "backend": predictor.backend, "parameters": predictor.n_parameters,
        "feature_config": {k: getattr(fc, k) for k in ("mode", "sample_rate", "n_fft", "hop_length", "n_mels",
                                                       "f_min", "f_max", "clip_seconds", "length_mode")},
        "window_s": predictor.window_s, "hop_s": predictor.hop_s, "tta_crops": predictor.tta_crops,
        "max_upload_bytes": settings.max_upload_bytes, "max_duration_s": settings.max_duration_s,
        "formats": FORMAT_NAMES, "profiles": profiles_info(request),
    }


@router.post("/predict", summary="Predict the emotion of an audio file", response_model=Prediction,
             response_model_exclude_unset=True, responses={**ERROR_RESPONSES, **PROFILE_ERRORS},
             description=f"Send the audio as a multipart field `file`, or as the raw request body ({FORMAT_NAMES}). "
                         "Returns `labels`, `probabilities` (label -> probability), `label` and "
                         "`duration_s`, and `warnings` about the recording that make the label less reliable "
                         "(`clipped`, `narrow_band`, `separate_parties`, `few_bits`, `unfamiliar`; empty when there "
                         "are none); "
                         "audio longer than one window plus one hop also gets a `timeline`, whose windows without "
                         "speech have `status` `no_speech` and no label. Audio with nothing to classify is a 422 "
                         "whose `error` names why: `too_short`, `no_speech`, `silent`, `truncated`, `corrupt`, "
                         "`too_long`, `empty`. With `?profile=NAME` (POST /v1/profiles) the model adapted to the "
                         "speaker's own recordings labels the audio.",
             openapi_extra=UPLOAD_BODY)
async def predict(request: Request, predictor: PredictorDep, settings: SettingsDep,
                  profile: ProfileQuery = None,
                  channel: Annotated[int | None, Query(ge=1, description="Label only this channel (1 = left, "
                                                       "2 = right), e.g. one party of a call recorded with each "
                                                       "party on its own channel; default: the channels mixed")] = None
                  ) -> Prediction:
    data, name = await read_upload(request, settings.max_upload_bytes)
    result = await _in_pool(request, data, lambda: _chosen(request, predictor, profile).predict(
        data, name=name, channel=None if channel is None else channel - 1))
    extra = {} if profile is None else {"profile": profile}
    return Prediction(labels=predictor.labels, **result.to_dict(), **extra)


@router.post("/predict/channels", summary="Predict the emotion of each channel of an audio file on its own",
             response_model=ChannelPredictions, response_model_exclude_unset=True,
             responses={**ERROR_RESPONSES, **PROFILE_ERRORS},
             description="For a call recorded with each party on its own channel: every party labelled in one "
                         "request, the file decoded once. `channels` has an entry per channel, each as /v1/predict "
                         "would answer with `?channel=N`; a channel with nothing to classify (a party who never "
                         "spoke) has `error` and `detail` instead of a label. A mono file gets one entry, `channel` "
                         "null. A 422 only when the file cannot be read, or no channel has anything to classify.",
             openapi_extra=UPLOAD_BODY)
async def predict_channels(request: Request, predictor: PredictorDep, settings: SettingsDep,
                           profile: ProfileQuery = None) -> ChannelPredictions:
    data, name = await read_upload(request, settings.max_upload_bytes)

    def work() -> list[ChannelPrediction]:
        chosen = _chosen(request, predictor, profile)
        out = []
        for number, got in chosen.load_channels(data, name):
            if isinstance(got, AudioError):
                out.append(ChannelPrediction(channel=number, error=got.kind, detail=str(got)))
            else:
                found = chosen.predict_wave(got, channel_name(name, number)).to_dict()
                out.append(ChannelPrediction(channel=number, **found))
        if all(c.error for c in out):  # nothing to classify anywhere: as /v1/predict would answer
            raise AudioError(name, "no channel has anything to classify: " + "; ".join(c.detail for c in out),
                             out[0].error)
        return out

    channels = await _in_pool(request, data, work)
    extra = {} if profile is None else {"profile": profile}
    return ChannelPredictions(labels=predictor.labels, channels=channels, **extra)


def _chosen(request: Request, predictor: BasePredictor, profile: str | None) -> BasePredictor:
    """The served predictor, or a voice profile's: built (or found in the cache) in the same job as the
    prediction, off the event loop."""
    return predictor if profile is None else profile_predictor(request, profile)


async def _in_pool(request: Request, data: bytes, work):
    """`work()` in the pool for this upload's length; audio with nothing to classify becomes a 422."""
    try:
        return await asyncio.get_running_loop().run_in_executor(await pool_for(request, data), work)
    except AudioError as exc:
        raise ApiError(422, exc.kind, str(exc)) from exc
