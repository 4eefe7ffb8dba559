"""Reading an upload safely: size limits before and while reading (413), audio sniffed from its first bytes (415).

Uploads stay in memory: nothing is written to disk, and no name or path from the client is used as a path.
"""

from __future__ import annotations

import re

from fastapi import Request

from specser.audio.formats import FORMAT_NAMES, sniff_audio
from specser.service.errors import ApiError


def _mb(n_bytes: int) -> str:
    return f"{n_bytes / 1e6:.1f} MB"


def display_name(filename: str | None) -> str:
    """The client's file name, for messages only (never a path): its last part, printable, at most 80 characters."""
    base = re.split(r"[\\/]", filename or "")[-1]
    base = "".join(ch for ch in base if ch.isprintable()).strip()[:80]
    return base or "the upload"


def _check_declared_size(request: Request, limit: int) -> None:
    """A 413 before reading, when `Content-Length` already says the body is too large."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit + 64 * 1024:  # multipart framing slack
        raise ApiError(413, "too_large", f"the upload is {_mb(int(declared))}; the limit is {_mb(limit)}")


async def read_upload(request: Request, limit: int) -> tuple[bytes, str]:
    """The audio bytes of a multipart upload (field `file`) or of a raw body, at most `limit` bytes."""
    _check_declared_size(request, limit)
    ctype = request.headers.get("content-type", "")
    if ctype.startswith("multipart/form-data"):
        form = await request.form(max_files=1, max_fields=4, max_part_size=limit + 1)
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise ApiError(400, "no_file", "send the audio as a multipart field named 'file', or as the raw body")
        data = await upload.read(limit + 1)
        name = display_name(upload.filename)
    else:
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise ApiError(413, "too_large", f"the upload is larger than the limit of {_mb(limit)}")
            chunks.append(chunk)
        data, name = b"".join(chunks), "the request body"
    if len(data) > limit:
        raise ApiError(413, "too_large", f"the upload is larger than the limit of {_mb(limit)}")
    check_audio(data, name)
    return data, name


def check_audio(data: bytes, name: str) -> None:
    """Raises `ApiError` for an empty upload (400) or one whose first bytes are no audio container we read (415)."""
    if not data:
        raise ApiError(400, "empty", f"{name}: the upload is empty")
    if sniff_audio(data[:16]) is None:
        raise ApiError(415, "unsupported_media_type",
                       f"{name}: not a {FORMAT_NAMES} file (checked from its first bytes)")


async def read_uploads(request: Request, limit: int, max_files: int) -> list[tuple[bytes, str]]:
    """Several audio files of a multipart upload (every field named `file`, at most `max_files`, at most
    `limit` bytes together), or one as the raw body. Each file is only read here: whether it is audio is
    for the caller to check per file (`check_audio`), so one bad file need not fail the others."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        return [await read_upload(request, limit)]
    _check_declared_size(request, limit)
    form = await request.form(max_files=max_files, max_fields=max_files + 4, max_part_size=limit + 1)
    uploads = [u for u in form.getlist("file") if not isinstance(u, str)]
    if not uploads:
        raise ApiError(400, "no_file", "send the recordings as multipart fields named 'file', or one as the raw body")
    files, size = [], 0
    for upload in uploads:
        data = await upload.read(limit + 1)
        size += len(data)
        if size > limit:
            raise ApiError(413, "too_large", f"the uploads are larger than the limit of {_mb(limit)} together")
        files.append((data, display_name(upload.filename)))
    return files
