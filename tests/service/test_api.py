"""The HTTP API on a real small model (trained on synthetic audio): valid and invalid uploads."""

import io
import time

import numpy as np
import pytest
import soundfile as sf

pytest.importorskip("fastapi", reason="the service needs the serve extra: pip install 'specser[serve]'")
from fastapi.testclient import TestClient  # noqa: E402

from specser.audio.sounds import sound  # noqa: E402
from specser.service.app import create_app  # noqa: E402
from specser.service.settings import ServiceSettings  # noqa: E402
from tests.synth import emotional_tone, recording_warnings  # noqa: E402


def _wav(wave, sr=16000, fmt="WAV", subtype=None):
    buffer = io.BytesIO()
    sf.write(buffer, wave, sr, format=fmt, subtype=subtype)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def client(trained_run):
    settings = ServiceSettings(model=trained_run / "model.specser", max_upload_mb=1.0, max_duration_s=30.0)
    with TestClient(create_app(settings)) as c:
        yield c


@pytest.fixture(scope="module")
def angry():
    return emotional_tone("05", 2, np.random.default_rng(0), seconds=1.0)


def test_health_model_docs_and_page(client):
    assert client.get("/v1/health").json() == {"status": "ok"}
    info = client.get("/v1/model").json()
    assert info["labels"] == ["neutral", "happy", "sad", "angry", "fearful", "surprised"]
    assert info["parameters"] > 10_000 and info["feature_config"]["sample_rate"] == 16000
    assert "WebM" in info["formats"] and "M4A" in info["formats"]  # the page lists what the service reads from here
    predict = client.get("/openapi.json").json()["paths"]["/v1/predict"]["post"]
    assert predict["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/Prediction")
    for status in ("400", "413", "415", "422"):  # the error bodies are documented too
        assert predict["responses"][status]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorBody")
    docs = client.get("/docs")
    assert docs.status_code == 200 and "/openapi.json" in docs.text and "cdn" not in docs.text.lower()
    page = client.get("/").text
    assert 'id="drop"' in page and "MediaRecorder" in page and "http://" not in page.replace("http://www.w3.org", "")
    for processing in ("echoCancellation", "noiseSuppression", "autoGainControl"):  # the microphone unprocessed
        assert f"{processing}: false" in page


def test_multipart_and_raw_uploads_agree(client, angry):
    data = _wav(angry)
    a = client.post("/v1/predict", files={"file": ("../../etc/passwd", data, "audio/wav")})
    b = client.post("/v1/predict", content=data, headers={"content-type": "application/octet-stream"})
    assert a.status_code == b.status_code == 200
    body = a.json()
    assert body == b.json() and body["label"] == "angry" and set(body) == {"labels", "probabilities", "label", "duration_s", "warnings"}
    assert body["warnings"] == []  # a clean recording
    assert list(body["probabilities"]) == body["labels"]  # label -> probability, as in the timeline and the CLI
    assert abs(sum(body["probabilities"].values()) - 1) < 1e-4 and body["duration_s"] == pytest.approx(1.0)


def test_clipped_and_narrow_band_audio_get_a_label_and_a_warning(client, angry):
    import soxr

    clipped = client.post("/v1/predict", files={"file": ("loud.wav", _wav(np.clip(10 * angry, -1, 1)))})
    assert clipped.status_code == 200 and clipped.json()["label"]
    (warning,) = recording_warnings(clipped.json()["warnings"])
    assert warning["kind"] == "clipped" and "full scale" in warning["message"]
    call = client.post("/v1/predict", files={"file": ("call.wav", _wav(soxr.resample(angry, 16000, 8000), 8000))})
    assert call.status_code == 200 and [w["kind"] for w in recording_warnings(call.json()["warnings"])] == ["narrow_band"]
    schema = client.get("/openapi.json").json()["components"]["schemas"]
    assert "warnings" in schema["Prediction"]["required"] and "kind" in schema["Warning"]["properties"]


def test_stereo_48k_flac_and_long_audio(client, angry):
    import soxr

    up = soxr.resample(angry, 16000, 48000)
    stereo = client.post("/v1/predict", files={"file": ("x.flac", _wav(np.stack([up, up], 1), 48000, "FLAC"))})
    assert stereo.status_code == 200 and stereo.json()["label"] == "angry"
    # ?channel=N: one party of a call, each party on its own channel
    call = _wav(np.stack([np.zeros_like(up), up], 1), 48000, "FLAC")
    right = client.post("/v1/predict?channel=2", files={"file": ("call.flac", call)})
    assert right.status_code == 200 and right.json()["label"] == "angry"
    left = client.post("/v1/predict?channel=1", files={"file": ("call.flac", call)})
    assert left.status_code == 422 and left.json()["detail"].startswith("call.flac: all-silent")
    third = client.post("/v1/predict?channel=3", files={"file": ("call.flac", call)})
    assert third.status_code == 422 and third.json()["detail"] == "call.flac: has 2 channels, so no channel 3"
    assert client.post("/v1/predict?channel=0", files={"file": ("call.flac", call)}).status_code == 422
    # the parties taking turns, each on its channel: mixed, the label is flagged and the channels named
    turns = _wav(np.stack([np.concatenate([up, 0 * up]), np.concatenate([0 * up, up])], 1), 48000, "FLAC")
    (warning,) = recording_warnings(client.post("/v1/predict", files={"file": ("turns.flac", turns)}).json()["warnings"])
    assert warning["kind"] == "separate_parties" and warning["channels"] == [1, 2]
    assert recording_warnings(client.post("/v1/predict?channel=2", files={"file": ("turns.flac", turns)}).json()["warnings"]) == []
    # an 8-bit file of quiet speech: labelled, with the few_bits warning
    quiet8 = client.post("/v1/predict", files={"file": ("memo.wav", _wav(0.1 * up, 48000, subtype="PCM_U8"))})
    assert quiet8.status_code == 200 and [w["kind"] for w in recording_warnings(quiet8.json()["warnings"])] == ["few_bits"]
    rng = np.random.default_rng(1)
    long = np.concatenate([emotional_tone(c, 2, rng, seconds=1.0) for c in ("01", "01", "08", "08")])
    body = client.post("/v1/predict", files={"file": ("long.wav", _wav(long))}).json()
    assert body["duration_s"] == pytest.approx(4.0) and len(body["timeline"]) == 7
    assert body["timeline"][0]["label"] == "neutral" and body["timeline"][-1]["label"] == "surprised"
    assert set(body["timeline"][0]["probabilities"]) == set(body["labels"])


def test_every_channel_of_a_call_in_one_request(client, angry):
    rng = np.random.default_rng(2)
    sad = emotional_tone("04", 2, rng, seconds=1.0)
    call = _wav(np.stack([angry, sad, np.zeros_like(angry)], 1), 16000, "FLAC")  # a third party never spoke
    done = client.post("/v1/predict/channels", files={"file": ("call.flac", call)})
    assert done.status_code == 200
    body = done.json()
    assert body["labels"] == client.get("/v1/model").json()["labels"]
    first, second, third = body["channels"]
    for number, got in ((1, first), (2, second)):  # each as /v1/predict answers with ?channel=N
        alone = client.post(f"/v1/predict?channel={number}", files={"file": ("call.flac", call)}).json()
        assert got["channel"] == number and got["label"] == alone["label"]
        assert got["probabilities"] == pytest.approx(alone["probabilities"], abs=1e-6)
        assert got["warnings"] == alone["warnings"] and "error" not in got
    assert (first["label"], second["label"]) == ("angry", "sad")
    assert third["channel"] == 3 and third["error"] == "silent" and "label" not in third
    assert third["detail"].startswith("call.flac (channel 3): ")
    mono = client.post("/v1/predict/channels", files={"file": ("one.wav", _wav(angry))}).json()
    assert [(c["channel"], c["label"]) for c in mono["channels"]] == [(None, "angry")]
    nobody = client.post("/v1/predict/channels", files={"file": ("dead.flac", _wav(np.zeros((16000, 2)), 16000,
                                                                                   "FLAC"))})
    assert nobody.status_code == 422 and nobody.json()["error"] == "silent"
    assert "no channel has anything to classify" in nobody.json()["detail"]
    assert client.post("/v1/predict/channels", content=b"not audio").status_code in (415, 422)
    spec = client.get("/openapi.json").json()["paths"]["/v1/predict/channels"]["post"]
    assert spec["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/ChannelPredictions")


def test_errors_name_the_upload_never_a_python_object(client):
    response = client.post("/v1/predict", files={"file": ("C:\\clips\\my voice.wav", b"RIFF\x10\x00\x00\x00WAVEfmt junk")})
    detail = response.json()["detail"]
    assert response.status_code == 422 and detail.startswith("my voice.wav: ") and "object at 0x" not in detail
    big = client.post("/v1/predict", content=b"RIFF" + bytes(2_000_000))
    assert big.status_code == 413 and "MB" in big.json()["detail"] and "bytes" not in big.json()["detail"]


def test_phone_and_browser_recordings_get_the_same_answer(client, angry):
    """A voice memo (AAC in M4A) and a browser recording (Opus in WebM) are labelled like the WAV; one cut off
    mid-transfer is a 422 `truncated`, and a long one is queued by its duration, which a browser's live WebM
    does not announce."""
    from specser.service.routes import header_duration
    from tests.synth import encode_with_ffmpeg

    wav = client.post("/v1/predict", content=_wav(angry)).json()
    for muxer, codec, rate in (("ipod", "aac", 16000), ("webm", "libopus", 48000)):
        data = encode_with_ffmpeg(angry, muxer, codec, rate)
        body = client.post("/v1/predict", files={"file": ("memo", data)}).json()
        assert body["label"] == wav["label"] == "angry", body
        assert abs(body["probabilities"]["angry"] - wav["probabilities"]["angry"]) < 0.1
        assert body["duration_s"] == pytest.approx(1.0, abs=0.15)
        assert header_duration(encode_with_ffmpeg(np.tile(angry, 40), muxer, codec, rate)) == pytest.approx(40.0, abs=0.2)
    live = encode_with_ffmpeg(np.tile(angry, 40), "webm", "libopus", 48000, live=True)  # no duration in the header
    assert header_duration(live) == pytest.approx(40.0, abs=0.2)
    cut = encode_with_ffmpeg(angry, "webm", "libopus", 48000)
    response = client.post("/v1/predict", content=cut[: len(cut) // 2])
    assert response.status_code == 422 and response.json()["error"] == "truncated", response.text


def test_long_recordings_queue_apart_from_clips(client, angry):
    """A clip is served while long uploads hold the long-recording pool: it never waits behind them."""
    import threading

    from specser.service.routes import header_duration

    state = client.app.state
    assert header_duration(_wav(np.tile(angry, 40))) == pytest.approx(40.0) and header_duration(b"junk") is None
    release = threading.Event()
    state.long_pool.submit(release.wait, 30)  # the only long-recording thread is busy
    try:
        started = time.perf_counter()
        response = client.post("/v1/predict", files={"file": ("a.wav", _wav(angry))})
        assert response.status_code == 200 and time.perf_counter() - started < 10
    finally:
        release.set()


@pytest.mark.parametrize("make, status, error", [
    (lambda a: b"", 400, "empty"),
    (lambda a: b"RIFF\x10\x00\x00\x00WAVEfmt garbage that is not audio", 422, "corrupt"),
    (lambda a: b"%PDF-1.7 not audio at all", 415, "unsupported_media_type"),
    (lambda a: b"\x00\x00\x00\x18ftypheic" + bytes(64), 415, "unsupported_media_type"),  # a phone photo
    (lambda a: b"\x00\x00\x00\x18ftypM4A " + bytes(64), 422, "corrupt"),  # a voice memo's box, nothing inside
    (lambda a: _wav(np.zeros(16000, dtype=np.float32)), 422, "silent"),
    (lambda a: _wav(np.random.default_rng(0).standard_normal(16000).astype(np.float32) * 1e-3), 422, "no_speech"),
    (lambda a: _wav(sound("hand claps", 2.0, 16000, np.random.default_rng(0), -6.0)), 422, "no_speech"),  # no voice
    (lambda a: _wav(a[4000:4160]), 422, "too_short"),  # 10 ms
    (lambda a: _wav(a)[:44 + 8000], 422, "truncated"),  # the body cut off mid-transfer
    (lambda a: _wav(np.tile(a, 31)), 422, "too_long"),  # 31 s > max_duration_s
    (lambda a: _wav(np.tile(a, 40)), 413, "too_large"),  # 1.3 MB > 1 MB
])
def test_bad_uploads_get_json_errors_that_say_why(client, angry, make, status, error):
    for kwargs in ({"files": {"file": ("f", make(angry))}}, {"content": make(angry)}):
        response = client.post("/v1/predict", **kwargs)
        assert response.status_code == status, response.text
        assert response.json()["error"] == error and response.json()["detail"]


def test_missing_field_and_unknown_route(client):
    response = client.post("/v1/predict", files={"other": ("f", b"RIFF")})
    assert response.status_code == 400 and "'file'" in response.json()["detail"]
    assert client.get("/v1/nope").json()["error"] == "http_error"


def test_no_app_or_model_is_built_at_import():
    import specser.service.app as module

    assert not any(type(v).__name__ == "FastAPI" for v in vars(module).values())
