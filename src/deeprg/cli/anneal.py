"""``deeprg anneal``: population annealing in α at T = 0 (Gardner volume, overlaps)."""

from __future__ import annotations

from pathlib import Path

import typer

from deeprg.cli.app import app
from deeprg.cli.models import model_command
from deeprg.perceptron.montecarlo.config import AnnealConfig


@app.command()
@model_command(AnnealConfig)
def anneal(
    config: AnnealConfig,
    out: Path | None = typer.Option(None, "--out", help="Write the xarray Dataset (netCDF)."),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Population annealing from α = 0: log Gardner volume per weight, overlaps, families."""
    import numpy as np

    from deeprg.perceptron.montecarlo.anneal import anneal as run
    from deeprg.results import check_writable, to_json, write_dataset

    if out is not None:
        check_writable(out, what="--out")
    ds = run(config)
    if out is not None:
        write_dataset(ds, out, config=config.to_dict(), seed=config.seed)
    meas = ds.dropna("alpha", subset=["Q"], how="all")

    def rows(v):
        return [[None if not np.isfinite(x) else float(x) for x in r] for r in meas[v].values]

    summary = {
        "alpha": ds["alpha"].values.tolist(),
        "log_volume": ds["log_volume"].values.tolist(),
        "families": ds["families"].values.tolist(),
        "R_eff": ds["R_eff"].values.tolist(),
        "alpha_measured": meas["alpha"].values.tolist(),
        "q": rows("q"),
        "Q": rows("Q"),
        "elapsed_s": ds.attrs["elapsed_s"],
    }
    if "log_volume_se" in ds:  # --runs > 1: run-to-run standard errors
        summary["log_volume_se"] = ds["log_volume_se"].values.tolist()
        summary["Q_se"] = rows("Q_se")
        summary["q_se"] = rows("q_se")
    if json_out:
        typer.echo(to_json(summary))
        return
    what = "student-teacher" if config.scenario == "teacher" else "replica"
    typer.echo(f"alpha   log V/weight   families   R_eff   {what} Q per weight layer")
    for a in meas["alpha"].values:
        p = ds.sel(alpha=a)
        Q = " ".join(f"{v:.3f}" for v in p["Q"].values)
        typer.echo(
            f"{a:6.3f}   {float(p['log_volume']):12.5f}   {int(p['families']):8d}   "
            f"{float(p['R_eff']):5.1f}   {Q}"
        )
    if float(ds["R_eff"].values[-1]) < 10:
        typer.echo(
            "warning: R_eff < 10 at the end: raise --population, --runs or --sweeps "
            "(--target-acceptance, --decorrelation)",
            err=True,
        )
