"""report.md for a run and a cross-validation: the protocol stated plainly, our figures beside the paper's."""

from specser.evaluation.cv_report import render_cv_report
from specser.evaluation.cv_summary import summarize_folds
from specser.evaluation.report import render_report
from specser.evaluation.summaries import CVRun, FoldRecord, RunSummary
from tests.evaluation.test_metrics import _metrics

RUN = RunSummary("demo", "paper", "/data/ravdess", "ravdess", "ravdess6", "random-holdout", 600, 150, 12, 0, "native",
                 "spec_resnet", 1_200_000, 20, 15, 42.0, "cpu", 24, 24)


def test_run_report_warns_about_speaker_overlap_and_cites_the_paper():
    text = render_report(RUN, _metrics(), ["confusion_matrix.png"])
    assert "| accuracy (WA) | 58.3 % | 92 % (random split" in text
    assert "**Speaker overlap.**" in text and "24 of 24 speakers" in text
    assert "| **sad** | 1 | 1 | 3 |" in text and "![confusion_matrix.png](confusion_matrix.png)" in text
    independent = render_report(RunSummary(**{**RUN.to_dict(), "shared_speakers": 0}), None, [])
    assert "Speaker overlap" not in independent and "No test set" in independent


def test_cv_report_has_mean_std_per_fold_and_the_published_reference():
    folds = [_metrics(), _metrics()]
    run = CVRun("cv", "Spec-ResNet (native)", "actor-5fold", "paper", True, 2, "/data", "ravdess", "ravdess6", 24, 0,
                42, [FoldRecord(1, ["01", "02"], 12, 30.0, 10, 7), FoldRecord(2, ["03"], 12, 31.0, 12, 9)], 61.0, 61.0)
    text = render_cv_report(summarize_folds(folds, run), ["cv_confusion_matrix.png"])
    assert "**actor-5fold**, 2 folds" in text and "speaker-independent" in text
    assert "| accuracy (WA) | 58.3 ± 0.0 % | 91.5 ± 0.8 % (paper's 5-fold CV" in text
    assert "| 1 | 01, 02 | 12 | 58.3 % |" in text and "10 (7)" in text
    assert "happy→neutral" in text or "sad→neutral" in text


def test_reports_put_validation_beside_the_test_and_say_how_it_was_drawn():
    run_text = render_report(RunSummary(**{**RUN.to_dict(), "val_accuracy": 0.75, "val_by_speaker": True}), _metrics(), [])
    assert "| validation accuracy (chosen epoch) | 75.0 % (whole speakers held out) |" in run_text
    assert "validation accuracy" not in render_report(RUN, _metrics(), [])  # older runs: no such line
    folds = [FoldRecord(1, ["01"], 12, 30.0, 10, 7, None, 0.70, False), FoldRecord(2, ["03"], 12, 31.0, 12, 9, None, 0.80, False)]
    run = CVRun("cv", "Spec-ResNet (native)", "actor-5fold", "robust", True, 2, "/data", "ravdess", "ravdess6", 24, 0,
                42, folds, 61.0, 61.0)
    text = render_cv_report(summarize_folds([_metrics(), _metrics()], run), [])
    assert "| 1 | 01 | 12 | 58.3 % | " in text and "| 70.0 % | 10 (7) |" in text
    # validation 70 and 80 % against a test of 58.3 % on both folds: 16.7 points above on average
    assert "ran 16.7 points above the test WA on average, over 2 folds (validation: clips of the training speakers" in text


def test_the_corpus_table_names_each_corpus_and_is_absent_for_one():
    from specser.evaluation.report import corpus_table

    lines = corpus_table({"nemo": {"accuracy": 0.412, "uar": 0.398, "n": 900},
                          "ravdess": {"accuracy": 0.6, "uar": 0.59, "n": 211}}, "## By corpus")
    assert "| nemo | 41.2 % | 39.8 % | 900 |" in lines and "| ravdess | 60.0 % | 59.0 % | 211 |" in lines
    assert corpus_table({}, "## By corpus") == []
