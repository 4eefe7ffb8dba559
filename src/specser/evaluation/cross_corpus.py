"""Cross-corpus results as a train x test matrix, from a leave-one-corpus-out (`loco`) cross-validation.

Each loco fold trains on every corpus but one and tests on that one, so a row is the corpora a
model was trained on, a column the corpus it was tested on, and in-corpus cells stay empty (those
figures come from speaker-independent runs within one corpus, e.g. `actor-5fold`).
"""

from __future__ import annotations

from specser.evaluation.summaries import CVSummary


def corpus_cells(summary: CVSummary) -> list[tuple[str, str, float, float]]:
    """(trained on, tested on, WA, UA) for each fold of a loco cross-validation; empty for other protocols."""
    run = summary.run
    if run.protocol != "loco":
        return []
    corpora = run.corpus.split("+")
    cells = []
    for i, fold in enumerate(run.folds):
        test = fold.test_speakers[0] if fold.test_speakers else f"fold {fold.fold}"
        train = "+".join(c for c in corpora if c != test) or "?"
        cells.append((train, test, summary.accuracy.per_fold[i], summary.uar.per_fold[i]))
    return cells


def matrix_lines(summary: CVSummary, title: str = "## Cross-corpus: trained on (rows) x tested on (columns)") -> list[str]:
    """Markdown lines of the matrix, WA / UA in %; no lines for other protocols."""
    cells = corpus_cells(summary)
    if not cells:
        return []
    tests = sorted({test for _, test, _, _ in cells})
    trains = sorted({train for train, _, _, _ in cells})
    value = {(train, test): f"{100 * wa:.1f} / {100 * ua:.1f}" for train, test, wa, ua in cells}
    lines = [title, "", "WA / UA in %, one model per row; chance is "
             f"{100 / len(summary.labels):.1f} % ({len(summary.labels)} classes). Empty cells are in-corpus.", "",
             "| trained on | " + " | ".join(tests) + " |", "|---" * (len(tests) + 1) + "|"]
    for train in trains:
        lines.append(f"| {train} | " + " | ".join(value.get((train, test), "") for test in tests) + " |")
    return lines + [""]
