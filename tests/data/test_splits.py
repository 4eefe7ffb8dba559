from collections import Counter

import pytest

from specser.corpus.manifest import load_manifest
from specser.data.splits import SplitError, holdout_split


@pytest.fixture(scope="module")
def rows(synth_corpus):
    return load_manifest(synth_corpus).rows


def test_random_holdout_is_stratified_seeded_and_disjoint(rows):
    split = holdout_split(rows, 0.2, 0.2, seed=7)
    assert split.protocol == "random-holdout"
    parts = [set(split.train), set(split.val), set(split.test)]
    assert sum(map(len, parts)) == len(rows) and not (parts[0] & parts[1] or parts[0] & parts[2] or parts[1] & parts[2])
    assert len(split.test) == pytest.approx(0.2 * len(rows), abs=1)
    label = {r.utt_id: r.label for r in rows}
    whole, test = Counter(r.label for r in rows), Counter(label[i] for i in split.test)
    for k in whole:
        assert test[k] / len(split.test) == pytest.approx(whole[k] / len(rows), abs=0.03)
    assert holdout_split(rows, 0.2, 0.2, seed=7) == split
    assert holdout_split(rows, 0.2, 0.2, seed=8).test != split.test


def test_speaker_holdout_keeps_speakers_apart(rows):
    split = holdout_split(rows, 0.2, 0.2, seed=1, test_speakers=["01", "2"])
    speaker = {r.utt_id: r.speaker for r in rows}
    assert {speaker[i] for i in split.test} == {"01", "02"}
    assert not {speaker[i] for i in split.train + split.val} & {"01", "02"}
    with pytest.raises(SplitError, match="none of the test speakers"):
        holdout_split(rows, 0.2, 0.2, seed=1, test_speakers=["77"])


def test_validation_comes_from_training_part_only(rows):
    split = holdout_split(rows, 0.25, 0.2, seed=3)
    assert len(split.val) == pytest.approx(0.2 * (len(rows) - len(split.test)), abs=1)
    assert not set(split.val) & set(split.test)


def test_test_size_zero_trains_on_everything(rows):
    split = holdout_split(rows, 0.0, 0.2, seed=3)
    assert split.protocol == "all-data" and split.test == []
    assert len(split.train) + len(split.val) == len(rows)
