"""`specser predict`: a model file on audio files, folders and globs, in batches."""

from __future__ import annotations

import csv
import io
import json
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Optional

import typer
from typing import Annotated

from specser.audio.checks import MIN_DURATION_S
from specser.cli.common import fail

FORMATS = ("table", "json", "csv")


def predict(
    model: Annotated[Path, typer.Argument(help="A model.specser file (from `specser train` or a CV fold), a .onnx "
                                                      "file, or a `specser cv` folder: the ensemble of its fold models.")],
    inputs: Annotated[list[str], typer.Argument(help="Audio files, folders (searched recursively) or glob patterns "
                                                "(quote them: 'clips/**/*.wav').")],
    format_: Annotated[str, typer.Option("--format", help="table, json or csv.")] = "table",
    out: Annotated[Optional[Path], typer.Option("--out", help="Write the results here instead of the terminal.")] = None,
    batch_size: Annotated[int, typer.Option(help="Clips per forward pass.")] = 32,
    window: Annotated[Optional[float], typer.Option(help="Window for long recordings, in seconds "
                                                    "(default: the model's clip length).")] = None,
    hop: Annotated[Optional[float], typer.Option(help="Hop between windows, in seconds (default: half the window).")] = None,
    plot: Annotated[Optional[Path], typer.Option(help="Write a timeline PNG per long recording into this folder.")] = None,
    min_duration: Annotated[float, typer.Option(help="Shorter audio is refused as too_short, in seconds.")] = MIN_DURATION_S,
    device: Annotated[str, typer.Option(help="auto, cpu or cuda (torch backend).")] = "auto",
    backend: Annotated[str, typer.Option(help="torch, onnx (onnxruntime, no torch; needs a .onnx file from "
                                         "`specser export`) or auto (by the model file's suffix).")] = "auto",
    keep_going: Annotated[bool, typer.Option(help="Exit 0 even when some files could not be read.")] = False,
    progress: Annotated[bool, typer.Option("--progress/--no-progress", help="Show a progress bar.")] = True,
) -> None:
    """Predict the emotion of audio files with a trained model.

    Each result row has the path, the predicted label and the probability of every label.
    Recordings longer than one window plus one hop are cut into sliding windows: they get
    a timeline (start, end, label, probabilities) in JSON, and an overall label (the
    window probabilities averaged); windows without speech are marked no_speech and left out.
    Files that cannot be classified (unreadable, truncated, too short, silent, no speech) are
    listed with the reason and skipped; the exit status is 1 if any file failed, unless --keep-going.

    Example: specser predict runs/paper/model.specser clips/ --format csv --out predictions.csv
    """
    if format_ not in FORMATS:
        fail(f"--format must be one of {', '.join(FORMATS)}")
    from specser.inference.base import open_predictor
    from specser.inference.sources import expand_inputs

    onnx = backend == "onnx" or model.suffix == ".onnx" or (model.is_dir() and not any(model.glob("**/*.specser")))
    options = {"window_s": window, "hop_s": hop, "min_duration_s": min_duration} | ({} if onnx else {"device": device})
    try:
        predictor = open_predictor(model, backend, **options)
    except (ValueError, ImportError, FileNotFoundError) as exc:  # ModelFileError is a ValueError
        fail(str(exc))
    files, errors = expand_inputs(inputs)
    results, skipped = predict_files(predictor, files, batch_size, progress)
    errors += skipped
    rows = [(str(p), results[p]) for p in files if p in results]
    text = render(rows, predictor.labels, format_)
    if out is not None:
        from specser.atomic import atomic_write_text

        atomic_write_text(out, text)
        typer.echo(f"{len(rows)} predictions written to {out}", err=True)
    else:
        typer.echo(text, nl=False)
    if plot is not None:
        _plot_timelines(rows, predictor.labels, plot)
    for path, reason in errors:
        typer.secho(f"skipped {path}: {reason}", fg=typer.colors.YELLOW, err=True)
    if errors and not keep_going:
        raise typer.Exit(1)


def predict_files(predictor, files: list[Path], batch_size: int, progress: bool):
    """Predictions by path, and (path, reason) for files that could not be read. Decoding runs ahead in
    threads while the model runs; short clips share forward passes, long ones go through their windows."""
    from tqdm.auto import tqdm

    from specser.audio.load import AudioError

    def load(path: Path):
        try:
            return path, predictor.load(path), None
        except AudioError as exc:
            return path, None, exc.reason

    results: dict[Path, object] = {}
    errors: list[tuple[str, str]] = []
    pending: list[tuple[Path, object]] = []
    bar = tqdm(total=len(files), desc="predict", unit="file", disable=not progress, file=sys.stderr)

    def flush():
        short = [(path, w) for path, w in pending if not predictor.is_long(w)]
        for (path, _), pred in zip(short, predictor.predict_batch([w for _, w in short])):
            results[path] = pred
        for path, wave in pending:
            if predictor.is_long(wave):  # its windows, each checked for speech
                try:
                    results[path] = predictor.predict_wave(wave, str(path))
                except AudioError as exc:
                    errors.append((str(path), exc.reason))
        bar.update(len(pending))
        pending.clear()

    with ThreadPoolExecutor(max_workers=4) as pool:
        for path, wave, reason in pool.map(load, files):
            if reason is not None:
                errors.append((str(path), reason))
                bar.update(1)
                continue
            pending.append((path, wave))
            if len(pending) >= batch_size:
                flush()
        flush()
    bar.close()
    return results, errors


def _plot_timelines(rows, labels: list[str], folder: Path) -> None:
    from specser.inference.timeline_plot import plot_timeline

    for path, pred in rows:
        if pred.timeline:
            target = Path(folder) / f"{Path(path).stem}.timeline.png"
            plot_timeline(pred, labels, target, title=f"{Path(path).name}: overall {pred.label}")
            typer.echo(f"timeline plot: {target}", err=True)


def render(rows: list[tuple[str, object]], labels: list[str], format_: str) -> str:
    if format_ == "json":
        return json.dumps([{"path": path, **pred.to_dict()} for path, pred in rows], indent=2) + "\n"
    if format_ == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["path", "label", "duration_s", "segments", *labels])
        for path, pred in rows:
            writer.writerow([path, pred.label, f"{pred.duration_s:.3f}", len(pred.timeline),
                             *(f"{pred.probabilities[l]:.6f}" for l in labels)])
        return buffer.getvalue()
    width = max([len(p) for p, _ in rows] + [4])
    head = f"{'path':<{width}}  {'label':<10} " + " ".join(f"{l[:9]:>9}" for l in labels)
    lines = [head, "-" * len(head)]
    for path, pred in rows:
        note = f"  ({len(pred.timeline)} windows)" if pred.timeline else ""
        lines.append(f"{path:<{width}}  {pred.label:<10} " + " ".join(f"{pred.probabilities[l]:>9.3f}" for l in labels) + note)
    return "\n".join(lines) + "\n"
