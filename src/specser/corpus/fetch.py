"""Download RAVDESS speech from Zenodo: resumable, integrity-checked, unpacked in the official layout.

The archive is fetched to ``<dest>/Audio_Speech_Actors_01-24.zip.part`` and
resumed with an HTTP Range request after a broken connection. Before anything
is unpacked, every member's CRC is checked and the 1440 expected file names
(24 actors x 60) must all be present.
"""

from __future__ import annotations

import os
import shutil
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

from tqdm.auto import tqdm

RAVDESS_URL = "https://zenodo.org/records/1188976/files/Audio_Speech_Actors_01-24.zip?download=1"
RAVDESS_ZIP = "Audio_Speech_Actors_01-24.zip"


class FetchError(RuntimeError):
    pass


def ravdess_expected_names() -> set[str]:
    """The 1440 member paths of the official speech archive."""
    names = set()
    for actor in range(1, 25):
        for emotion in range(1, 9):
            for intensity in ((1,) if emotion == 1 else (1, 2)):
                for statement in (1, 2):
                    for rep in (1, 2):
                        stem = f"03-01-{emotion:02d}-{intensity:02d}-{statement:02d}-{rep:02d}-{actor:02d}"
                        names.add(f"Actor_{actor:02d}/{stem}.wav")
    return names


def download(url: str, dest: Path, retries: int = 5, timeout: float = 60.0, progress: bool = True) -> Path:
    """Download `url` to `dest`, resuming a partial ``dest.part`` with HTTP Range requests."""
    part = dest.with_name(dest.name + ".part")
    dest.parent.mkdir(parents=True, exist_ok=True)
    for attempt in range(1, retries + 1):
        have = part.stat().st_size if part.exists() else 0
        request = urllib.request.Request(url, headers={"Range": f"bytes={have}-"} if have else {})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                if have and response.status != 206:
                    have = 0  # server ignored Range: start over
                length = response.headers.get("Content-Length")
                total = have + int(length) if length else None
                with open(part, "ab" if have else "wb") as out, tqdm(
                    total=total, initial=have, unit="B", unit_scale=True, desc=dest.name, disable=not progress
                ) as bar:
                    while chunk := response.read(1 << 16):
                        out.write(chunk)
                        bar.update(len(chunk))
                if total is not None and part.stat().st_size < total:
                    raise ConnectionError("connection closed before the end of the file")
            os.replace(part, dest)
            return dest
        except urllib.error.HTTPError as exc:
            if exc.code == 416 and have:  # asked past the end: the part file is already complete
                os.replace(part, dest)
                return dest
            if 400 <= exc.code < 500:
                raise FetchError(f"{url}: HTTP {exc.code} {exc.reason}") from exc
            error = exc
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError) as exc:
            error = exc
        if attempt < retries:
            time.sleep(min(2 ** (attempt - 1), 10) * (0.05 if os.environ.get("SPECSER_FAST_RETRY") else 1))
    raise FetchError(f"{url}: download failed after {retries} attempts ({error}); run again to resume")


def verify_zip(archive: Path, expected: set[str]) -> None:
    """Raise FetchError unless every CRC matches and every expected member is present."""
    try:
        with zipfile.ZipFile(archive) as zf:
            bad = zf.testzip()
            if bad is not None:
                raise FetchError(f"{archive}: CRC mismatch in {bad}; delete it and fetch again")
            names = {n for n in zf.namelist() if not n.endswith("/")}
    except zipfile.BadZipFile as exc:
        raise FetchError(f"{archive}: not a valid zip ({exc}); delete it and fetch again") from exc
    missing = expected - names
    if missing:
        raise FetchError(f"{archive}: {len(missing)} of {len(expected)} expected files missing, e.g. {sorted(missing)[0]}")


def fetch_ravdess(to: Path, url: str = RAVDESS_URL, keep_zip: bool = False, progress: bool = True) -> Path:
    """Download, verify and unpack RAVDESS speech into `to` (``to/Actor_01/...wav``)."""
    to = Path(to)
    expected = ravdess_expected_names()
    if all((to / name).is_file() for name in expected):
        return to
    archive = to / RAVDESS_ZIP
    if not archive.exists():
        download(url, archive, progress=progress)
    verify_zip(archive, expected)
    staging = to / ".unpacking"
    shutil.rmtree(staging, ignore_errors=True)
    with zipfile.ZipFile(archive) as zf:
        members = [m for m in zf.namelist() if m in expected]
        for member in tqdm(members, desc="unpacking", unit="file", disable=not progress):
            zf.extract(member, staging)
    for actor_dir in sorted(staging.iterdir()):
        target = to / actor_dir.name
        if target.exists():
            shutil.rmtree(target)
        os.replace(actor_dir, target)
    shutil.rmtree(staging, ignore_errors=True)
    if not keep_zip:
        archive.unlink()
    return to
