"""Seeded, stratified holdout splits: random or speaker-held-out, and the validation split.

The validation split is always carved out of the training part, so early
stopping and the LR schedule never see test data. When the test speakers are held out,
validation can hold out whole speakers too (`data.val_split`), so that it estimates the
test rather than a score on voices the model has already heard.
"""

from __future__ import annotations

import warnings
from collections import Counter, defaultdict
from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import train_test_split

from specser.corpus.manifest import Utterance


class SplitError(ValueError):
    pass


@dataclass
class Split:
    train: list[str]  # utterance ids
    val: list[str]
    test: list[str]
    protocol: str  # "random-holdout" | "speaker-holdout" | "all-data"

    def to_dict(self) -> dict:
        return {"protocol": self.protocol, "train": self.train, "val": self.val, "test": self.test}


def _stratified(ids: list[str], labels: list[str], size: float, seed: int) -> tuple[list[str], list[str]]:
    if size <= 0:
        return list(ids), []
    counts = np.unique(labels, return_counts=True)[1]
    stratify = labels if counts.min() >= 2 else None
    keep, held = train_test_split(ids, test_size=size, random_state=seed, stratify=stratify)
    return sorted(keep), sorted(held)


AUTO_MIN_SPEAKERS = 10  # `auto` holds out speakers only from a training part with at least this many


def validation_by_speaker(val_split: str, speaker_independent: bool, n_speakers: int) -> bool:
    """Whether `data.val_split` asks for whole speakers in validation under this protocol, for a
    training part of `n_speakers` speakers. `auto` asks only from `AUTO_MIN_SPEAKERS` speakers on:
    with fewer, one or two validation speakers are too few to choose a checkpoint (a nEMO fold whose
    validation was one speaker chose epoch 1 of 12), and they take a large share of the voices."""
    if val_split == "speaker":
        return True
    return val_split == "auto" and speaker_independent and n_speakers >= AUTO_MIN_SPEAKERS


def holdout_split(
    rows: list[Utterance], test_size: float, val_size: float, seed: int, test_speakers: list[str] | None = None,
    val_split: str = "random",
) -> Split:
    """Split rows into train / val / test.

    Args:
        rows: manifest rows (only those with features).
        test_size: fraction for a random stratified test set; ignored with `test_speakers`;
            0 trains on everything (a final model).
        val_size: fraction of the training part held out for validation, stratified.
        seed: seeds both splits.
        test_speakers: speakers whose files form the test set (speaker-held-out protocol).
        val_split: ``random``, ``speaker`` or ``auto`` (`DataConfig.val_split`).
    """
    ids = [r.utt_id for r in rows]
    labels = [r.label for r in rows]
    if test_speakers:
        wanted = {s.lstrip("0") or "0" for s in test_speakers}
        in_test = [(r.speaker.lstrip("0") or "0") in wanted for r in rows]
        if not any(in_test):
            known = sorted({r.speaker for r in rows})
            raise SplitError(f"none of the test speakers {test_speakers} is in the corpus; speakers: {known}")
        test = sorted(i for i, t in zip(ids, in_test) if t)
        rest = [(i, l) for i, l, t in zip(ids, labels, in_test) if not t]
        protocol = "speaker-holdout"
    elif test_size > 0:
        rest_ids, test = _stratified(ids, labels, test_size, seed)
        lookup = dict(zip(ids, labels))
        rest = [(i, lookup[i]) for i in rest_ids]
        protocol = "random-holdout"
    else:
        test, rest, protocol = [], list(zip(ids, labels)), "all-data"
    if not rest:
        raise SplitError("no training data left after the test split")
    speaker_of = {r.utt_id: r.speaker for r in rows}
    speakers = [speaker_of[i] for i, _ in rest]
    grouped = validation_by_speaker(val_split, protocol == "speaker-holdout", len(set(speakers)))
    train, val = split_validation([i for i, _ in rest], [l for _, l in rest], val_size, seed + 1,
                                  speakers if grouped else None)
    return Split(train=train, val=val, test=test, protocol=protocol)


def split_validation(ids: list[str], labels: list[str], val_size: float, seed: int,
                     speakers: list[str] | None = None) -> tuple[list[str], list[str]]:
    """A validation part of a training part: (train, val), both sorted.

    Stratified by label; with `speakers`, whole speakers instead (`_speaker_validation`).
    """
    if speakers is not None and val_size > 0:
        grouped = _speaker_validation(ids, speakers, val_size, seed)
        if grouped is not None:
            return grouped
        warnings.warn("validation by speaker needs at least two speakers in the training part; "
                      "using a random validation split", stacklevel=2)
    return _stratified(ids, labels, val_size, seed)


def _speaker_validation(ids: list[str], speakers: list[str], size: float,
                        seed: int) -> tuple[list[str], list[str]] | None:
    """Whole speakers for validation, about `size` of the clips of each corpus, or None when no
    corpus has two speakers. Speakers of corpora after the first are namespaced ``corpus:speaker``
    (`specser.corpus.combine`), so each corpus gives its share, and keeps one speaker for training."""
    clips = Counter(speakers)
    by_corpus: dict[str, list[str]] = defaultdict(list)
    for speaker in sorted(clips):
        by_corpus[speaker.split(":", 1)[0] if ":" in speaker else ""].append(speaker)
    rng = np.random.default_rng(seed)
    held: set[str] = set()
    for corpus in sorted(by_corpus):
        members = list(by_corpus[corpus])
        rng.shuffle(members)
        target, taken = size * sum(clips[s] for s in members), 0
        for speaker in members[:-1]:  # the last one always trains
            if abs(taken + clips[speaker] - target) < abs(taken - target):
                held.add(speaker)
                taken += clips[speaker]
    if not held:
        return None
    val = sorted(i for i, s in zip(ids, speakers) if s in held)
    return sorted(i for i, s in zip(ids, speakers) if s not in held), val


def with_extra_train(split: Split, extra_ids: list[str]) -> Split:
    """`split` with corpora that only ever train (`data.extra_train`) added to its training part."""
    if not extra_ids:
        return split
    return Split(train=sorted(split.train + list(extra_ids)), val=split.val, test=split.test,
                 protocol=f"{split.protocol} + extra training corpora")
