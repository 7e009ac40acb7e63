"""``deeprg replica``: RS layered replica theory of deep perceptron networks."""

from __future__ import annotations

from pathlib import Path

import typer

from deeprg.cli.app import app
from deeprg.cli.models import model_command
from deeprg.perceptron.replica.config import ReplicaConfig, parse_alpha

__all__ = ["parse_alpha", "replica"]


@app.command()
@model_command(ReplicaConfig)
def replica(
    config: ReplicaConfig,
    out: Path | None = typer.Option(
        None,
        "--out",
        help="Write the xarray Dataset (netCDF): q on layer 0..L, Q on wlayer 1..L (as deeprg mc).",
    ),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Solve the layered replica theory along an α grid (continuation): RS or k-RSB."""
    from deeprg.perceptron.replica.config import run_replica
    from deeprg.results import check_writable, to_json, write_dataset

    c = config
    if out is not None:
        check_writable(out, what="--out")
    sols, ds = run_replica(c)
    obj = {
        "alpha": [s.alpha for s in sols],
        "q": [(s.q[:, -1] if c.rsb else s.q).tolist() for s in sols],
        "Q": [(s.Q[:, -1] if c.rsb else s.Q).tolist() for s in sols],
        "converged": [s.converged for s in sols],
        "status": [s.status for s in sols],
        "residual": [s.residual for s in sols],
        "f": [_f(s) for s in sols],
    }
    if c.rsb:
        obj |= {
            "x": [s.x.tolist() for s in sols],
            "q_levels": [s.q.tolist() for s in sols],
            "Q_levels": [s.Q.tolist() for s in sols],
            "levels": [s.levels.tolist() for s in sols],
        }
        lines = [
            f"alpha={s.alpha:10.4g}  x={' '.join(f'{v:.3f}' for v in s.x)}  "
            f"q_max={' '.join(f'{v:.3f}' for v in s.q[:, -1])}  levels={s.levels.tolist()}  "
            f"status={s.status}"
            for s in sols
        ]
    else:
        if c.scenario == "teacher":
            obj["eps_g"] = [s.eps_g for s in sols]
        lines = [
            f"alpha={s.alpha:10.4g}  q={' '.join(f'{v:.3f}' for v in s.q)}  "
            f"Q={' '.join(f'{v:.3f}' for v in s.Q)}  status={s.status}"
            + (f"  eps_g={s.eps_g:.4f}" if s.eps_g is not None else "")
            for s in sols
        ]
    sols_all = sols
    alphas = c.alphas
    if out is not None:
        write_dataset(ds, out, config=c.to_dict() | {"alphas": alphas})
    if json_out:
        typer.echo(to_json(obj))
        return
    for line in lines:
        typer.echo(line)
    typer.echo(_summary(sols_all, c.L, c.margin, c.scenario))


def _f(sol) -> float | None:
    """The free entropy, or None where it is not one (beyond capacity it diverges)."""
    return None if sol.status == "unsat" else float(sol.f)


def _summary(sols: list, L: int, margin: float, scenario: str) -> str:
    """One line: how many α points converged, and which are beyond capacity or unconverged."""
    from deeprg.perceptron.replica import gardner_capacity

    n = len(sols)
    unsat = [s.alpha for s in sols if s.status == "unsat"]
    bad = [s.alpha for s in sols if s.status == "not_converged"]
    text = f"{n - len(unsat) - len(bad)} of {n} alpha points converged"
    if unsat:
        text += (
            f"; {len(unsat)} UNSAT (beyond capacity: overlaps run to 1, free entropy diverges; "
            f"alpha >= {min(unsat):.4g}"
        )
        if L == 1 and scenario == "random":
            text += f", Gardner alpha_c(kappa={margin:g}) = {gardner_capacity(margin):.4g}"
        text += ")"
    if bad:
        text += f"; {len(bad)} NOT CONVERGED (alpha = {', '.join(f'{a:.4g}' for a in bad)})"
    return text
