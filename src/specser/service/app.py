"""The FastAPI app, built by a factory: POST /v1/predict, GET /v1/health, GET /v1/model, voice profiles
at /v1/profiles (`profile_routes.py`), the page at /, API docs at /docs (a page of our own that renders
/openapi.json offline, not Swagger UI from a CDN).

Guards (`uploads.py`): the body size is limited before and while reading (413); the first bytes
must be an audio container we decode (415); decoding and inference errors are JSON 422s that say
what was wrong (`errors.py`). Decoding and inference run in bounded thread pools, so slow requests
never block the event loop or each other's I/O; recordings longer than `long_after_s` (read from the
header) queue in a pool of their own, so a 4 s clip never waits behind 10-minute uploads.
"""

from __future__ import annotations

import tempfile
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from specser.inference.base import BasePredictor, open_predictor
from specser.service.errors import install_error_handlers
from specser.service.profile_routes import router as profile_router
from specser.service.profiles import ProfileStore, unavailable_reason
from specser.service.routes import router
from specser.service.settings import ServiceSettings


def create_app(settings: ServiceSettings, predictor: BasePredictor | None = None) -> FastAPI:
    """Build the app; the model is loaded here (or passed in), never at import time."""
    predictor = predictor or open_predictor(settings.model, settings.backend, max_duration_s=settings.max_duration_s,
                                            window_s=settings.window_s, hop_s=settings.hop_s,
                                            min_duration_s=settings.min_duration_s)
    profiles, profiles_dir, no_profiles = profile_store(settings, predictor)
    pool = ThreadPoolExecutor(max_workers=settings.inference_threads, thread_name_prefix="specser-infer")
    long_pool = ThreadPoolExecutor(max_workers=settings.long_threads, thread_name_prefix="specser-long")

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        pool.shutdown(wait=False, cancel_futures=True)
        long_pool.shutdown(wait=False, cancel_futures=True)
        if profiles_dir is not None:
            profiles_dir.cleanup()

    app = FastAPI(title="specser", version="1", lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="Speech emotion recognition: upload audio, get probabilities over the model's labels.")
    app.state.predictor, app.state.settings, app.state.pool = predictor, settings, pool
    app.state.long_pool = long_pool
    app.state.profiles = profiles
    app.state.profiles_unavailable = no_profiles
    app.state.profiles_tempdir = profiles_dir  # kept alive as long as the app
    install_error_handlers(app)
    app.include_router(router)
    app.include_router(profile_router)
    static = resources.files("specser.service").joinpath("static")
    page = static.joinpath("index.html").read_text(encoding="utf-8")
    docs = static.joinpath("docs.html").read_text(encoding="utf-8")

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def index() -> str:
        return page

    @app.get("/docs", response_class=HTMLResponse, include_in_schema=False)
    async def api_docs() -> str:  # rendered in the browser from /openapi.json: no CDN, works offline
        return docs

    return app


def profile_store(settings: ServiceSettings, predictor: BasePredictor):
    """The voice-profile store, the temporary folder it lives in when `settings.profiles_dir` is None
    (removed when the app shuts down), and None; or (None, None, why) for a model that cannot take them."""
    reason = unavailable_reason(predictor)
    if reason is not None:
        return None, None, reason
    tempdir = None if settings.profiles_dir else tempfile.TemporaryDirectory(prefix="specser-profiles-")
    directory = settings.profiles_dir or Path(tempdir.name)
    store = ProfileStore(directory, predictor, settings.profile_min_inputs, settings.profile_prior, settings.max_profiles)
    return store, tempdir, None


def app_from_env() -> FastAPI:
    """Factory for uvicorn worker processes (`specser serve --workers N`)."""
    return create_app(ServiceSettings.from_env())
