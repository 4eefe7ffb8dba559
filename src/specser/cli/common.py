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
ConfigOpt = Annotated[Optional[Path], typer.Option("--config", help="YAML file with any config sections to change.")]
SetOpt = Annotated[
    Optional[list[str]],
    typer.Option("--set", help="Override one config key, dotted: --set train.max_epochs=5 (repeatable)."),
]
PresetOpt = Annotated[Optional[str], typer.Option("--preset", help="Recipe preset: paper (the paper's recipe, the default) "
                                                               "or best (specser's, see the README's ablation).")]
ProtocolOpt = Annotated[Optional[str], typer.Option(
    "--protocol", help="random-5fold (files, the paper's), actor-5fold (speaker-independent), emobox "
    "(EmoBox fixed actor folds, use with --set data.label_set=ravdess8) or loso (leave one speaker out). "
    "Default: cv.protocol of the config (random-5fold).")]
CVOutOpt = Annotated[Path, typer.Option("--out", help="Run folder to create, or to resume if a run there was interrupted.")]
RestartOpt = Annotated[bool, typer.Option("--overwrite", help="Delete the folds in --out and start again.")]
ProgressOpt = Annotated[bool, typer.Option("--progress/--no-progress", help="Show progress bars.")]


def fail(message: str, code: int = 2) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


def build_config(config: Path | None, overrides: list[str] | None, preset: str | None, data: Path | None,
                 extra: list[str] | None = None):
    """Load the config and put --data (an explicit CLI option) on top of everything."""
    from specser.config import ConfigError, load_config

    sets = list(overrides or []) + list(extra or [])
    if data is not None:
        sets.append(f"data.path={data}")
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
