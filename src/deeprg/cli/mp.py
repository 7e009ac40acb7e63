"""``deeprg mp``: message passing on one instance of a deep perceptron network."""

from __future__ import annotations

from pathlib import Path

import typer

from deeprg.cli.app import app
from deeprg.cli.models import model_command
from deeprg.perceptron.mp.config import MPConfig


@app.command()
@model_command(MPConfig)
def mp(
    config: MPConfig,
    out: Path | None = typer.Option(None, "--out", help="Write the xarray Dataset (netCDF)."),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Relaxed BP (Gaussian closure on the fields) to a fixed point: gauge-invariant overlaps
    Q(l), q(l), the Nishimori consistency (teacher) and the convergence report."""
    from deeprg.perceptron.mp.dataset import summary, to_dataset
    from deeprg.perceptron.mp.run import solve
    from deeprg.results import check_writable, to_json, write_dataset

    if out is not None:
        check_writable(out, what="--out")
    res = solve(config)
    if out is not None:
        write_dataset(to_dataset(res, config), out, config=config.to_dict(), seed=config.seed)
    if json_out:
        typer.echo(to_json(summary(res)))
        return
    state = "converged" if res.converged else "NOT converged"
    if res.stalled:
        state += f" (stalled: no 10 % progress of the residual over {config.stall} iterations)"
    typer.echo(
        f"{state}: {res.iterations} iterations, residual {res.residual:.2e} (tol "
        f"{config.tol:g}), overlap drift {res.drift:.1e} over the last 20 iterations, "
        f"{res.elapsed_s:.1f} s"
    )
    typer.echo("Q per weight layer:  " + " ".join(f"{v:.4f}" for v in res.Q))
    typer.echo("q per neuron layer:  " + " ".join(f"{v:.4f}" for v in res.q))
    if config.scenario == "teacher":
        typer.echo(f"Nishimori gap max|Q - Q_self|, |q - q_self|: {res.nishimori_gap:.4f}")
