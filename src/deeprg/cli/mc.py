"""``deeprg mc``: Monte Carlo of deep perceptron networks with layer-resolved observables."""

from __future__ import annotations

from pathlib import Path

import typer

from deeprg.cli.app import app
from deeprg.cli.models import model_command
from deeprg.perceptron.montecarlo.config import MCConfig


@app.command()
@model_command(MCConfig, flags={"t_w": "--tw"})
def mc(
    config: MCConfig,
    workers: int = typer.Option(1, "--workers", help="Worker processes over samples."),
    store: Path | None = typer.Option(
        None,
        "--store",
        help="Directory for per-sample results: resumes a run with the same configuration "
        "(more --samples extend it), refuses any other.",
    ),
    overwrite: bool = typer.Option(
        False, "--overwrite", help="Discard the samples in --store instead of resuming."
    ),
    out: Path | None = typer.Option(None, "--out", help="Write the xarray Dataset (netCDF)."),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Host/guest clone protocol: overlaps q(l; t), Q(l; t), energies and τ(l) per layer;
    teacher–student runs add ε_g and the Nishimori diagnostics (clone–clone vs student–teacher
    overlaps; a failure is reported on stderr and in the file's attributes)."""
    from deeprg.errors import check_int
    from deeprg.perceptron.montecarlo import run_mc, summary
    from deeprg.perceptron.montecarlo.dataset import nishimori_failed
    from deeprg.results import check_writable, to_json, write_dataset

    check_int("--workers", workers)
    if out is not None:
        check_writable(out, what="--out")
    cfg = config
    ds = run_mc(
        cfg,
        workers=workers,
        store=store,
        progress=None if not json_out else False,
        overwrite=overwrite,
    )
    summ = summary(ds)
    if out is not None:
        write_dataset(ds, out, config=cfg.to_dict(), seed=cfg.seed)
    if nishimori_failed(ds):
        typer.echo(
            f"warning: Nishimori diagnostics fail ({ds.attrs['nishimori']}): clone-clone and "
            "student-teacher overlaps differ beyond 3 standard errors, the run is not in "
            "equilibrium",
            err=True,
        )
    if json_out:
        typer.echo(to_json(summ))
        return
    typer.echo(
        f"final energy {summ['energy_final']:.4g}, violated gaps {summ['violations_final']:.1f}"
    )
    typer.echo("layer   q(final)   tau")
    for l, (q, tau) in enumerate(zip(summ["q"], summ["tau"], strict=True)):
        typer.echo(f"{l:5d}   {q:8.4f}   {'-' if tau is None else f'{tau:.3g}'}")
    typer.echo("weight overlaps Q: " + " ".join(f"{v:.3f}" for v in summ["Q"]))
    if summ.get("nishimori") is not None:
        typer.echo(f"Nishimori: {summ['nishimori']['status']}")
