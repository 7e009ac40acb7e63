"""``deeprg reproduce NAME``: one command per published result (see deeprg.experiments)."""

from __future__ import annotations

from pathlib import Path

import typer

from deeprg.cli.app import app


@app.command()
def reproduce(
    name: str = typer.Argument("", help="Reproduction name; empty to list them."),
    quick: bool = typer.Option(True, "--quick/--full", help="Quick (<10 min) or full size."),
    out: Path = typer.Option(Path("reproductions"), help="Output directory."),
    seed: int = typer.Option(0, help="Master seed."),
) -> None:
    """Reproduce a published result: writes OUT/NAME.nc and figures, prints an agreement summary."""
    from deeprg.experiments import registry

    if not name:
        for rep in registry.available().values():
            typer.echo(f"{rep.name:28s} {rep.description}")
        return
    path, res = registry.run_reproduction(
        name, size="quick" if quick else "full", seed=seed, out_dir=out
    )
    typer.echo(res.summary)
    typer.echo(f"data: {path}")
    for fig in res.figures:
        typer.echo(f"figure: {fig}")
