"""Ablation: add one ingredient at a time to the paper preset, on speaker-independent folds.

Each row is a complete `specser cv --protocol actor-5fold` run (resumable: a finished row
is read back, an interrupted one resumes). For every row the table gives the test
figures (mean ± std over the 5 folds) and the mean *validation* accuracy at each fold's
best epoch. The validation split is carved out of each fold's training part (a stratified
20 % of the training speakers' files), so ingredients for the `best` preset are chosen on
it, never on the test folds.

The selection rule (written down after the first three rows had finished, before the
others): an ingredient goes into `best` when its row's mean validation accuracy beats the
paper row's by at least 0.5 points; of the two heads (attention pooling, CRNN), only the
one with the higher validation accuracy. Test-time augmentation leaves validation
accuracy unchanged, so validation cannot choose it: it is reported, not selected.

    python benchmarks/ablation.py                      # every row (hours on a 2-core CPU)
    python benchmarks/ablation.py --only mixup,crnn    # rows whose name contains any of these (a whole name: that row)
    python benchmarks/ablation.py --report-only        # tabulate the rows that have finished
    python benchmarks/ablation.py --set cv.parallel_folds=2   # extra --set for every row

Writes benchmarks/results/ablation.{json,md}.

`--dev` runs the second ablation, of the `robust` preset: one change per row, each trained with two
seeds on the development split (RAVDESS without actors 02, 07, 13, 18, which are the test) and then
evaluated on all of nEMO (RAVDESS -> nEMO, another language and recording chain). Two runs side by
side (`--jobs`), one thread each; the selection rule is `benchmarks/results/ablation_dev/rule.txt`.

    python benchmarks/ablation.py --dev --runs runs/devab             # every row, seeds 42 and 7
    python benchmarks/ablation.py --dev --only wide --seeds 42        # one row, one seed

Writes benchmarks/results/ablation_dev/ablation_dev.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from machine import describe  # noqa: E402

# (row name, what it adds, `specser cv` arguments on top of the paper preset)
ROWS = [
    ("paper", "the paper's recipe (Adam 1e-3, plateau LR, GAP head, no augmentation)", []),
    ("+specaugment", "2 frequency masks (<= 15 bins) and 2 time masks (<= 25 frames)",
     ["train.specaugment.enabled=true"]),
    ("+mixup", "mixup, alpha 0.2", ["train.augment.mixup_alpha=0.2"]),
    ("+crop+shift", "random 4 s window and circular time shift up to 0.25 s",
     ["train.augment.random_crop=true", "train.augment.time_shift_s=0.25"]),
    ("+adamw-cosine", "AdamW (weight decay 0.05), 1-epoch warm-up + cosine over 60 epochs, patience 15",
     ["train.optimizer=adamw", "train.weight_decay=0.05", "train.scheduler=cosine", "train.warmup_epochs=1",
      "train.max_epochs=60", "train.early_stopping_patience=15"]),
    ("+attention-pool", "attentive statistics pooling head (spec_resnet_attn)", ["model.name=spec_resnet_attn"]),
    ("+crnn", "BiGRU head over time (spec_crnn)", ["model.name=spec_crnn"]),
    ("+audio-aug", "on the waveform: speed x[0.9, 1.1], pitch +-2 semitones, gain +-6 dB, white noise at 10-30 dB SNR",
     ["train.augment.speed=0.1", "train.augment.pitch_semitones=2", "train.augment.gain_db=6",
      "train.augment.noise_snr_db=[10, 30]"]),
    ("+label-smoothing", "label smoothing 0.1", ["train.label_smoothing=0.1"]),
    ("+tta", "test-time mean over 3 clip windows (the paper row's fold models, re-evaluated)", ["@tta", "paper"]),
    ("+class-weights", "loss weighted by inverse class frequency", ["train.class_weights=true"]),
    ("best", "the `best` preset (its ingredients chosen on validation accuracy)", ["--preset", "best"]),]


# The `robust` preset's ablation on the development split: (row name, what it changes, --set overrides)
NO_SMOOTHING = "train.label_smoothing=0.0"
# The first rows were measured before label smoothing joined `robust` (this ablation chose it), so they turn it
# off and stay reproducible; "+label-smoothing" is the preset as it stood then, and later rows build on it.
# Every row before "epochs-90" ran 60 epochs with no floor under early stopping, `robust`'s budget until that row
# chose 90 (and the floor at epoch 60 came with it): the pins keep them as they ran.
EPOCHS_60 = "train.max_epochs=60"
NO_FLOOR = "train.min_epochs=0"
_ROWS_AT_60 = [
    ("robust", "the `robust` preset as measured first (no label smoothing)", [NO_SMOOTHING]),
    ("+label-smoothing", "label smoothing 0.1 (the `robust` preset as it stood, 60 epochs)", ["train.label_smoothing=0.1"]),
    ("+class-weights", "loss weighted by inverse class frequency (neutral has half the clips)",
     ["train.class_weights=true", NO_SMOOTHING]),
    ("clip-3s", "3 s clip window instead of 4 s (training crop and inference window)",
     ["features.clip_seconds=3.0", NO_SMOOTHING]),
    ("+deltas", "delta and delta-delta channels over time beside the log-Mel (computed inside the network)",
     ["model.options={deltas: true}", NO_SMOOTHING]),
    ("+wide", "ResNet-18 widths: stem 64, stages 64-128-256-512 (4.9 M parameters, 4x the default)",
     ["model.options={stem_channels: 64, widths: [64, 128, 256, 512]}", NO_SMOOTHING]),
    ("+compressor", "dynamic range compression (a phone's gain control) on a quarter of the clips, with label "
     "smoothing", ["train.augment.compress_prob=0.25"]),
    ("+pcen", "PCEN instead of dB (per-channel energy normalisation of the level-normalised Mel power), with "
     "label smoothing", ["features.compression=pcen"]),
    ("+freq-mixstyle", "Freq-MixStyle: each Mel band's mean and std over time mixed with another clip's, on 40 % of "
     "the clips (alpha 0.3), with label smoothing",
     ["train.augment.freq_mixstyle_prob=0.4", "train.augment.freq_mixstyle_alpha=0.3"]),
    ("+rooms", "rooms on half the clips instead of a quarter, closer to measured ones (faster decay at high "
     "frequencies, early reflections, a random direct-to-reverberant ratio), with label smoothing",
     ["train.augment.reverb_prob=0.5", "train.augment.reverb_room=bands"]),
    ("+ema", "weight averaging: an exponential moving average of the weights over about 4 epochs, with label "
     "smoothing", ["train.ema_epochs=4"]),
    ("+quantize-half", "6-10-bit quantisation on half the clips instead of 30 %, with label smoothing",
     ["train.augment.quantize_prob=0.5"]),
    ("no-mixup", "mixup off (it joined `best` on validation while its test row fell), with label smoothing",
     ["train.augment.mixup_alpha=0"]),
]
DEV_ROWS = [(name, what, [*extra, EPOCHS_60, NO_FLOOR]) for name, what, extra in _ROWS_AT_60] + [
    ("epochs-90", "a longer budget: 90 epochs (the cosine schedule stretched to them) instead of 60, with label "
     "smoothing (the `robust` preset as it stands, but for its floor at epoch 60, which both runs passed)",
     ["train.max_epochs=90", NO_FLOOR]),
    # 2026-12-07, on an Intel Xeon that computes bf16 (`train.precision=auto` trains in bf16 there): the preset
    # as it stands again, beside the two answers to a small microphone's bass roll-off (rule_bass_rolloff.txt)
    ("robust-90", "the `robust` preset as it stands (90 epochs, early stopping not before epoch 60)", []),
    ("+bass-rolloff", "a bass roll-off on half the clips: a high-pass at 80-400 Hz (log-uniform), 1st- to "
     "8th-order skirt", ["train.augment.bass_prob=0.5"]),
    ("f-min-200", "a front-end from 200 Hz up (features.f_min=200): the 128 Mel bands leave out the band that "
     "small microphones drop", ["features.f_min=200"]),
    # Wider voices in training (rule_wider_voices.txt): other speakers and corpora differ by more than +-2 semitones
    ("+pitch-4", "the frequency warp up to +-4 semitones instead of 2 (more voices per clip)",
     ["train.augment.pitch_semitones=4"]),
    ("+pitch-4-speed", "the frequency warp up to +-4 semitones and resampling by up to +-15 % instead of 10",
     ["train.augment.pitch_semitones=4", "train.augment.speed=0.15"]),
    # The top octave (rule_f_max_4000.txt): the corpora's recording chains differ most above 4 kHz
    ("f-max-4000", "a front-end that stops at 4 kHz (features.f_max=4000): the 128 Mel bands leave out the octave "
     "where the corpora's recordings differ most", ["features.f_max=4000"]),
    # Consistency (rule_consistency.txt): the same label with and without the recording conditions. The preset is
    # run again beside it, as its code has changed rounding since `robust-90` ran (the augmentation speed-up).
    ("robust-90-again", "the `robust` preset as it stands, again, with the code of the augmentation speed-up", []),
    ("+consistency", "AugMix's Jensen-Shannon consistency: each clip with and without its recording conditions, "
     "the divergence of the two predictions weighted 12", ["train.augment.consistency=12"]),
    # A coarser network input, for speed (rule_coarser_input.txt); SpecAugment's masks keep their size in s or Hz
    ("hop-512", "32 ms frames instead of 16 (features.hop_length=512): half the network's input",
     ["features.hop_length=512", "train.specaugment.time_width=13"]),
    ("mels-64", "64 Mel bands instead of 128: half the network's input",
     ["features.n_mels=64", "train.specaugment.freq_width=8"]),
    ("hop-512-mels-64", "32 ms frames and 64 Mel bands: a quarter of the network's input",
     ["features.hop_length=512", "train.specaugment.time_width=13", "features.n_mels=64",
      "train.specaugment.freq_width=8"]),
    # A finer frequency axis against 8-bit audio (rule_mels256.txt): 64 bands kept fewer 8-bit labels
    ("mels-256", "256 Mel bands instead of 128: twice the network's input", ["features.n_mels=256",
                                                                              "train.specaugment.freq_width=30"]),
    # A laptop's microphone (rule_mild_eq.txt): its colour takes about 11 points of the labels a laptop keeps
    ("+mild-eq", "a milder random equaliser on 30 % of the clips: a tilt up to +-2 dB an octave and three bumps up "
     "to +-2 dB", ["train.augment.eq_prob=0.3", "train.augment.eq_db=6"]),
    # Rooms at every distance (rule_room_distances.txt): the training room's direct sound was always 13-20 dB
    # under its tail, a talker metres away; a laptop at arm's length is about 0 dB, a phone held close +10 dB
    ("+room-distances", "the training room's direct-to-reverberant ratio drawn from -18 to +12 dB (a talker "
     "metres away to a phone held close) instead of its fixed -13 to -20 dB", ["train.augment.reverb_drr_db=[-18, 12]"]),
    # An anti-aliased network (rule_antialias.txt): a recording that starts 16 ms later moved 7 % of the labels
    ("+antialias", "a [1, 2, 1] blur before every stride-2 step of the network, so a shift of the input moves "
     "its labels less", ["model.options={antialias: true}"]),
    # The same along time only (rule_antialias_time.txt): the 2-D blur cost the telephone band 5.7 points kept
    ("+antialias-time", "the same blur along time only, so the Mel bands stay as sharp as the plain network's",
     ["model.options={antialias: true, antialias_axes: time}"]),
    # The 2-D blur as the code builds it since 2026-12-08, zero-padded (note_antialias_2d_zero_pad.txt: measured, no rule)
    ("+antialias-2d", "the [1, 2, 1] x [1, 2, 1] blur as built since 2026-12-08 (zero padding inside its convolution)",
     ["model.options={antialias: true}"]),
    # Dropouts (rule_dropouts.txt): 5 % of the 20 ms frames lost as zeros moved 7.6 % of the 24 actors' labels
    ("+dropouts", "20 ms frames written as zeros on 30 % of the clips (2-20 % of the frames, bursts of two), as "
     "dropped packets leave them", ["train.augment.dropout_prob=0.3"]),
]
# Every row before "+dropouts" ran before `robust` trained on dropped packets (2026-12-08); the pin keeps them as
# they ran, and "+antialias-2d", measured after, against the same preset as the other blurs.
NO_DROPOUTS = "train.augment.dropout_prob=0"
_FIRST_WITH_DROPOUTS = [name for name, _, _ in DEV_ROWS].index("+dropouts")
DEV_ROWS = [(name, what, [*extra, NO_DROPOUTS] if i < _FIRST_WITH_DROPOUTS else extra)
            for i, (name, what, extra) in enumerate(DEV_ROWS)]
DEV_TEST_SPEAKERS = "02,07,13,18"
DEV_SEEDS = (42, 7)  # the table's two columns


def dev_commands(extra: list[str], seed: int, out: Path, ravdess: str, nemo: str) -> list[tuple[list[str], Path]]:
    """Train on the development split, then evaluate the model on every nEMO clip; each step with the
    file that says it has finished."""
    train = ["specser", "train", "--preset", "robust", "--test-speakers", DEV_TEST_SPEAKERS, "--out", str(out),
             "--no-progress", "--set", "data.val_split=random", "--set", "train.threads=1", "--set", f"seed={seed}"]
    train += ["--data", ravdess] if ravdess else []
    train += [a for s in extra for a in ("--set", s)]
    evaluate = ["specser", "evaluate", str(out), "--data", nemo, "--all", "--out", str(out / "nemo"), "--no-progress"]
    return [(train, out / "metrics.json"), (evaluate, out / "nemo" / "metrics.json")]


def run_dev_job(name: str, seed: int, steps: list[tuple[list[str], Path]], out: Path) -> None:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    out.parent.mkdir(parents=True, exist_ok=True)  # the log lies beside the run folder
    for cmd, done in steps:
        if done.exists():
            continue
        print(f"== {name} seed {seed}: {shlex.join(cmd)}", flush=True)
        started = time.time()
        with open(out.parent / f"{out.name}.log", "a") as log:
            code = subprocess.run([sys.executable, "-m", "specser.cli.main", *cmd[1:]], stdout=log, stderr=log, env=env).returncode
        print(f"== {name} seed {seed}: exit {code} after {(time.time() - started) / 60:.1f} min", flush=True)
        if code:
            return


def overconfidence(predictions: list[dict]) -> float:
    """Mean top probability of the wrong predictions: how sure the model is when another corpus fools it."""
    tops = [max(p["probabilities"].values()) for p in predictions if p["predicted"] != p["label"]]
    return sum(tops) / len(tops) if tops else float("nan")


def read_metrics(path: Path) -> dict | None:
    return json.loads(path.read_text()) if path.exists() else None


def dev_run_result(dev: dict | None, nemo: dict | None) -> dict | None:
    """One run's figures from its development-speaker and nEMO metrics."""
    if dev is None:
        return None
    record = {k: dev[k] for k in ("accuracy", "uar", "macro_f1")}
    record["wall_time_s"] = dev.get("run", {}).get("wall_time_s")
    record["epochs"] = dev.get("run", {}).get("epochs")
    if nemo is not None:
        record["nemo"] = {k: nemo[k] for k in ("accuracy", "uar", "macro_f1")}
        record["nemo"]["wrong_top_probability"] = overconfidence(nemo["predictions"])
    return record


def seed_ensemble(metrics: list[dict | None]) -> float | None:
    """Accuracy of the mean probabilities of the runs' predictions on the same files (a seed ensemble)."""
    if len(metrics) < 2 or any(m is None for m in metrics):
        return None
    by_run = [{p["utt_id"]: p for p in m["predictions"]} for m in metrics]
    right = 0
    for utt, first in by_run[0].items():
        mean = {k: sum(r[utt]["probabilities"][k] for r in by_run) for k in first["probabilities"]}
        right += max(mean, key=mean.get) == first["label"]
    return right / len(by_run[0])


def render_dev(rows: list[dict]) -> str:
    def cell(runs: list[dict], get) -> str:
        values = [get(r) for r in runs if r is not None]
        values = [v for v in values if v is not None]
        if not values:
            return ""
        each = " / ".join(f"{100 * v:.1f}" for v in values)
        return f"{each} (**{100 * sum(values) / len(values):.1f}**)" if len(values) > 1 else each

    lines = ["# Ablation of the `robust` preset on the development split", "",
             f"Trained without RAVDESS actors {DEV_TEST_SPEAKERS.replace(',', ', ')}, tested on their 176 clips "
             "(6 classes) and on all 4,481 nEMO clips.",
             "Each cell: seed 42 / seed 7 (mean). The rule: benchmarks/results/ablation_dev/rule.txt.", "",
             "| row | changes | dev WA | dev UA | dev macro-F1 | RAVDESS → nEMO WA | nEMO UA | "
             "top probability of wrong nEMO labels | two-seed ensemble: dev / nEMO WA | wall time per run |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        runs = list(r["seeds"].values())
        walls = [x["wall_time_s"] for x in runs if x and x.get("wall_time_s")]
        cpu = r.get("machine", {}).get("cpu", "")
        wall = f"{sum(walls) / len(walls) / 60:.0f} min" + (f" ({cpu})" if cpu else "") if walls else ""
        ens = r.get("ensemble", {})
        ensemble = " / ".join("" if ens.get(k) is None else f"{100 * ens[k]:.1f}" for k in ("dev", "nemo"))
        lines.append(f"| {r['name']} | {r['adds']} | {cell(runs, lambda x: x['accuracy'])} | {cell(runs, lambda x: x['uar'])} | "
                     f"{cell(runs, lambda x: x['macro_f1'])} | {cell(runs, lambda x: x.get('nemo', {}).get('accuracy'))} | "
                     f"{cell(runs, lambda x: x.get('nemo', {}).get('uar'))} | "
                     f"{cell(runs, lambda x: x.get('nemo', {}).get('wrong_top_probability'))} | {ensemble} | {wall} |")
    return "\n".join(lines) + "\n"


def picked(name: str, wanted: list[str], names: list[str]) -> bool:
    """Is row `name` asked for by `--only`? A word that is a row's whole name (or slug) picks that row alone, so
    `--only hop-512` leaves `hop-512-mels-64` out; any other word picks every row whose name contains it."""
    if not wanted:
        return True
    whole = {w for w in wanted if any(w in (n, slug(n)) for n in names)}
    return any(w in (name, slug(name)) if w in whole else w in name for w in wanted)


def dev_main(args: argparse.Namespace, wanted: list[str]) -> int:
    nemo = args.nemo or os.environ.get("SPECSER_NEMO", "../shared/data/nemo")
    jobs = []
    for name, what, extra in DEV_ROWS:
        if picked(name, wanted, [n for n, _, _ in DEV_ROWS]) and not args.report_only:
            for seed in args.seeds:
                out = args.runs / f"{slug(name)}-s{seed}"
                jobs.append((name, seed, dev_commands(extra + args.sets, seed, out, args.data, nemo), out))
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        list(pool.map(lambda job: run_dev_job(*job), jobs))
    folder = args.results / "ablation_dev"
    folder.mkdir(parents=True, exist_ok=True)
    # Rows whose runs are not on this machine keep the figures recorded where they ran (rows measured since
    # 2026-12-07 name their CPU; the earlier ones ran on a 2-core Intel Xeon or AMD EPYC).
    recorded = read_metrics(folder / "ablation_dev.json") or {"rows": []}
    earlier = {r["name"]: r for r in recorded["rows"]}
    machine, rows = describe(), []
    for name, what, extra in DEV_ROWS:
        folders = {s: args.runs / f"{slug(name)}-s{s}" for s in DEV_SEEDS}
        dev = {s: read_metrics(f / "metrics.json") for s, f in folders.items()}
        nemo_metrics = {s: read_metrics(f / "nemo" / "metrics.json") for s, f in folders.items()}
        seeds = {s: dev_run_result(dev[s], nemo_metrics[s]) for s in DEV_SEEDS}
        if any(seeds.values()):
            ensemble = {"dev": seed_ensemble(list(dev.values())), "nemo": seed_ensemble(list(nemo_metrics.values()))}
            rows.append({"name": name, "adds": what, "overrides": extra, "seeds": seeds, "ensemble": ensemble,
                         "machine": machine})
        elif name in earlier:
            rows.append(earlier[name])
    (folder / "ablation_dev.json").write_text(json.dumps({"machine": machine, "test_speakers": DEV_TEST_SPEAKERS,
                                                          "rows": rows}, indent=2))
    table = render_dev(rows)
    (folder / "ablation_dev.md").write_text(table)
    print(table)
    return 0


def slug(name: str) -> str:
    return name.strip("+").replace("+", "-") or "paper"


def command(name: str, extra: list[str], out: Path, data: str, sets: list[str]) -> list[str]:
    args = ["specser", "cv", "--protocol", "actor-5fold", "--out", str(out), "--no-progress"]
    args += ["--data", data] if data else []
    if extra and extra[0] == "--preset":
        args += extra
    else:
        args += [a for s in extra for a in ("--set", s)]
    return args + [a for s in sets for a in ("--set", s)]


def validation_accuracy(run_dir: Path) -> dict:
    """Mean over folds of the validation accuracy at the epoch whose checkpoint was kept (lowest val loss)."""
    accs = []
    for fold in sorted(run_dir.glob("fold_*")):
        history = json.loads((fold / "metrics.json").read_text()).get("history", {})
        losses, acc = history.get("val_loss", {}), history.get("val_acc", {})
        if losses:
            best = min(losses, key=lambda e: losses[e])
            accs.append(acc.get(best))
    accs = [a for a in accs if a is not None]
    return {"mean": sum(accs) / len(accs) if accs else None, "per_fold": accs}


def tta_row(base: Path, out: Path, crops: int = 3) -> None:
    """Re-evaluate the fold models of `base` with test-time crops: TTA changes no weight, so it needs
    no training, and validation (which it does not touch) cannot choose it."""
    import statistics

    from specser.runs.evaluate import evaluate_run

    folds = sorted(base.glob("fold_*"))
    per = {k: [] for k in ("accuracy", "uar", "macro_f1")}
    for fold in folds:
        m = evaluate_run(fold, out=out / fold.name, progress=False, tta_crops=crops)
        for k in per:
            per[k].append(m[k])
    base_summary = json.loads((base / "cv_summary.json").read_text())
    summary = {k: {"mean": statistics.mean(v), "std": statistics.stdev(v), "per_fold": v} for k, v in per.items()}
    summary["run"] = {**base_summary["run"], "tta_crops": crops, "models_from": str(base)}
    out.mkdir(parents=True, exist_ok=True)
    (out / "cv_summary.json").write_text(json.dumps(summary, indent=2))


def row_result(name: str, what: str, run_dir: Path, cmd: list[str]) -> dict | None:
    path = run_dir / "cv_summary.json"
    if not path.exists():
        return None
    s = json.loads(path.read_text())
    folds = s["run"]["folds"]
    return {
        "name": name, "adds": what, "command": shlex.join(cmd),
        **{k: s[k] for k in ("accuracy", "uar", "macro_f1")},
        "val_accuracy": validation_accuracy(Path(s["run"].get("models_from", run_dir))),
        "parameters": folds[0].get("params"),
        "epochs": [f.get("epochs") for f in folds],
        "fold_wall_time_s": s["run"]["fold_wall_time_s"],
    }


def pm(m: dict) -> str:
    return f"{100 * m['mean']:.1f} ± {100 * m['std']:.1f}"


def render(results: list[dict], missing: list[str]) -> str:
    base = next((r for r in results if r["name"] == "paper"), None)
    lines = ["# Ablation on actor-5fold (6 classes, speaker-independent)", "",
             "One ingredient added to the paper preset per row; test figures are mean ± std over 5 folds.",
             "Val acc. is the mean validation accuracy (validation speakers come from each fold's training part);",
             "only that column was used to choose the `best` preset's ingredients.", "",
             "| row | adds | WA | UA | macro-F1 | Δ WA vs paper | val acc. | epochs (mean) | summed fold time |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        delta = "" if base is None or r is base else f"{100 * (r['accuracy']['mean'] - base['accuracy']['mean']):+.1f}"
        val = r["val_accuracy"]["mean"]
        lines.append(f"| {r['name']} | {r['adds']} | {pm(r['accuracy'])} | {pm(r['uar'])} | {pm(r['macro_f1'])} | {delta} | "
                     f"{'' if val is None else f'{100 * val:.1f}'} | {sum(r['epochs']) / len(r['epochs']):.0f} | "
                     f"{r['fold_wall_time_s'] / 60:.1f} min |")
    if missing:
        lines += ["", f"Not run yet: {', '.join(missing)}."]
    return "\n".join(lines) + "\n"


HEADS = ("+attention-pool", "+crnn")
MIN_GAIN = 0.005  # validation accuracy, absolute


def select(results: list[dict]) -> tuple[list[str], dict[str, float]]:
    """The selection rule applied to finished rows: names of the chosen rows and each row's validation gain."""
    by_name = {r["name"]: r for r in results}
    base = by_name["paper"]["val_accuracy"]["mean"]
    gains = {r["name"]: r["val_accuracy"]["mean"] - base for r in results
             if r["name"] not in ("paper", "best", "+tta") and r["val_accuracy"]["mean"] is not None}
    chosen = [n for n, g in gains.items() if g >= MIN_GAIN and n not in HEADS]
    heads = [h for h in HEADS if h in gains and gains[h] >= MIN_GAIN]
    if heads:
        chosen.append(max(heads, key=lambda h: gains[h]))
    return chosen, gains


def write_best(results: list[dict], path: Path) -> list[str]:
    """Compose the `best` preset from the paper preset and the chosen rows' settings."""
    import yaml

    from specser.config import load_config

    chosen, gains = select(results)
    overrides = [o for name, _, extra in ROWS if name in chosen for o in extra]
    cfg = load_config(preset="paper", overrides=overrides).to_dict()
    body = {k: cfg[k] for k in ("data", "features", "model", "train")}
    for key in ("path", "cache_dir"):
        body["data"].pop(key, None)
    lines = ["# specser's `best` recipe, composed by `python benchmarks/ablation.py --write-best` from the",
             "# ablation on actor-5fold: the paper preset plus every ingredient whose mean validation accuracy",
             f"# (validation split inside each training fold; never a test fold) beat the paper row by >= {100 * MIN_GAIN:.1f} points.",
             "# Validation gains of the rows, in points:"]
    lines += [f"#   {n:<18} {100 * g:+.1f}{'  <- chosen' if n in chosen else ''}" for n, g in gains.items()]
    path.write_text("\n".join(lines) + "\n" + yaml.safe_dump(body, sort_keys=False))
    return chosen


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="", help="RAVDESS folder (default: SPECSER_RAVDESS or ../shared/data/ravdess)")
    parser.add_argument("--runs", type=Path, default=Path("runs/ablation"), help="where the run folders go")
    parser.add_argument("--only", default="", help="comma-separated substrings of row names")
    parser.add_argument("--set", dest="sets", action="append", default=[], help="extra --set for every row")
    parser.add_argument("--report-only", action="store_true", help="run nothing; tabulate finished rows")
    parser.add_argument("--results", type=Path, default=HERE / "results")
    parser.add_argument("--write-best", action="store_true", help="apply the selection rule to the finished rows "
                        "and rewrite src/specser/presets/best.yaml")
    parser.add_argument("--dev", action="store_true", help="the `robust` preset's ablation on the development split")
    parser.add_argument("--nemo", default="", help="--dev: nEMO folder (default: SPECSER_NEMO or ../shared/data/nemo)")
    parser.add_argument("--seeds", type=int, nargs="+", default=list(DEV_SEEDS), help="--dev: seeds per row")
    parser.add_argument("--jobs", type=int, default=2, help="--dev: runs side by side")
    args = parser.parse_args(argv)

    wanted = [w for w in args.only.split(",") if w]
    if args.dev:
        return dev_main(args, wanted)
    results, missing = [], []
    for name, what, extra in ROWS:
        out = args.runs / slug(name)
        cmd = command(name, extra, out, args.data, args.sets)
        chosen = picked(name, wanted, [n for n, _, _ in ROWS])
        if extra[:1] == ["@tta"]:
            base = args.runs / slug(extra[1])
            cmd = ["specser", "evaluate", f"{base}/fold_NN", "--tta-crops", "3"]
            if chosen and not args.report_only and not (out / "cv_summary.json").exists() and \
                    (base / "cv_summary.json").exists():
                print(f"== {name}: re-evaluating {base}'s fold models with 3 test-time crops", flush=True)
                tta_row(base, out)
        elif chosen and not args.report_only and not (out / "cv_summary.json").exists():
            print(f"== {name}: {shlex.join(cmd)}", flush=True)
            started = time.time()
            done = subprocess.run([sys.executable, "-m", "specser.cli.main", *cmd[1:]])
            print(f"== {name}: exit {done.returncode} after {(time.time() - started) / 60:.1f} min", flush=True)
        result = row_result(name, what, out, cmd)
        if result is None:
            missing.append(name)
        else:
            results.append(result)
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / "ablation.json").write_text(json.dumps({"machine": describe(), "protocol": "actor-5fold",
                                                            "rows": results, "not_run": missing}, indent=2))
    if args.write_best:
        target = HERE.parent / "src" / "specser" / "presets" / "best.yaml"
        print(f"best = paper + {', '.join(write_best(results, target)) or 'nothing'}; wrote {target}")
    table = render(results, missing)
    (args.results / "ablation.md").write_text(table)
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
