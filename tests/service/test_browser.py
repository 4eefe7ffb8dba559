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
    app = create_app(ServiceSettings(model=trained_run / "model.specser"))
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


def test_upload_through_the_page_shows_label_and_bars(server, tmp_path):
    from tests.synth import emotional_tone

    rng = np.random.default_rng(3)
    wav = tmp_path / "angry-voice.wav"
    sf.write(wav, emotional_tone("05", 4, rng, seconds=1.0), 16000)
    long_wav = tmp_path / "long-recording.wav"
    sf.write(long_wav, np.concatenate([emotional_tone(c, 4, rng, seconds=1.0) for c in ("01", "01", "08", "08")]), 16000)
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                    args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        try:
            page = browser.new_page()
            requests = []
            page.on("request", lambda r: requests.append(r.url))
            page.goto(server + "/")
            page.wait_for_function("document.getElementById('limits').textContent.includes('labels')")
            page.set_input_files("#file", str(wav))
            page.wait_for_selector("#result:not(.hidden)", timeout=20_000)
            assert page.inner_text("#label").strip().lower() == "angry"
            bars = page.query_selector_all("#bars .bar")
            assert len(bars) == 6 and bars[0].get_attribute("data-label") == "angry"
            width = page.eval_on_selector("#bars .bar .fill", "e => parseFloat(e.style.width)")
            assert width > 50
            assert page.is_hidden("#timeline")
            page.set_input_files("#file", str(long_wav))
            page.wait_for_function("document.getElementById('source').textContent.startsWith('long-recording')")
            assert page.is_visible("#timeline") and len(page.query_selector_all("#tl rect")) == 7
            if os.environ.get("SPECSER_SCREENSHOT"):
                page.screenshot(path=os.environ["SPECSER_SCREENSHOT"], full_page=True)
            assert all(url.startswith(server) for url in requests), "the page must work offline (no CDN)"
        finally:
            browser.close()
