"""`specser predict`: a model file on audio files, folders and globs, in batches."""

from __future__ import annotations

import csv
import io
import json
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import typer
from typing import Annotated

from specser.audio.checks import MIN_DURATION_S
from specser.cli.common import fail

FORMATS = ("table", "json", "csv")


MODEL_SUFFIXES = (".specser", ".onnx")


def predict(
    paths: Annotated[list[str], typer.Argument(
        metavar="[MODEL] INPUTS...",
        help="Optionally a model first: a model.specser file (from `specser train` or a CV fold), a .onnx file, "
             "or a `specser cv` folder (the ensemble of its fold models); without one, the model that ships "
             "with specser (`specser models`). Then audio files, folders (searched recursively) or glob "
             "patterns (quote them: 'clips/**/*.wav').")],
    model_opt: Annotated[Optional[Path], typer.Option("--model", "-m", help="The model, when you would rather "
                                                      "name it than give it first.")] = None,
    format_: Annotated[str, typer.Option("--format", help="table, json or csv. JSON and CSV have a row for every "
                                         "input, with `status` (ok or the error kind) and `error`.")] = "table",
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
    speaker_stats: Annotated[Optional[list[str]], typer.Option(
        "--speaker-stats", help="For a model trained with features.speaker_norm: recordings of the speaker "
        "(files, folders or globs; repeat the option), whose statistics normalise every input. Without it "
        "each recording is normalised by its own.")] = None,
    adapt_to: Annotated[Optional[list[str]], typer.Option(
        "--adapt-to", help="Recordings like the inputs, from the same speaker or set-up, to adapt the model to "
        "first, without labels (as `specser adapt` does, without writing a model file; at least 5 clips or "
        "windows of speech; repeat the option). They may be the inputs themselves.")] = None,
    repair_clipping: Annotated[bool, typer.Option(
        "--repair-clipping/--keep-clipping", help="Re-estimate the cut peaks of a recording that clipped "
        "before labelling it (the default), or label it as it is.")] = True,
    trim_silence: Annotated[bool, typer.Option(
        "--trim-silence/--keep-silence", help="Shorten a wait of more than 2 s before (or after) the speech to 1 s "
        "before the recording is cropped or cut into windows (the default), or keep all of it.")] = True,
    channel: Annotated[Optional[int], typer.Option(
        min=1, help="Label only this channel of multichannel files (1 = left, 2 = right), e.g. one party of "
        "a call recorded with each party on its own channel; a file without it is skipped. Default: the "
        "channels mixed.")] = None,
    each_channel: Annotated[bool, typer.Option(
        "--each-channel", help="Label every channel of multichannel files on its own: a row per channel "
        "(`channel` in JSON and CSV), e.g. both parties of a call recorded one party per channel, in one "
        "pass. A mono file gets its one row; a channel with nothing to classify is skipped, named.")] = False,
    progress: Annotated[bool, typer.Option("--progress/--no-progress", help="Show a progress bar.")] = True,
) -> None:
    """Predict the emotion of audio files, with your model or the one that ships with specser.

    Each result row has the path, the predicted label and the probability of every label.
    A probability is the model's own, not a promise: on voices unlike its training data it runs
    high even where the label is wrong (docs/results.md, "How far to trust the probabilities").
    Recordings longer than one window plus one hop are cut into sliding windows: they get
    a timeline (start, end, label, probabilities) in JSON, and an overall label (the
    window probabilities averaged); windows without speech are marked no_speech and left out.
    A recording that clipped (recorded too loud) or has a telephone's narrow band still gets
    its label, with a warning (stderr, and `warnings` in JSON and CSV): such labels are less reliable.
    A clipped recording's cut peaks are re-estimated before it is labelled (--keep-clipping: not), and
    a wait of more than 2 s before or after the speech is shortened to 1 s (--keep-silence: not).
    Files that cannot be classified (unreadable, truncated, too short, silent, no speech: noise,
    claps, typing, knocks, nothing voiced) are listed with the reason and skipped; the exit status
    is 1 if any file failed, unless --keep-going.

    Examples:  specser predict clip.wav
               specser predict runs/paper/model.specser clips/ --format csv --out predictions.csv
               specser predict call.wav --channel 2               # one party of a call: the right channel
               specser predict calls/ --each-channel              # every party of every call, a row each
               specser predict my_takes/ --adapt-to my_takes/     # the model adapted to these recordings first
    """
    model, inputs = split_model_and_inputs(paths, model_opt)
    if format_ not in FORMATS:
        fail(f"--format must be one of {', '.join(FORMATS)}")
    if each_channel and channel is not None:
        fail("--each-channel labels every channel; give it or --channel N, not both")
    from specser.inference.base import open_predictor
    from specser.inference.sources import expand_inputs

    onnx = backend == "onnx" or model.suffix == ".onnx" or (model.is_dir() and not any(model.glob("**/*.specser")))
    options = ({"window_s": window, "hop_s": hop, "min_duration_s": min_duration, "repair_clipping": repair_clipping}
               | ({} if trim_silence else {"keep_silence_s": None}) | ({} if onnx else {"device": device})
               | ({} if channel is None else {"channel": channel - 1}))
    try:
        predictor = open_predictor(model, backend, **options)
    except (ValueError, ImportError, FileNotFoundError) as exc:  # ModelFileError is a ValueError
        fail(str(exc))
    if adapt_to:
        predictor = _adapted(predictor, adapt_to, options)
    if speaker_stats:
        _set_speaker(predictor, speaker_stats)
    files, missing = expand_inputs(inputs)
    keys, results, failed = predict_files(predictor, files, batch_size, progress, each_channel)
    rows = [Row(str(path), results.get((path, number)), *failed.get((path, number), (None, None)), channel=number)
            for path, number in keys]
    rows += [Row(item, None, kind, reason) for item, kind, reason in missing]
    ok = [r for r in rows if r.prediction is not None]
    if out is not None:
        from specser.atomic import atomic_write_text

        atomic_write_text(out, render(rows, predictor.labels, format_, each_channel))
        typer.echo(f"{plural(len(ok), 'prediction')} written to {out}"
                   + (f" ({plural(len(rows) - len(ok), 'file')} skipped)" if len(ok) < len(rows) else ""), err=True)
    else:
        typer.echo(render(rows, predictor.labels, format_, each_channel), nl=False)
    if plot is not None:
        _plot_timelines(ok, predictor.labels, plot)
    for row in rows:
        if row.prediction is None:
            typer.secho(f"skipped {row.name}: {row.error}", fg=typer.colors.YELLOW, err=True)
        else:
            for warning in row.prediction.warnings:
                typer.secho(f"warning {row.name}: {warning.message}", fg=typer.colors.YELLOW, err=True)
    if len(ok) < len(rows) and not keep_going:
        raise typer.Exit(1)


def load_recordings(predictor, items: list[str], prefix: str = "", progress: bool = False) -> list:
    """The checked waveforms of files, folders or globs; each unreadable or missing one is named on
    stderr (after `prefix`) and skipped."""
    from tqdm.auto import tqdm

    from specser.audio.load import AudioError
    from specser.inference.sources import expand_inputs

    files, missing = expand_inputs(items)
    waves = []
    for path in tqdm(files, desc="recordings", unit="file", disable=not progress):
        try:
            waves.append(predictor.load(path))
        except AudioError as exc:
            typer.secho(f"{prefix}skipped {exc}", fg=typer.colors.YELLOW, err=True)
    for item, _, reason in missing:
        typer.secho(f"{prefix}skipped {item}: {reason}", fg=typer.colors.YELLOW, err=True)
    return waves


def _set_speaker(predictor, items: list[str]) -> None:
    """`--speaker-stats`: the named recordings' statistics for every input; unreadable ones are named
    and skipped, and none readable is an error."""
    waves = load_recordings(predictor, items, prefix="--speaker-stats: ")
    try:
        predictor.set_speaker(waves)
    except ValueError as exc:
        fail(f"--speaker-stats: {exc}")
    seconds = sum(w.size for w in waves) / predictor.sample_rate
    typer.echo(f"speaker statistics from {plural(len(waves), 'recording')} ({seconds:.0f} s)", err=True)


def _adapted(predictor, items: list[str], options: dict):
    """`--adapt-to`: a predictor of the model adapted to the named recordings (`specser.inference.adapt`);
    unreadable ones are named and skipped, and too few is an error."""
    if getattr(predictor, "backend", "") != "torch" or not hasattr(predictor, "model_file"):
        fail("--adapt-to needs a single .specser model on torch (adapt, then export, for ONNX)")
    from specser.inference.adapt import adapt
    from specser.inference.predictor import Predictor

    waves = load_recordings(predictor, items, prefix="--adapt-to: ")
    try:
        adapted = adapt(predictor.model_file, waves, device=str(predictor.device))
    except ValueError as exc:
        fail(f"--adapt-to: {exc} (from {plural(len(waves), 'readable recording')})")
    record = adapted.extra["adapted"]
    typer.echo(f"adapted to {plural(len(waves), 'recording')} ({record['inputs']} clips or windows of speech)", err=True)
    return Predictor(adapted, **options)


def plural(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


@dataclass
class Row:
    """One input's outcome: a prediction, or the error kind (`AudioError.kind`) and its reason."""

    path: str
    prediction: object | None
    status: str | None = None
    error: str | None = None
    channel: int | None = None  # 1-based, with --each-channel on a multichannel file

    @property
    def name(self) -> str:
        """How the table and messages name the row: the path, and the channel when there is one."""
        from specser.inference.base import channel_name

        return channel_name(self.path, self.channel)

    def to_dict(self) -> dict:
        where = {"path": self.path} | ({} if self.channel is None else {"channel": self.channel})
        if self.prediction is None:
            return where | {"status": self.status, "error": self.error}
        return where | {"status": "ok", "error": None, **self.prediction.to_dict()}


def split_model_and_inputs(paths: list[str], model: Path | None, command: str = "predict") -> tuple[Path, list[str]]:
    """(model, inputs): `--model`, else the first path when it is a model (a model suffix, a folder of
    model files, or a file that is not audio while inputs follow), else the bundled default model."""
    if model is not None:
        return model, paths
    first = Path(paths[0])
    if len(paths) > 1 and _is_model(first):
        return first, paths[1:]
    if len(paths) == 1 and first.suffix.lower() in MODEL_SUFFIXES:
        fail(f"{first} is a model; give the audio after it: specser {command} {first} clip.wav")
    from specser.bundled import default_model

    try:
        return default_model(), paths
    except FileNotFoundError as exc:
        fail(str(exc))


def _is_model(path: Path) -> bool:
    from specser.audio.formats import AUDIO_EXTENSIONS, sniff_audio

    if path.suffix.lower() in MODEL_SUFFIXES:
        return True
    if path.is_dir():
        return any(path.glob("**/*.specser")) or any(path.glob("*.onnx"))
    if path.is_file() and path.suffix.lower() not in AUDIO_EXTENSIONS:
        with open(path, "rb") as handle:
            return sniff_audio(handle.read(16)) is None
    return False


def predict_files(predictor, files: list[Path], batch_size: int, progress: bool, each_channel: bool = False):
    """(keys, predictions by key, (error kind, reason) by key for inputs that could not be classified); a
    key is (path, channel), the channel None for a file read whole and 1, 2... for each channel of a
    multichannel file with `each_channel`. Decoding runs ahead in threads while the model runs; short clips
    share forward passes, long ones go through their windows."""
    from tqdm.auto import tqdm

    from specser.audio.load import AudioError
    from specser.inference.base import channel_name

    notes: dict[tuple, list] = {}  # warnings only the channels show (separate parties), by key

    def load(path: Path) -> list[tuple[tuple, object, tuple | None]]:
        try:
            if each_channel:
                return [((path, number), None, (got.kind, got.reason)) if isinstance(got, AudioError)
                        else ((path, number), got, None) for number, got in predictor.load_channels(path)]
            return [((path, None), predictor.load(path, notes=notes.setdefault((path, None), [])), None)]
        except AudioError as exc:
            return [((path, None), None, (exc.kind, exc.reason))]

    keys: list[tuple] = []
    results: dict[tuple, object] = {}
    errors: dict[tuple, tuple[str, str]] = {}
    pending: list[tuple[tuple, object]] = []
    waiting = 0  # files whose inputs are pending: the bar counts a file once it is labelled
    bar = tqdm(total=len(files), desc="predict", unit="file", disable=not progress, file=sys.stderr)

    def flush():
        nonlocal waiting
        short = [(key, w) for key, w in pending if not predictor.is_long(w)]
        for (key, _), pred in zip(short, predictor.predict_batch([w for _, w in short])):
            results[key] = pred
        for key, wave in pending:
            if predictor.is_long(wave):  # its windows, each checked for speech
                try:
                    results[key] = predictor.predict_wave(wave, channel_name(str(key[0]), key[1]))
                except AudioError as exc:
                    errors[key] = (exc.kind, exc.reason)
        pending.clear()
        bar.update(waiting)
        waiting = 0

    with ThreadPoolExecutor(max_workers=4) as pool:
        for loaded in pool.map(load, files):
            for key, wave, error in loaded:
                keys.append(key)
                if error is not None:
                    errors[key] = error
                else:
                    pending.append((key, wave))
            waiting += 1
            if len(pending) >= batch_size:
                flush()
        flush()
    bar.close()
    for key, prediction in results.items():
        prediction.warnings.extend(notes.get(key, []))
    return keys, results, errors


def _plot_timelines(rows: list[Row], labels: list[str], folder: Path) -> None:
    from specser.inference.timeline_plot import plot_timeline

    for row in rows:
        if row.prediction.timeline:
            part = "" if row.channel is None else f".channel{row.channel}"
            target = Path(folder) / f"{Path(row.path).stem}{part}.timeline.png"
            title = f"{Path(row.name).name}: overall {row.prediction.label}"
            plot_timeline(row.prediction, labels, target, title=title)
            typer.echo(f"timeline plot: {target}", err=True)


def render(rows: list[Row], labels: list[str], format_: str, by_channel: bool = False) -> str:
    """JSON and CSV hold a row for every input (`status` ok or the error kind); the table only the
    predictions (the skipped files are listed on stderr), and nothing at all when there are none.
    `by_channel` (--each-channel): the CSV has a `channel` column, empty for a mono file."""
    if format_ == "json":
        return json.dumps([row.to_dict() for row in rows], indent=2) + "\n"
    if format_ == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        def where(row: Row) -> list:
            return [row.path] + ([row.channel or ""] if by_channel else [])

        writer.writerow(["path", *(["channel"] if by_channel else []), "status", "error", "label", "duration_s",
                         "segments", "warnings", *labels])
        for row in rows:
            pred = row.prediction
            if pred is None:
                writer.writerow(where(row) + [row.status, row.error, "", "", "", "", *("" for _ in labels)])
            else:
                writer.writerow(where(row) + ["ok", "", pred.label, f"{pred.duration_s:.3f}", len(pred.timeline),
                                 ";".join(w.kind for w in pred.warnings), *(f"{pred.probabilities[l]:.6f}" for l in labels)])
        return buffer.getvalue()
    ok = [row for row in rows if row.prediction is not None]
    if not ok:
        return ""
    width = max([len(r.name) for r in ok] + [4])
    head = f"{'path':<{width}}  {'label':<10} " + " ".join(f"{l[:9]:>9}" for l in labels)
    lines = [head, "-" * len(head)]
    for row in ok:
        pred = row.prediction
        notes = ([f"{len(pred.timeline)} windows"] if pred.timeline else []) + [w.kind for w in pred.warnings]
        note = f"  ({', '.join(notes)})" if notes else ""
        lines.append(f"{row.name:<{width}}  {pred.label:<10} "
                     + " ".join(f"{pred.probabilities[l]:>9.3f}" for l in labels) + note)
    return "\n".join(lines) + "\n"
