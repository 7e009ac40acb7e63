"""``deeprg demo``: the main job on built-in data (theory, and simulations as they land)."""

from __future__ import annotations

from pathlib import Path

import typer

from deeprg.cli.app import app


@app.command()
def demo(
    out: Path = typer.Option(Path("deeprg-demo"), help="Output directory for .nc and .png files."),
    seed: int = typer.Option(0, help="Seed for data subsampling and simulations."),
) -> None:
    """Run the built-in demonstration on two-class digits and write results to OUT."""
    typer.echo("deeprg demo: not yet implemented")
