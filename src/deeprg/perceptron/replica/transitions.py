"""Layer-by-layer transitions of the RS chain (docs/theory/perceptron.md §3.8, §4.2).

Front criterion (closure A, both scenarios): with layers 1..k frozen and the liquid beyond,
layer k+1 becomes unstable when 4 α q_k(α)²/π² = 1, where q_k is the neuron overlap of the
last frozen layer (q_0 = 1 gives α_g(1) = π²/4). Transitions are located as roots of that
function along a continuation path, refined by brentq on fresh RS solves — never by a
threshold on the growing order parameter, which the continuous onset biases (§3.10 step 6).
"""

from __future__ import annotations

from collections.abc import Sequence
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


# ------------------------------------------------------------- general (Jacobian) transitions


@dataclass(frozen=True)
class LiquidThresholds:
    """α at which the k-th layer from the active boundary freezes (k = 1..), located as the
    instability of the liquid-beyond-the-front fixed point (§3.8, §6.1 item 2), plus the α at
    which the fronts meet (no liquid layer left: ``alpha_meet``, the capacity in the sense of
    §4.2; NaN when not reached below ``alpha_max``)."""

    layer: np.ndarray
    alpha: np.ndarray
    scenario: str
    closure: str
    L: int
    alpha_meet: float
    exp_fit: tuple[float, float]
    power_fit: tuple[float, float]


def _liquid_layers(L: int, closure: str, k: int) -> list[int]:
    """Neuron layers beyond k frozen layers: from both ends (A) or from the output end (B)."""
    if closure == "A":
        return [l for l in range(1, L) if k < l < L - k]
    return [l for l in range(1, L) if l < L - k]


def _fits(layers: np.ndarray, a: np.ndarray) -> tuple[tuple[float, float], tuple[float, float]]:
    exp_fit = pow_fit = (np.nan, np.nan)
    sel = layers >= 2
    if sel.sum() >= 2:
        s1, i1 = np.polyfit(layers[sel], np.log(a[sel]), 1)
        s2, i2 = np.polyfit(np.log(layers[sel]), np.log(a[sel]), 1)
        exp_fit, pow_fit = (float(i1), float(1 / s1)), (float(i2), float(s2))
    return exp_fit, pow_fit


def liquid_thresholds(
    L: int,
    n_layers: int | None = None,
    *,
    scenario: str = "random",
    closure: str = "A",
    margin: float = 0.0,
    alpha_min: float = 1.0,
    alpha_max: float = 2000.0,
    n_grid: int = 60,
    xtol: float = 1e-7,
) -> LiquidThresholds:
    """α_g(l) / α_c(l) for l = 1..n_layers (default: until no liquid layer is left) from the
    smallest stability margin 1 − max Re eig(J) of the liquid-beyond-the-front RS fixed point
    (:func:`deeprg.perceptron.replica.rs.stability_margin`). Works for both closures and both
    scenarios; for closure A it agrees with the front criterion (same linearization, §3.8).

    For k frozen layers the chain is solved with the layers beyond the front held liquid
    (``solve_rs(..., liquid=...)``) along a log grid in α starting at the previous threshold;
    the sign change of the margin is refined by brentq.
    """
    from deeprg.perceptron.replica.rs import solve_rs, stability_margin

    if n_layers is None:
        n_layers = L
    out: list[float] = []
    a_lo = alpha_min
    for k in range(n_layers):  # one front step per frozen layer
        liquid = _liquid_layers(L, closure, k)
        if not liquid:
            break
        grid = np.geomspace(a_lo, alpha_max, n_grid)
        prev = None
        prev_sol = None
        found = None
        for a in grid:  # continuation along the grid (sequential by nature)
            sol = solve_rs(
                L,
                a,
                scenario=scenario,
                closure=closure,
                margin=margin,
                init=prev_sol,
                liquid=liquid,
            )
            m = stability_margin(sol)
            if prev is not None and prev[1] > 0 >= m:
                found = (prev[0], a, prev[2])
                break
            prev, prev_sol = (a, m, sol), sol
        if found is None:
            break
        lo, hi, start = found

        def marg(a: float, liquid=liquid, start=start) -> float:
            s = solve_rs(
                L, a, scenario=scenario, closure=closure, margin=margin, init=start, liquid=liquid
            )
            return stability_margin(s)

        a_k = optimize.brentq(marg, lo, hi, xtol=xtol, rtol=1e-9)
        out.append(a_k)
        a_lo = a_k * (1 + 1e-6)
    layers = np.arange(1, len(out) + 1)
    a = np.asarray(out)
    n_liquid = len(_liquid_layers(L, closure, len(out)))
    meet = float(a[-1]) if (n_liquid == 0 and len(a)) else float("nan")
    exp_fit, pow_fit = _fits(layers, a)
    return LiquidThresholds(layers, a, scenario, closure, L, meet, exp_fit, pow_fit)


def front_position(alpha: np.ndarray | float, thresholds: Sequence[float]) -> np.ndarray:
    """Interpolated solid thickness ξ(α) from one boundary (§6.1 item 3): ξ = 0 below α_g(1),
    ξ = l at α_g(l), linear in ln α in between, and l_max beyond the last threshold given."""
    th = np.asarray(thresholds, dtype=np.float64)
    a = np.log(np.atleast_1d(np.asarray(alpha, dtype=np.float64)))
    xi = np.interp(a, np.log(th), np.arange(1, len(th) + 1), left=0.0, right=float(len(th)))
    return np.where(a < np.log(th[0]), 0.0, xi)
