"""The page in headless Chromium against a live server on loopback: upload a WAV, see the label and bars.

Needs Debian's `chromium` (`.ci/run` installs it) and the playwright package (test extra).
Set SPECSER_SCREENSHOT=file.png to keep a screenshot of the result.
"""

import os
import shutil
import socket
import threading
import time

import numpy as np
import pytest
import soundfile as sf

pytest.importorskip("fastapi", reason="the service needs the serve extra: pip install 'specser[serve]'")
playwright = pytest.importorskip("playwright.sync_api", reason="the browser test needs playwright (test extra)")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium executable (apt-get install chromium)")


@pytest.fixture(scope="module")
def server(trained_run):
    import uvicorn

    from specser.service.app import create_app
    from specser.service.settings import ServiceSettings

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = create_app(ServiceSettings(model=trained_run / "model.specser", max_upload_mb=30.0))
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.time() + 30
    while not srv.started and time.time() < deadline:
        time.sleep(0.05)
    assert srv.started, "server did not start"
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


def _browser(p, *extra_args):
    return p.chromium.launch(executable_path=CHROMIUM, headless=True,
                             args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                                   *extra_args])


def _recording_kinds(page) -> list[str]:
    """The kinds of the warnings the page shows, but ``unfamiliar`` (`tests.synth.recording_warnings` says why)."""
    kinds = [e.get_attribute("data-kind") for e in page.query_selector_all("#warnings > li")]
    return [k for k in kinds if k != "unfamiliar"] if page.is_visible("#warnings") else []


def test_upload_through_the_page_shows_label_and_bars(server, tmp_path):
    from tests.synth import emotional_tone

    rng = np.random.default_rng(3)
    wav = tmp_path / "angry-voice.wav"
    sf.write(wav, emotional_tone("05", 4, rng, seconds=1.0), 16000)
    long_wav = tmp_path / "long-recording.wav"
    sf.write(long_wav, np.concatenate([emotional_tone(c, 4, rng, seconds=1.0) for c in ("01", "01", "08", "08")]), 16000)
    clipped = tmp_path / "clipped-voice.wav"
    sf.write(clipped, np.clip(10 * emotional_tone("05", 4, rng, seconds=1.0), -1, 1), 16000)
    call = tmp_path / "call.wav"  # one party per channel, taking turns: neutral on the left, then angry on the right
    pause = np.zeros(4000, np.float32)  # a quarter second: the turns overlap, and each clip is mostly its tone
    sf.write(call, np.stack([np.concatenate([emotional_tone("01", 4, rng, seconds=1.0), pause]),
                             np.concatenate([pause, emotional_tone("05", 4, rng, seconds=1.0)])], axis=1), 16000)
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF\x10\x00\x00\x00WAVEfmt not really audio")
    with playwright.sync_playwright() as p:
        browser = _browser(p)
        try:
            page = browser.new_page()
            requests = []
            page.on("request", lambda r: requests.append(r.url))
            page.goto(server + "/")
            page.wait_for_function("document.getElementById('limits').textContent.includes('labels')")
            assert "WebM" in page.inner_text("#limits")  # the formats the service reads, from /v1/model
            page.set_input_files("#file", str(wav))
            page.wait_for_selector("#result:not(.hidden)", timeout=20_000)
            assert page.inner_text("#label").strip().lower() == "angry"
            bars = page.query_selector_all("#bars .bar")
            assert len(bars) == 6 and bars[0].get_attribute("data-label") == "angry"
            width = page.eval_on_selector("#bars .bar .fill", "e => parseFloat(e.style.width)")
            assert width > 50
            assert page.is_hidden("#timeline") and _recording_kinds(page) == []
            page.set_input_files("#file", str(clipped))  # too loud: still a label, and the warning beside it
            page.wait_for_function("document.getElementById('source').textContent.startsWith('clipped-voice')")
            assert page.is_visible("#warnings") and page.inner_text("#label").strip()
            assert _recording_kinds(page) == ["clipped"]
            assert page.query_selector_all("#warnings button") == []
            page.set_input_files("#file", str(call))  # two parties: the warning offers each channel alone
            page.wait_for_function("document.getElementById('source').textContent.startsWith('call.wav')")
            assert _recording_kinds(page) == ["separate_parties"]
            page.click("#warnings button[data-every]")  # both parties in one request, a line each
            page.wait_for_selector("#warnings .parties li[data-channel='2']", timeout=20_000)
            parties = [e.inner_text() for e in page.query_selector_all("#warnings .parties li")]
            assert len(parties) == 2 and parties[1].startswith("channel 2: angry")
            page.click("#warnings button[data-channel='2']")
            page.wait_for_function("document.getElementById('source').textContent.startsWith('call.wav, channel 2')")
            assert page.inner_text("#label").strip().lower() == "angry" and _recording_kinds(page) == []
            page.set_input_files("#file", str(broken))  # a broken file next: the angry card must go
            page.wait_for_selector("#status.error", timeout=20_000)
            assert page.is_hidden("#result") and "broken.wav" in page.inner_text("#status")
            assert "object at 0x" not in page.inner_text("#status")
            page.set_input_files("#file", str(long_wav))
            page.wait_for_function("document.getElementById('source').textContent.startsWith('long-recording')")
            assert page.is_visible("#timeline") and _recording_kinds(page) == []  # the clipped file's warning went
            assert 2 <= len(page.query_selector_all("#tl rect")) <= 4  # 7 windows, merged by label
            if os.environ.get("SPECSER_SCREENSHOT"):
                page.screenshot(path=os.environ["SPECSER_SCREENSHOT"], full_page=True)
            assert all(url.startswith(server) for url in requests), "the page must work offline (no CDN)"
        finally:
            browser.close()


def test_recording_on_the_page_sends_the_browsers_own_file(server, tmp_path, monkeypatch):
    """Record and Stop with a microphone fed from a file: the page uploads the browser's WebM/Opus as it is
    (about a sixth of a WAV's bytes, so ten minutes fit the upload limit) and shows its label."""
    from specser.service import routes
    from tests.synth import emotional_tone

    voice = tmp_path / "microphone.wav"
    sf.write(voice, np.tile(emotional_tone("05", 4, np.random.default_rng(5), sr=48000, seconds=1.0), 4), 48000,
             subtype="PCM_16")
    uploads = []  # what reaches the service (the browser does not show a blob's bytes to the test)
    measure = routes.header_duration
    monkeypatch.setattr(routes, "header_duration", lambda data: uploads.append(data) or measure(data))
    with playwright.sync_playwright() as p:
        browser = _browser(p, "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                           f"--use-file-for-fake-audio-capture={voice}")
        try:
            page = browser.new_page()
            page.goto(server + "/")
            page.wait_for_function("document.getElementById('limits').textContent.includes('labels')")
            page.click("#record")
            page.wait_for_function("document.getElementById('record').textContent.includes('Stop')")
            page.wait_for_timeout(2500)
            page.click("#record")
            page.wait_for_selector("#result:not(.hidden)", timeout=20_000)
            (upload,) = uploads
            assert upload[:4] == b"\x1a\x45\xdf\xa3"  # EBML: the recorder's own WebM
            assert len(upload) < 2.5 * 48000 * 2 / 4, len(upload)  # under a quarter of 2.5 s of 48 kHz 16-bit WAV
            assert page.inner_text("#source").startswith("recording · ")
            assert page.inner_text("#label").strip().lower() == "angry"
        finally:
            browser.close()


def test_the_page_adapts_to_a_voice_and_forgets_it(server, tmp_path):
    """Your voice: too few clips is an error on the card; enough make a profile that every later prediction
    uses, that survives a reload, and that "Forget my voice" deletes."""
    import json
    import urllib.request

    from tests.inference.test_adapt import _waves

    needed = json.load(urllib.request.urlopen(server + "/v1/model"))["profiles"]["min_inputs"]
    clips = []
    for i, wave in enumerate(_waves(needed, seed=31, gain=0.4, noise=0.004)):
        clips.append(tmp_path / f"me{i:02d}.wav")
        sf.write(clips[-1], wave, 16000)
    with playwright.sync_playwright() as p:
        browser = _browser(p)
        try:
            page = browser.new_page()
            page.goto(server + "/")
            page.wait_for_selector("#voice:not(.hidden)", timeout=20_000)
            assert page.inner_text("#voice-min") == f"at least {needed}" and page.is_hidden("#voice-forget")
            page.set_input_files("#voice-files", [str(c) for c in clips[:3]])
            assert page.inner_text("#voice-status").startswith("3 clips ready")
            page.click("#voice-make")
            page.wait_for_selector("#voice-status.error", timeout=20_000)
            assert f"at least {needed}" in page.inner_text("#voice-status")
            page.set_input_files("#voice-files", [str(c) for c in clips[3:]])
            page.click("#voice-make")
            page.wait_for_function("document.getElementById('voice-state').textContent.includes('adapted')", timeout=30_000)
            name = page.evaluate("localStorage.getItem('specser-voice-profile')")
            assert name and urllib.request.urlopen(f"{server}/v1/profiles/{name}").status == 200
            page.set_input_files("#file", str(clips[0]))
            page.wait_for_function("document.getElementById('source').textContent.includes('adapted to your voice')")
            page.reload()
            page.wait_for_function("document.getElementById('voice-state').textContent.includes('adapted')")
            page.click("#voice-forget")
            page.wait_for_function("document.getElementById('voice-status').textContent.startsWith('forgotten')")
            assert page.evaluate("localStorage.getItem('specser-voice-profile')") is None
            with pytest.raises(urllib.error.HTTPError, match="404"):
                urllib.request.urlopen(f"{server}/v1/profiles/{name}")
            page.set_input_files("#file", str(clips[1]))
            page.wait_for_function("document.getElementById('source').textContent.startsWith('me01')")
            assert "adapted" not in page.inner_text("#source")
        finally:
            browser.close()


def test_ten_minute_recording_is_readable_on_a_phone(server, tmp_path):
    """A 10-minute file at 390 px: windows merge into a few segments, ticks do not overlap, and tapping
    a segment shows its span and probabilities."""
    from tests.synth import emotional_tone

    rng = np.random.default_rng(5)
    parts = [np.tile(emotional_tone(c, 4, rng, seconds=1.0), 120) for c in ("01", "05", "08", "05", "01")]
    wav = tmp_path / "ten-minutes.wav"
    sf.write(wav, np.concatenate(parts), 16000, subtype="PCM_16")
    with playwright.sync_playwright() as p:
        browser = _browser(p)
        try:
            page = browser.new_page(viewport={"width": 390, "height": 844})
            page.goto(server + "/")
            page.wait_for_function("document.getElementById('limits').textContent.includes('labels')")
            assert "WebM" in page.inner_text("#limits")  # the formats the service reads, from /v1/model
            page.set_input_files("#file", str(wav))
            page.wait_for_selector("#timeline:not(.hidden)", timeout=120_000)
            rects = page.query_selector_all("#tl rect")
            assert 5 <= len(rects) <= 15, len(rects)  # not 1199 one-pixel stripes
            widths = [r.bounding_box()["width"] for r in rects]
            assert sum(w >= 8 for w in widths) >= 5
            boxes = [t.bounding_box() for t in page.query_selector_all("#ticks small")]
            assert len(boxes) >= 3 and all(a["x"] + a["width"] <= b["x"] for a, b in zip(boxes, boxes[1:]))
            assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing sticks out sideways
            widest = max(range(len(rects)), key=lambda i: widths[i])
            rects[widest].click()
            info = page.inner_text("#seginfo")
            assert "–" in info and "%" in info and ":" in info
            if os.environ.get("SPECSER_SCREENSHOT"):
                page.screenshot(path=os.environ["SPECSER_SCREENSHOT"].replace(".png", "-phone.png"), full_page=True)
        finally:
            browser.close()


def test_api_docs_work_offline(server):
    with playwright.sync_playwright() as p:
        browser = _browser(p)
        try:
            page = browser.new_page()
            page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(server)
                       else route.abort())
            page.goto(server + "/docs")
            page.wait_for_selector(".op", timeout=20_000)
            paths = [e.get_attribute("data-path") for e in page.query_selector_all(".op")]
            assert "/v1/predict" in paths and "/v1/model" in paths and "/v1/health" in paths
            assert "ErrorBody" not in page.inner_text("#ops") and "no_speech" in page.inner_text("#ops")
        finally:
            browser.close()
