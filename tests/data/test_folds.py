"""Protocol folds: disjoint, complete, stratified, seeded; grouped protocols keep speakers apart."""

from collections import Counter

import pytest

from specser.corpus.manifest import Utterance
from specser.data.folds import EMOBOX_RAVDESS_TEST_ACTORS, PROTOCOLS, fold_split, make_folds
from specser.data.splits import SplitError

LABELS = ("neutral", "happy", "sad", "angry", "fearful", "surprised")


def ravdess_rows(actors=range(1, 25), per_label=4) -> list[Utterance]:
    return [Utterance(f"a{a:02d}-{label}-{k}", f"/x/{a}-{label}-{k}.wav", label, f"{a:02d}")
            for a in actors for label in LABELS for k in range(per_label)]


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_every_file_is_tested_exactly_once_and_never_trained_on_in_its_fold(protocol):
    rows = ravdess_rows()
    if protocol == "loco":  # two corpora: odd actors in one, even in the other
        from dataclasses import replace

        rows = [replace(r, metadata={**r.metadata, "corpus": "a" if int(r.speaker) % 2 else "b"}) for r in rows]
    folds = make_folds(rows, protocol, seed=0)
    tested = Counter(i for f in folds for i in f.test)
    assert set(tested) == {r.utt_id for r in rows} and set(tested.values()) == {1}
    speaker = {r.utt_id: r.speaker for r in rows}
    for f in folds:
        assert not set(f.train) & set(f.test)
        assert len(f.train) + len(f.test) == len(rows)
        if protocol != "random-5fold":
            assert not {speaker[i] for i in f.train} & {speaker[i] for i in f.test}, "an actor in train and test"
    expected = {"random-5fold": 5, "actor-5fold": 5, "emobox": 6, "loso": 24, "loco": 2}[protocol]
    assert len(folds) == expected


def test_random_folds_are_stratified_and_seeded_and_order_free():
    rows = ravdess_rows()
    folds = make_folds(rows, "random-5fold", seed=3)
    label = {r.utt_id: r.label for r in rows}
    for f in folds:
        counts = Counter(label[i] for i in f.test)
        assert max(counts.values()) - min(counts.values()) <= 1
    assert [f.test for f in make_folds(list(reversed(rows)), "random-5fold", seed=3)] == [f.test for f in folds]
    assert [f.test for f in make_folds(rows, "random-5fold", seed=4)] != [f.test for f in folds]


def test_emobox_folds_are_the_published_actor_lists():
    folds = make_folds(ravdess_rows(), "emobox", seed=123)
    assert [tuple(f.test_speakers) for f in folds] == list(EMOBOX_RAVDESS_TEST_ACTORS)
    # Actors named "1" rather than "01" (a CSV manifest) map to the same folds.
    plain = [Utterance(r.utt_id, r.path, r.label, r.speaker.lstrip("0")) for r in ravdess_rows()]
    assert [f.test for f in make_folds(plain, "emobox", seed=0)] == [f.test for f in folds]


def test_protocol_errors_are_clear():
    with pytest.raises(SplitError, match="unknown protocol"):
        make_folds(ravdess_rows(), "random-10fold", seed=0)
    with pytest.raises(SplitError, match="RAVDESS actors"):
        make_folds(ravdess_rows() + [Utterance("x", "/x", "sad", "spk-A")], "emobox", seed=0)
    with pytest.raises(SplitError, match="at least 5 speakers"):
        make_folds(ravdess_rows(actors=range(1, 4)), "actor-5fold", seed=0)
    with pytest.raises(SplitError, match="empty train or test"):
        make_folds(ravdess_rows(actors=range(1, 7)), "emobox", seed=0)


def test_fold_split_takes_validation_from_the_training_part_only():
    rows = ravdess_rows()
    by_id = {r.utt_id: r for r in rows}
    fold = make_folds(rows, "actor-5fold", seed=0)[1]
    split = fold_split(fold, by_id, "actor-5fold", 0.2, seed=0, n_folds=5)
    assert set(split.train) | set(split.val) == set(fold.train) and not set(split.train) & set(split.val)
    assert split.test == sorted(fold.test) and split.protocol == "actor-5fold (fold 2/5)"
    assert len(split.val) == pytest.approx(0.2 * len(fold.train), abs=1)


def test_fold_split_validation_by_speaker_on_grouped_protocols():
    rows = ravdess_rows()
    by_id = {r.utt_id: r for r in rows}
    fold = make_folds(rows, "actor-5fold", seed=0)[1]
    split = fold_split(fold, by_id, "actor-5fold", 0.2, seed=0, n_folds=5, val_split="auto")
    val_speakers = {by_id[i].speaker for i in split.val}
    assert val_speakers and not val_speakers & {by_id[i].speaker for i in split.train}
    assert set(split.train) | set(split.val) == set(fold.train)
    random_fold = make_folds(rows, "random-5fold", seed=0)[1]
    assert fold_split(random_fold, by_id, "random-5fold", 0.2, 0, 5, val_split="auto") == \
        fold_split(random_fold, by_id, "random-5fold", 0.2, 0, 5)
