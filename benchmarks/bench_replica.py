"""RS map speed (issue 5). Run: OMP_NUM_THREADS=1 python benchmarks/bench_replica.py

The full (α, l) map for L = 20 on a 200-point log grid of α ∈ [1, 2000] (target < 60 s on one
core), against two baselines timed on a subset of α and extrapolated (below), and the 1RSB
path for L = 10 on 50 log-spaced α ∈ [2, 250] (target < 10 min; run in full, not extrapolated;
``--skip-rsb`` leaves it out). Baselines of the RS map:

1. the package's own quadrature with plain damped iteration (no Anderson acceleration);
2. a straightforward implementation of the spec's recipe (§3.10): per-layer Python loops,
   trapezoid rule on a dense 4000-point z grid for every Gaussian integral, damped (0.5)
   fixed-point sweeps Q → q̂ → q, same continuation and tolerance.
"""

from __future__ import annotations

import time

import numpy as np

from deeprg.perceptron.replica import chain, rs


def straightforward_path(L, alphas, tol=1e-9, max_iter=20000, damping=0.5):
    from scipy import special

    z = np.linspace(-10, 10, 4000)
    wz = np.exp(-0.5 * z**2) / np.sqrt(2 * np.pi) * (z[1] - z[0])
    Q = np.zeros(L)
    q = np.zeros(L + 1)
    q[0] = q[-1] = 1.0
    iters = []
    for a in alphas:
        Q = np.maximum(Q, 1e-2)
        q[1:-1] = np.maximum(q[1:-1], 1e-2)
        for it in range(max_iter):  # noqa: B007 (it is read after the loop)
            dG = np.empty(L)
            for l in range(L):  # per-layer loop, as a straightforward code would have
                p = min(q[l] * Q[l] * q[l + 1], 1 - 1e-12)
                g = np.sqrt(p / (1 - p))
                x = -g * z
                R = np.exp(-0.5 * x**2 - 0.5 * np.log(2 * np.pi) - special.log_ndtr(-x))
                dG[l] = -np.sum(wz * R * (R - x)) / (2 * (1 - p) ** 2)
            newQ = np.empty(L)
            for l in range(L):
                C = -2 * a * q[l] * q[l + 1] * dG[l]
                newQ[l] = (2 * C + 1 - np.sqrt(4 * C + 1)) / (2 * C) if C > 1e-12 else C
            newq = q.copy()
            for l in range(1, L):
                qh = max(-2 * (q[l - 1] * Q[l - 1] * dG[l - 1] + Q[l] * q[l + 1] * dG[l]), 0.0)
                newq[l] = np.sum(wz * np.tanh(np.sqrt(qh) * z) ** 2)
            res = max(np.max(np.abs(newQ - Q)), np.max(np.abs(newq - q)))
            Q = Q + damping * (newQ - Q)
            q = q + damping * (newq - q)
            if res < tol:
                break
        iters.append(it + 1)
    return np.mean(iters)


def bench_rsb(L: int = 10, n: int = 50) -> None:
    from deeprg.perceptron.replica import rsb_path

    alphas = np.geomspace(2.0, 250.0, n)
    t = time.perf_counter()
    sols = rsb_path(L, alphas, 1)
    dt = time.perf_counter() - t
    conv = np.mean([s.converged for s in sols])
    its = np.mean([s.iterations for s in sols])
    print(
        f"1RSB path L={L}, {n} alphas in [2, 250]: {dt:.0f} s (target < 600 s); converged "
        f"{conv * 100:.0f}%, mean inner iterations per alpha {its:.0f} (all breakpoint trials), "
        f"{dt / n:.1f} s per alpha"
    )


def main() -> None:
    import sys

    if "--only-rsb" not in sys.argv:
        bench_rs()
    if "--skip-rsb" not in sys.argv:
        bench_rsb()


def bench_rs() -> None:
    alphas = np.geomspace(1, 2000, 200)
    t = time.perf_counter()
    sols = rs.solve_path(20, alphas)
    t_fast = time.perf_counter() - t
    conv = np.mean([s.converged for s in sols])
    its = np.mean([s.iterations for s in sols])
    # naive: plain damped iteration only (n_plain = max_iter), on every 10th α, continuation kept
    sub = alphas[::10]
    orig = chain.anderson

    def plain(g, x0, lo, hi, *, tol, max_iter, damping=0.5, m=6, n_plain=400):
        return orig(
            g, x0, lo, hi, tol=tol, max_iter=max_iter, damping=damping, m=m, n_plain=max_iter
        )

    chain.anderson = plain
    try:
        t = time.perf_counter()
        naive = rs.solve_path(20, sub, max_iter=20000)
        t_naive = (time.perf_counter() - t) * len(alphas) / len(sub)
    finally:
        chain.anderson = orig
    conv_n = np.mean([s.converged for s in naive])
    its_n = np.mean([s.iterations for s in naive])
    print(
        f"RS map L=20, 200 alphas in [1, 2000]: {t_fast:.1f} s (target < 60 s); converged {conv * 100:.0f}%, "
        f"mean iterations {its:.0f}"
    )
    print(
        f"naive damped fixed point (extrapolated from {len(sub)} alphas): {t_naive:.1f} s; converged "
        f"{conv_n * 100:.0f}% within 20000 iterations, mean iterations {its_n:.0f}"
    )
    print(f"speed-up vs baseline 1: {t_naive / t_fast:.1f}x")
    sub2 = alphas[::25]
    t = time.perf_counter()
    its_s = straightforward_path(20, sub2)
    t_straight = (time.perf_counter() - t) * len(alphas) / len(sub2)
    print(
        f"straightforward per-layer dense-grid damped iteration (extrapolated from {len(sub2)} alphas): "
        f"{t_straight:.0f} s, mean iterations {its_s:.0f}"
    )
    print(f"speed-up vs baseline 2: {t_straight / t_fast:.0f}x")


if __name__ == "__main__":
    main()
