"""Cross-validation folds by protocol name: one function serves `specser cv` and the baselines.

Protocols (SPEC.md section 2):
    random-5fold  stratified 5-fold over files, seeded (the paper's most likely protocol;
                  speakers appear in both train and test).
    actor-5fold   stratified 5-fold grouped by speaker: no speaker in both train and test.
    emobox        the EmoBox fixed RAVDESS folds: 6 folds x 4 test actors.
    loso          leave one speaker out.
    loco          leave one corpus out: train on the other corpora, test on this one (cross-corpus).

Same rows, protocol and seed give the same folds, on any machine: rows are sorted by
utterance id before splitting, so the order the files were listed in does not matter.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import LeaveOneGroupOut, StratifiedGroupKFold, StratifiedKFold

from specser.corpus.manifest import Utterance
from specser.data.splits import Split, SplitError, split_validation, validation_by_speaker

from specser.config import PROTOCOLS  # noqa: E402  (one list: the config validates it)
GROUPED_PROTOCOLS = ("actor-5fold", "emobox", "loso", "loco")

# EmoBox (Ma et al., 2024) RAVDESS folds: the test actors of each fold.
EMOBOX_RAVDESS_TEST_ACTORS = (
    ("01", "11", "20", "21"),
    ("04", "10", "12", "14"),
    ("08", "09", "19", "23"),
    ("03", "05", "07", "24"),
    ("02", "15", "16", "18"),
    ("06", "13", "17", "22"),
)


@dataclass
class Fold:
    index: int  # 1-based
    train: list[str]  # utterance ids (validation is carved out of these later)
    test: list[str]
    test_speakers: list[str]

    def to_dict(self) -> dict:
        return {"fold": self.index, "test_speakers": self.test_speakers, "train": self.train, "test": self.test}


_SPEAKER_HINT = (". Speaker-independent protocols need to know who speaks: put each speaker's clips in "
                 "root/<label>/<speaker>/, or use a CSV with a speaker column")


def _speaker_key(speaker: str) -> str:
    return speaker.lstrip("0") or "0"


def make_folds(rows: list[Utterance], protocol: str, seed: int, n_splits: int = 5) -> list[Fold]:
    """The folds of `protocol` over `rows`.

    Raises:
        SplitError: unknown protocol, too few speakers or files per class for the protocol,
            or (emobox) speakers that are not RAVDESS actors 01-24.
    """
    if protocol not in PROTOCOLS:
        raise SplitError(f"unknown protocol {protocol!r}; choose one of {', '.join(PROTOCOLS)}")
    rows = sorted(rows, key=lambda r: r.utt_id)
    ids = np.array([r.utt_id for r in rows])
    labels = np.array([r.label for r in rows])
    speakers = np.array([r.speaker for r in rows])
    n_speakers = len(set(speakers))
    if protocol == "random-5fold":
        min_count = np.unique(labels, return_counts=True)[1].min()
        if min_count < n_splits:
            raise SplitError(f"{protocol}: the rarest class has {min_count} files, fewer than {n_splits} folds")
        indices = StratifiedKFold(n_splits, shuffle=True, random_state=seed).split(ids, labels)
    elif protocol == "actor-5fold":
        if n_speakers < n_splits:
            raise SplitError(f"{protocol}: needs at least {n_splits} speakers, the corpus has {n_speakers}"
                             + (_SPEAKER_HINT if n_speakers <= 1 else ""))
        indices = StratifiedGroupKFold(n_splits, shuffle=True, random_state=seed).split(ids, labels, speakers)
    elif protocol == "loco":
        corpora = np.array([r.metadata.get("corpus", "") for r in rows])
        if len(set(corpora)) < 2:
            raise SplitError("loco: leave-one-corpus-out needs at least two corpora: pass --data twice "
                             "(e.g. --data ravdess/ --data nemo/)")
        indices = LeaveOneGroupOut().split(ids, labels, corpora)
    elif protocol == "loso":
        if n_speakers < 2:
            raise SplitError(f"{protocol}: needs at least 2 speakers, the corpus has {n_speakers}{_SPEAKER_HINT}")
        indices = LeaveOneGroupOut().split(ids, labels, speakers)
    else:
        indices = _emobox_indices(speakers)
    folds = []
    for k, (train_idx, test_idx) in enumerate(indices, start=1):
        test_speakers = sorted(set(speakers[test_idx]), key=lambda s: (len(s), s))
        if protocol == "loco":  # name the held-out corpus rather than list its speakers
            test_speakers = [rows[test_idx[0]].metadata["corpus"]]
        folds.append(Fold(k, ids[train_idx].tolist(), ids[test_idx].tolist(), test_speakers))
    return folds


def _emobox_indices(speakers: np.ndarray):
    keys = np.array([_speaker_key(s) for s in speakers])
    known = {_speaker_key(a) for fold in EMOBOX_RAVDESS_TEST_ACTORS for a in fold}
    strangers = sorted(set(keys) - known)
    if strangers:
        raise SplitError(f"emobox: the EmoBox folds are defined for RAVDESS actors 01-24; "
                         f"this corpus has other speakers: {strangers[:5]}")
    for actors in EMOBOX_RAVDESS_TEST_ACTORS:
        in_test = np.isin(keys, [_speaker_key(a) for a in actors])
        if not in_test.any() or in_test.all():
            raise SplitError(f"emobox: fold with test actors {', '.join(actors)} has an empty train or test part")
        yield np.flatnonzero(~in_test), np.flatnonzero(in_test)


def fold_split(fold: Fold, rows_by_id: dict[str, Utterance], protocol: str, val_size: float, seed: int, n_folds: int,
               val_split: str = "random") -> Split:
    """Train / val / test for one fold; validation comes only from the fold's training part
    (whole speakers of it when `val_split` asks, `specser.data.splits.validation_by_speaker`)."""
    speakers = [rows_by_id[i].speaker for i in fold.train]
    grouped = validation_by_speaker(val_split, protocol in GROUPED_PROTOCOLS, len(set(speakers)))
    train, val = split_validation(fold.train, [rows_by_id[i].label for i in fold.train], val_size, seed + fold.index,
                                  speakers if grouped else None)
    return Split(train=train, val=val, test=sorted(fold.test), protocol=f"{protocol} (fold {fold.index}/{n_folds})")
