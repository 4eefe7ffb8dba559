"""Several corpora in one run: canonical labels, corpora and speakers kept apart, cross-corpus folds,
and corpora that only ever train."""

import json

import numpy as np
import pytest
import soundfile as sf

from specser.config import load_config
from specser.corpus.combine import combine
from specser.corpus.manifest import load_manifest
from specser.data.folds import make_folds
from specser.features.prepare import prepare_corpus
from tests.synth import FAST_OVERRIDES, emotional_tone

# Another corpus's own label names, and the synthetic emotion code each one sounds like.
OTHER_LABELS = {"anger": "05", "happiness": "03", "neutral": "01", "sadness": "04", "fear": "06", "surprised": "08"}


@pytest.fixture(scope="module")
def other_corpus(tmp_path_factory):
    """A folder-per-label corpus with nEMO-style label names and speakers "01" to "03" (RAVDESS has an "01" too)."""
    root = tmp_path_factory.mktemp("other-corpus")
    rng = np.random.default_rng(11)
    for label, code in OTHER_LABELS.items():
        for speaker in ("01", "02", "03"):
            (root / label / speaker).mkdir(parents=True)
            for k in range(4):
                sf.write(root / label / speaker / f"{label}_{k}.wav",
                         emotional_tone(code, int(speaker) + 30, rng, seconds=1.0), 16000)
    return root


def test_combined_manifest_harmonises_labels_and_keeps_corpora_and_speakers_apart(synth_corpus, other_corpus):
    ravdess, other = load_manifest(synth_corpus), load_manifest(other_corpus)
    both = combine([ravdess, other])
    assert both.corpus == "ravdess+folder" and len(both.rows) == len(ravdess.rows) + 72
    assert both.labels == ["neutral", "happy", "sad", "angry", "fearful", "surprised"]
    first_other = next(r for r in both.rows if r.metadata["corpus"] == "folder")
    assert first_other.utt_id.startswith("folder/") and first_other.speaker.startswith("folder:")
    speakers = {r.speaker for r in both.rows}
    assert "ravdess:01" in speakers and "folder:01" in speakers  # the same name, two people
    assert combine([ravdess]) is ravdess  # one corpus: nothing renamed


def test_leave_one_corpus_out_tests_each_corpus_on_the_others(synth_corpus, other_corpus):
    both = combine([load_manifest(synth_corpus), load_manifest(other_corpus)])
    folds = make_folds(both.rows, "loco", seed=0)
    assert [f.test_speakers for f in folds] == [["folder"], ["ravdess"]]
    for fold in folds:
        test_corpora = {i.split("/")[0] for i in fold.test}
        train_corpora = {i.split("/")[0] for i in fold.train}
        assert len(test_corpora) == 1 and not test_corpora & train_corpora
    from specser.data.splits import SplitError

    with pytest.raises(SplitError, match="needs at least two corpora"):
        make_folds(load_manifest(synth_corpus).rows, "loco", seed=0)


def test_extra_training_corpus_joins_training_parts_only(synth_corpus, other_corpus, tmp_path):
    from specser.data.splits import holdout_split, with_extra_train

    cfg = load_config(overrides=FAST_OVERRIDES + [f"data.path={synth_corpus}", f"data.extra_train=['{other_corpus}']",
                                                  f"data.cache_dir={tmp_path}"])
    corpus = prepare_corpus(cfg, progress=False)
    assert len(corpus.extra_ids) == 72 and len(corpus.main_rows) == len(corpus.rows) - 72
    split = with_extra_train(holdout_split(corpus.main_rows, 0.2, 0.2, 0, ["05", "06"]), corpus.extra_train)
    assert set(corpus.extra_ids) <= set(split.train)
    assert not set(corpus.extra_ids) & set(split.val + split.test)
    assert {corpus.rows_by_id[i].speaker for i in split.test} == {"05", "06"}  # the main corpus keeps its names
    assert all(i.startswith("folder/") for i in corpus.extra_ids)


def test_cross_corpus_cv_from_the_command_line(synth_corpus, other_corpus, tmp_path):
    from typer.testing import CliRunner

    from specser.cli.main import app

    sets = [a for s in FAST_OVERRIDES + ["baseline.search=false", "baseline.n_jobs=1"] for a in ("--set", s)]
    result = CliRunner().invoke(app, ["baseline", "--data", str(synth_corpus), "--data", str(other_corpus),
                                      "--protocol", "loco", "--out", str(tmp_path / "loco"), "--no-progress", *sets])
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "loco" / "cv_summary.json").read_text())
    assert [f["test_speakers"] for f in summary["run"]["folds"]] == [["folder"], ["ravdess"]]
    assert summary["run"]["speaker_independent"] and summary["run"]["corpus"] == "ravdess+folder"
    assert summary["accuracy"]["mean"] > 0.3  # the synthetic emotions sound alike in both corpora
    report = (tmp_path / "loco" / "report.md").read_text()
    assert "trained on (rows) x tested on (columns)" in report and "| folder |  | " in report  # the matrix
    by_corpus = summary["by_corpus"]  # each corpus's own figures, pooled over the folds that test it
    assert set(by_corpus) == {"ravdess", "folder"} and "## By corpus (pooled over folds)" in report
    assert sum(v["n"] for v in by_corpus.values()) == sum(summary["n_test_per_fold"])
    assert by_corpus["folder"]["accuracy"] == pytest.approx(summary["accuracy"]["per_fold"][0])
    compared = CliRunner().invoke(app, ["compare", str(tmp_path / "loco"), "--out", str(tmp_path / "cmp.md")])
    assert compared.exit_code == 0, compared.output
    matrix = (tmp_path / "cmp.md").read_text().split("Cross-corpus", 1)[1]
    assert f"| folder |  | {100 * summary['accuracy']['per_fold'][1]:.1f} / " in matrix  # trained on folder, tested on ravdess


def test_corpus_balanced_sampling_gives_each_corpus_an_equal_share():
    from specser.corpus.manifest import Utterance
    from specser.runs.train import corpus_balanced_sampler

    rows = [Utterance(f"a{i}", "x", "sad", "1", {"corpus": "small"}) for i in range(10)]
    rows += [Utterance(f"b{i}", "x", "sad", "2", {"corpus": "big"}) for i in range(90)]
    drawn = list(corpus_balanced_sampler(rows, seed=0))
    assert len(drawn) == 100
    share = sum(i < 10 for i in drawn) / len(drawn)
    assert 0.35 < share < 0.65  # without balancing the small corpus would get 10 %
    assert corpus_balanced_sampler(rows[:10], seed=0) is None  # one corpus: plain shuffling


def test_a_combined_manifest_reads_back_with_each_rows_corpus(synth_corpus, other_corpus, tmp_path):
    from specser.corpus.manifest import parse_csv, write_manifest_csv

    both = combine([load_manifest(synth_corpus), load_manifest(other_corpus)])
    write_manifest_csv(both, tmp_path / "manifest.csv")
    back = parse_csv(tmp_path / "manifest.csv")
    assert back.corpus == both.corpus == "ravdess+folder"
    assert [r.metadata["corpus"] for r in back.rows] == [r.metadata["corpus"] for r in both.rows]
    assert {r.metadata["corpus"] for r in back.rows} == {"ravdess", "folder"}
