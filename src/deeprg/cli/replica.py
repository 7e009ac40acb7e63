"""``deeprg replica``: RS layered replica theory of deep perceptron networks."""

from __future__ import annotations

from pathlib import Path

import typer

from deeprg.cli.app import app


def parse_alpha(text: str) -> list[float]:
    """'a:b:logN' / 'a:b:linN' grids, a comma list, or one value."""
    import numpy as np

    from deeprg.cli.app import parse_floats
    from deeprg.errors import InputError

    if ":" in text:
        parts = text.split(":")
        if len(parts) != 3 or not (parts[2].startswith("log") or parts[2].startswith("lin")):
            raise InputError(
                f"--alpha grid must look like 1:2000:log200 or 1:10:lin10, got {text!r}"
            )
        try:
            a, b, n = float(parts[0]), float(parts[1]), int(parts[2][3:])
        except ValueError:
            raise InputError(f"--alpha grid must look like 1:2000:log200, got {text!r}") from None
        if not (0 < a < b) or n < 2:
            raise InputError(f"--alpha grid needs 0 < start < stop and >= 2 points, got {text!r}")
        return list(np.geomspace(a, b, n) if parts[2].startswith("log") else np.linspace(a, b, n))
    vals = parse_floats("--alpha", text)
    if not vals or any(v <= 0 for v in vals):
        raise InputError(f"--alpha values must be > 0, got {text!r}")
    return vals


@app.command()
def replica(
    L: int = typer.Option(10, "--L", help="Number of weight layers (neuron layers 0..L)."),
    alpha: str = typer.Option("1:2000:log200", "--alpha", help="α = M/c: value, list or a:b:logN."),
    scenario: str = typer.Option("random", "--scenario", help="random|teacher."),
    closure: str = typer.Option("A", "--closure", help="A (triple product) | B (cavity)."),
    rsb: int = typer.Option(0, "--rsb", help="RSB steps (only 0 = RS is available)."),
    margin: float = typer.Option(0.0, "--margin", help="Gap margin κ >= 0 (random scenario)."),
    out: Path | None = typer.Option(None, "--out", help="Write the xarray Dataset (netCDF)."),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Solve the RS saddle point of the layered chain along an α grid (continuation)."""
    from deeprg.errors import InputError, check_choice, check_int
    from deeprg.perceptron.replica import CLOSURES, SCENARIOS, path_dataset, solve_path
    from deeprg.results import to_json, write_dataset

    check_int("--L", L)
    check_choice("--scenario", scenario, SCENARIOS)
    check_choice("--closure", closure, CLOSURES)
    if rsb != 0:
        raise InputError("--rsb: only 0 (replica symmetric) is implemented so far")
    alphas = parse_alpha(alpha)
    sols = solve_path(L, alphas, scenario=scenario, closure=closure, margin=margin)
    ds = path_dataset(sols)
    cfg = {
        "L": L,
        "alpha": alphas,
        "scenario": scenario,
        "closure": closure,
        "rsb": rsb,
        "margin": margin,
    }
    if out is not None:
        write_dataset(ds, out, config=cfg)
    if json_out:
        obj = {
            "alpha": [s.alpha for s in sols],
            "q": [s.q.tolist() for s in sols],
            "Q": [s.Q.tolist() for s in sols],
            "converged": [s.converged for s in sols],
            "f": [s.f for s in sols],
        }
        if scenario == "teacher":
            obj["eps_g"] = [s.eps_g for s in sols]
        typer.echo(to_json(obj))
        return
    for s in sols:
        typer.echo(
            f"alpha={s.alpha:10.4g}  q={' '.join(f'{v:.3f}' for v in s.q)}  "
            f"Q={' '.join(f'{v:.3f}' for v in s.Q)}  conv={s.converged}"
        )
