"""BPKR solver speed at P = 2000 (issue 2). Run: OMP_NUM_THREADS=1 python benchmarks/bench_bpkr.py

Prints times and ratios measured in the same run:
- eigendecomposition of the P×P base kernel (the shared O(P³) step);
- one saddle solve after it (target < 5 ms);
- a 10,000-point sweep over (σ², widths, L, T) (target < 2× the eigendecomposition);
- a naive per-point solver that refactorizes P×P matrices (Cholesky per evaluation of G,
  brentq in log U), timed on a few points, vs the amortized per-point cost (target >= 100×);
- the exact finite-width mode per point after the eigendecomposition (target < 50 ms).
"""

from __future__ import annotations

import time

import numpy as np
from scipy import linalg, optimize

from deeprg.bpkr import architecture, base_kernel, fit_kernel
from deeprg.bpkr.sweep import solve_points


def naive_solve(K0: np.ndarray, y: np.ndarray, widths, s2: float, T: float) -> float:
    """Textbook per-point solver: every G(U) evaluation factorizes U K0 + T I afresh."""
    P = len(y)

    def G(U: float) -> float:
        A = U * K0 + T * np.eye(P)
        c = linalg.cho_factor(A)
        a = linalg.cho_solve(c, y)
        Ainv = linalg.cho_solve(c, np.eye(P))
        return U * a @ K0 @ a - np.trace(U * K0 @ Ainv)

    def F(s: float) -> float:
        g = G(np.exp(s))
        r = [1 + g / n for n in widths]
        return sum(np.log(s2 * v) for v in r) - s if min(r) > 0 else -1e300

    return optimize.brentq(F, -10, 10, xtol=1e-10)


def best_of(fn, n=3):
    ts = []
    for _ in range(n):
        t = time.perf_counter()
        out = fn()
        ts.append(time.perf_counter() - t)
    return min(ts), out


def main(P: int = 2000, N0: int = 3000, n_sweep: int = 10_000) -> None:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((P, N0))
    w0 = rng.standard_normal(N0)
    y = X @ w0 / np.sqrt(N0) + 0.3 * rng.standard_normal(P)
    t_eig, kern = best_of(lambda: base_kernel(X, y), 2)
    arch = architecture([1000, 1000], 1.0, 0.05)
    t_one, f = best_of(lambda: fit_kernel(kern, arch, "saddle"), 5)
    # 10,000 points: L in 1..5, widths, σ², T (log-spaced), mixed
    Ls = rng.integers(1, 6, n_sweep)
    Ns = np.exp(rng.uniform(np.log(50), np.log(20000), n_sweep)).round()
    s2 = rng.uniform(0.3, 2.5, n_sweep)
    Ts = np.exp(rng.uniform(np.log(1e-3), np.log(1.0), n_sweep))
    widths = [[n] * l for n, l in zip(Ns, Ls, strict=True)]
    t_sweep, sol = best_of(lambda: solve_points(kern, widths, list(s2), Ts), 1)
    K0 = X @ X.T / N0
    n_naive = 3
    t0 = time.perf_counter()
    for i in range(n_naive):
        naive_solve(K0, y, widths[i], s2[i], Ts[i])
    t_naive = (time.perf_counter() - t0) / n_naive
    t_exact, fe = best_of(lambda: fit_kernel(kern, arch, "exact"), 3)
    per_point = t_sweep / n_sweep
    print(f"P = {P}, N0 = {N0}")
    print(f"eigendecomposition           {t_eig * 1e3:9.1f} ms")
    print(
        f"one saddle solve             {t_one * 1e3:9.2f} ms   (target < 5 ms)   converged={f.converged}"
    )
    print(
        f"sweep of {n_sweep} points        {t_sweep * 1e3:9.1f} ms   = {t_sweep / t_eig:.2f} x eigendecomposition"
        f" (target < 2x); converged {sol.converged.mean() * 100:.2f}%"
    )
    print(f"naive per-point solver       {t_naive * 1e3:9.1f} ms/point (mean of {n_naive})")
    print(f"amortized sweep per point    {per_point * 1e6:9.1f} us/point")
    print(f"speed-up naive / amortized   {t_naive / per_point:9.0f} x   (target >= 100x)")
    print(
        f"exact mode per point         {t_exact * 1e3:9.1f} ms   (target < 50 ms)   edge mass {fe.diagnostics['edge_mass']:.1e}"
    )


if __name__ == "__main__":
    main()
