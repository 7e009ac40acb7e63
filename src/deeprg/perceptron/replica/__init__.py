"""Layered replica theory of deep perceptron networks (docs/theory/perceptron.md §3).

RS saddle points for random inputs/outputs and teacher–student (Nishimori), closures A
(reflection-symmetric triple product, default) and B (cavity-consistent, random I/O),
continuation in α, transition finders (front criterion and Jacobian instability of the
liquid beyond the front), k-step RSB with shared breakpoints and the RS replicon.
L counts weight layers; neuron layers are 0..L with both boundaries clamped.

Structure: ``factors`` (one class per factor type — SphericalWeights, IsingNeurons,
GapConstraint — for any Parisi level k, RS = k = 0 with a fast path), ``chain`` (closures A and B
assembled from the factors for any L, and the one fixed-point solver), ``rs`` (the k = 0
solves: continuation, liquid beyond a front, side channel, Jacobian), ``rsb`` (k ≥ 1:
breakpoints as a pure root search with explicit starts), ``replicon``, ``transitions``,
``datasets`` (the result schema), ``special`` and ``parisi`` (integrals and Parisi algebra).

Stable API (used by the Monte Carlo comparisons and the sweeps)::

    solve_rs(L, alpha, scenario="random"|"teacher", closure="A"|"B", margin=0.0, init=None,
             liquid=None, field=0.0) -> RSSolution      # q (L+1,), Q (L,), qhat, f, eps_g,
                                                        # converged, status, residual,
                                                        # iterations
    gardner_capacity(margin) -> float                   # α_c(κ) of the L = 1 chain
    solve_path(L, alphas, ...) -> list[RSSolution]      # continuation in α
    path_dataset(sols) -> xarray.Dataset (alpha, layer | wlayer)
    rs_map(L, alphas, ...) -> xarray.Dataset            # solve_path + path_dataset
    solve_rsb(L, alpha, k=1, ...) -> RSBSolution        # q (L+1, k+1), Q (L, k+1), x (k,)
    rsb_path(L, alphas, k) / rsb_dataset(sols) -> xarray.Dataset (alpha, layer | wlayer, level)
    rs_replicon(sol) -> Replicon;  stability_margin(sol) -> float
    front_thresholds(...), liquid_thresholds(...), front_position(alpha, thresholds)
    eps_g_forward(Q, q_test0=1.0) -> float
"""

import importlib
from typing import Any

_WHERE = {
    "CLOSURES": "chain",
    "SCENARIOS": "chain",
    "Chain": "chain",
    "path_dataset": "datasets",
    "rsb_dataset": "datasets",
    "GapConstraint": "factors",
    "IsingNeurons": "factors",
    "SphericalWeights": "factors",
    "Replicon": "replicon",
    "rs_replicon": "replicon",
    "STATUSES": "rs",
    "RSSolution": "rs",
    "eps_g_forward": "rs",
    "gardner_capacity": "rs",
    "jacobian": "rs",
    "solve_path": "rs",
    "solve_rs": "rs",
    "stability_margin": "rs",
    "RSBSolution": "rsb",
    "rsb_path": "rsb",
    "solve_breakpoints": "rsb",
    "solve_rsb": "rsb",
    "LiquidThresholds": "transitions",
    "Thresholds": "transitions",
    "front_position": "transitions",
    "front_thresholds": "transitions",
    "liquid_thresholds": "transitions",
    "solid_thickness": "transitions",
    "ReplicaConfig": "config",
    "ReplicaPointConfig": "config",
}


def __getattr__(name: str) -> Any:
    """Lazy imports: the configuration models load without the quadrature tables."""
    if name in _WHERE:
        return getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def rs_map(L, alphas, **kw):
    """RS continuation over ``alphas`` as an xarray Dataset with dims (alpha, layer)."""
    from deeprg.perceptron.replica.datasets import path_dataset
    from deeprg.perceptron.replica.rs import solve_path

    return path_dataset(solve_path(L, alphas, **kw))


__all__ = [
    "CLOSURES",
    "SCENARIOS",
    "STATUSES",
    "Chain",
    "GapConstraint",
    "IsingNeurons",
    "LiquidThresholds",
    "RSBSolution",
    "RSSolution",
    "Replicon",
    "SphericalWeights",
    "Thresholds",
    "eps_g_forward",
    "front_position",
    "front_thresholds",
    "gardner_capacity",
    "jacobian",
    "liquid_thresholds",
    "path_dataset",
    "rs_map",
    "rs_replicon",
    "rsb_dataset",
    "rsb_path",
    "solid_thickness",
    "solve_breakpoints",
    "solve_path",
    "solve_rs",
    "solve_rsb",
    "stability_margin",
]
