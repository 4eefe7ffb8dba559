"""Command-line inputs -> audio files: files, folders (recursive) and glob patterns."""

from __future__ import annotations

import glob
from pathlib import Path

from specser.audio.formats import AUDIO_EXTENSIONS


def expand_inputs(items: list[str]) -> tuple[list[Path], list[tuple[str, str, str]]]:
    """Audio files named by `items`, in a stable order without duplicates, and the items that
    matched nothing, with an error kind (``not_found`` or ``no_audio``) and a reason. A file given by name is taken whatever its suffix (the
    decoder will say if it is not audio); folders and globs keep audio suffixes only."""
    files: dict[Path, None] = {}
    missing: list[tuple[str, str, str]] = []
    for item in items:
        path = Path(item)
        if path.is_file():
            files[path] = None
        elif path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in AUDIO_EXTENSIONS)
            if not found:
                missing.append((item, "no_audio", "folder holds no audio files (" + ", ".join(AUDIO_EXTENSIONS) + ")"))
            files.update(dict.fromkeys(found))
        elif glob.has_magic(item):
            found = sorted(Path(p) for p in glob.glob(item, recursive=True)
                           if Path(p).is_file() and Path(p).suffix.lower() in AUDIO_EXTENSIONS)
            if not found:
                missing.append((item, "no_audio", "pattern matched no audio files"))
            files.update(dict.fromkeys(found))
        else:
            missing.append((item, "not_found", "not found"))
    return list(files), missing
