"""Download corpora from their public homes: resumable, integrity-checked, unpacked in their own layout.

RAVDESS speech comes from Zenodo, nEMO from its GitHub repository. The archive is fetched to
``<dest>/<name>.zip.part`` and resumed with an HTTP Range request after a broken connection.
Before anything is unpacked, every member's CRC is checked and every expected file must be
there: RAVDESS's 1440 names (24 actors x 60), and for nEMO every clip its ``data.tsv`` lists.
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
NEMO_URL = "https://github.com/amu-cai/nEMO/archive/refs/heads/main.zip"
NEMO_ZIP = "nEMO-main.zip"
NEMO_FILES = 4481


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


def _unpack(archive: Path, to: Path, members: dict[str, str], progress: bool) -> None:
    """Extract `members` (archive name -> path under `to`) through a staging folder, then move each
    top-level entry into place, so a stopped unpack never leaves a half-filled corpus."""
    staging = to / ".unpacking"
    shutil.rmtree(staging, ignore_errors=True)
    with zipfile.ZipFile(archive) as zf:
        for member, target in tqdm(members.items(), desc="unpacking", unit="file", disable=not progress):
            out = staging / target
            out.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(member) as src, open(out, "wb") as dst:
                shutil.copyfileobj(src, dst)
    for entry in sorted(staging.iterdir()):
        target = to / entry.name
        if target.is_dir():
            shutil.rmtree(target)
        os.replace(entry, target)
    shutil.rmtree(staging, ignore_errors=True)


def _download_once(url: str, archive: Path, progress: bool) -> None:
    if not archive.exists():
        download(url, archive, progress=progress)


def fetch_ravdess(to: Path, url: str = RAVDESS_URL, keep_zip: bool = False, progress: bool = True) -> Path:
    """Download, verify and unpack RAVDESS speech into `to` (``to/Actor_01/...wav``)."""
    to = Path(to)
    expected = ravdess_expected_names()
    if all((to / name).is_file() for name in expected):
        return to
    archive = to / RAVDESS_ZIP
    _download_once(url, archive, progress)
    verify_zip(archive, expected)
    _unpack(archive, to, {name: name for name in sorted(expected)}, progress)
    if not keep_zip:
        archive.unlink()
    return to


def nemo_members(archive: Path) -> dict[str, str]:
    """The archive's data.tsv, LICENSE and every clip data.tsv lists, mapped to their places under the
    corpus folder (the archive's top folder, e.g. ``nEMO-main/``, dropped)."""
    import csv
    import io

    with zipfile.ZipFile(archive) as zf:
        names = {n for n in zf.namelist() if not n.endswith("/")}
        tsv = next((n for n in names if n.count("/") <= 1 and n.endswith("data.tsv")), None)
        if tsv is None:
            raise FetchError(f"{archive}: no data.tsv at the top of the archive: not the nEMO repository")
        top = tsv[: -len("data.tsv")]
        listed = [rec["file_id"].strip() for rec in
                  csv.DictReader(io.TextIOWrapper(zf.open(tsv), encoding="utf-8"), delimiter="\t")]
    members = {tsv: "data.tsv", **{f"{top}samples/{f}": f"samples/{f}" for f in listed}}
    missing = [m for m in members if m not in names]
    if missing or len(listed) != NEMO_FILES:
        raise FetchError(f"{archive}: data.tsv lists {len(listed)} clips (nEMO has {NEMO_FILES}), "
                         f"{len(missing)} of them missing from the archive"
                         + (f", e.g. {missing[0]}" if missing else ""))
    if f"{top}LICENSE" in names:
        members[f"{top}LICENSE"] = "LICENSE"
    return members


def fetch_nemo(to: Path, url: str = NEMO_URL, keep_zip: bool = False, progress: bool = True) -> Path:
    """Download, verify and unpack nEMO into `to` (``to/data.tsv``, ``to/samples/*.wav``)."""
    to = Path(to)
    if (to / "data.tsv").is_file() and len(list((to / "samples").glob("*.wav"))) >= NEMO_FILES:
        return to
    archive = to / NEMO_ZIP
    _download_once(url, archive, progress)
    members = nemo_members(archive)
    verify_zip(archive, set(members))
    _unpack(archive, to, members, progress)
    if not keep_zip:
        archive.unlink()
    return to


FETCHERS = {"ravdess": (fetch_ravdess, RAVDESS_URL), "nemo": (fetch_nemo, NEMO_URL)}
