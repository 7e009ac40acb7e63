"""Layer-by-layer transitions of the RS chain (deep-perceptron-networks.md §3.8, §4.2, §6.1).

Front criterion (closure A, both scenarios): with layers 1..k frozen and the liquid beyond,
layer k+1 becomes unstable when 4 α q_k(α)²/π² = 1, where q_k is the neuron overlap of the
last frozen layer (q_0 = 1 gives α_g(1) = π²/4). Transitions are located as roots of that
function along a continuation path, refined by brentq on fresh RS solves — never by a
threshold on the growing order parameter, which the continuous onset biases (§3.10 step 6).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize

from deeprg.perceptron.replica.rs import RSSolution, solve_path, solve_rs


@dataclass(frozen=True)
class Thresholds:
    """α at which layer l (counted from a boundary, l = 1..) freezes, and fits of their growth."""

    layer: np.ndarray
    alpha: np.ndarray
    scenario: str
    exp_fit: tuple[float, float]  # ln α = a + l/λ over l >= 2: (a, λ)
    power_fit: tuple[float, float]  # ln α = b + ν ln l over l >= 2: (b, ν)


def front_function(sol: RSSolution, k: int) -> float:
    """4 α q_k²/π² − 1 for the k-th neuron layer from the input boundary."""
    return 4 * sol.alpha * sol.q[k] ** 2 / np.pi**2 - 1.0


def front_thresholds(
    L: int,
    n_layers: int,
    *,
    scenario: str = "random",
    alpha_max: float = 2000.0,
    n_grid: int = 120,
) -> Thresholds:
    """α_g(l) (random I/O) or α_c(l) (teacher–student), l = 1..n_layers, by the front criterion.

    Use L >= 2 n_layers + 2 so that the two fronts do not interact.
    """
    alphas = np.geomspace(np.pi**2 / 4 * 1.001, alpha_max, n_grid)
    path = solve_path(L, alphas, scenario=scenario)
    out = [np.pi**2 / 4]
    for k in range(1, n_layers):
        h = np.array([front_function(s, k) for s in path])
        idx = np.flatnonzero((h[:-1] < 0) & (h[1:] >= 0))
        if idx.size == 0:
            break
        i = idx[0]
        start = path[i]

        def fk(a: float, k: int = k, start: RSSolution = start) -> float:
            return front_function(solve_rs(L, a, scenario=scenario, init=start), k)

        out.append(optimize.brentq(fk, alphas[i], alphas[i + 1], xtol=1e-10, rtol=1e-8))
    layers = np.arange(1, len(out) + 1)
    a = np.asarray(out)
    exp_fit = pow_fit = (np.nan, np.nan)
    if len(a) >= 3:
        s1, i1 = np.polyfit(layers[1:], np.log(a[1:]), 1)
        s2, i2 = np.polyfit(np.log(layers[1:]), np.log(a[1:]), 1)
        exp_fit, pow_fit = (float(i1), float(1 / s1)), (float(i2), float(s2))
    return Thresholds(layers, a, scenario, exp_fit, pow_fit)


def solid_thickness(sol: RSSolution, eps: float = 1e-3) -> int:
    """ξ: number of frozen neuron layers (q > eps) next to the input boundary."""
    interior = sol.q[1:-1]
    liquid = np.flatnonzero(interior <= eps)
    return int(liquid[0]) if liquid.size else len(interior)
