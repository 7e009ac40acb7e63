"""Perceptron Monte Carlo speed (issue 6). Run: OMP_NUM_THREADS=1 python benchmarks/bench_mc.py

1. Neuron-flip attempts per second on one core, N = 100, L = 10, M = 200, T = 0.05
   (target >= 5e6), against the best vectorized NumPy implementation measured in the same run
   (target >= 4x): for each (layer, unit) the flips of all M patterns are independent (patterns
   do not interact), so NumPy proposes and accepts them in one vectorized step over μ and the
   downstream units.
2. Parallel efficiency over samples with 2 worker processes (target >= 80%).
"""

from __future__ import annotations

import time

import numpy as np

from deeprg.data.patterns import random_patterns
from deeprg.perceptron.montecarlo import MCConfig, init_state, make_graph, run_mc
from deeprg.perceptron.montecarlo import engine as eng


def V(r, kappa=0.0):
    d = r - kappa
    return np.where(d < 0, d * d, 0.0)


def numpy_flip_sweep(S, J, h, w, beta, rng):
    """Vectorized over patterns μ (and downstream units): one Python iteration per (l, i)."""
    L = J.shape[0]
    M = S.shape[1]
    for l in range(1, L):
        inv = 1.0 / np.sqrt(w[l])
        for i in range(w[l]):
            s = S[l, :, i].astype(np.float64)
            r = s * h[l - 1, :, i]
            coef = -2.0 * s * inv
            hk = h[l, :, : w[l + 1]]
            hn = hk + coef[:, None] * J[l, : w[l + 1], i][None, :]
            sk = S[l + 1, :, : w[l + 1]]
            dH = V(-r) - V(r) + np.sum(V(sk * hn) - V(sk * hk), axis=1)
            acc = (dH <= 0) | (rng.random(M) < np.exp(-beta * np.maximum(dH, 0)))
            S[l, acc, i] = -S[l, acc, i]
            h[l, acc, : w[l + 1]] = hn[acc]
    return L - 1  # attempts = sum_l w[l] * M per call


def main() -> None:
    cfg = MCConfig(L=10, N=100, alpha=2.0, T=0.05)  # M = 200
    rng = np.random.default_rng(0)
    S0, SL = random_patterns(cfg.M, list(cfg.widths), rng)
    st = init_state(cfg, S0, SL, rng)
    w = cfg.widths
    n_per_sweep = int(sum(w[1:-1]) * cfg.M)
    g_rng = np.random.default_rng(1)  # the kernels' random numbers (a Generator, no global state)
    eng.flip_sweeps(st.S, st.J, st.h, w, 1, 1 / cfg.T, 0.0, 1.0, rng=g_rng)  # compile
    t = time.perf_counter()
    n_sweeps = 20
    eng.flip_sweeps(st.S, st.J, st.h, w, n_sweeps, 1 / cfg.T, 0.0, 1.0, rng=g_rng)
    rate_nb = n_sweeps * n_per_sweep / (time.perf_counter() - t)
    S, J, h = st.S.copy(), st.J.copy(), st.h.copy()
    t = time.perf_counter()
    n_np = 3
    for _ in range(n_np):
        numpy_flip_sweep(S, J, h, w, 1 / cfg.T, rng)
    rate_np = n_np * n_per_sweep / (time.perf_counter() - t)
    np.testing.assert_allclose(
        h, eng.compute_fields(S, J, w), atol=1e-9
    )  # the baseline is a correct sampler
    print(
        f"flip attempts/s, one core (N=100, L=10, M=200): numba {rate_nb:.3g} (target >= 5e6), "
        f"numpy vectorized over patterns {rate_np:.3g} -> {rate_nb / rate_np:.1f}x (target >= 4x)"
    )
    # sparse c-regular graph (c = 10): flips cost O(out-degree) instead of O(N)
    scfg = MCConfig(L=10, N=100, c=10, alpha=20.0, T=0.05)  # M = 200
    g = make_graph(scfg, rng)
    S0, SL = random_patterns(scfg.M, list(scfg.widths), rng)
    ss = init_state(scfg, S0, SL, rng, g)
    eng.flip_sweeps(ss.S, ss.J, ss.h, w, 1, 1 / scfg.T, 0.0, 1.0, g, g_rng)
    t = time.perf_counter()
    eng.flip_sweeps(ss.S, ss.J, ss.h, w, n_sweeps, 1 / scfg.T, 0.0, 1.0, g, g_rng)
    rate_sp = n_sweeps * n_per_sweep / (time.perf_counter() - t)
    print(
        f"sparse c=10 (N=100, L=10, M=200): {rate_sp:.3g} flip attempts/s "
        f"({rate_sp / rate_nb:.1f}x the dense rate)"
    )
    small = MCConfig(L=6, N=40, alpha=2.0, T=0.05, t_w=150, steps=150, n_times=4, samples=8, seed=3)
    run_mc(MCConfig(L=2, N=4, alpha=1.0, t_w=1, steps=1, samples=1), progress=False)  # compile
    t = time.perf_counter()
    run_mc(small, workers=1, progress=False)
    t1 = time.perf_counter() - t
    t = time.perf_counter()
    run_mc(small, workers=2, progress=False)
    t2 = time.perf_counter() - t
    print(
        f"8 samples (L=6, N=40, M=80, 300 MCS each): 1 worker {t1:.2f} s, 2 workers {t2:.2f} s -> "
        f"parallel efficiency {100 * t1 / (2 * t2):.0f}% (target >= 80%)"
    )


if __name__ == "__main__":
    main()
