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
    """BPKR theory (saddle, exact, GP) vs width on two-class digits, and Gibbs samples."""
    import time

    from rich.console import Console
    from rich.table import Table

    from deeprg.cli.app import say_stage
    from deeprg.errors import check_int
    from deeprg.experiments.demo import run_demo
    from deeprg.results import check_writable

    check_int("--seed", seed, minimum=0)
    check_writable(out, kind="dir", what="--out")
    t0 = time.perf_counter()
    res = run_demo(out, seed=seed, stage=say_stage)
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
    sim = Table(title="blocked-Gibbs samples of the finite network vs exact theory")
    for col in ("width", "ε_g Gibbs", "± se", "ε_g exact", "dev (se)", "R-hat"):
        sim.add_column(col, justify="right")
    for n in ds["sim_width"].values:
        e, se = (
            float(ds["gibbs_eps_g"].sel(sim_width=n)),
            float(ds["gibbs_eps_g_se"].sel(sim_width=n)),
        )
        ex = float(ds["eps_g"].sel(mode="exact", width=n)) if n in ds["width"] else float("nan")
        rh = float(ds["gibbs_rhat_max"].sel(sim_width=n))
        sim.add_row(
            str(int(n)), f"{e:.4f}", f"{se:.4f}", f"{ex:.4f}", f"{(e - ex) / se:+.2f}", f"{rh:.3f}"
        )
    console.print(sim)
    from deeprg.sampling.run import RHAT_MAX

    bad = [
        int(n) for n in ds["sim_width"].values if ds["gibbs_rhat_max"].sel(sim_width=n) > RHAT_MAX
    ]
    if bad:
        typer.echo(
            f"warning: at widths {bad} the chains are not shown to be in equilibrium "
            f"(R-hat > {RHAT_MAX}); their errors may be underestimated",
            err=True,
        )
    console.print(f"wrote {out / 'demo.nc'} and {res.figure}  ({time.perf_counter() - t0:.1f} s)")
