"""PNG plots for a run: training curves, LR vs validation loss, confusion matrix, reliability, batch grid."""

from __future__ import annotations

import csv
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from specser.atomic import atomic_path  # noqa: E402


def _save(fig, path: Path, tight: bool = True) -> None:
    with atomic_path(Path(path)) as tmp:
        fig.savefig(tmp, dpi=120, bbox_inches="tight" if tight else None, format="png")
    plt.close(fig)


def read_epoch_log(metrics_csv: Path) -> dict[str, dict[int, float]]:
    """Lightning's CSVLogger file -> {column: {epoch: value}}, keeping each epoch's last value.

    Logs of earlier, interrupted sessions (``metrics.partNNN.csv`` beside it) are read first.
    """
    metrics_csv = Path(metrics_csv)
    table: dict[str, dict[int, float]] = {}
    for path in [*sorted(metrics_csv.parent.glob("metrics.part*.csv")), metrics_csv]:
        if not path.exists():
            continue
        with open(path, newline="") as handle:
            for rec in csv.DictReader(handle):
                if not rec.get("epoch"):
                    continue
                epoch = int(float(rec["epoch"]))
                for key, value in rec.items():
                    if key not in ("epoch", "step") and value not in ("", None):
                        table.setdefault(key, {})[epoch] = float(value)
    return table


def _series(log, key):
    points = sorted(log.get(key, {}).items())
    return [e + 1 for e, _ in points], [v for _, v in points]


def plot_training_curves(log: dict, path: Path) -> None:
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(11, 4))
    for key, style in (("train_loss", "-"), ("val_loss", "--")):
        ax_loss.plot(*_series(log, key), style, marker="o", ms=3, label=key)
    for key, style in (("train_acc", "-"), ("val_acc", "--")):
        ax_acc.plot(*_series(log, key), style, marker="o", ms=3, label=key)
    ax_loss.set(xlabel="epoch", ylabel="cross-entropy", title="Loss")
    ax_acc.set(xlabel="epoch", ylabel="accuracy", title="Accuracy")
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
        ax.legend()
    _save(fig, path)


def plot_lr_vs_val_loss(log: dict, path: Path) -> None:
    """The paper's figure 6: validation loss against the learning rate in force, per epoch."""
    lr_key = "lr" if "lr" in log else None
    fig, (ax_time, ax_scatter) = plt.subplots(1, 2, figsize=(12, 4), layout="constrained")
    epochs, val = _series(log, "val_loss")
    if lr_key:
        lr_epochs, lrs = _series(log, lr_key)
        ax_time.step(lr_epochs, lrs, where="post", color="tab:red", label="learning rate")
        ax_time.set_yscale("log")
        lr_at = dict(zip(lr_epochs, lrs))
        pairs = [(lr_at[e], v) for e, v in zip(epochs, val) if e in lr_at]
        if pairs:
            xs, ys = zip(*pairs)
            ax_scatter.scatter(xs, ys, c=range(len(xs)), cmap="viridis")
            ax_scatter.set_xscale("log")
    ax_time.set(xlabel="epoch", ylabel="learning rate", title="LR schedule and validation loss")
    twin = ax_time.twinx()
    twin.plot(epochs, val, "--", marker="o", ms=3, color="tab:blue")
    twin.set_ylabel("validation loss (dashed)")
    ax_scatter.set(xlabel="learning rate (log)", ylabel="validation loss", title="Validation loss vs LR (colour = epoch)")
    ax_scatter.grid(alpha=0.3)
    _save(fig, path)


def plot_layer_weights(weights: list[float], encoder: str, path: Path) -> None:
    """An encoder head's learned share of each encoder layer (0 = the input embedding)."""
    fig, ax = plt.subplots(figsize=(max(5.0, 0.35 * len(weights) + 2), 3.2))
    ax.bar(range(len(weights)), weights, color="tab:purple")
    ax.axhline(1 / len(weights), color="grey", ls="--", lw=1, label="equal share")
    ax.set(xlabel="encoder layer (0 = input embedding)", ylabel="weight", title=f"Layer weights: {encoder}")
    ax.legend(frameon=False)
    _save(fig, path)


def plot_confusion(cm: list[list[int]], labels: list[str], path: Path, title: str = "Confusion matrix") -> None:
    cm = np.asarray(cm)
    with np.errstate(invalid="ignore", divide="ignore"):
        norm = np.nan_to_num(cm / cm.sum(axis=1, keepdims=True))
    fig, axes = plt.subplots(1, 2, figsize=(4 + 1.4 * len(labels), 0.7 * len(labels) + 2.5))
    for ax, data, name, fmt in ((axes[0], cm, "counts", "{:d}"), (axes[1], norm, "row-normalised", "{:.2f}")):
        ax.imshow(data, cmap="Blues", vmin=0)
        ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
        ax.set_yticks(range(len(labels)), labels)
        ax.set(xlabel="predicted", ylabel="true", title=f"{title} ({name})")
        top = data.max() if data.size else 0
        for i in range(data.shape[0]):
            for j in range(data.shape[1]):
                value = int(data[i, j]) if fmt == "{:d}" else data[i, j]
                ax.text(j, i, fmt.format(value), ha="center", va="center",
                        color="white" if data[i, j] > 0.6 * top else "black", fontsize=8)
    _save(fig, path)


def plot_reliability(figures: dict, path: Path, title: str = "Reliability") -> None:
    """Accuracy against top probability per bin (`specser.evaluation.calibration`), the diagonal being
    perfect calibration, above a histogram of the clips per bin. Bars under the diagonal: over-confident."""
    rows = figures["reliability"]
    if not rows:  # no clips: nothing to plot
        return
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(5, 5.5), sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    centres = [(r["from"] + r["to"]) / 2 for r in rows]
    width = 1.0 / figures["bins"]
    top.bar(centres, [r["accuracy"] for r in rows], width=width * 0.9, color="tab:blue", label="accuracy")
    top.plot([r["confidence"] for r in rows], [r["accuracy"] for r in rows], "o", color="tab:orange", ms=4,
             label="bin mean top probability")
    top.plot([0, 1], [0, 1], "--", color="grey", lw=1, label="perfect calibration")
    top.set(ylabel="accuracy", ylim=(0, 1), xlim=(0, 1),
            title=f"{title}: ECE {100 * figures['ece']:.1f} %, accuracy {100 * figures['accuracy']:.1f} %, "
                  f"mean top p {100 * figures['mean_confidence']:.1f} %")
    top.title.set_fontsize(9)
    top.legend(fontsize=7, loc="upper left")
    bottom.bar(centres, [r["n"] for r in rows], width=width * 0.9, color="tab:grey")
    bottom.set(xlabel="top probability", ylabel="clips")
    _save(fig, path)


def make_grid(images: np.ndarray, nrow: int = 8, padding: int = 2) -> np.ndarray:
    """Tile (B, H, W, C) images into one (H', W', C) array, like torchvision's make_grid."""
    b, h, w, c = images.shape
    ncol = min(nrow, b)
    nrows = int(np.ceil(b / ncol))
    grid = np.ones((nrows * (h + padding) + padding, ncol * (w + padding) + padding, c), dtype=np.float32)
    for k in range(b):
        r, col = divmod(k, ncol)
        y, x = padding + r * (h + padding), padding + col * (w + padding)
        grid[y : y + h, x : x + w] = images[k]
    return grid


def grid_images(x, mode: str) -> np.ndarray:
    """A batch of model inputs (B, C, H, W) as (B, H, W, 3) RGB in [0, 1] for the batch-grid plot."""
    import matplotlib
    import torch

    if mode == "image":
        from specser.features.images import IMAGENET_MEAN, IMAGENET_STD

        x = x * torch.tensor(IMAGENET_STD).view(1, 3, 1, 1) + torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
        return x.clamp(0, 1).permute(0, 2, 3, 1).numpy()
    x = x[:, 0].flip(1)  # (B, n_mels, T), low frequencies at the bottom
    lo, hi = x.amin(dim=(1, 2), keepdim=True), x.amax(dim=(1, 2), keepdim=True)
    return matplotlib.colormaps["magma"](((x - lo) / (hi - lo + 1e-8)).numpy())[..., :3]


def plot_batch_grid(images: np.ndarray, targets: list[int], labels: list[str], path: Path, nrow: int = 8) -> None:
    """One training batch as a grid (the paper's figure 7), each tile labelled with its class.

    The tiles are one image (`make_grid`) on one axes: a grid of 32 sub-axes cost 6 s a run in
    matplotlib's layout, more than training a small model.

    Args:
        images: (B, H, W, 3) RGB in [0, 1].
        targets: class indices.
    """
    b, h, w, _ = images.shape
    ncol = min(nrow, b)
    nrows = int(np.ceil(b / ncol))
    padding, title_px = 2, max(12, h // 6)
    tiles = make_grid(images, nrow=ncol, padding=padding)
    # Each row of tiles gets a white band above it for the labels.
    band = np.ones((title_px, tiles.shape[1], 3), np.float32)
    grid = np.concatenate([part for r in range(nrows)
                           for part in (band, tiles[padding + r * (h + padding): (r + 1) * (h + padding)])])
    aspect = max(h / w, 0.5) * w / h  # tiles at least half as tall as wide, as before
    fig = plt.figure(figsize=(2.0 * ncol, 2.0 * ncol * grid.shape[0] / grid.shape[1] * aspect + 0.4))
    ax = fig.add_axes((0, 0.4 / fig.get_figheight(), 1, 1 - 0.4 / fig.get_figheight()))
    ax.imshow(grid, aspect=aspect, interpolation="nearest")
    ax.axis("off")
    for k, target in enumerate(targets[:b]):
        r, col = divmod(k, ncol)
        x = padding + col * (w + padding) + w / 2
        y = r * (title_px + h) + title_px / 2
        ax.text(x, y, f"{labels[target]} ({target})", ha="center", va="center", fontsize=7)
    fig.text(0.5, 0.1 / fig.get_figheight(), f"labels: {list(map(int, targets))}", ha="center", va="bottom", fontsize=8)
    _save(fig, path, tight=False)


def plot_fold_curves(logs: dict[int, dict], path: Path) -> None:
    """Validation loss and accuracy per epoch, one line per fold (training loss dotted)."""
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(11, 4))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for n, (fold, log) in enumerate(sorted(logs.items())):
        color = colors[n % len(colors)]
        ax_loss.plot(*_series(log, "val_loss"), "-", color=color, label=f"fold {fold} val")
        ax_loss.plot(*_series(log, "train_loss"), ":", color=color)
        ax_acc.plot(*_series(log, "val_acc"), "-", color=color, label=f"fold {fold} val")
        ax_acc.plot(*_series(log, "train_acc"), ":", color=color)
    ax_loss.set(xlabel="epoch", ylabel="cross-entropy", title="Loss per fold (dotted: train)")
    ax_acc.set(xlabel="epoch", ylabel="accuracy", title="Accuracy per fold (dotted: train)")
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    _save(fig, path)
