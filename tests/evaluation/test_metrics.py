"""The headline numbers against scikit-learn on fixed data: WA, UA, macro-F1 and friends."""

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, balanced_accuracy_score, confusion_matrix, f1_score

from specser.corpus.manifest import Utterance
from specser.evaluation.metrics import compute_metrics

LABELS = ["neutral", "happy", "sad"]
TARGETS = np.array([0, 0, 0, 0, 1, 1, 1, 2, 2, 2, 2, 2])
PREDS = np.array([0, 0, 1, 2, 1, 1, 0, 2, 2, 2, 1, 0])


def _metrics():
    rows = [Utterance(f"u{i}", f"/d/u{i}.wav", LABELS[t], f"s{i % 3}", {"intensity": "strong" if i % 2 else "normal"})
            for i, t in enumerate(TARGETS)]
    probs = np.full((len(PREDS), 3), 0.1)
    probs[np.arange(len(PREDS)), PREDS] = 0.8
    return compute_metrics(rows, TARGETS, probs, LABELS)


def test_figures_match_scikit_learn():
    m = _metrics()
    assert m["accuracy"] == pytest.approx(accuracy_score(TARGETS, PREDS)) == pytest.approx(7 / 12)
    assert m["uar"] == pytest.approx(balanced_accuracy_score(TARGETS, PREDS))
    assert m["uar"] == pytest.approx(np.mean([2 / 4, 2 / 3, 3 / 5]))  # UA: the mean of per-class recalls
    assert m["macro_f1"] == pytest.approx(f1_score(TARGETS, PREDS, average="macro"))
    assert m["confusion_matrix"] == confusion_matrix(TARGETS, PREDS).tolist()
    assert m["per_class"]["sad"]["support"] == 5 and m["n"] == 12


def test_per_file_predictions_and_intensity_breakdown():
    m = _metrics()
    assert [p["predicted"] for p in m["predictions"]] == [LABELS[i] for i in PREDS]
    assert m["predictions"][2] | {"probabilities": None} == {
        "utt_id": "u2", "path": "/d/u2.wav", "speaker": "s2", "label": "neutral", "predicted": "happy",
        "probabilities": None}
    by = m["accuracy_by_intensity"]
    assert by["normal"]["n"] + by["strong"]["n"] == 12
    assert by["normal"]["accuracy"] == pytest.approx(np.mean((TARGETS == PREDS)[::2]))


def test_figures_per_corpus_when_the_data_combines_several():
    corpora = ["ravdess"] * 7 + ["nemo"] * 5
    rows = [Utterance(f"u{i}", f"/d/u{i}.wav", LABELS[t], f"s{i % 3}", {"corpus": c})
            for i, (t, c) in enumerate(zip(TARGETS, corpora))]
    probs = np.full((len(PREDS), 3), 0.1)
    probs[np.arange(len(PREDS)), PREDS] = 0.8
    by = compute_metrics(rows, TARGETS, probs, LABELS)["by_corpus"]
    ravdess, nemo = slice(0, 7), slice(7, 12)
    assert by["ravdess"]["n"] == 7 and by["nemo"]["n"] == 5
    assert by["ravdess"]["accuracy"] == pytest.approx(accuracy_score(TARGETS[ravdess], PREDS[ravdess]))
    assert by["ravdess"]["uar"] == pytest.approx(balanced_accuracy_score(TARGETS[ravdess], PREDS[ravdess]))
    assert by["nemo"]["uar"] == pytest.approx(1.0 * 3 / 5)  # only "sad" is present: its recall alone
    assert _metrics()["by_corpus"] == {}  # a single-corpus manifest: nothing to break down
    one = compute_metrics(rows[7:], TARGETS[7:], probs[7:], LABELS)["by_corpus"]  # a fold that tests one corpus
    assert list(one) == ["nemo"] and one["nemo"]["n"] == 5
