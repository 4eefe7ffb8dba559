"""FastAPI app: POST /v1/predict, GET /v1/health, GET /v1/model, the page at /, OpenAPI at /docs.

Guards: the body size is limited before and while reading (413); the first bytes must be
an audio container we decode (415); decoding and inference errors are JSON 422s that say
what was wrong. Uploads are decoded from memory: nothing is written to disk, and no name
or path from the client is ever used as a path. Decoding and inference run in a bounded
thread pool, so slow requests never block the event loop or each other's I/O.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from importlib import resources

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from specser.audio.load import AudioError
from specser.inference.base import BasePredictor, open_predictor
from specser.service.settings import ServiceSettings
from specser.audio.formats import sniff_audio


class ApiError(Exception):
    def __init__(self, status: int, error: str, detail: str):
        self.status, self.error, self.detail = status, error, detail


def _json_error(status: int, error: str, detail: str) -> JSONResponse:
    return JSONResponse({"error": error, "detail": detail}, status_code=status)


async def _read_limited(request: Request, limit: int) -> tuple[bytes, str]:
    """The audio bytes of a multipart upload (field `file`) or of a raw body, at most `limit` bytes."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit + 64 * 1024:  # multipart framing slack
        raise ApiError(413, "too_large", f"upload is {int(declared)} bytes; the limit is {limit} bytes")
    ctype = request.headers.get("content-type", "")
    if ctype.startswith("multipart/form-data"):
        form = await request.form(max_files=1, max_fields=4, max_part_size=limit + 1)
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise ApiError(400, "no_file", "send the audio as a multipart field named 'file', or as the raw body")
        data = await upload.read(limit + 1)
        name = "upload"
    else:
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise ApiError(413, "too_large", f"upload exceeds the limit of {limit} bytes")
            chunks.append(chunk)
        data, name = b"".join(chunks), "body"
    if len(data) > limit:
        raise ApiError(413, "too_large", f"upload exceeds the limit of {limit} bytes")
    if not data:
        raise ApiError(400, "empty", "the upload is empty")
    if sniff_audio(data[:16]) is None:
        raise ApiError(415, "unsupported_media_type",
                       "not a WAV, FLAC, Ogg, AIFF or MP3 file (checked from its first bytes)")
    return data, name


def create_app(settings: ServiceSettings, predictor: BasePredictor | None = None) -> FastAPI:
    """Build the app; the model is loaded here (or passed in), never at import time."""
    predictor = predictor or open_predictor(settings.model, settings.backend, max_duration_s=settings.max_duration_s,
                                            window_s=settings.window_s, hop_s=settings.hop_s)
    pool = ThreadPoolExecutor(max_workers=settings.inference_threads, thread_name_prefix="specser-infer")

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        pool.shutdown(wait=False, cancel_futures=True)

    app = FastAPI(title="specser", version="1", lifespan=lifespan,
                  description="Speech emotion recognition: upload audio, get probabilities over the model's labels.")
    app.state.predictor, app.state.settings = predictor, settings

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError):
        return _json_error(exc.status, exc.error, exc.detail)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_: Request, exc: StarletteHTTPException):
        return _json_error(exc.status_code, "http_error", str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_: Request, exc: RequestValidationError):
        return _json_error(422, "invalid_request", str(exc.errors()))

    @app.get("/v1/health", summary="Liveness")
    async def health() -> dict:
        return {"status": "ok"}

    @app.get("/v1/model", summary="The served model: labels, feature settings, size, limits")
    async def model_info() -> dict:
        fc = predictor.features
        return {
            "labels": predictor.labels, "backend": predictor.backend, "parameters": predictor.n_parameters,
            "feature_config": {k: getattr(fc, k) for k in ("mode", "sample_rate", "n_fft", "hop_length", "n_mels",
                                                           "f_min", "f_max", "clip_seconds", "length_mode")},
            "window_s": predictor.window_s, "hop_s": predictor.hop_s,
            "max_upload_bytes": settings.max_upload_bytes, "max_duration_s": settings.max_duration_s,
        }

    @app.post("/v1/predict", summary="Predict the emotion of an audio file",
              description="Send the audio as a multipart field `file`, or as the raw request body (WAV, FLAC, Ogg, "
                          "AIFF or MP3). Returns `labels`, `probabilities` (same order), `label` and `duration_s`; "
                          "audio longer than one window plus one hop also gets a `timeline`.",
              openapi_extra={"requestBody": {"content": {
                  "multipart/form-data": {"schema": {"type": "object", "properties": {
                      "file": {"type": "string", "format": "binary"}}}},
                  "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}})
    async def predict(request: Request) -> dict:
        data, name = await _read_limited(request, settings.max_upload_bytes)
        try:
            result = await asyncio.get_running_loop().run_in_executor(pool, lambda: predictor.predict(data, name=name))
        except AudioError as exc:
            raise ApiError(422, "bad_audio", exc.reason) from exc
        body = result.to_dict()
        return {"labels": predictor.labels, "probabilities": [body["probabilities"][l] for l in predictor.labels],
                "label": body["label"], "duration_s": body["duration_s"], **({"timeline": body["timeline"]}
                                                                           if "timeline" in body else {})}

    page = resources.files("specser.service").joinpath("static/index.html").read_text(encoding="utf-8")

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def index() -> str:
        return page

    return app


def app_from_env() -> FastAPI:
    """Factory for uvicorn worker processes (`specser serve --workers N`)."""
    return create_app(ServiceSettings.from_env())
