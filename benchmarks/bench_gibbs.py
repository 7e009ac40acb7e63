"""Blocked Gibbs step cost (issue 13, item 5). Run: OMP_NUM_THREADS=1 python benchmarks/bench_gibbs.py

Measures seconds per Gibbs sweep of the current sampler against a baseline measured in the same
run: the previous implementation, reproduced here — general LU solves (``np.linalg.solve``) for
the conditional means and draws, and the first layer's conditional formed from the (C, P, N0)
design Φ = ‖r_1‖X/√N0 at every step. Two shapes: P > N0 (the feature-space first layer
pays O(N0³) per chain instead of O(P·N0²)) and P < N0 (Matheron's rule with the data Gram
computed once).
"""

from __future__ import annotations

import time
from contextlib import contextmanager

import numpy as np

from deeprg.networks import init_params, network
from deeprg.sampling import ChainRNG
from deeprg.sampling import samplers as S


def _old_blr(Phi, y, s2, T, rng):
    C, P, d = Phi.shape
    if P < d:
        w0 = np.sqrt(s2) * rng.standard_normal((C, d))
        eps = np.sqrt(T) * rng.standard_normal((C, P))
        K = s2 * np.matmul(Phi, Phi.transpose(0, 2, 1)) + T * np.eye(P)
        r = y[None, :] - np.matmul(Phi, w0[..., None])[..., 0] - eps
        alpha = np.linalg.solve(K, r[..., None])
        return w0 + s2 * np.matmul(Phi.transpose(0, 2, 1), alpha)[..., 0]
    prec = np.matmul(Phi.transpose(0, 2, 1), Phi) / T + np.eye(d) / s2
    Lc = np.linalg.cholesky(prec)
    b = np.einsum("cpd,p->cd", Phi, y) / T
    mu = np.linalg.solve(prec, b[..., None])[..., 0]
    z = rng.standard_normal((C, d, 1))
    return mu + np.linalg.solve(Lc.transpose(0, 2, 1), z)[..., 0]


def _old_first(X, gram, Xty, rn, y, s2, T, rng):
    C = rn.size
    Phi = rn[:, None, None] * np.broadcast_to(X, (C, *X.shape)) / np.sqrt(X.shape[1])
    return _old_blr(Phi, y, s2, T, rng)


@contextmanager
def baseline():
    saved = S._blr_sample, S._first_layer
    S._blr_sample, S._first_layer = _old_blr, _old_first
    try:
        yield
    finally:
        S._blr_sample, S._first_layer = saved


def per_step(P, N0, N, C=16, reps=20):
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((P, N0)), rng.standard_normal(P)
    net = network(N0, [N, N], 1.0)
    crng = ChainRNG(0, C)
    p0 = init_params(net, C, crng)
    smp = S.blocked_gibbs(net, X, y, 0.05)
    st = smp.init(p0)
    st, _ = smp.step(st, crng)
    t = time.perf_counter()
    for _ in range(reps):
        st, _ = smp.step(st, crng)
    return (time.perf_counter() - t) / reps


def main() -> None:
    for P, N0, N in [(2000, 100, 100), (500, 784, 100), (100, 200, 100)]:
        new = per_step(P, N0, N)
        with baseline():
            old = per_step(P, N0, N)
        print(
            f"P={P:5d} N0={N0:4d} N={N}: Gibbs sweep {1e3 * new:7.2f} ms, "
            f"previous {1e3 * old:7.2f} ms, speed-up {old / new:.2f}x"
        )


if __name__ == "__main__":
    main()
