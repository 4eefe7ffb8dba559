"""nEMO (Christop, LREC-COLING 2024): Polish acted speech, 9 speakers, the paper's six emotions.

Layout, as the original repository has it (and the shared 16 kHz Opus copy):
``root/data.tsv`` (columns ``file_id, emotion, raw_text, normalized_text, speaker_id, gender,
age``) and ``root/samples/<speaker>_<emotion>_<n>.wav`` (or ``.opus``; the file is matched by
the stem of ``file_id``). Labels are mapped to specser's canonical names; ``speaker_id``
values carry leading spaces in the original, which are stripped.
"""

from __future__ import annotations

import csv
from pathlib import Path

from specser.audio.formats import AUDIO_EXTENSIONS
from specser.corpus.manifest import CorpusError, Manifest, Utterance, apply_label_filter, ordered_labels

NEMO_LABELS = {"anger": "angry", "fear": "fearful", "happiness": "happy", "neutral": "neutral",
               "sadness": "sad", "surprised": "surprised"}


def is_nemo(root: Path) -> bool:
    return (root / "data.tsv").is_file() and (root / "samples").is_dir()


def parse_nemo(root: Path, allowed: list[str] | None = None) -> Manifest:
    """Rows for every clip listed in ``data.tsv`` whose audio is in ``samples/``."""
    root = Path(root)
    audio = {p.stem: p for p in sorted((root / "samples").iterdir())
             if p.suffix.lower() in AUDIO_EXTENSIONS and not p.name.startswith(".")}
    rows, skipped, excluded = [], [], []
    with open(root / "data.tsv", newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle, delimiter="\t")
        missing = {"file_id", "emotion", "speaker_id"} - set(reader.fieldnames or [])
        if missing:
            raise CorpusError(f"{root / 'data.tsv'}: not nEMO's metadata (missing columns {sorted(missing)})")
        for line, rec in enumerate(reader, start=2):
            stem = Path(rec["file_id"].strip()).stem
            emotion = rec["emotion"].strip()
            if emotion not in NEMO_LABELS:
                skipped.append((f"{root / 'data.tsv'}:{line}", f"unknown nEMO emotion {emotion!r}"))
            elif stem not in audio:
                skipped.append((str(root / "samples" / rec["file_id"].strip()), "listed in data.tsv, no audio file"))
            else:
                meta = {"gender": rec.get("gender", "").strip(), "age": rec.get("age", "").strip(),
                        "text": rec.get("normalized_text", "").strip(), "emotion": emotion}
                rows.append(Utterance(stem, str(audio[stem]), NEMO_LABELS[emotion], rec["speaker_id"].strip(), meta))
    rows = apply_label_filter(rows, allowed or [], excluded)
    return Manifest("nemo", str(root), ordered_labels({r.label for r in rows}), rows, skipped, excluded)
