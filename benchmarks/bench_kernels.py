"""ReLU NNGP Gram speed and robustness (issue 4). Run:

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/bench_kernels.py

1. The guarded arc-cosine ReLU Gram for P = 2000 inputs (N0 = 784), depth 10, against a
   loop-free but *unguarded* baseline (θ = arccos(K12/√(K11 K22)) with no clipping), measured
   in the same run: time ratio, and how many NaN entries the baseline produces (duplicate
   inputs drive |c| over 1 by round-off).
2. The generic Gauss–Hermite path (any activation) on the same recursion at P = 200 (order 32),
   reported per kernel entry and as a ratio per entry against the closed form.
"""

from __future__ import annotations

import time

import numpy as np

from deeprg.kernels import input_kernel, nngp, nngp_layer


def unguarded_relu_gram(X: np.ndarray, depth: int, sigma2: float) -> np.ndarray:
    """Textbook arc-cosine recursion without any guard (the baseline)."""
    K = X @ X.T / X.shape[1]
    for _ in range(depth):
        d = np.sqrt(np.diag(K))
        c = K / np.outer(d, d)
        with np.errstate(invalid="ignore"):  # |c| > 1 from round-off -> NaN
            theta = np.arccos(c)
        K = (
            sigma2
            / (2 * np.pi)
            * np.outer(d, d)
            * (np.sin(theta) + (np.pi - theta) * np.cos(theta))
        )
    return K


def best_of(fn, repeat=3):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def main() -> None:
    rng = np.random.default_rng(0)
    P, N0, depth, s2 = 2000, 784, 10, 2.0
    X = rng.standard_normal((P, N0))
    X[P // 2 :: 7] = X[: len(X[P // 2 :: 7])]  # some duplicate inputs, as in real data sets
    t_ours, ks = best_of(lambda: nngp(X, activation="relu", sigma2=s2, depth=depth))
    t_base, Kb = best_of(lambda: unguarded_relu_gram(X, depth, s2))
    K = ks[-1].cov12
    nan_base = int(np.isnan(Kb).sum())
    ok = ~np.isnan(Kb)
    dev = float(np.abs(K[ok] - Kb[ok]).max() / np.abs(K).max())
    print(f"ReLU NNGP Gram P={P} depth={depth}: guarded {t_ours:.3f} s, unguarded {t_base:.3f} s,")
    print(f"  ratio guarded/unguarded = {t_ours / t_base:.2f}; baseline NaN entries: {nan_base}")
    print(
        f"  guarded NaN entries: {int(np.isnan(K).sum())}; max rel. diff where both finite {dev:.1e}"
    )

    Ps, order = 200, 32
    Xs = X[:Ps]
    relu = lambda h: np.maximum(h, 0.0)  # noqa: E731

    def generic():
        k = input_kernel(Xs)
        for _ in range(depth):
            k = nngp_layer(k, relu, s2, order=order)
        return k

    t_gh, kg = best_of(generic, repeat=1)
    t_cf, kc = best_of(lambda: nngp(Xs, activation="relu", sigma2=s2, depth=depth)[-1])
    per_gh, per_cf = t_gh / Ps**2, t_cf / Ps**2
    rel = float(np.abs(kg.cov12 - kc.cov12).max() / np.abs(kc.cov12).max())
    print(f"Gauss-Hermite path P={Ps} order={order} depth={depth}: {t_gh:.3f} s")
    print(
        f"  per entry {per_gh * 1e9:.0f} ns vs closed form {per_cf * 1e9:.1f} ns: ratio {per_gh / per_cf:.0f}x"
    )
    print(f"  GH vs closed form max rel. diff {rel:.1e} (ReLU kink: GH converges ~1/order)")
    print(f"  extrapolated GH time at P={P}: {per_gh * P**2:.0f} s vs closed form {t_ours:.2f} s")


if __name__ == "__main__":
    main()
