"""xarray Datasets of replica solutions in the package's result schema (issue 12 item 2).

Canonical dims, shared with the Monte Carlo (:func:`deeprg.perceptron.montecarlo.run_mc`):
``layer`` = neuron layers 0..L (q, and q̂ on the interior layers 1..L−1, NaN on the clamped
layers 0 and L), ``wlayer`` = weight layers 1..L (Q); ``alpha`` the load; for k-RSB ``level``
(Parisi level i = 0..k) and ``breakpoint`` (i = 1..k). A replica Dataset and an MC Dataset thus
merge with ``xr.merge`` without reindexing. Every data variable and coordinate carries
``long_name``, ``units`` ("1": dimensionless) and ``description`` (:data:`ATTRS`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import xarray as xr

    from deeprg.perceptron.replica.rs import RSSolution
    from deeprg.perceptron.replica.rsb import RSBSolution


def _a(long_name: str, description: str, units: str = "1") -> dict[str, str]:
    return {"long_name": long_name, "units": units, "description": description}


ATTRS: dict[str, dict[str, str]] = {
    "alpha": _a("load alpha = M/c", "training patterns M per input connection c"),
    "layer": _a("neuron layer", "neuron layers l = 0..L (0: clamped inputs, L: clamped outputs)"),
    "wlayer": _a("weight layer", "weight layers l = 1..L (layer l maps neurons l-1 to l)"),
    "level": _a("Parisi level", "level i = 0..k of the k-RSB Parisi ansatz (k: top level)"),
    "breakpoint": _a("Parisi breakpoint index", "breakpoint x_i, i = 1..k"),
    "q": _a(
        "neuron overlap q",
        "replica overlap of the neurons of layer l (q_0 = q_L = 1, clamped by the patterns); "
        "k-RSB: per Parisi level, the top level being the within-state overlap",
    ),
    "Q": _a(
        "weight overlap Q",
        "replica overlap of the (spherical) weight rows of weight layer l; k-RSB: per level",
    ),
    "qhat": _a(
        "conjugate of q",
        "conjugate field q-hat of the neuron overlap on the interior layers 1..L-1 (NaN on "
        "the clamped layers 0 and L)",
    ),
    "f": _a(
        "free entropy",
        "free entropy per N c relative to the full weight sphere (liquid: -alpha ln 2); for "
        "status 'unsat' the value at the numerical cut-off, not a free entropy",
    ),
    "eps_g": _a(
        "generalization error",
        "teacher-student test error by forward propagation of a fresh input (docs/theory/perceptron.md §4.2)",
    ),
    "converged": _a(
        "converged", "True when the solver met its tolerance (status 'converged')", "1"
    ),
    "status": _a(
        "solver status",
        "'converged', 'not_converged' (iteration limit) or 'unsat' (beyond capacity)",
    ),
    "residual": _a(
        "fixed-point residual", "max |g(z) - z| of the undamped map at the returned point"
    ),
    "iterations": _a(
        "fixed-point iterations", "iterations of the inner solver (k-RSB: over all trial x)"
    ),
    "x": _a("Parisi breakpoints", "breakpoints 0 < x_1 < ... < x_k < 1 shared by all layers"),
    "dfdx": _a("breakpoint equations", "df/dx_i at the solution (zero at solved breakpoints)"),
    "levels": _a(
        "non-zero Parisi levels",
        "number of distinct non-zero Parisi values of q(x, l) per neuron layer",
    ),
}


def annotate(ds: xr.Dataset, extra: dict[str, dict[str, str]] | None = None) -> xr.Dataset:
    """Attach :data:`ATTRS` (and ``extra``) to every variable and coordinate they name."""
    table = {**ATTRS, **(extra or {})}
    for name in list(ds.data_vars) + list(ds.coords):
        if name in table:
            ds[name].attrs.update(table[name])
    return ds


def _nan_pad(rows: np.ndarray) -> np.ndarray:
    """(…, L−1, …) interior-layer values → (…, L+1, …) on ``layer`` with NaN boundaries."""
    pad = [(0, 0)] * rows.ndim
    pad[1] = (1, 1)
    return np.pad(rows.astype(np.float64), pad, constant_values=np.nan)


def _diagnostics(sols: Sequence[Any]) -> dict[str, Any]:
    return {
        "f": ("alpha", np.array([s.f for s in sols])),
        "converged": ("alpha", np.array([s.converged for s in sols])),
        "status": ("alpha", np.array([s.status for s in sols], dtype=str)),
        "residual": ("alpha", np.array([s.residual for s in sols])),
        "iterations": ("alpha", np.array([s.iterations for s in sols])),
    }


def path_dataset(sols: Sequence[RSSolution]) -> xr.Dataset:
    """RS solutions along α as a Dataset: q, qhat (alpha, layer), Q (alpha, wlayer), f,
    diagnostics (alpha) and eps_g (teacher)."""
    import xarray as xr

    L = sols[0].L
    ds = xr.Dataset(
        {
            "q": (("alpha", "layer"), np.array([s.q for s in sols])),
            "Q": (("alpha", "wlayer"), np.array([s.Q for s in sols])),
            "qhat": (("alpha", "layer"), _nan_pad(np.array([s.qhat for s in sols]))),
            **_diagnostics(sols),
        },
        coords={
            "alpha": np.array([s.alpha for s in sols]),
            "layer": np.arange(L + 1),
            "wlayer": np.arange(1, L + 1),
        },
    )
    if sols[0].eps_g is not None:
        ds["eps_g"] = ("alpha", np.array([s.eps_g for s in sols]))
    ds.attrs.update(
        {"scenario": sols[0].scenario, "closure": sols[0].closure, "margin": sols[0].margin, "L": L}
    )
    ds.attrs["plot"] = "replica"  # deeprg plot FILE.nc
    return annotate(ds)


def rsb_dataset(sols: Sequence[RSBSolution]) -> xr.Dataset:
    """k-RSB solutions along α: q, qhat (alpha, layer, level), Q (alpha, wlayer, level),
    x, dfdx (alpha, breakpoint), levels (alpha, layer), f and diagnostics (alpha)."""
    import xarray as xr

    L, k = sols[0].L, sols[0].k
    n = len(sols)
    ds = xr.Dataset(
        {
            "q": (("alpha", "layer", "level"), np.array([s.q for s in sols])),
            "Q": (("alpha", "wlayer", "level"), np.array([s.Q for s in sols])),
            "qhat": (("alpha", "layer", "level"), _nan_pad(np.array([s.qhat for s in sols]))),
            "x": (("alpha", "breakpoint"), np.array([s.x for s in sols]).reshape(n, k)),
            "dfdx": (("alpha", "breakpoint"), np.array([s.dfdx for s in sols]).reshape(n, k)),
            "levels": (("alpha", "layer"), np.array([s.levels for s in sols])),
            **_diagnostics(sols),
        },
        coords={
            "alpha": np.array([s.alpha for s in sols]),
            "layer": np.arange(L + 1),
            "wlayer": np.arange(1, L + 1),
            "level": np.arange(k + 1),
            "breakpoint": np.arange(1, k + 1),
        },
    )
    ds.attrs.update({"scenario": "random", "closure": "A", "rsb": k, "L": L})
    ds.attrs["margin"] = sols[0].margin
    ds.attrs["plot"] = "replica"  # deeprg plot FILE.nc (the top Parisi level)
    return annotate(ds)
