"""``deeprg compare``: theory vs posterior sampling of the finite network (issue 3)."""

from __future__ import annotations

from pathlib import Path

import typer

from deeprg.cli.app import app
from deeprg.cli.models import model_command
from deeprg.experiments.configs import CompareConfig


@app.command()
@model_command(CompareConfig, flags={"T": ("--temperature", "-T")})
def compare(
    config: CompareConfig,
    checkpoint: Path | None = typer.Option(
        None,
        "--checkpoint",
        help="Checkpoint .npz: resumes a run with the same configuration, refuses any other.",
    ),
    overwrite: bool = typer.Option(
        False, "--overwrite", help="Discard an existing checkpoint instead of resuming it."
    ),
    out: Path | None = typer.Option(None, "--out", help="Write results to this netCDF file."),
    trace: Path | None = typer.Option(
        None,
        "--trace",
        help="Write the kept draws as ArviZ InferenceData (netCDF; arviz.from_netcdf reads it).",
    ),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object to stdout."),
) -> None:
    """Run theory (saddle, exact, GP) and a sampler; report each observable with MC errors."""
    from deeprg.experiments.compare import compare_dataset, plot_compare, run_compare
    from deeprg.results import check_writable, to_json, write_dataset

    if out is not None:
        check_writable(out, what="--out")
    if checkpoint is not None:
        check_writable(checkpoint, what="--checkpoint")
    if trace is not None:
        check_writable(trace, what="--trace")
    split = config.load()
    seed, sampler = config.seed, config.sampler
    cr = run_compare(
        config,
        split=split,
        checkpoint=checkpoint,
        progress=None if not json_out else False,
        overwrite=overwrite,
    )
    if out is not None:
        cfg = cr.to_json() | {"data": split.info}
        write_dataset(compare_dataset(cr), out, config=cfg, seed=seed)
        plot_compare(cr, out.with_suffix(".png"))
    if trace is not None:
        from deeprg.identity import identity
        from deeprg.results import write_with_fallback

        idata = cr.run.to_inference_data(identity(cr.config))
        write_with_fallback(trace, lambda tmp: idata.to_netcdf(str(tmp)))
    if not cr.sampler["equilibrated"]:
        typer.echo(
            f"warning: the chains are not shown to be in equilibrium (R-hat max "
            f"{cr.sampler['rhat_max']:.3f}, ESS min {cr.sampler['ess_min']:.0f}; need "
            f"{cr.sampler['equilibrium_criterion']}): run longer (--steps) or more chains",
            err=True,
        )
    if json_out:
        typer.echo(to_json(cr.to_json()))
        return
    s = cr.sampler
    typer.echo(f"{'source':10s} {'eps_g':>10s} {'bias2':>10s} {'variance':>10s} {'a2/N':>10s}")
    for mode, rep in cr.theory.items():
        typer.echo(
            f"{mode:10s} {rep['eps_g']:10.5f} {rep['bias2']:10.5f} {rep['variance']:10.5f} {rep['u'][-1]:10.5f}"
        )
    typer.echo(
        f"{sampler:10s} {s['eps_g']:10.5f} {s['bias2']:10.5f} {s['variance']:10.5f} {s['a2_over_N']:10.5f}"
    )
    typer.echo(f"{'± se':10s} {s['eps_g_se']:10.5f} {'':10s} {'':10s} {s['a2_over_N_se']:10.5f}")
    for mode, d in cr.deviations.items():
        typer.echo(
            f"deviation from {mode}: eps_g {d['eps_g']:+.2f} se, a2/N {d['a2_over_N']:+.2f} se, "
            f"U {d['U']:+.2f} se"
            + "".join(f", {k} {v:.2f} (|ΔK|/|se|)" for k, v in d.items() if k.startswith("K_"))
        )
    typer.echo(
        f"R-hat max {s['rhat_max']:.3f}, ESS min {s['ess_min']:.0f}, acceptance {s['acceptance']:.2f}"
    )
