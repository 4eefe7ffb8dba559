from collections import Counter

import pytest

from specser.corpus.manifest import load_manifest
from specser.corpus.manifest import Utterance
from specser.data.splits import AUTO_MIN_SPEAKERS, SplitError, holdout_split, split_validation


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


def test_validation_by_speaker_holds_out_whole_speakers_only_when_asked(rows):
    speaker = {r.utt_id: r.speaker for r in rows}
    split = holdout_split(rows, 0.2, 0.2, seed=1, test_speakers=["01"], val_split="speaker")
    val_speakers = {speaker[i] for i in split.val}
    assert val_speakers and not val_speakers & {speaker[i] for i in split.train}
    assert "01" not in val_speakers
    shared = holdout_split(rows, 0.2, 0.2, seed=1, test_speakers=["01"], val_split="random")
    assert {speaker[i] for i in shared.val} & {speaker[i] for i in shared.train}
    # auto groups only when the test speakers are held out and the training part has enough speakers
    assert len({r.speaker for r in rows}) - 1 < AUTO_MIN_SPEAKERS
    assert holdout_split(rows, 0.2, 0.2, seed=1, test_speakers=["01"], val_split="auto") == shared
    assert holdout_split(rows, 0.2, 0.2, seed=1, val_split="auto") == holdout_split(rows, 0.2, 0.2, seed=1)
    many = [Utterance(f"{s}-{k}", "/x", "sad" if k % 2 else "happy", f"{s:02d}") for s in range(1, 13) for k in range(4)]
    grouped = holdout_split(many, 0.2, 0.2, seed=1, test_speakers=["01"], val_split="auto")
    assert not {i.split("-")[0] for i in grouped.val} & {i.split("-")[0] for i in grouped.train}


def test_validation_by_speaker_takes_a_share_of_each_corpus_and_leaves_each_a_training_speaker():
    ids = [f"u{i}" for i in range(200)]
    # corpus one: 8 speakers of 10 clips; corpus two ("nemo:"): 4 speakers of 30 clips
    speakers = [f"{i // 10 + 1:02d}" for i in range(80)] + [f"nemo:S{(i - 80) // 30}" for i in range(80, 200)]
    labels = ["a", "b"] * 100
    train, val = split_validation(ids, labels, 0.25, 3, speakers)
    held = {s for i, s in zip(ids, speakers) if i in set(val)}
    assert sum(":" not in s for s in held) == 2 and sum(s.startswith("nemo:") for s in held) == 1
    assert sorted(train + val) == sorted(ids) and not {s for i, s in zip(ids, speakers) if i in set(train)} & held
    assert split_validation(ids, labels, 0.25, 3, speakers) == (train, val)  # seeded
    with pytest.warns(UserWarning, match="at least two speakers"):
        alone = split_validation(ids[:10], labels[:10], 0.2, 0, speakers[:10])
    assert len(alone[1]) == 2  # one speaker: a random split, said so
