"""`specser data`: inspect a corpus, and `specser data fetch` to download RAVDESS or nEMO."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Optional

import typer
from typing import Annotated

from specser.cli.common import DataOpt, ProgressOpt, fail, user_errors

app = typer.Typer(help="Inspect a corpus (counts, durations, problems) or fetch RAVDESS or nEMO.", no_args_is_help=False)


@app.callback(invoke_without_command=True)
def summary(
    ctx: typer.Context,
    data: DataOpt = None,
    corpus: Annotated[str, typer.Option(help="Layout: auto, ravdess, folder or csv.")] = "auto",
    label_set: Annotated[str, typer.Option(help="RAVDESS label set: ravdess6, ravdess8 or calm_neutral.")] = "ravdess6",
    headers: Annotated[bool, typer.Option("--headers/--no-headers", help="Read each file's header for durations, rates and channels.")] = True,
) -> None:
    """Print counts per label and per speaker, durations, sample rates, channels, and unparseable files.

    Example: specser data --data ../shared/data/ravdess --label-set ravdess8
    """
    if ctx.invoked_subcommand is not None:
        return
    from specser.audio.load import AudioError, audio_info
    from specser.corpus.manifest import load_manifest
    from specser.paths import resolve_data_path

    try:
        path = resolve_data_path(data)
        manifest = load_manifest(path, corpus, label_set)
    except user_errors() as exc:
        fail(str(exc))
    rows = manifest.rows
    typer.echo(f"corpus: {path} ({manifest.corpus}), {len(rows)} files, {len(manifest.labels)} labels")
    typer.echo("\nfiles per label:")
    for label, n in sorted(Counter(r.label for r in rows).items(), key=lambda kv: manifest.labels.index(kv[0])):
        typer.echo(f"  {label:<12} {n:5d}")
    speakers = Counter(r.speaker for r in rows)
    typer.echo(f"\nspeakers: {len(speakers)}")
    typer.echo("  " + "  ".join(f"{s}:{n}" for s, n in sorted(speakers.items())))
    skipped = list(manifest.skipped)
    if headers:
        durations, rates, channels = [], Counter(), Counter()
        for r in rows:
            try:
                info = audio_info(r.path)
            except AudioError as exc:  # a header we cannot read is reported, not fatal
                skipped.append((r.path, exc.reason))
                continue
            if info["duration_s"] is not None:  # a container may not announce it
                durations.append(info["duration_s"])
            rates[info["sample_rate"]] += 1
            channels[info["channels"]] += 1
        if durations:
            import numpy as np

            d = np.array(durations)
            typer.echo(f"\ndurations: min {d.min():.2f} s, mean {d.mean():.2f} s, max {d.max():.2f} s, total {d.sum() / 60:.1f} min")
            typer.echo("sample rates: " + ", ".join(f"{k} Hz x{v}" for k, v in sorted(rates.items())))
            typer.echo("channels: " + ", ".join(f"{k} x{v}" for k, v in sorted(channels.items())))
    if manifest.excluded:
        reasons = Counter(reason for _, reason in manifest.excluded)
        typer.echo(f"\nexcluded by the label set: {len(manifest.excluded)} files")
        for reason, n in reasons.most_common():
            typer.echo(f"  {n:5d}  {reason}")
    typer.echo(f"\ncould not be parsed: {len(skipped)} files")
    for p, reason in skipped:
        typer.echo(f"  {p}: {reason}")


@app.command("fetch")
def fetch(
    corpus: Annotated[str, typer.Argument(help="Corpus to fetch: ravdess (Zenodo, about 200 MB) or nemo (GitHub, "
                                                "about 520 MB).")],
    to: Annotated[Path, typer.Option("--to", help="Folder to unpack into (RAVDESS: Actor_01 ... Actor_24; "
                                                  "nEMO: data.tsv and samples/).")],
    url: Annotated[Optional[str], typer.Option(help="Archive URL (default: the corpus's public home).")] = None,
    keep_zip: Annotated[bool, typer.Option(help="Keep the downloaded zip after unpacking.")] = False,
    progress: ProgressOpt = True,
) -> None:
    """Download a corpus, check every file of it, unpack it. Both are CC BY-NC-SA 4.0 (non-commercial).

    A broken download resumes when you run the same command again.
    Example: specser data fetch nemo --to ~/data/nemo
    """
    from specser.corpus.fetch import FETCHERS

    if corpus.lower() not in FETCHERS:
        fail(f"unknown corpus {corpus!r}; choose one of {', '.join(FETCHERS)}")
    fetcher, default_url = FETCHERS[corpus.lower()]
    try:
        out = fetcher(to, url or default_url, keep_zip=keep_zip, progress=progress)
    except user_errors() as exc:
        fail(str(exc))
    typer.echo(f"{corpus} is ready in {out}. Next: specser data --data {out}")
