"""Seeded, stratified holdout splits: random or speaker-held-out, and the validation split.

The validation split is always carved out of the training part, so early
stopping and the LR schedule never see test data.
"""

from __future__ import annotations

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


def holdout_split(
    rows: list[Utterance], test_size: float, val_size: float, seed: int, test_speakers: list[str] | None = None
) -> Split:
    """Split rows into train / val / test.

    Args:
        rows: manifest rows (only those with features).
        test_size: fraction for a random stratified test set; ignored with `test_speakers`;
            0 trains on everything (a final model).
        val_size: fraction of the training part held out for validation, stratified.
        seed: seeds both splits.
        test_speakers: speakers whose files form the test set (speaker-held-out protocol).
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
    train, val = split_validation([i for i, _ in rest], [l for _, l in rest], val_size, seed + 1)
    return Split(train=train, val=val, test=test, protocol=protocol)


def split_validation(ids: list[str], labels: list[str], val_size: float, seed: int) -> tuple[list[str], list[str]]:
    """A stratified validation part of a training part: (train, val), both sorted."""
    return _stratified(ids, labels, val_size, seed)


def with_extra_train(split: Split, extra_ids: list[str]) -> Split:
    """`split` with corpora that only ever train (`data.extra_train`) added to its training part."""
    if not extra_ids:
        return split
    return Split(train=sorted(split.train + list(extra_ids)), val=split.val, test=split.test,
                 protocol=f"{split.protocol} + extra training corpora")
