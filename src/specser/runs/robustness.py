"""A run's model under recording conditions: accuracy on its held-out test files, and how often the
label stays what it was on the clean clip.

Each test file is decoded, degraded (`specser.audio.degrade.CONDITIONS`) and predicted through the
`Predictor`, speech check included: a degraded clip the check refuses counts as wrong and as
changed, and is counted apart. Babble is made from the other speakers' test clips. A run over several
corpora also gets each corpus's figures: pooled figures follow the corpus with the most test clips.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np

from specser.atomic import atomic_write_json, atomic_write_text
from specser.audio.degrade import CONDITIONS, degrade_all
from specser.audio.load import AudioError, load_audio
from specser.config import load_config
from specser.evaluation.cv_summary import stats_over
from specser.features.prepare import build_manifest
from specser.inference.model_file import ModelFile
from specser.inference.predictor import Predictor
from specser.runs.folder import RunFolder


def by_corpus(corpora: list[str], predicted: np.ndarray, targets: np.ndarray, clean: np.ndarray | None) -> dict:
    """{corpus: {"accuracy", "n"[, "agreement"]}} when the clips come from two corpora or more, else {}."""
    names = sorted(set(corpora))
    if len(names) < 2:
        return {}
    which = np.array(corpora)
    figures = {}
    for name in names:
        mine = which == name
        entry = {"accuracy": float(np.mean(predicted[mine] == targets[mine])), "n": int(mine.sum())}
        if clean is not None:
            entry["agreement"] = float(np.mean(predicted[mine] == clean[mine]))
        figures[name] = entry
    return figures


def predicted_labels(predictor: Predictor, waves: list[np.ndarray], speakers: list[str]) -> np.ndarray:
    """Each wave's label index, -1 where the speech check refuses it."""
    predicted = np.full(len(waves), -1)
    ok = []
    for i, wave in enumerate(waves):
        try:
            predictor.check_speech(wave, str(i))
            ok.append(i)
        except AudioError:
            pass
    if ok:
        # A speaker-normalised model takes each speaker's statistics from their clips under the same
        # condition, as a user's recordings all share their microphone and room.
        predicted[ok] = predictor.probabilities_by_speaker([waves[i] for i in ok], [speakers[i] for i in ok]).argmax(axis=1)
    return predicted


def _condition_result(predictor: Predictor, waves: list[np.ndarray], speakers: list[str], targets: np.ndarray,
                      clean: np.ndarray | None, corpora: list[str]) -> tuple[dict, np.ndarray]:
    predicted = predicted_labels(predictor, waves, speakers)
    ok = predicted >= 0
    result = {"accuracy": float(np.mean(predicted == targets)), "refused": int(len(waves) - ok.sum()),
              "most_predicted": Counter(predictor.labels[p] for p in predicted if p >= 0).most_common(1)[0][0]
              if ok.any() else None}
    if clean is not None:
        result["agreement"] = float(np.mean(predicted == clean))
    if per_corpus := by_corpus(corpora, predicted, targets, clean):
        result["by_corpus"] = per_corpus
    return result, predicted


def held_out_clips(run_dir: Path, data: Path | None = None, model: Path | None = None,
                   **predictor_options) -> tuple[Predictor, list, list[np.ndarray]]:
    """A run's model (or the `model` file given) as a `Predictor`, its test split's manifest rows, and their
    waves at the model's rate: what every benchmark that degrades those clips starts from."""
    folder = RunFolder(run_dir)
    mf = ModelFile.load(model or folder / "model.specser")
    cfg = load_config(folder / "config.yaml", [f"data.path={data}"] if data is not None else [])
    rows_by_id = {r.utt_id: r for r in build_manifest(cfg)[0].rows}
    rows = [rows_by_id[i] for i in folder.read_json("split.json")["test"]]
    if not rows:
        raise ValueError(f"{run_dir}: the run has no test split to degrade")
    predictor = Predictor(mf, device=cfg.train.accelerator, **predictor_options)
    return predictor, rows, [load_audio(r.path, predictor.sample_rate, name=r.path) for r in rows]


def robustness(run_dir: Path, conditions: list[str] | None = None, data: Path | None = None,
               out: Path | None = None, seed: int = 0, progress: bool = True, model: Path | None = None,
               **predictor_options) -> dict:
    """Evaluate `run_dir`'s model (or the `model` file given) on its test split under each condition;
    writes robustness.{json,md}. `predictor_options` go to the `Predictor` (`repair_clipping`,
    `keep_silence_s`, `trim_over_s`; left out, the product's defaults) and are recorded.

    Returns:
        {"run", "n", "conditions": {name: {"accuracy", "agreement", "refused", "most_predicted"[, "by_corpus"]}}}.
    """
    from tqdm.auto import tqdm

    names = conditions or list(CONDITIONS)
    unknown = sorted(set(names) - set(CONDITIONS))
    if unknown:
        raise ValueError(f"unknown conditions {unknown}; choose from: {', '.join(CONDITIONS)}")
    predictor, rows, waves = held_out_clips(run_dir, data, model, **predictor_options)
    sr = predictor.sample_rate
    split = RunFolder(run_dir).read_json("split.json")
    speakers = [r.speaker for r in rows]
    targets = np.array([predictor.labels.index(r.label) for r in rows])
    corpora = [r.metadata.get("corpus", "") for r in rows]
    _, clean = _condition_result(predictor, waves, speakers, targets, None, corpora)
    results = {}
    for name in tqdm(names, desc="conditions", disable=not progress):
        degraded = degrade_all(name, waves, speakers, sr, seed)
        results[name], _ = _condition_result(predictor, degraded, speakers, targets, clean, corpora)
    record = {"run": str(run_dir), "protocol": split["protocol"], "n": len(rows),
              **{k: getattr(predictor, k) for k in ("repair_clipping", "keep_silence_s", "trim_over_s")},
              **({"model": str(model)} if model else {}),
              "conditions": results}
    out = Path(out) if out else folder / "robustness"
    atomic_write_json(out / "robustness.json", record)
    atomic_write_text(out / "robustness.md", render(record))
    return record


def render(record: dict) -> str:
    lines = [f"# Robustness of `{record['run']}`", "",
             f"{record['n']} test files ({record['protocol']}). Accuracy counts a clip the speech check refuses as "
             "wrong; agreement is the share of clips whose label is the clean clip's.", "",
             "| condition | accuracy | agreement with clean | refused | most predicted |", "|---|---|---|---|---|"]
    for name, r in record["conditions"].items():
        agreement = f"{100 * r['agreement']:.1f} %" if "agreement" in r else ""
        lines.append(f"| {name} | {100 * r['accuracy']:.1f} % | {agreement} | {r['refused']} | {r['most_predicted']} |")
    corpora = list(next(iter(record["conditions"].values())).get("by_corpus", {}))
    if corpora:
        lines += ["", "Each corpus, accuracy (agreement with clean):", "",
                  "| condition | " + " | ".join(corpora) + " |", "|---" * (len(corpora) + 1) + "|"]
        for name, r in record["conditions"].items():
            cells = [f"{100 * f['accuracy']:.1f} %" + (f" ({100 * f['agreement']:.1f} %)" if "agreement" in f else "")
                     for f in (r["by_corpus"][c] for c in corpora)]
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def summarize(records: list[dict]) -> dict:
    """Mean and sample std (ddof=1, as the CV summaries) of each condition's accuracy and agreement over
    several runs, typically the folds of one CV: the issue's targets are stated over folds.

    Returns {"runs": [...], "n": total test files, "conditions": {name: {"accuracy": {"mean", "std",
    "values"}, "agreement": {...}}}}; conditions missing from any run are left out.
    """
    if not records:
        raise ValueError("no robustness records to summarize")
    names = [n for n in records[0]["conditions"] if all(n in r["conditions"] for r in records)]

    def stats(values: list[float]) -> dict:
        s = stats_over(values)
        return {"mean": s.mean, "std": s.std, "values": s.per_fold}

    conditions = {}
    for name in names:
        entry = {"accuracy": stats([r["conditions"][name]["accuracy"] for r in records])}
        if all("agreement" in r["conditions"][name] for r in records):
            entry["agreement"] = stats([r["conditions"][name]["agreement"] for r in records])
        conditions[name] = entry
    return {"runs": [r["run"] for r in records], "n": sum(r["n"] for r in records), "conditions": conditions}


def render_summary(summary: dict) -> str:
    lines = [f"# Robustness over {len(summary['runs'])} runs", "",
             f"{summary['n']} test files in all. Mean ± std over the runs (sample std).", "",
             "| condition | accuracy | agreement with clean |", "|---|---|---|"]
    for name, r in summary["conditions"].items():
        acc, agree = r["accuracy"], r.get("agreement")
        agreement = f"{100 * agree['mean']:.1f} ± {100 * agree['std']:.1f} %" if agree else ""
        lines.append(f"| {name} | {100 * acc['mean']:.1f} ± {100 * acc['std']:.1f} % | {agreement} |")
    return "\n".join(lines) + "\n"
