"""Corpus parsers: turn a folder or CSV into manifest rows (path, label, speaker, metadata).

Everything downstream reads a `Manifest`, never folder or file names. Four
layouts are understood:

* RAVDESS (official WAV release or a FLAC transcode): ``MM-VV-EE-II-SS-RR-AA``;
* nEMO (``data.tsv`` + ``samples/``, in `specser.corpus.nemo`);
* a folder per label (``root/<label>/*.wav``);
* a CSV manifest with columns ``path,label[,speaker]``, relative paths resolved
  against the CSV's folder.

Files that cannot be parsed are kept in `Manifest.skipped` with the reason;
files whose label a label set leaves out go to `Manifest.excluded`.
"""

from __future__ import annotations

import csv
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from specser.audio.formats import AUDIO_EXTENSIONS

RAVDESS_EMOTIONS = {
    "01": "neutral",
    "02": "calm",
    "03": "happy",
    "04": "sad",
    "05": "angry",
    "06": "fearful",
    "07": "disgust",
    "08": "surprised",
}
RAVDESS_FIELDS = ("modality", "vocal_channel", "emotion", "intensity", "statement", "repetition", "actor")
RAVDESS_CODES = {
    "modality": {"01": "audio-video", "02": "video-only", "03": "audio-only"},
    "vocal_channel": {"01": "speech", "02": "song"},
    "intensity": {"01": "normal", "02": "strong"},
    "statement": {"01": "kids", "02": "dogs"},
}
_RAVDESS_NAME = re.compile(r"^(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)$")

# Label sets map a corpus label to the label the model learns (None = excluded).
LABEL_SETS: dict[str, dict[str, str | None]] = {
    "ravdess6": {
        "neutral": "neutral", "calm": None, "happy": "happy", "sad": "sad",
        "angry": "angry", "fearful": "fearful", "disgust": None, "surprised": "surprised",
    },
    "ravdess8": {e: e for e in RAVDESS_EMOTIONS.values()},
    "calm_neutral": {
        "neutral": "neutral", "calm": "neutral", "happy": "happy", "sad": "sad",
        "angry": "angry", "fearful": "fearful", "disgust": "disgust", "surprised": "surprised",
    },
}
LABEL_SET_ALIASES = {"calm→neutral": "calm_neutral", "calm-neutral": "calm_neutral", "calm->neutral": "calm_neutral"}
# Class order: the paper's (neutral 0, happy 1, sad 2, angry 3, fearful 4, surprised 5), then the rest.
_PAPER_ORDER = ("neutral", "happy", "sad", "angry", "fearful", "surprised", "calm", "disgust")


class CorpusError(ValueError):
    """The corpus path or layout cannot be used at all."""


@dataclass(frozen=True)
class Utterance:
    """One manifest row. `utt_id` is unique within the corpus and stable across runs."""

    utt_id: str
    path: str
    label: str
    speaker: str
    metadata: dict[str, str] = field(default_factory=dict, hash=False, compare=False)


@dataclass
class Manifest:
    corpus: str
    root: str
    labels: list[str]
    rows: list[Utterance]
    skipped: list[tuple[str, str]] = field(default_factory=list)
    excluded: list[tuple[str, str]] = field(default_factory=list)


def canonical_label_set(name: str) -> str:
    name = LABEL_SET_ALIASES.get(name, name)
    if name not in LABEL_SETS:
        raise CorpusError(
            f"unknown label set {name!r}; choose one of {', '.join(LABEL_SETS)} (or 'calm→neutral')"
        )
    return name


def parse_ravdess_name(path: Path) -> dict[str, str]:
    """Decode the seven RAVDESS name fields, or raise ValueError saying which is wrong."""
    match = _RAVDESS_NAME.match(path.stem)
    if not match:
        raise ValueError("name is not MM-VV-EE-II-SS-RR-AA")
    codes = dict(zip(RAVDESS_FIELDS, match.groups()))
    meta = {}
    for name, code in codes.items():
        if name == "emotion":
            if code not in RAVDESS_EMOTIONS:
                raise ValueError(f"unknown emotion code {code}")
            meta[name] = RAVDESS_EMOTIONS[code]
        elif name == "actor":
            if not 1 <= int(code) <= 99:
                raise ValueError(f"bad actor code {code}")
            meta[name] = code
            meta["sex"] = "male" if int(code) % 2 else "female"
        elif name == "repetition":
            meta[name] = code
        else:
            table = RAVDESS_CODES[name]
            if code not in table:
                raise ValueError(f"unknown {name} code {code}")
            meta[name] = table[code]
    return meta


def _audio_files(root: Path) -> list[Path]:
    files = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if not name.startswith(".") and name.lower().endswith(AUDIO_EXTENSIONS):
                files.append(Path(dirpath) / name)
    return files


def ordered_labels(labels: set[str]) -> list[str]:
    known = [l for l in _PAPER_ORDER if l in labels]
    return known + sorted(labels - set(known))


def apply_label_filter(
    rows: list[Utterance], allowed: list[str], excluded: list[tuple[str, str]]
) -> list[Utterance]:
    if not allowed:
        return rows
    kept = []
    for row in rows:
        if row.label in allowed:
            kept.append(row)
        else:
            excluded.append((row.path, f"label {row.label!r} not in data.labels"))
    return kept


def parse_ravdess(root: Path, label_set: str = "ravdess6") -> Manifest:
    mapping = LABEL_SETS[canonical_label_set(label_set)]
    rows, skipped, excluded = [], [], []
    for path in _audio_files(root):
        try:
            meta = parse_ravdess_name(path)
        except ValueError as exc:
            skipped.append((str(path), str(exc)))
            continue
        if meta["vocal_channel"] != "speech":
            excluded.append((str(path), "song, not speech"))
            continue
        label = mapping[meta["emotion"]]
        if label is None:
            excluded.append((str(path), f"emotion {meta['emotion']!r} not in label set {label_set}"))
            continue
        rows.append(Utterance(path.stem, str(path), label, meta["actor"], meta))
    ids = [r.utt_id for r in rows]
    if len(ids) != len(set(ids)):
        raise CorpusError(f"{root}: the same RAVDESS file name appears twice (wav and flac copies?)")
    labels = ordered_labels({r.label for r in rows})
    return Manifest("ravdess", str(root), labels, rows, skipped, excluded)


def parse_folder(root: Path, allowed: list[str] | None = None) -> Manifest:
    """Folder-per-label layout: the first folder level below `root` is the label; a second level,
    when there is one (``root/<label>/<speaker>/clip.wav``), is the speaker, which speaker-independent
    protocols need. Files directly in a label folder have speaker "unknown"."""
    rows, skipped, excluded = [], [], []
    for path in _audio_files(root):
        rel = path.relative_to(root)
        if len(rel.parts) < 2:
            skipped.append((str(path), "not inside a label folder"))
            continue
        utt_id = rel.with_suffix("").as_posix()
        speaker = rel.parts[1] if len(rel.parts) >= 3 else "unknown"
        rows.append(Utterance(utt_id, str(path), rel.parts[0], speaker, {}))
    rows = apply_label_filter(rows, allowed or [], excluded)
    return Manifest("folder", str(root), ordered_labels({r.label for r in rows}), rows, skipped, excluded)


MANIFEST_COLUMNS = ("utt_id", "path", "label", "speaker", "corpus")  # what `write_manifest_csv` writes first


def parse_csv(csv_path: Path, allowed: list[str] | None = None) -> Manifest:
    """CSV manifest with a header ``path,label[,speaker][,utt_id][,corpus]``; other columns become metadata.

    A run's own ``manifest.csv`` is such a file: fed back as ``--data`` it gives the same utterance
    ids (the ``utt_id`` column; without one, the path as written), the same rows and the same splits.
    """
    base = csv_path.parent
    rows, skipped, excluded = [], [], []
    row_corpora: list[str] = []
    with open(csv_path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        header = reader.fieldnames or []
        missing = {"path", "label"} - set(header)
        if missing:
            raise CorpusError(f"{csv_path}: CSV needs columns path,label[,speaker]; missing {sorted(missing)}")
        for line_no, rec in enumerate(reader, start=2):
            raw_path = (rec.get("path") or "").strip()
            label = (rec.get("label") or "").strip()
            if not raw_path or not label:
                skipped.append((f"{csv_path}:{line_no}", "empty path or label"))
                continue
            path = Path(raw_path)
            if not path.is_absolute():
                path = base / path
            if not path.is_file():
                skipped.append((str(path), f"file not found (CSV line {line_no})"))
                continue
            speaker = (rec.get("speaker") or "").strip() or "unknown"
            meta = {k: v for k, v in rec.items() if k not in MANIFEST_COLUMNS and k}
            row_corpora.append((rec.get("corpus") or "").strip())
            rows.append(Utterance((rec.get("utt_id") or "").strip() or raw_path, str(path), label, speaker, meta))
    corpora = list(dict.fromkeys(row_corpora))  # in order of first appearance
    if len(corpora) > 1:  # several corpora in one CSV (a combined run's manifest): each row keeps its own
        for r, name in zip(rows, row_corpora):
            if name:
                r.metadata["corpus"] = name
    ids = [r.utt_id for r in rows]
    if len(ids) != len(set(ids)):
        raise CorpusError(f"{csv_path}: the same utterance id appears twice")
    rows = apply_label_filter(rows, allowed or [], excluded)
    corpus = "+".join(corpora) if corpora and "" not in corpora else "csv"
    return Manifest(corpus, str(csv_path), ordered_labels({r.label for r in rows}), rows, skipped, excluded)


def detect_corpus(path: Path) -> str:
    if path.is_file():
        if path.suffix.lower() == ".csv":
            return "csv"
        raise CorpusError(f"{path}: --data must be a corpus folder or a .csv manifest")
    from specser.corpus.nemo import is_nemo

    if is_nemo(path):
        return "nemo"
    for candidate in _audio_files(path)[:50]:
        if _RAVDESS_NAME.match(candidate.stem):
            return "ravdess"
    return "folder"


def load_manifest(
    path: Path | str, corpus: str = "auto", label_set: str = "ravdess6", labels: list[str] | None = None
) -> Manifest:
    """Parse a corpus into a Manifest.

    Args:
        path: corpus folder or CSV manifest.
        corpus: ``auto``, ``ravdess``, ``nemo``, ``folder`` or ``csv``.
        label_set: RAVDESS label set (``ravdess6``, ``ravdess8``, ``calm_neutral``).
        labels: for folder/CSV corpora, keep only these labels (others are excluded).

    Returns:
        The manifest; rows are sorted by path so every run sees the same order.
    """
    path = Path(path).expanduser()
    if not path.exists():
        raise CorpusError(f"data path does not exist: {path}")
    kind = detect_corpus(path) if corpus == "auto" else corpus
    if kind == "ravdess":
        manifest = parse_ravdess(path, label_set)
    elif kind == "folder":
        manifest = parse_folder(path, labels)
    elif kind == "csv":
        manifest = parse_csv(path, labels)
    elif kind == "nemo":
        from specser.corpus.nemo import parse_nemo

        manifest = parse_nemo(path, labels)
    else:
        raise CorpusError(f"unknown corpus layout {corpus!r}; choose auto, ravdess, nemo, folder or csv")
    if not manifest.rows:
        raise CorpusError(f"{path}: no usable audio files found ({len(manifest.skipped)} skipped)")
    manifest.rows.sort(key=lambda r: r.path)
    return manifest


def write_manifest_csv(manifest: Manifest, out: Path) -> None:
    """Write the manifest rows (absolute paths, metadata columns) atomically; `parse_csv` reads it back."""
    import io

    from specser.atomic import atomic_write_text

    meta_keys = sorted({k for r in manifest.rows for k in r.metadata} - set(MANIFEST_COLUMNS))
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow([*MANIFEST_COLUMNS, *meta_keys])
    for r in manifest.rows:
        writer.writerow([r.utt_id, str(Path(r.path).resolve()), r.label, r.speaker, r.metadata.get("corpus", manifest.corpus),
                         *(r.metadata.get(k, "") for k in meta_keys)])
    atomic_write_text(out, buf.getvalue())
