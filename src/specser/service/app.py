"""The FastAPI app, built by a factory: POST /v1/predict, GET /v1/health, GET /v1/model, the page at /,
OpenAPI at /docs.

Guards (`uploads.py`): the body size is limited before and while reading (413); the first bytes
must be an audio container we decode (415); decoding and inference errors are JSON 422s that say
what was wrong (`errors.py`). Decoding and inference run in a bounded thread pool, so slow requests
never block the event loop or each other's I/O.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from importlib import resources

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from specser.inference.base import BasePredictor, open_predictor
from specser.service.errors import install_error_handlers
from specser.service.routes import router
from specser.service.settings import ServiceSettings


def create_app(settings: ServiceSettings, predictor: BasePredictor | None = None) -> FastAPI:
    """Build the app; the model is loaded here (or passed in), never at import time."""
    predictor = predictor or open_predictor(settings.model, settings.backend, max_duration_s=settings.max_duration_s,
                                            window_s=settings.window_s, hop_s=settings.hop_s,
                                            min_duration_s=settings.min_duration_s)
    pool = ThreadPoolExecutor(max_workers=settings.inference_threads, thread_name_prefix="specser-infer")

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        pool.shutdown(wait=False, cancel_futures=True)

    app = FastAPI(title="specser", version="1", lifespan=lifespan,
                  description="Speech emotion recognition: upload audio, get probabilities over the model's labels.")
    app.state.predictor, app.state.settings, app.state.pool = predictor, settings, pool
    install_error_handlers(app)
    app.include_router(router)
    page = resources.files("specser.service").joinpath("static/index.html").read_text(encoding="utf-8")

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def index() -> str:
        return page

    return app


def app_from_env() -> FastAPI:
    """Factory for uvicorn worker processes (`specser serve --workers N`)."""
    return create_app(ServiceSettings.from_env())
