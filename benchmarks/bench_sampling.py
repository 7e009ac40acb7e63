"""Sampler speed (issue 3). Run: OMP_NUM_THREADS=1 python benchmarks/bench_sampling.py

1. Langevin per-step throughput on a batch of chains as a fraction of the matrix-multiply rate
   for the same shapes, measured in the same run (target >= 50%).
2. Effective samples per second of the per-draw squared test error (whose mean is ε_g) for
   blocked Gibbs vs the paper's Langevin on the same posterior: L = 2 linear, N = 100,
   P = 100, N0 = 200, T = 0.05 (target >= 20x).
"""

from __future__ import annotations

import time

import numpy as np

from deeprg.networks import init_params, network
from deeprg.sampling import ChainRNG, make_sampler, run_chains


def matmul_baseline(net, C, P, reps):
    """The 3L+2 batched matmuls of one forward+backward pass, timed alone."""
    rng = np.random.default_rng(0)
    d = net.dims
    Ws = [rng.standard_normal((C, d[l + 1], d[l])) for l in range(net.L)]
    xs = [rng.standard_normal((C, P, n)) for n in d]
    t = time.perf_counter()
    for _ in range(reps):
        for l in range(net.L):
            np.matmul(xs[l], Ws[l].transpose(0, 2, 1))  # forward
            np.matmul(xs[l + 1].transpose(0, 2, 1), xs[l])  # weight gradient
            if l > 0:
                np.matmul(xs[l + 1], Ws[l])  # backprop
    return (time.perf_counter() - t) / reps


def throughput(C=32, P=100, N0=200, N=100, reps=200):
    """Seconds per Langevin step, per matmul set, and per noise draw (same shapes, same run)."""
    rng = np.random.default_rng(1)
    X = rng.standard_normal((P, N0))
    y = rng.standard_normal(P)
    net = network(N0, [N, N], 1.0)
    smp = make_sampler("langevin", net, X, y, 0.05, eta=1e-3)
    crng = ChainRNG(0, C)  # the per-chain streams run_chains uses
    st = smp.init(init_params(net, C, crng))
    for _ in range(5):
        st, _ = smp.step(st, crng)
    t = time.perf_counter()
    for _ in range(reps):
        st, _ = smp.step(st, crng)
    t_step = (time.perf_counter() - t) / reps
    t_mm = matmul_baseline(net, C, P, reps)
    t = time.perf_counter()
    for _ in range(reps):
        for p in st.params:
            crng.standard_normal(p.shape)
    t_rng = (time.perf_counter() - t) / reps
    return t_step, t_mm, t_rng


def ess_rate(name, steps, thin, eta, C=16, P=100, N0=200, N=100, T=0.05):
    rng = np.random.default_rng(2)
    w0 = rng.standard_normal(N0)
    X, Xt = rng.standard_normal((P, N0)), rng.standard_normal((200, N0))
    y = X @ w0 / np.sqrt(N0) + 0.3 * rng.standard_normal(P)
    net = network(N0, [N, N], 1.0)
    smp = make_sampler(name, net, X, y, T, eta=eta)
    t = time.perf_counter()
    res = run_chains(
        smp,
        net,
        init_params(net, C, rng),
        X_test=Xt,
        y_test=Xt @ w0 / np.sqrt(N0),
        steps=steps,
        warmup=steps // 5,
        thin=thin,
        seed=3,
        progress=False,
    )
    dt = time.perf_counter() - t
    return res.ess["sq_err"] / dt, res, dt


def main() -> None:
    for P in (100, 400):  # P = 100: the ESS benchmark's shapes; the noise cost does not grow with P
        t_step, t_mm, t_rng = throughput(P=P, reps=100)
        print(
            f"Langevin step (C=32, P={P}, N0=200, N=100,100): "
            f"{t_step * 1e3:.2f} ms; matmuls alone {t_mm * 1e3:.2f} ms -> "
            f"{100 * t_mm / t_step:.0f}% of the matmul rate (target >= 50%)"
        )
        print(
            f"  noise generation alone {t_rng * 1e3:.2f} ms ({100 * t_rng / t_step:.0f}% of the "
            f"step); matmul share of the rest: {100 * t_mm / (t_step - t_rng):.0f}%"
        )
    r_g, res_g, dt_g = ess_rate("gibbs", steps=400, thin=1, eta=0.0)
    r_l, res_l, dt_l = ess_rate("langevin", steps=8000, thin=10, eta=5e-3)
    print(
        f"gibbs:    {dt_g:.1f} s, ESS(sq_err) = {res_g.ess['sq_err']:.0f}, {r_g:.1f} ESS/s, eps_g = {res_g.eps_g:.4f} ± {res_g.eps_g_se:.4f}"
    )
    print(
        f"langevin: {dt_l:.1f} s, ESS(sq_err) = {res_l.ess['sq_err']:.0f}, {r_l:.2f} ESS/s, eps_g = {res_l.eps_g:.4f} ± {res_l.eps_g_se:.4f} (eta = 5e-3)"
    )
    print(f"ESS/s ratio gibbs / langevin = {r_g / r_l:.0f}x (target >= 20x)")


if __name__ == "__main__":
    main()
