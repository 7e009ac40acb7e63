"""``deeprg plot FILE.nc``: regenerate the figure of a saved result from the file alone."""

from __future__ import annotations

from pathlib import Path

import typer

from deeprg.cli.app import app


@app.command()
def plot(
    path: Path = typer.Argument(..., help="A netCDF file written by a deeprg command."),
    out: Path | None = typer.Option(None, "--out", help="Figure path (default: FILE.png)."),
) -> None:
    """Draw the figure of a result file (demo, compare, mc, replica, anneal)."""
    from deeprg.experiments.figures import plot_file
    from deeprg.results import check_writable

    target = out if out is not None else path.with_suffix(".png")
    check_writable(target, what="--out")
    typer.echo(f"figure: {plot_file(path, target)}")
