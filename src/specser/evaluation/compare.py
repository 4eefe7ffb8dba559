"""`specser compare`: cross-validation runs side by side, with the published figures as rows.

Reads each run's cv_summary.json; renders one Markdown table (models x protocols, WA / UA /
macro-F1 as mean ± std over folds) and a grouped bar chart.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass
class Row:
    model: str
    protocol: str
    label_set: str
    n_folds: int | None
    wa: tuple[float, float] | None  # (mean, std) as fractions
    ua: tuple[float, float] | None
    f1: tuple[float, float] | None
    wall_time_s: float | None
    source: str  # run folder, or where a published figure comes from
    published: bool = False


def _published() -> list[Row]:
    """What others report (`specser.references`), as rows of their own, never mixed with our measurements."""
    from specser.references import COMPARISON_ROWS

    return [Row(r.model, r.protocol, r.label_set, r.n_folds, (r.value, r.std or 0.0), None, None, None, r.source, True)
            for r in COMPARISON_ROWS]


class CompareError(ValueError):
    pass


def load_summary(run_dir: Path):
    """A finished cross-validation's `CVSummary`."""
    from specser.evaluation.summaries import CVSummary

    path = Path(run_dir) / "cv_summary.json"
    if not path.is_file():
        raise CompareError(f"{run_dir}: no cv_summary.json (not a finished `specser cv` or `specser baseline` run)")
    return CVSummary.load(path)


def row_of(summary, run_dir: Path) -> Row:
    run = summary.run
    return Row(run.model, run.protocol, run.label_set, run.n_folds, (summary.accuracy.mean, summary.accuracy.std),
               (summary.uar.mean, summary.uar.std), (summary.macro_f1.mean, summary.macro_f1.std),
               run.fold_wall_time_s, str(run_dir))


def _pm(value: tuple[float, float] | None, published: bool) -> str:
    if value is None:
        return "n/r" if published else ""
    mean, std = value
    return f"{100 * mean:.1f}" if published and std == 0 else f"{100 * mean:.1f} ± {100 * std:.1f}"


PROTOCOL_ORDER = ("random-5fold", "actor-5fold", "emobox", "loso", "loco")


def _sort_key(row: Row):
    order = PROTOCOL_ORDER.index(row.protocol) if row.protocol in PROTOCOL_ORDER else len(PROTOCOL_ORDER)
    return (order, row.label_set, row.published, row.model)


def relevant_published(rows: list[Row]) -> list[Row]:
    groups = {(r.protocol, r.label_set) for r in rows}
    return [p for p in _published() if (p.protocol, p.label_set) in groups]


def render_comparison(rows: list[Row], title: str = "specser comparison") -> str:
    """Markdown: one table, grouped by protocol and label set; published figures in italics."""
    all_rows = sorted(rows + relevant_published(rows), key=_sort_key)
    lines = [f"# {title}", "",
             "WA = accuracy, UA = unweighted average recall, macro-F1; mean ± sample std over folds, in %. "
             "*Italic rows* are published figures, not measured here (n/r = not reported). `random-5fold` shares "
             "speakers between train and test; the other protocols are speaker-independent.", "",
             "| protocol | classes | model | WA | UA | macro-F1 | folds | wall time | source |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in all_rows:
        wall = f"{r.wall_time_s / 60:.1f} min" if r.wall_time_s else ""
        cells = [r.protocol, r.label_set, r.model, _pm(r.wa, r.published), _pm(r.ua, r.published),
                 _pm(r.f1, r.published), str(r.n_folds or ""), wall, r.source if r.published else f"`{r.source}`"]
        if r.published:
            cells = [f"*{c}*" if c else c for c in cells]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    return "\n".join(lines)


def plot_comparison(rows: list[Row], path: Path) -> None:
    """Grouped bars of WA per protocol (error bars: std over folds); published figures hatched."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from specser.atomic import atomic_path

    all_rows = sorted(rows + relevant_published(rows), key=_sort_key)
    groups = list(dict.fromkeys((r.protocol, r.label_set) for r in all_rows))
    models = list(dict.fromkeys(r.model for r in all_rows))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    width = 0.8 / max(1, max(sum(1 for r in all_rows if (r.protocol, r.label_set) == g) for g in groups))
    fig, ax = plt.subplots(figsize=(max(7, 2.2 * len(groups) + 2), 4.5))
    labelled: set[str] = set()
    for g, group in enumerate(groups):
        members = [r for r in all_rows if (r.protocol, r.label_set) == group and r.wa is not None]
        for k, r in enumerate(members):
            x = g + width * (k - (len(members) - 1) / 2)
            ax.bar(x, 100 * r.wa[0], width, yerr=100 * r.wa[1] or None, capsize=3,
                   color=colors[models.index(r.model) % len(colors)], hatch="//" if r.published else None,
                   alpha=0.55 if r.published else 1.0, label=None if r.model in labelled else r.model)
            labelled.add(r.model)
            ax.text(x, 100 * r.wa[0] + 1, f"{100 * r.wa[0]:.0f}", ha="center", va="bottom", fontsize=7)
    ax.set_xticks(np.arange(len(groups)), [f"{p}\n{ls}" for p, ls in groups])
    ax.set(ylabel="accuracy (WA, %)", ylim=(0, 105), title="Accuracy by protocol (hatched: published, not measured here)")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=2)
    with atomic_path(Path(path)) as tmp:
        fig.savefig(tmp, dpi=120, bbox_inches="tight", format="png")
    plt.close(fig)


def cross_corpus_section(summaries: list, run_dirs: list[Path]) -> str:
    """A train x test matrix per leave-one-corpus-out run among the runs (nothing when there is none)."""
    from specser.evaluation.cross_corpus import matrix_lines

    lines: list[str] = []
    for summary, run_dir in zip(summaries, run_dirs):
        lines += matrix_lines(summary, f"## Cross-corpus, {summary.run.model} (`{run_dir}`): trained on (rows) x "
                                       "tested on (columns)")
    return ("\n" + "\n".join(lines)) if lines else ""


def compare_runs(run_dirs: list[Path], out_md: Path, title: str = "specser comparison") -> tuple[str, Path]:
    """Write the table to `out_md` and the chart beside it (same name, .png)."""
    from specser.atomic import atomic_write_text

    summaries = [load_summary(d) for d in run_dirs]  # each cv_summary.json read once
    rows = [row_of(s, d) for s, d in zip(summaries, run_dirs)]
    png = Path(out_md).with_suffix(".png")
    text = (render_comparison(rows, title) + f"\n![accuracy by protocol]({png.name})\n"
            + cross_corpus_section(summaries, run_dirs))
    atomic_write_text(Path(out_md), text)
    plot_comparison(rows, png)
    return text, png
