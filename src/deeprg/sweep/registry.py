"""Point experiments a sweep can run: ``fn(**params) -> dict`` registered by name.

A point function takes keyword parameters (JSON-serializable scalars or short lists) and
returns a flat dict of scalars or 1-D lists. Heavy imports live inside the functions so that
importing the sweep package stays fast.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from deeprg.errors import InputError

PointFn = Callable[..., dict[str, Any]]


@dataclass(frozen=True)
class Experiment:
    name: str
    fn: PointFn
    params: dict[str, tuple[type, Any]]  # name -> (type, default or REQUIRED)
    description: str = ""


REQUIRED = object()
_REGISTRY: dict[str, Experiment] = {}


def register_point(
    name: str, params: dict[str, tuple[type, Any]], description: str = ""
) -> Callable[[PointFn], PointFn]:
    """Decorator registering a point experiment with its parameter schema."""

    def deco(fn: PointFn) -> PointFn:
        _REGISTRY[name] = Experiment(name, fn, params, description)
        return fn

    return deco


def get_experiment(name: str) -> Experiment:
    if name not in _REGISTRY:
        raise InputError(
            f"sweep spec: experiment must be one of {', '.join(sorted(_REGISTRY))}; got {name!r}"
        )
    return _REGISTRY[name]


def experiments() -> dict[str, Experiment]:
    return dict(sorted(_REGISTRY.items()))


# ---------------------------------------------------------------- built-in experiments


@register_point(
    "toy",
    {
        "x": (float, REQUIRED),
        "y": (float, 0.0),
        "seed": (int, 0),
        "sleep": (float, 0.0),
        "fail_if_x": (float, math.nan),
        "spin": (float, 0.0),
        "marker": (str, ""),
    },
    "deterministic test function: value = x² + y + 0.001·seed; optional sleep, CPU spin, failure "
    "and a marker file recording every evaluation",
)
def toy(
    x: float,
    y: float = 0.0,
    seed: int = 0,
    sleep: float = 0.0,
    fail_if_x: float = math.nan,
    spin: float = 0.0,
    marker: str = "",
) -> dict[str, Any]:
    if marker:
        with open(marker, "a") as fh:
            fh.write(f"{x} {y} {seed}\n")
    if x == fail_if_x:
        raise ValueError(f"toy point failed on purpose at x={x}")
    if sleep > 0:
        time.sleep(sleep)
    if spin > 0:  # CPU-bound work for efficiency benchmarks
        t = time.perf_counter()
        acc = 0.0
        while time.perf_counter() - t < spin:
            acc += sum(i * i for i in range(1000))
    return {"value": x * x + y + 0.001 * seed, "pair": [x, y]}


@register_point(
    "bpkr",
    {
        "data": (str, "teacher"),
        "P": (int, 60),
        "P_test": (int, 1000),
        "N0": (int, 0),
        "seed": (int, 0),
        "widths": (list, REQUIRED),
        "sigma2": (float, 1.0),
        "T": (float, 0.05),
        "mode": (str, "saddle"),
    },
    "BPKR theory of a deep linear network: u, U, eps_g, bias2, variance, log_evidence",
)
def bpkr_point(
    data: str,
    P: int,
    P_test: int,
    N0: int,
    seed: int,
    widths: list,
    sigma2: float,
    T: float,
    mode: str,
) -> dict[str, Any]:
    from deeprg.bpkr import fit, report
    from deeprg.data import make_dataset

    split = make_dataset(data, P=P, P_test=P_test, N0=N0 or None, seed=seed)
    rep = report(fit(split.X, split.y, widths, sigma2, T, mode), split.X_test, split.y_test)
    keys = ("U", "eps_g", "bias2", "variance", "train_error", "log_evidence", "converged")
    return {k: rep[k] for k in keys} | {"u": rep["u"]}


@register_point(
    "replica",
    {
        "L": (int, REQUIRED),
        "alpha": (float, REQUIRED),
        "scenario": (str, "random"),
        "closure": (str, "A"),
        "margin": (float, 0.0),
    },
    "RS layered replica theory at one alpha (no continuation): q, Q per layer, f",
)
def replica_point(
    L: int, alpha: float, scenario: str, closure: str, margin: float
) -> dict[str, Any]:
    import numpy as np

    from deeprg.perceptron.replica import solve_path

    # continuation from alpha = 1 (liquid) to the requested alpha, so each point is self-contained
    sol = solve_path(
        L,
        np.geomspace(min(1.0, alpha), alpha, 12),
        scenario=scenario,
        closure=closure,
        margin=margin,
    )[-1]
    out = {"q": sol.q.tolist(), "Q": sol.Q.tolist(), "f": sol.f, "converged": sol.converged}
    if sol.eps_g is not None:
        out["eps_g"] = sol.eps_g
    return out


@register_point(
    "compare",
    {
        "data": (str, "teacher"),
        "P": (int, 60),
        "P_test": (int, 500),
        "N0": (int, 0),
        "seed": (int, 0),
        "widths": (list, REQUIRED),
        "sigma2": (float, 1.0),
        "T": (float, 0.05),
        "sampler": (str, "gibbs"),
        "chains": (int, 16),
        "steps": (int, 1000),
    },
    "theory vs posterior sampling of the finite network (deeprg compare)",
)
def compare_point(
    data: str,
    P: int,
    P_test: int,
    N0: int,
    seed: int,
    widths: list,
    sigma2: float,
    T: float,
    sampler: str,
    chains: int,
    steps: int,
) -> dict[str, Any]:
    from deeprg.data import make_dataset
    from deeprg.experiments.compare import compare

    split = make_dataset(data, P=P, P_test=P_test, N0=N0 or None, seed=seed)
    cr = compare(
        split,
        widths,
        sigma2,
        T,
        sampler=sampler,
        chains=chains,
        steps=steps,
        seed=seed,
        progress=False,
    )
    s = cr.sampler
    out = {
        f"sim_{k}": s[k]
        for k in (
            "eps_g",
            "eps_g_se",
            "bias2",
            "variance",
            "a2_over_N",
            "a2_over_N_se",
            "rhat_max",
            "ess_min",
        )
    }
    for mode, rep in cr.theory.items():
        out[f"{mode}_eps_g"] = rep["eps_g"]
    return out
