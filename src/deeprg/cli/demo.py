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
    """BPKR theory (saddle, exact finite width, GP) vs width on two-class digits."""
    import time

    from rich.console import Console
    from rich.table import Table

    from deeprg.experiments.demo import run_demo

    t0 = time.perf_counter()
    res = run_demo(out, seed=seed)
    ds, cfg = res.dataset, res.config
    table = Table(
        title=f"deep linear net L={cfg['L']}, digits {cfg['classes']}, P={cfg['P']}, "
        f"σ²={cfg['sigma2']}, T={cfg['T']}"
    )
    table.add_column("width", justify="right")
    for mode in ds["mode"].values:
        table.add_column(f"ε_g {mode}", justify="right")
    table.add_column("U saddle", justify="right")
    table.add_column("U exact", justify="right")
    for n in ds["width"].values:
        row = [str(int(n))]
        row += [f"{float(ds['eps_g'].sel(mode=m, width=n)):.4f}" for m in ds["mode"].values]
        row += [f"{float(ds['U'].sel(mode=m, width=n)):.4f}" for m in ("saddle", "exact")]
        table.add_row(*row)
    console = Console()
    console.print(table)
    console.print(f"wrote {out / 'demo.nc'} and {res.figure}  ({time.perf_counter() - t0:.1f} s)")
