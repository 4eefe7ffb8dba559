"""Voice profiles over HTTP: made from a user's recordings, used by /v1/predict, shared by worker
processes through their folder, deleted, and refused where the model cannot take them."""

import io
import shutil

import numpy as np
import pytest
import soundfile as sf

pytest.importorskip("fastapi", reason="the service needs the serve extra: pip install 'specser[serve]'")
from fastapi.testclient import TestClient  # noqa: E402

from specser.inference.adapt import adapt_to_logmels  # noqa: E402
from specser.inference.model_file import ModelFile  # noqa: E402
from specser.inference.predictor import Predictor  # noqa: E402
from specser.service.app import create_app  # noqa: E402
from specser.service.settings import ServiceSettings  # noqa: E402
from tests.inference.test_adapt import _waves  # noqa: E402


def _wav(wave, sr=16000):
    buffer = io.BytesIO()
    sf.write(buffer, wave, sr, format="WAV")
    return buffer.getvalue()


def _as_sent(waves):
    """The waves as the service reads them back from 16-bit WAV uploads."""
    return [sf.read(io.BytesIO(_wav(w)), dtype="float32")[0] for w in waves]


MINE = _as_sent(_waves(12, seed=21, gain=0.4, noise=0.004))  # one user's recordings: quieter, with a noise floor


def _files(waves, extra=()):
    return [("file", (f"take{i}.wav", _wav(w), "audio/wav")) for i, w in enumerate(waves)] + list(extra)


@pytest.fixture(scope="module")
def settings(trained_run, tmp_path_factory):
    return ServiceSettings(model=trained_run / "model.specser", max_upload_mb=2.0, profile_min_inputs=10,
                           profiles_dir=tmp_path_factory.mktemp("profiles"))


@pytest.fixture(scope="module")
def client(settings):
    with TestClient(create_app(settings)) as c:
        yield c


def test_a_profile_is_made_used_and_deleted(client, settings, trained_run):
    junk = [("file", ("notes.wav", b"these are my notes, not audio", "audio/wav")),
            ("file", ("blip.wav", _wav(0.3 * np.ones(40, np.float32)), "audio/wav"))]
    made = client.post("/v1/profiles", files=_files(MINE, junk))
    assert made.status_code == 201, made.text
    body = made.json()
    assert (body["recordings"], body["inputs"], body["seconds"]) == (12, 12, 12.0)
    assert [(s["name"], s["error"]) for s in body["skipped"]] == [("notes.wav", "unsupported_media_type"),
                                                                  ("blip.wav", "too_short")]
    name = body["profile"]
    assert len(name) >= 22 and client.get(f"/v1/profiles/{name}").json()["inputs"] == 12
    assert name not in client.app.state.profiles._cache  # describing a profile builds no network

    clip = _as_sent(_waves(1, seed=22, gain=0.4, noise=0.004))[0]
    plain = client.post("/v1/predict", files={"file": ("clip.wav", _wav(clip))}).json()
    adapted = client.post(f"/v1/predict?profile={name}", files={"file": ("clip.wav", _wav(clip))}).json()
    assert adapted["profile"] == name and "profile" not in plain
    mf = ModelFile.load(trained_run / "model.specser")  # the profile is the CLI's adaptation to the same files
    same = adapt_to_logmels(mf, Predictor(mf, device="cpu", tta_crops=1).logmels(MINE), min_inputs=1,
                            prior=settings.profile_prior)
    expected = Predictor(same, device="cpu").probabilities([clip])[0]
    assert np.allclose(list(adapted["probabilities"].values()), expected, atol=1e-5)
    assert not np.allclose(list(adapted["probabilities"].values()), list(plain["probabilities"].values()), atol=1e-3)

    assert client.delete(f"/v1/profiles/{name}").status_code == 204
    gone = client.post(f"/v1/predict?profile={name}", files={"file": ("clip.wav", _wav(clip))})
    assert gone.status_code == 404 and gone.json()["error"] == "unknown_profile"
    assert client.get(f"/v1/profiles/{name}").status_code == 404
    assert client.delete(f"/v1/profiles/{name}").status_code == 404
    assert client.get("/v1/profiles/..%2F..%2Fetc%2Fpasswd").status_code == 404


def test_too_little_speech_is_a_422_that_names_what_was_left_out(client):
    few = client.post("/v1/profiles", files=_files(MINE[:4], [("file", ("empty.wav", b"", "audio/wav"))]))
    assert few.status_code == 422 and few.json()["error"] == "too_little_speech"
    assert "at least 10" in few.json()["detail"] and "got 4" in few.json()["detail"] and "empty" in few.json()["detail"]
    misnamed = client.post("/v1/profiles", files={"audio": ("a.wav", _wav(MINE[0]), "audio/wav")})
    assert misnamed.status_code == 400 and misnamed.json()["error"] == "no_file"


def test_one_long_recording_gives_its_windows(client):
    long = np.concatenate(_waves(12, seed=23, gain=0.4))  # 12 s: twelve 1-s windows back to back
    made = client.post("/v1/profiles", content=_wav(long), headers={"content-type": "audio/wav"})
    assert made.status_code == 201 and made.json()["inputs"] == 12 and made.json()["recordings"] == 1


def test_workers_share_profiles_through_their_folder(settings, client):
    other = TestClient(create_app(settings))  # a second worker process's app on the same folder
    name = client.post("/v1/profiles", files=_files(MINE)).json()["profile"]
    clip = _wav(_waves(1, seed=24)[0])
    assert other.post(f"/v1/predict?profile={name}", files={"file": ("c.wav", clip)}).status_code == 200
    assert client.post(f"/v1/predict?profile={name}", files={"file": ("c.wav", clip)}).status_code == 200  # cached
    assert other.delete(f"/v1/profiles/{name}").status_code == 204
    assert client.post(f"/v1/predict?profile={name}", files={"file": ("c.wav", clip)}).status_code == 404


def test_the_oldest_profiles_go_past_the_limit(trained_run, tmp_path):
    settings = ServiceSettings(model=trained_run / "model.specser", profile_min_inputs=10, max_profiles=2,
                               profiles_dir=tmp_path)
    with TestClient(create_app(settings)) as c:
        names = []
        for _ in range(3):
            names.append(c.post("/v1/profiles", files=_files(MINE)).json()["profile"])
            (tmp_path / f"{names[-1]}.profile").touch()  # distinct times even on a coarse clock
        assert [c.get(f"/v1/profiles/{n}").status_code for n in names] == [404, 200, 200]
        assert c.get("/v1/model").json()["profiles"] == {"available": True, "min_inputs": 10, "max_files": 64}


def test_a_model_that_cannot_take_profiles_says_why(trained_run, tmp_path):
    folder = tmp_path / "ensemble"
    folder.mkdir()
    shutil.copy(trained_run / "model.specser", folder / "a.specser")
    with TestClient(create_app(ServiceSettings(model=folder))) as c:
        info = c.get("/v1/model").json()["profiles"]
        assert info["available"] is False and "single .specser model" in info["reason"]
        refused = c.post("/v1/profiles", files=_files(MINE))
        assert refused.status_code == 501 and refused.json()["error"] == "profiles_unavailable"
        clip = _wav(MINE[0])
        assert c.post("/v1/predict?profile=abcdefghijklmnopqrstuvwxyz", files={"file": ("c.wav", clip)}).status_code == 501


def test_profiles_adapt_as_the_cli_does_by_default():
    from specser.inference.adapt import MIN_INPUTS, PRIOR
    from specser.service.settings import PROFILE_MIN_INPUTS, PROFILE_PRIOR

    assert (PROFILE_MIN_INPUTS, PROFILE_PRIOR) == (MIN_INPUTS, PRIOR)


def test_uploads_are_bounded_in_number_and_in_size(client, trained_run, tmp_path):
    tiny = [("file", (f"t{i}.wav", _wav(MINE[0][:800]), "audio/wav")) for i in range(65)]
    too_many = client.post("/v1/profiles", files=tiny)
    assert too_many.status_code == 400 and "64" in too_many.json()["detail"]
    short = ServiceSettings(model=trained_run / "model.specser", max_duration_s=10.0, profiles_dir=tmp_path)
    with TestClient(create_app(short)) as c:  # 12 s of recordings where 10 s are allowed together
        too_long = c.post("/v1/profiles", files=_files(MINE))
        assert too_long.status_code == 422 and too_long.json()["error"] == "too_long"
        assert "take10.wav" in too_long.json()["detail"] and "10 s together" in too_long.json()["detail"]
    small = ServiceSettings(model=trained_run / "model.specser", max_upload_mb=0.2, profiles_dir=tmp_path)
    with TestClient(create_app(small)) as c:
        too_large = c.post("/v1/profiles", files=_files(MINE))  # 12 files of 32 kB: 0.38 MB together
        assert too_large.status_code == 413 and too_large.json()["error"] == "too_large"


def test_profiles_are_documented_in_the_schema(client):
    paths = client.get("/openapi.json").json()["paths"]
    made = paths["/v1/profiles"]["post"]["responses"]
    assert made["201"]["content"]["application/json"]["schema"]["$ref"].endswith("/Profile")
    assert set(paths["/v1/profiles/{name}"]) == {"get", "delete"}
    predict = paths["/v1/predict"]["post"]
    assert any(p["name"] == "profile" for p in predict["parameters"]) and "404" in predict["responses"]


def test_a_profile_made_for_another_model_is_not_found(client, settings):
    from specser.inference.voice_profile import VoiceProfile

    name = "x" * 32
    VoiceProfile(model="0" * 64, statistics={}, recordings=5, inputs=5, seconds=5.0,
                 created="2026-12-06T00:00:00+00:00").save(settings.profiles_dir / f"{name}.profile")
    assert client.get(f"/v1/profiles/{name}").status_code == 404
    clip = {"file": ("c.wav", _wav(MINE[0]))}
    assert client.post(f"/v1/predict?profile={name}", files=clip).json()["error"] == "unknown_profile"
