"""Score candidate recipes for the bundled model on held-out speakers of every corpus it trains on.

    python benchmarks/release_recipe.py NAME=RUN:ROBUSTNESS.json [NAME=RUN:ROBUSTNESS.json ...]
                                        [--rule RULE.txt] [--out benchmarks/results/real_voices/release_recipe.json]

Each RUN is a `specser train` run over several corpora that held whole speakers of each out (its
`metrics.json` has a `by_corpus` table); ROBUSTNESS.json is `benchmarks/robustness.py RUN --out ...`.
For each candidate it prints each corpus's accuracy, their mean M (a corpus is one vote, however many
clips it has), and C, the mean accuracy over the conditions that decide a release. Agreement with the
clean label is printed too but decides nothing: it rewards a model that leans on one class. C pools the
held-out clips, so the corpus with the most of them weighs most; where the robustness JSON has each
corpus's figures (written since 2026-12-05), each corpus's C and telephone-band gap are given too, and
CM, their mean. The rule (written before the runs) is copied into the JSON; reading it against the
figures is left to a person.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from machine import describe, write_result  # noqa: E402
from release_model import RELEASE_CONDITIONS  # noqa: E402

DEGRADED = tuple(c for c in RELEASE_CONDITIONS if c != "clean")


def mean_percent(table: dict, key: str) -> float:
    """The mean of `key` (accuracy or agreement) over the degraded release conditions of `table`, in %."""
    return round(100 * sum(table[c][key] for c in DEGRADED) / len(DEGRADED), 2)


def condition_figures(table: dict) -> dict:
    """C, the telephone-band gap and the +20 dB agreement of one table of condition results, pooled
    or one corpus's (`by_corpus` of `benchmarks/robustness.py`), in %."""
    return {"C": mean_percent(table, "accuracy"),
            "telephone_gap": round(100 * (table["clean"]["accuracy"] - table["telephone band"]["accuracy"]), 1),
            "gain_plus20_agreement": round(100 * table["gain +20 dB"]["agreement"], 1)}


def score(run: Path, robustness: Path) -> dict:
    metrics = json.loads((run / "metrics.json").read_text())
    by_corpus = dict(sorted(metrics["by_corpus"].items()))
    per_corpus = {name: round(100 * figures["accuracy"], 1) for name, figures in by_corpus.items()}
    (robust_run,) = json.loads(robustness.read_text())["runs"]
    conditions = robust_run["conditions"]
    pooled = condition_figures(conditions)
    corpora = sorted(conditions["clean"].get("by_corpus", {}))
    by_corpus_robustness = {
        name: condition_figures({c: conditions[c]["by_corpus"][name] for c in RELEASE_CONDITIONS}) for name in corpora}
    return {
        "run": str(run), "accuracy_by_corpus": per_corpus,
        "clips_by_corpus": {name: figures["n"] for name, figures in by_corpus.items()},
        "M": round(sum(per_corpus.values()) / len(per_corpus), 2),
        "C": pooled["C"], "agreement_mean": mean_percent(conditions, "agreement"),
        "clean_pooled": round(100 * conditions["clean"]["accuracy"], 1),
        "telephone_gap_pooled": pooled["telephone_gap"],
        "gain_plus20_agreement_pooled": pooled["gain_plus20_agreement"],
        "robustness_by_corpus": by_corpus_robustness,
        "CM": round(sum(r["C"] for r in by_corpus_robustness.values()) / len(corpora), 2) if corpora else None,
        "best_epoch": metrics["run"]["best_epoch"], "epochs": metrics["run"]["epochs"],
        "val_accuracy": round(100 * metrics["run"]["val_accuracy"], 1),
        "wall_time_s": round(metrics["run"]["wall_time_s"]),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("candidates", nargs="+", metavar="NAME=RUN:ROBUSTNESS.json")
    parser.add_argument("--rule", type=Path, action="append", default=[], help="the rule file(s), copied into the JSON")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "real_voices" / "release_recipe.json")
    args = parser.parse_args()
    scores = {}
    for item in args.candidates:
        name, _, paths = item.partition("=")
        run, _, robustness = paths.partition(":")
        scores[name] = score(Path(run), Path(robustness))
    print(f"{'candidate':<10} {'by corpus':<28} {'M':>6} {'C':>6} {'agreement':>9} {'epoch':>7} "
          f"{'tel. gap':>8} {'+20 dB':>6}  C, tel. gap, +20 dB agreement of each corpus")
    for name, s in scores.items():
        corpora = ", ".join(f"{c} {a}" for c, a in s["accuracy_by_corpus"].items())
        each = "; ".join(f"{c} {r['C']}, {r['telephone_gap']}, {r['gain_plus20_agreement']}"
                         for c, r in s["robustness_by_corpus"].items()) or "-"
        print(f"{name:<10} {corpora:<28} {s['M']:>6} {s['C']:>6} {s['agreement_mean']:>9} "
              f"{s['best_epoch']:>3}/{s['epochs']} {s['telephone_gap_pooled']:>8} {s['gain_plus20_agreement_pooled']:>6}  "
              f"{each}" + (f" (CM {s['CM']})" if s["CM"] is not None else ""))
    write_result({"machine": describe(), "rules": [r.read_text() for r in args.rule], "candidates": scores}, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
