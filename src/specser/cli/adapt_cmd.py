"""`specser adapt`: a model adapted to a set of recordings without labels (`specser.inference.adapt`)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from typing import Annotated

from specser.cli.common import fail
from specser.cli.predict_cmd import load_recordings, plural, split_model_and_inputs


def adapt(
    paths: Annotated[list[str], typer.Argument(
        metavar="[MODEL] RECORDINGS...",
        help="Optionally a model.specser file first (without one, the model that ships with specser); then the "
             "recordings to adapt it to: audio files, folders (searched recursively) or glob patterns.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Where to write the adapted model file (.specser).")],
    model_opt: Annotated[Optional[Path], typer.Option("--model", "-m", help="The model, when you would rather "
                                                      "name it than give it first.")] = None,
    prior: Annotated[float, typer.Option(help="How many recordings the model's own statistics count as: the "
                                         "measured ones weigh n / (n + prior) for n recordings, so a few move the "
                                         "model less than many (0: the measured statistics alone).", min=0)] = 10.0,
    device: Annotated[str, typer.Option(help="auto, cpu or cuda.")] = "cpu",
    progress: Annotated[bool, typer.Option("--progress/--no-progress", help="Show a progress bar.")] = True,
) -> None:
    """Adapt a model to your recordings, without labels: for a microphone, room, language or voices
    unlike its training data.

    Every BatchNorm layer of the network measures its statistics again on the recordings (AdaBN); no
    weight is trained and no label is needed. Give recordings like the ones you will label (the same
    set-up and speakers) with a mix of emotions, at least 5 clips (a long recording counts once per
    4 s window of speech); more move the model further and give steadier statistics. On the
    development models a RAVDESS model adapted to nEMO's clips gained 4.3-9.6 points on nEMO; 5-20
    clips of one speaker of the other corpus gained 4.0-7.2 on that speaker's other clips; adapting to
    telephone-band audio cost 1.7-3.4 (docs/results.md, "Adapting a model to new recordings"). Then
    predict, serve or export the adapted file like any other model.

    Examples:  specser adapt my_recordings/ --out mine.specser && specser predict mine.specser clip.wav
               specser adapt runs/robust/model.specser 'calls/*.wav' --out calls.specser
    """
    model, inputs = split_model_and_inputs(paths, model_opt, "adapt")
    if model.suffix == ".onnx" or model.is_dir():
        fail(f"{model}: adapt a .specser model file (then export it); ONNX graphs and ensembles cannot be adapted")
    if out.suffix != ".specser":
        fail(f"--out {out}: the adapted model is a .specser file")
    if out.exists() and out.resolve() == model.resolve():
        fail(f"--out {out} is the model itself: write the adapted model to another file")
    from specser.inference.adapt import MIN_INPUTS, adapt as adapt_model
    from specser.inference.model_file import ModelFile
    from specser.inference.predictor import Predictor

    try:
        model_file = ModelFile.load(model)
        predictor = Predictor(model_file, device=device, tta_crops=1)
    except (ValueError, FileNotFoundError) as exc:
        fail(str(exc))
    waves = load_recordings(predictor, inputs, progress=progress)
    used, seconds = len(waves), sum(w.size for w in waves) / predictor.sample_rate
    try:
        adapted = adapt_model(model_file, waves, device=device, prior=prior)
    except ValueError as exc:
        fail(f"{exc} (from {plural(used, 'readable recording')}; need at least {MIN_INPUTS})")
    adapted.extra["adapted"] |= {"recordings": used, "seconds": round(seconds, 1), "from_model": str(model)}
    adapted.save(out)
    inputs_used = adapted.extra["adapted"]["inputs"]
    typer.echo(f"adapted to {plural(used, 'recording')} ({inputs_used} clips or windows of speech, {seconds:.0f} s); "
               f"written to {out}\nnext: specser predict {out} RECORDINGS...", err=True)
