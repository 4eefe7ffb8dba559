"""`specser data fetch` against a local HTTP server on loopback (never the real URL)."""

import http.server
import io
import threading
import wave
import zipfile

import pytest

from specser.corpus.fetch import FetchError, download, fetch_ravdess, ravdess_expected_names, verify_zip


def _tiny_wav() -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(48000)
        w.writeframes(b"\x10\x00" * 64)
    return buf.getvalue()


@pytest.fixture(scope="module")
def archive_bytes() -> bytes:
    buf = io.BytesIO()
    payload = _tiny_wav()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(ravdess_expected_names()):
            zf.writestr(name, payload)
    return buf.getvalue()


class _Server:
    """Serves one file with Range support; can cut the first response short to test resuming."""

    def __init__(self, body: bytes, cut_first_at: int | None = None):
        self.body, self.cut, self.requests = body, cut_first_at, []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                rng = self.headers.get("Range")
                outer.requests.append(rng)
                start = int(rng.split("=")[1].split("-")[0]) if rng else 0
                data = outer.body[start:]
                self.send_response(206 if rng else 200)
                self.send_header("Content-Length", str(len(data)))
                if rng:
                    self.send_header("Content-Range", f"bytes {start}-{len(outer.body) - 1}/{len(outer.body)}")
                self.end_headers()
                if outer.cut is not None and len(outer.requests) == 1:
                    self.wfile.write(data[: outer.cut])
                    self.wfile.flush()
                    self.connection.close()
                    return
                self.wfile.write(data)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/Audio_Speech_Actors_01-24.zip"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def test_fetch_downloads_checks_and_unpacks(tmp_path, archive_bytes, monkeypatch):
    monkeypatch.setenv("SPECSER_FAST_RETRY", "1")
    server = _Server(archive_bytes, cut_first_at=len(archive_bytes) // 3)
    try:
        out = fetch_ravdess(tmp_path / "ravdess", url=server.url, progress=False)
    finally:
        server.close()
    assert server.requests[0] is None and server.requests[1].startswith("bytes=")  # resumed, not restarted
    files = sorted(out.glob("Actor_*/*.wav"))
    assert len(files) == 1440 and (out / "Actor_24" / "03-01-08-02-02-02-24.wav").is_file()
    assert not (out / "Audio_Speech_Actors_01-24.zip").exists()
    from specser.corpus.manifest import load_manifest

    assert len(load_manifest(out, label_set="ravdess8").rows) == 1440


def test_corrupt_archive_is_rejected(tmp_path, archive_bytes):
    damaged = bytearray(archive_bytes)
    # Flip bytes inside the first member's compressed data: its CRC no longer matches.
    damaged[60:64] = bytes(b ^ 0xFF for b in damaged[60:64])
    path = tmp_path / "a.zip"
    path.write_bytes(bytes(damaged))
    with pytest.raises(FetchError, match="CRC|not a valid zip"):
        verify_zip(path, ravdess_expected_names())


def test_incomplete_archive_is_rejected(tmp_path):
    path = tmp_path / "a.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("Actor_01/03-01-01-01-01-01-01.wav", _tiny_wav())
    with pytest.raises(FetchError, match="1439 of 1440 expected files missing"):
        verify_zip(path, ravdess_expected_names())


def test_unreachable_server_is_a_clear_error(tmp_path):
    server = _Server(b"")
    server.close()  # nothing listens on that port any more
    with pytest.raises(FetchError, match="download failed after 1 attempts.*run again to resume"):
        download(server.url, tmp_path / "x.zip", retries=1, timeout=2, progress=False)


NEMO_SPEAKERS = ("EB0", "IC0", "KD0", "KS0", "MK0", "MP0", "SM0", "TP0", "WR0")
NEMO_EMOTIONS = ("anger", "fear", "happiness", "neutral", "sadness", "surprised")


def _nemo_archive(drop: int = 0) -> bytes:
    """A zip shaped like GitHub's archive of amu-cai/nEMO: 4481 tiny clips listed in data.tsv."""
    from specser.corpus.fetch import NEMO_FILES

    lines = ["file_id\temotion\traw_text\tnormalized_text\tspeaker_id\tgender\tage"]
    names = []
    for k in range(NEMO_FILES):
        spk, emo = NEMO_SPEAKERS[k % 9], NEMO_EMOTIONS[(k // 9) % 6]
        names.append(f"{spk}_{emo}_{k}.wav")
        lines.append(f"{names[-1]}\t{emo}\tTekst, z przecinkiem.\ttekst z przecinkiem\t        {spk}\tfemale\t27")
    buf = io.BytesIO()
    payload = _tiny_wav()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("nEMO-main/data.tsv", "\n".join(lines) + "\n")
        zf.writestr("nEMO-main/LICENSE", "CC BY-NC-SA 4.0")
        zf.writestr("nEMO-main/README.md", "# nEMO")
        for name in names[drop:]:
            zf.writestr(f"nEMO-main/samples/{name}", payload)
    return buf.getvalue()


def test_fetch_nemo_downloads_checks_and_unpacks(tmp_path, monkeypatch):
    from specser.corpus.fetch import fetch_nemo
    from specser.corpus.manifest import load_manifest

    monkeypatch.setenv("SPECSER_FAST_RETRY", "1")
    body = _nemo_archive()
    server = _Server(body, cut_first_at=len(body) // 2)
    try:
        out = fetch_nemo(tmp_path / "nemo", url=server.url, progress=False)
    finally:
        server.close()
    assert server.requests[1].startswith("bytes=")  # resumed after the cut
    assert (out / "data.tsv").is_file() and (out / "LICENSE").is_file() and not (out / "README.md").exists()
    manifest = load_manifest(out)
    assert manifest.corpus == "nemo" and len(manifest.rows) == 4481
    assert manifest.labels == ["neutral", "happy", "sad", "angry", "fearful", "surprised"]
    assert {r.speaker for r in manifest.rows} == set(NEMO_SPEAKERS)  # leading spaces stripped


def test_a_nemo_archive_missing_clips_is_refused(tmp_path):
    from specser.corpus.fetch import nemo_members

    path = tmp_path / "nEMO-main.zip"
    path.write_bytes(_nemo_archive(drop=3))
    with pytest.raises(FetchError, match="3 of them missing"):
        nemo_members(path)
