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


RSB_ALPHA_MAX = 400.0  # k-RSB validated range (docs/replica.md)


@app.command()
def replica(
    L: int = typer.Option(10, "--L", help="Number of weight layers (neuron layers 0..L)."),
    alpha: str = typer.Option("1:2000:log200", "--alpha", help="α = M/c: value, list or a:b:logN."),
    scenario: str = typer.Option("random", "--scenario", help="random|teacher."),
    closure: str = typer.Option("A", "--closure", help="A (triple product) | B (cavity)."),
    rsb: int = typer.Option(0, "--rsb", help="RSB steps: 0 (RS), 1 or 2 (random, closure A)."),
    margin: float = typer.Option(0.0, "--margin", help="Gap margin κ >= 0 (random scenario)."),
    field: float = typer.Option(
        0.0, "--field", help="Teacher only: symmetry-breaking side channel h_b on hidden layers."
    ),
    out: Path | None = typer.Option(
        None,
        "--out",
        help="Write the xarray Dataset (netCDF): q on layer 0..L, Q on wlayer 1..L (as deeprg mc).",
    ),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Solve the layered replica theory along an α grid (continuation): RS or k-RSB."""
    from deeprg.errors import InputError, check_choice, check_int, check_positive
    from deeprg.perceptron.replica import CLOSURES, SCENARIOS, path_dataset, solve_path
    from deeprg.results import check_writable, to_json, write_dataset

    check_int("--L", L)
    check_choice("--scenario", scenario, SCENARIOS)
    check_choice("--closure", closure, CLOSURES)
    check_int("--rsb", rsb, minimum=0, maximum=2)
    check_positive("--margin", margin, allow_zero=True)
    check_positive("--field", field, allow_zero=True)
    if rsb and (scenario != "random" or closure != "A"):
        raise InputError(
            "--rsb 1|2 is implemented for --scenario random --closure A (teacher–student is RS "
            "by the Nishimori symmetry)"
        )
    if closure == "B" and scenario == "teacher":
        raise InputError("--closure B is implemented for --scenario random only (spec §3.7)")
    if field and scenario != "teacher":
        raise InputError("--field is for --scenario teacher only")
    alphas = parse_alpha(alpha)
    if out is not None:
        check_writable(out, what="--out")
    if rsb and max(alphas) > RSB_ALPHA_MAX:
        raise InputError(
            f"--rsb 1|2: alpha must be <= {RSB_ALPHA_MAX:g} (beyond, the breakpoint equation drives "
            f"the boundary layers to q = 1, see docs/replica.md); got max {max(alphas):g}"
        )
    cfg = {
        "L": L,
        "alpha": alphas,
        "scenario": scenario,
        "closure": closure,
        "rsb": rsb,
        "margin": margin,
        "field": field,
    }
    if rsb:
        from deeprg.perceptron.replica import rsb_dataset, rsb_path

        rsols = rsb_path(L, alphas, rsb, margin=margin)
        ds = rsb_dataset(rsols)
        obj = {
            "alpha": [s.alpha for s in rsols],
            "q": [s.q[:, -1].tolist() for s in rsols],
            "Q": [s.Q[:, -1].tolist() for s in rsols],
            "converged": [s.converged for s in rsols],
            "status": [s.status for s in rsols],
            "residual": [s.residual for s in rsols],
            "f": [_f(s) for s in rsols],
            "x": [s.x.tolist() for s in rsols],
            "q_levels": [s.q.tolist() for s in rsols],
            "Q_levels": [s.Q.tolist() for s in rsols],
            "levels": [s.levels.tolist() for s in rsols],
        }
        lines = [
            f"alpha={s.alpha:10.4g}  x={' '.join(f'{v:.3f}' for v in s.x)}  "
            f"q_max={' '.join(f'{v:.3f}' for v in s.q[:, -1])}  levels={s.levels.tolist()}  "
            f"status={s.status}"
            for s in rsols
        ]
        sols_all: list = list(rsols)
    else:
        kw = {"field": field} if field else {}
        sols = solve_path(L, alphas, scenario=scenario, closure=closure, margin=margin, **kw)
        ds = path_dataset(sols)
        obj = {
            "alpha": [s.alpha for s in sols],
            "q": [s.q.tolist() for s in sols],
            "Q": [s.Q.tolist() for s in sols],
            "converged": [s.converged for s in sols],
            "status": [s.status for s in sols],
            "residual": [s.residual for s in sols],
            "f": [_f(s) for s in sols],
        }
        if scenario == "teacher":
            obj["eps_g"] = [s.eps_g for s in sols]
        lines = [
            f"alpha={s.alpha:10.4g}  q={' '.join(f'{v:.3f}' for v in s.q)}  "
            f"Q={' '.join(f'{v:.3f}' for v in s.Q)}  status={s.status}"
            + (f"  eps_g={s.eps_g:.4f}" if s.eps_g is not None else "")
            for s in sols
        ]
        sols_all = list(sols)
    if out is not None:
        write_dataset(ds, out, config=cfg)
    if json_out:
        typer.echo(to_json(obj))
        return
    for line in lines:
        typer.echo(line)
    typer.echo(_summary(sols_all, L, margin, scenario))


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
