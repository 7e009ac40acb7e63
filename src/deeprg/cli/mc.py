"""``deeprg mc``: Monte Carlo of deep perceptron networks with layer-resolved observables."""

from __future__ import annotations

from pathlib import Path

import typer

from deeprg.cli.app import app


@app.command()
def mc(
    L: int = typer.Option(6, "--L", help="Weight layers (neuron layers 0..L)."),
    N: int = typer.Option(20, "--N", help="Hidden width."),
    alpha: float = typer.Option(2.0, "--alpha", help="α = M/c (M training patterns)."),
    c: int | None = typer.Option(
        None, "--c", help="Inputs per unit: sparse random c-regular graph (default c = N)."
    ),
    N_in: int | None = typer.Option(None, "--N-in", help="Input width (default N)."),
    N_out: int | None = typer.Option(None, "--N-out", help="Output width (default N)."),
    scenario: str = typer.Option("random", "--scenario", help="random|teacher."),
    T: float = typer.Option(0.0, "--T", help="Temperature (0 = greedy)."),
    kappa: float = typer.Option(0.0, "--kappa", help="Gap margin κ >= 0."),
    move: str = typer.Option(
        "pcn", "--move", help="pcn (Gaussian prior, paper eq. 35) | rotation (spherical)."
    ),
    t_w: int = typer.Option(64, "--tw", help="Waiting time before cloning (MC steps)."),
    steps: int = typer.Option(256, "--steps", help="MC steps after cloning."),
    samples: int = typer.Option(4, "--samples", help="Independent samples."),
    clones: int = typer.Option(
        2, "--clones", help="Replicas cloned at t_w (>= 3: overlap histograms, ultrametricity)."
    ),
    T_anneal: float | None = typer.Option(
        None, "--T-anneal", help="Anneal from this temperature to T during the waiting time."
    ),
    pt_n: int = typer.Option(1, "--pt-n", help="Parallel tempering: temperatures (1 = off)."),
    pt_T_max: float = typer.Option(1.0, "--pt-T-max", help="Highest tempering temperature."),
    pt_every: int = typer.Option(1, "--pt-every", help="MC steps between swap attempts."),
    workers: int = typer.Option(1, "--workers", help="Worker processes over samples."),
    seed: int = typer.Option(0, "--seed", help="Master seed."),
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
    """Host/guest clone protocol: overlaps q(l; t), Q(l; t), energies and τ(l) per layer."""
    from deeprg.errors import check_int
    from deeprg.perceptron.montecarlo import MCConfig, run_mc, summary
    from deeprg.results import check_writable, to_json, write_dataset

    check_int("--workers", workers)
    if out is not None:
        check_writable(out, what="--out")
    cfg = MCConfig(
        L=L,
        N=N,
        alpha=alpha,
        N_in=N_in,
        N_out=N_out,
        c=c,
        scenario=scenario,
        T=T,
        kappa=kappa,
        move=move,
        t_w=t_w,
        steps=steps,
        samples=samples,
        seed=seed,
        clones=clones,
        pt_n=pt_n,
        pt_T_max=pt_T_max,
        pt_every=pt_every,
        T_anneal=T_anneal,
    ).validate()
    ds = run_mc(
        cfg,
        workers=workers,
        store=store,
        progress=None if not json_out else False,
        overwrite=overwrite,
    )
    summ = summary(ds)
    if out is not None:
        from dataclasses import asdict

        write_dataset(ds, out, config=asdict(cfg), seed=seed)
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
