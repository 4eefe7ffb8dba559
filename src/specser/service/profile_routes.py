"""/v1/profiles: voice profiles (`profiles.py`). A user sends recordings of their own voice once; the
profile's name, passed to /v1/predict as `?profile=`, then labels their audio with the model adapted to
them. Making one reads, checks and adapts in the long-recording pool, so clips never wait behind it."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request, Response

from specser.audio.load import AudioError
from specser.service.errors import ApiError
from specser.service.schemas import ERROR_RESPONSES, PROFILE_ERRORS, Profile
from specser.service.uploads import check_audio, read_uploads

router = APIRouter(prefix="/v1/profiles", tags=["voice profiles"])


def store_of(request: Request):
    """The app's `ProfileStore`; a 501 naming why when the served model cannot take profiles."""
    state = request.app.state
    if state.profiles is None:
        raise ApiError(501, "profiles_unavailable", state.profiles_unavailable)
    return state.profiles


def profiles_info(request: Request) -> dict:
    """What GET /v1/model says about profiles."""
    state = request.app.state
    if state.profiles is None:
        return {"available": False, "reason": state.profiles_unavailable}
    return {"available": True, "min_inputs": state.profiles.min_inputs, "max_files": state.settings.profile_max_files}


def profile_predictor(request: Request, name: str):
    """The predictor of profile `name` (a 404 when there is none)."""
    from specser.service.profiles import UnknownProfile

    try:
        return store_of(request).get(name)[1]
    except UnknownProfile:
        raise ApiError(404, "unknown_profile", f"no voice profile {name!r} (never made, deleted, or the service "
                                               "restarted without --profiles): make one with POST /v1/profiles") from None


def _as_profile(name: str, profile, skipped: list[dict] | None = None) -> Profile:
    return Profile(profile=name, recordings=profile.recordings, inputs=profile.inputs, seconds=profile.seconds,
                   created=profile.created, skipped=skipped or [])


@router.post("", status_code=201, response_model=Profile, summary="Make a voice profile from recordings of one speaker",
             responses={**ERROR_RESPONSES, **PROFILE_ERRORS},
             description="Send recordings of one speaker as multipart fields named `file` (or one recording as the "
                         "raw body): together at least `min_inputs` clips or windows of speech (GET /v1/model), "
                         "best with a mix of emotions, recorded as the audio to label will be. The model's BatchNorm "
                         "statistics are measured again on them (no label is needed) and kept under a random name. "
                         "Unreadable recordings are listed in `skipped`; too little speech in all is a 422 "
                         "`too_little_speech`.")
async def create_profile(request: Request) -> Profile:
    store = store_of(request)
    state = request.app.state
    uploads = await read_uploads(request, state.settings.max_upload_bytes, state.settings.profile_max_files)

    def work():
        waves, skipped, seconds, limit = [], [], 0.0, state.settings.max_duration_s
        for data, name in uploads:
            try:
                check_audio(data, name)
                wave = state.predictor.load(data, name=name)
            except ApiError as exc:
                skipped.append({"name": name, "error": exc.error, "detail": exc.detail})
                continue
            except AudioError as exc:
                skipped.append({"name": name, "error": exc.kind, "detail": str(exc)})
                continue
            seconds += wave.size / state.predictor.sample_rate
            if seconds > limit:  # bounds the work one request makes
                raise ApiError(422, "too_long", f"the recordings of a voice profile may last {limit:g} s together; "
                                                f"{name} goes past that (a few minutes of speech are plenty)")
            waves.append(wave)
        try:
            return (*store.create(waves), skipped)
        except ValueError as exc:
            left_out = f"; left out: {'; '.join(s['detail'] for s in skipped)}" if skipped else ""
            raise ApiError(422, "too_little_speech", f"{exc} in {len(waves)} readable recording(s){left_out}") from exc

    name, profile, skipped = await asyncio.get_running_loop().run_in_executor(state.long_pool, work)
    return _as_profile(name, profile, skipped)


@router.get("/{name}", response_model=Profile, summary="What a voice profile was made from",
            responses=PROFILE_ERRORS)
async def get_profile(request: Request, name: str) -> Profile:
    from specser.service.profiles import UnknownProfile

    try:
        profile = await asyncio.get_running_loop().run_in_executor(request.app.state.pool,
                                                                   lambda: store_of(request).describe(name))
    except UnknownProfile:
        raise ApiError(404, "unknown_profile", f"no voice profile {name!r}") from None
    return _as_profile(name, profile)


@router.delete("/{name}", status_code=204, summary="Delete a voice profile", responses=PROFILE_ERRORS)
async def delete_profile(request: Request, name: str) -> Response:
    from specser.service.profiles import UnknownProfile

    try:
        store_of(request).delete(name)
    except UnknownProfile:
        raise ApiError(404, "unknown_profile", f"no voice profile {name!r}") from None
    return Response(status_code=204)
