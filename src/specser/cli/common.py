"""Shared CLI options and error handling."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from typing import Annotated

DataOpt = Annotated[
    Optional[Path],
    typer.Option("--data", help="Corpus folder (RAVDESS or folder-per-label) or CSV manifest (path,label[,speaker]). "
                 "Default: $SPECSER_RAVDESS, else ../shared/data/ravdess if it exists."),
]
DataListOpt = Annotated[
    Optional[list[Path]],
    typer.Option("--data", help="Corpus folder (RAVDESS, nEMO, or folder-per-label) or CSV manifest. Repeat it to "
                 "combine corpora: labels are harmonised and speakers kept apart per corpus (--protocol loco then "
                 "tests each corpus on a model trained on the others). Default: $SPECSER_RAVDESS, else "
                 "../shared/data/ravdess if it exists."),
]
ExtraTrainOpt = Annotated[
    Optional[list[Path]],
    typer.Option("--extra-train", help="Another corpus added to every training part and never tested, e.g. nEMO "
                 "beside RAVDESS's actor-5fold (repeatable)."),
]
ConfigOpt = Annotated[Optional[Path], typer.Option("--config", help="YAML file with any config sections to change.")]
SetOpt = Annotated[
    Optional[list[str]],
    typer.Option("--set", help="Override one config key, dotted: --set train.max_epochs=5 (repeatable)."),
]
PresetOpt = Annotated[Optional[str], typer.Option("--preset", help="Recipe preset: paper (the paper's recipe, the default), "
                                                               "best (specser's most accurate on RAVDESS, see the README's ablation) "
                                                               "or robust (best plus a level-free front-end and recording-condition "
                                                               "training: for real recordings).")]
ProtocolOpt = Annotated[Optional[str], typer.Option(
    "--protocol", help="random-5fold (files, the paper's), actor-5fold (speaker-independent), emobox "
    "(EmoBox fixed actor folds, use with --set data.label_set=ravdess8), loso (leave one speaker out) or loco "
    "(leave one corpus out: cross-corpus, needs --data twice). "
    "Default: cv.protocol of the config (random-5fold).")]
CVOutOpt = Annotated[Path, typer.Option("--out", help="Run folder to create, or to resume if a run there was interrupted.")]
RestartOpt = Annotated[bool, typer.Option("--overwrite", help="Delete the folds in --out and start again.")]
ProgressOpt = Annotated[bool, typer.Option("--progress/--no-progress", help="Show progress bars.")]


def fail(message: str, code: int = 2) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


def build_config(config: Path | None, overrides: list[str] | None, preset: str | None,
                 data: Path | list[Path] | None, extra: list[str] | None = None, extra_train: list[Path] | None = None):
    """Load the config and put --data / --extra-train (explicit CLI options) on top of everything."""
    import json

    from specser.config import ConfigError, load_config

    sets = list(overrides or []) + list(extra or [])
    paths = [data] if isinstance(data, Path) else list(data or [])
    if len(paths) == 1:
        sets.append(f"data.path={paths[0]}")
    elif paths:
        sets.append(f"data.path={json.dumps([str(p) for p in paths])}")  # JSON is YAML
    if extra_train:
        sets.append(f"data.extra_train={json.dumps([str(p) for p in extra_train])}")
    try:
        return load_config(config, sets, preset)
    except ConfigError as exc:
        fail(str(exc))


def user_errors():
    """Exceptions that are the user's input, shown as one clear line rather than a traceback."""
    from specser.inference.model_file import ModelFileError
    from specser.audio.load import AudioError
    from specser.config import ConfigError
    from specser.corpus.manifest import CorpusError
    from specser.data.splits import SplitError
    from specser.corpus.fetch import FetchError

    return (ModelFileError, AudioError, ConfigError, CorpusError, SplitError, FetchError, FileNotFoundError, ValueError)
