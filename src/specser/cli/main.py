"""`specser`: one command line for data, features, training and evaluation.

Heavy libraries (torch, Lightning, librosa) are imported inside the commands,
so ``specser --help`` answers at once.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

import typer
from typing import Annotated

from specser.cli import adapt_cmd, data_cmd, predict_cmd
from specser.cli.common import (ConfigOpt, CVOutOpt, DataListOpt, DataOpt, ExtraTrainOpt, PresetOpt, ProgressOpt,
                                ProtocolOpt, RestartOpt, SetOpt, build_config, fail, user_errors)

app = typer.Typer(
    help="specser: speech emotion recognition with Spec-ResNet on log-Mel spectrograms.\n\n"
    "Start with 'specser data' to check your corpus, then 'specser train --out runs/first'.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(data_cmd.app, name="data")
app.command(name="predict")(predict_cmd.predict)
app.command(name="adapt")(adapt_cmd.adapt)


@app.command()
def features(
    data: DataListOpt = None,
    config: ConfigOpt = None,
    set_: SetOpt = None,
    preset: PresetOpt = None,
    images: Annotated[Optional[Path], typer.Option(help="Also render the paper's PNGs ([utt]-[label]_new.png) here.")] = None,
    device: Annotated[str, typer.Option(help="Where log-Mels are computed: cpu (threads over the cores), cuda "
                                        "(batched on the GPU; decoding stays on the CPU threads).")] = "cpu",
    encoder: Annotated[Optional[str], typer.Option(help="Instead of log-Mels, every hidden layer of this pretrained "
                                                   "encoder (hub name or local folder; needs specser[ssl]), e.g. "
                                                   "microsoft/wavlm-base-plus.")] = None,
    progress: ProgressOpt = True,
) -> None:
    """Extract log-Mel features for a corpus into the cache (a second run computes nothing).

    Example: specser features --data ../shared/data/ravdess --images runs/pngs
             specser features --data ../shared/data/ravdess --encoder microsoft/wavlm-base-plus --device cuda
    """
    import time

    cfg = build_config(config, set_, preset, data)
    started = time.time()
    if encoder is not None:
        _encoder_features(cfg, encoder, device, progress, started)
        return
    from specser.features.prepare import prepare_corpus

    try:
        corpus = prepare_corpus(cfg, progress, device=device)
    except user_errors() as exc:
        fail(str(exc))
    elapsed = time.time() - started
    typer.echo(f"{len(corpus.rows)} files ready in {elapsed:.1f} s: {corpus.computed} computed, {corpus.cached} from cache")
    if images is not None:
        from specser.features.images import render_images

        items = [(r.utt_id, r.label, corpus.keys[r.utt_id]) for r in corpus.rows]
        render_images(items, corpus.features, images, cfg.features.image_cmap, cfg.features.top_db, progress)
        typer.echo(f"PNG images in {images}")
    if corpus.skipped:
        typer.echo(f"skipped {len(corpus.skipped)} files:")
        for path, reason in corpus.skipped:
            typer.echo(f"  {path}: {reason}")


def _encoder_features(cfg, encoder: str, device: str, progress: bool, started: float) -> None:
    """`specser features --encoder`: the corpus's encoder layers into the cache."""
    import time

    from specser.encoders.extract import extract_encoder_states
    from specser.encoders.hub import EncoderError
    from specser.features.prepare import build_manifest
    from specser.paths import default_cache_dir

    try:
        manifest = build_manifest(cfg)[0]
        states = extract_encoder_states(manifest.rows, encoder, default_cache_dir(cfg.data.cache_dir),
                                        cfg.data.max_duration_s, device, progress)
    except (EncoderError, ImportError, *user_errors()) as exc:
        fail(str(exc))
    typer.echo(f"{len(states.keys)} files ready in {time.time() - started:.1f} s: {states.computed} computed, "
               f"{states.cached} from cache ({states.cache.dir})")
    for path, reason in states.skipped:
        typer.echo(f"  skipped {path}: {reason}")


@app.command()
def train(
    out: Annotated[Path, typer.Option("--out", help="Run folder to create (or resume, if a run there was interrupted).")],
    data: DataListOpt = None,
    extra_train: ExtraTrainOpt = None,
    config: ConfigOpt = None,
    set_: SetOpt = None,
    preset: PresetOpt = None,
    test_speakers: Annotated[Optional[str], typer.Option(help="Comma-separated speakers to hold out as the test set, "
                             "e.g. 01,02,03,04 (speaker-independent). Default: a random stratified 80/20 split.")] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace a finished run in --out.")] = False,
    progress: ProgressOpt = True,
) -> None:
    """Train Spec-ResNet (paper preset by default) on a holdout split and evaluate it.

    Writes config.yaml, metrics.json, report.md, PNG plots, checkpoints/ and model.specser into --out.
    Example: specser train --data ../shared/data/ravdess --out runs/paper --set train.max_epochs=20
    """
    extra = [f"data.test_speakers=[{','.join(repr(s.strip()) for s in test_speakers.split(','))}]"] if test_speakers else []
    cfg = build_config(config, set_, preset, data, extra, extra_train)  # checked before the heavy imports
    from specser.runs.folder import RunFolderError
    from specser.runs.train import TrainingInterrupted, train_run

    try:
        metrics = train_run(cfg, out, progress=progress, overwrite=overwrite)
    except (RunFolderError, *user_errors()) as exc:
        fail(str(exc))
    except TrainingInterrupted as exc:
        fail(str(exc), code=130)
    if metrics:
        typer.echo(f"test accuracy {metrics['accuracy']:.4f}  UA {metrics['uar']:.4f}  macro-F1 {metrics['macro_f1']:.4f}")
    if os.environ.get("LOCAL_RANK", "0") == "0" and os.environ.get("NODE_RANK", "0") == "0":  # DDP: rank 0 reports
        typer.echo(f"run folder: {out} (report.md, metrics.json, model.specser)")


@app.command()
def cv(out: CVOutOpt, data: DataListOpt = None, extra_train: ExtraTrainOpt = None, protocol: ProtocolOpt = None,
       config: ConfigOpt = None, set_: SetOpt = None, preset: PresetOpt = None, overwrite: RestartOpt = False,
       progress: ProgressOpt = True) -> None:
    """Cross-validate Spec-ResNet: one complete run per fold, then mean ± std over folds.

    Writes folds.json, fold_NN/ (one run folder each), cv_summary.json, report.md and plots into --out.
    Killed? Run the same command again: finished folds are skipped, an unfinished one resumes.
    On a GPU with room to spare, `--set cv.parallel_folds=5` trains the folds side by side.
    Example: specser cv --data ../shared/data/ravdess --protocol actor-5fold --out runs/cv-actor
    """
    cfg = build_config(config, set_, preset, data, [f"cv.protocol={protocol}"] if protocol else [], extra_train)
    from specser.runs.cv import fold_curves, run_cv, spec_resnet_runner, train_fold_in_process
    from specser.runs.folder import RunFolderError
    from specser.training.interrupt import TrainingInterrupted

    try:
        summary = run_cv(cfg, out, lambda c, corpus: spec_resnet_runner(c, corpus, progress),
                         f"Spec-ResNet ({cfg.features.mode})", progress, overwrite, finish=fold_curves,
                         pool_fold=train_fold_in_process)
    except (RunFolderError, *user_errors()) as exc:
        fail(str(exc))
    except TrainingInterrupted as exc:
        fail(str(exc).replace("run the same command again", "run the same `specser cv` command again"), code=130)
    _echo_cv(summary, out)


@app.command()
def baseline(
    out: CVOutOpt,
    model: Annotated[str, typer.Option("--model", help="svm (RBF SVM) or mlp (multi-layer perceptron).")] = "svm",
    features: Annotated[str, typer.Option("--features", help="mfcc (mean/std of 40 MFCCs + deltas), egemaps "
                        "(88 eGeMAPS v02 functionals; needs pip install 'specser[baselines]') or egemaps+mfcc (both).")] = "mfcc",
    data: DataListOpt = None, extra_train: ExtraTrainOpt = None, protocol: ProtocolOpt = None, config: ConfigOpt = None,
    set_: SetOpt = None, preset: PresetOpt = None, overwrite: RestartOpt = False, progress: ProgressOpt = True,
) -> None:
    """Cross-validate a classic baseline (scaler + SVM or MLP) on exactly the folds `specser cv` uses.

    Hyper-parameters come from an inner cross-validation on each fold's training part
    (grouped by speaker for speaker-independent protocols). Same cv_summary.json as `specser cv`.
    Example: specser baseline --data ../shared/data/ravdess --protocol actor-5fold --model svm --out runs/svm-actor
    """
    extra = [f"baseline.model={model}", f"baseline.features={features}"] + ([f"cv.protocol={protocol}"] if protocol else [])
    cfg = build_config(config, set_, preset, data, extra, extra_train)
    from specser.baselines.run import baseline_label, baseline_runner
    from specser.runs.cv import run_cv
    from specser.runs.folder import RunFolderError

    try:
        summary = run_cv(cfg, out, lambda c, corpus: baseline_runner(c, corpus, progress), baseline_label(cfg), progress, overwrite)
    except (RunFolderError, ImportError, *user_errors()) as exc:
        fail(str(exc))
    _echo_cv(summary, out)


@app.command()
def compare(
    run_dirs: Annotated[list[Path], typer.Argument(help="Finished `specser cv` / `specser baseline` run folders.")],
    out: Annotated[Path, typer.Option("--out", help="Markdown file to write; the bar chart goes beside it as .png.")],
    title: Annotated[str, typer.Option(help="Heading of the table.")] = "specser comparison",
) -> None:
    """Put cross-validation runs side by side (WA / UA / macro-F1, mean ± std) with the paper's claims.

    Example: specser compare runs/cv-random runs/cv-actor runs/svm-actor --out runs/compare.md
    """
    from specser.evaluation.compare import CompareError, compare_runs

    try:
        text, png = compare_runs(run_dirs, out, title)
    except CompareError as exc:
        fail(str(exc))
    typer.echo(text)
    typer.echo(f"wrote {out} and {png}")


def _echo_cv(summary, out: Path) -> None:
    if summary is None:  # a DDP rank other than 0
        return
    from specser.evaluation.cv_report import pm

    typer.echo(f"{summary.run.protocol}, {summary.run.n_folds} folds: accuracy {pm(summary.accuracy)}  "
               f"UA {pm(summary.uar)}  macro-F1 {pm(summary.macro_f1)}")
    typer.echo(f"run folder: {out} (report.md, cv_summary.json, fold_NN/)")


@app.command()
def evaluate(
    run_dir: Annotated[Path, typer.Argument(help="A finished run folder (holds model.specser and split.json).")],
    data: DataOpt = None,
    out: Annotated[Optional[Path], typer.Option(help="Where to write (default: RUN_DIR/evaluation).")] = None,
    all_files: Annotated[bool, typer.Option("--all", help="Evaluate every file in --data, not the run's test split "
                         "(for a different corpus with the same labels).")] = False,
    tta_crops: Annotated[Optional[int], typer.Option("--tta-crops", help="Test-time augmentation: average the "
                         "predictions of this many evenly spaced clip windows per file (1: the centred window only). "
                         "Default: what the model was trained with (train.tta_crops).")] = None,
    adapt: Annotated[bool, typer.Option("--adapt", help="First adapt the model to the evaluated clips, without "
                     "their labels (`specser adapt`: BatchNorm statistics measured on them). The test audio then "
                     "shapes the model: report the figure in a row of its own.")] = False,
    profiles: Annotated[int, typer.Option("--profiles", help="Instead, give each speaker a voice profile made "
                        "from this many of their clips (drawn at random, no labels used) and evaluate on their other "
                        "clips, beside the model as trained on the same clips: what voice profiles would buy on this "
                        "corpus.", min=0)] = 0,
    conditions: Annotated[Optional[str], typer.Option("--conditions", help="Also degrade the test files: 'all', or "
                          "comma-separated names (noise, gain, 8-bit, telephone band, codec, reverb; see docs/cli.md). "
                          "Writes robustness.json and robustness.md.")] = None,
    progress: ProgressOpt = True,
) -> None:
    """Re-evaluate a trained run's model.specser on its test split (or on a whole corpus with --all).

    Example: specser evaluate runs/si --conditions all   (accuracy and label agreement under noise, level, codecs...)
    """
    from specser.runs.evaluate import evaluate_run

    try:
        if adapt and conditions:
            fail("--adapt and --conditions: run them apart (each condition would need its own adapted model)")
        if profiles and (adapt or conditions):
            fail("--profiles: run it apart from --adapt and --conditions")
        metrics = evaluate_run(run_dir, data, out, all_files, progress, tta_crops, adapt=adapt, profiles=profiles)
        if conditions:
            from specser.audio.degrade import condition_names
            from specser.runs.robustness import render, robustness

            names = None if conditions == "all" else condition_names(conditions)
            typer.echo(render(robustness(run_dir, names, data, out, progress=progress)))
    except user_errors() as exc:
        fail(str(exc))
    typer.echo(f"accuracy {metrics['accuracy']:.4f}  UA {metrics['uar']:.4f}  macro-F1 {metrics['macro_f1']:.4f}  (n={metrics['n']})")
    if profiles:
        base = metrics["profiles"]["as_trained_on_the_same_clips"]
        typer.echo(f"as trained, on the same clips: accuracy {base['accuracy']:.4f}  UA {base['uar']:.4f}  "
                   f"macro-F1 {base['macro_f1']:.4f}")


@app.command()
def export(
    model: Annotated[Path, typer.Argument(help="A model.specser file.")],
    out: Annotated[Path, typer.Option("--out", help="File to write, e.g. model.onnx.")],
    format_: Annotated[str, typer.Option("--format", help="onnx, or specser: a pretrained-encoder model file "
                                         "with the encoder's weights inside (see --with-encoder).")] = "onnx",
    with_encoder: Annotated[bool, typer.Option("--with-encoder", help="Pretrained-encoder models: put the "
                            "encoder in the file too. ONNX: one graph on waveforms that onnxruntime runs alone "
                            "(a fine-tuned model always exports this way); without it, the head alone, which "
                            "reads the encoder's layers and needs transformers at prediction time.")] = False,
    opset: Annotated[int, typer.Option(help="ONNX opset version.")] = 18,
    check: Annotated[bool, typer.Option("--check/--no-check", help="Compare onnxruntime with torch on random "
                                        "inputs of several batch sizes and lengths after exporting.")] = True,
) -> None:
    """Export a trained model to ONNX (dynamic batch and time axes, labels and front-end inside).

    The file runs without torch: specser predict model.onnx clip.wav --backend onnx
    Example: specser export runs/paper/model.specser --format onnx --out paper.onnx
    A frozen-encoder model (features.mode=encoder) made self-contained, for machines without the hub:
    specser export runs/wavlm/model.specser --format specser --out wavlm-full.specser
    """
    if format_ == "specser":
        _export_embedded(model, out)
        return
    if format_ != "onnx":
        fail(f"unknown export format {format_!r}; choose onnx or specser")
    from specser.export.onnx_export import export_onnx, parity_check

    try:
        export_onnx(model, out, opset, with_encoder)
    except (ImportError, *user_errors()) as exc:
        fail(str(exc))
    typer.echo(f"wrote {out} ({_megabytes(out)})")
    if check:
        diff = parity_check(model, out)
        typer.echo(f"parity with torch: max |probability difference| {diff:.2e} over several batch sizes and lengths")
        if diff >= 1e-4:
            fail(f"the ONNX model disagrees with torch by {diff:.2e} (limit 1e-4)")


def _megabytes(path: Path) -> str:
    """The size of an exported file, with its external weights (a large encoder's ONNX) when there are some."""
    from specser.export.onnx_export import external_data_path

    extra = external_data_path(path)
    size = path.stat().st_size + (extra.stat().st_size if extra.exists() else 0)
    return f"{size / 1e6:.1f} MB" + (f", weights in {extra.name}" if extra.exists() else "")


def _export_embedded(model: Path, out: Path) -> None:
    """`specser export --format specser`: a frozen-encoder model file with its encoder's weights embedded."""
    from specser.inference.model_file import ModelFile

    try:
        from specser.encoders.pretrained import embedded

        embedded(ModelFile.load(model)).save(out)
    except (ImportError, *user_errors()) as exc:
        fail(str(exc))
    typer.echo(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB): the encoder's weights are inside, no hub needed")


@app.command()
def serve(
    model: Annotated[Optional[Path], typer.Argument(help="A model.specser (torch) or exported .onnx file "
                                                    "(default: the model that ships with specser).")] = None,
    host: Annotated[str, typer.Option(help="Interface to listen on (0.0.0.0 for every interface).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.", min=1, max=65535)] = 8000,
    workers: Annotated[int, typer.Option(help="Server processes (each loads the model).", min=1)] = 1,
    threads: Annotated[int, typer.Option(help="Concurrent decode + inference jobs per process.", min=1)] = 2,
    max_upload_mb: Annotated[float, typer.Option(help="Larger uploads get HTTP 413.")] = 20.0,
    max_duration: Annotated[float, typer.Option(help="Longer audio gets HTTP 422, in seconds.")] = 600.0,
    min_duration: Annotated[Optional[float], typer.Option(help="Shorter audio gets HTTP 422 too_short, in seconds "
                            "(default 0.25).")] = None,
    backend: Annotated[str, typer.Option(help="torch, onnx or auto (by file suffix).")] = "auto",
    long_after: Annotated[float, typer.Option(help="Audio longer than this many seconds queues apart, in its own "
                                              "thread, so short clips never wait behind long recordings.")] = 30.0,
    profiles: Annotated[Optional[Path], typer.Option(help="Keep voice profiles (POST /v1/profiles) in this folder, so "
                                                     "they outlive a restart (default: a temporary folder, removed "
                                                     "when the service stops).")] = None,
    max_profiles: Annotated[int, typer.Option(help="Past this many voice profiles the oldest are removed.",
                                              min=1)] = 1000,
) -> None:
    """Serve a model over HTTP: a page to try it at /, POST /v1/predict, GET /v1/health, /v1/model, /docs.

    Voice profiles: a user sends recordings of their own voice once (POST /v1/profiles) and names the
    profile in later predictions (/v1/predict?profile=NAME), which then run on the model adapted to them
    (as `specser adapt` does, without a model file per user). The page offers it too.

    The model is loaded and the port claimed before "serving on" is printed, so a bad model file or a
    busy port is one line and no traceback.

    Example: specser serve --port 8000, then open http://127.0.0.1:8000/
    """
    import os
    import socket

    try:
        import uvicorn
    except ImportError:
        fail("the service needs FastAPI and uvicorn: pip install 'specser[serve]'")
    from specser.service.settings import ENV_KEY, ServiceSettings

    if model is None:
        from specser.bundled import default_model

        try:
            model = default_model()
        except FileNotFoundError as exc:
            fail(str(exc))
    if not model.is_file():
        fail(f"model file not found: {model}")
    import tempfile

    if profiles is not None and profiles.exists() and not profiles.is_dir():
        fail(f"--profiles {profiles}: not a folder (voice profiles are kept as files in one)")
    shared = None  # several workers share one temporary profile folder, made here
    if profiles is None and workers > 1:
        shared = tempfile.TemporaryDirectory(prefix="specser-profiles-")
        profiles = Path(shared.name)
    settings = ServiceSettings(model=model.resolve(), backend=backend, max_upload_mb=max_upload_mb,
                               max_duration_s=max_duration, inference_threads=threads, long_after_s=long_after,
                               profiles_dir=None if profiles is None else profiles.resolve(), max_profiles=max_profiles,
                               **({} if min_duration is None else {"min_duration_s": min_duration}))
    from specser.service.app import create_app

    try:
        app_ = create_app(settings)  # loads the model and makes the profile folder: failures here are one line
    except (ValueError, ImportError, OSError) as exc:
        fail(str(exc))
    try:
        probe = socket.create_server((host, port), reuse_port=False)
    except OSError as exc:
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        fail(f"cannot listen on {host}:{port}: {reason} (another server there? choose another --port)")
    probe.close()
    typer.echo(f"serving {model} on http://{host}:{port}/  (API docs: /docs)")
    if app_.state.profiles is not None:
        kept = f"kept in {settings.profiles_dir}" if profiles is not None and shared is None else "removed when it stops"
        typer.echo(f"voice profiles (POST /v1/profiles): {kept}")
    if workers == 1:
        uvicorn.run(app_, host=host, port=port, log_level="info")
    else:
        os.environ[ENV_KEY] = settings.to_env()
        try:
            uvicorn.run("specser.service.app:app_from_env", factory=True, host=host, port=port, workers=workers,
                        log_level="info")
        finally:
            if shared is not None:
                shared.cleanup()


@app.command()
def models() -> None:
    """List the models that ship with specser (usable with no model argument) and the registered architectures."""
    from specser.bundled import bundled_models
    from specser.inference.model_file import ModelFile
    from specser.models import count_parameters, create_model, list_models

    typer.echo("bundled models (specser predict clip.wav; specser serve):")
    shipped = bundled_models()
    if not shipped:
        typer.echo("  none in this install")
    for name, path in sorted(shipped.items()):
        mf = ModelFile.load(path)
        typer.echo(f"  {name:<14} {mf.model_name}, {mf.n_parameters:,} parameters, {path.stat().st_size / 1e6:.1f} MB; "
                   f"labels: {', '.join(mf.labels)}; trained on {mf.extra.get('trained_on', '?')}")
        typer.echo(f"  {'':<14} {path}  (card: docs/model-card.md; non-commercial use)")
    typer.echo("architectures (--set model.name=...):")
    for name in list_models():
        if name == "encoder_classifier":  # built around a pretrained encoder, never by name alone
            typer.echo(f"  {name:<18} a pretrained encoder with encoder_head, fine-tuned together "
                       "(features.mode=encoder, train.finetune.enabled=true)")
            continue
        typer.echo(f"  {name:<18} {count_parameters(create_model(name))['total']:>12,} parameters (6 classes, 1 channel)")


if __name__ == "__main__":
    app()
