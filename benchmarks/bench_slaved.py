"""Slaved-neuron sampler throughput (issue 14). Run: OMP_NUM_THREADS=1 python benchmarks/bench_slaved.py

Rotation attempts per second of the T = 0 slaved-neuron sampler on a planted teacher-student
instance (L = 3, c = 8, N = 64, M = 640, i.e. alpha = 80; and M = 160, alpha = 20), against
baselines measured in the same run on the same network and data:

- a NumPy implementation of the same move (vectorized over patterns; a flipped hidden neuron
  triggers a forward pass of the layers above for the affected patterns);
- the soft-core Monte Carlo engine (flips and weight moves at T = 0), as attempts per second.
"""

from __future__ import annotations

import time

import numpy as np

from deeprg.data.patterns import teacher_network
from deeprg.perceptron.montecarlo import engine as eng
from deeprg.perceptron.montecarlo.slaved import (
    SlavedState,
    compact_weights,
    dense_weights,
    masks,
    sweep,
    wiring,
)


def planted(M: int, N: int = 64, c: int = 8, L: int = 3, seed: int = 0):
    from deeprg.data.patterns import forward_signs

    rng = np.random.default_rng(seed)
    w = np.full(L + 1, N)
    wr = wiring(w, c, rng)
    teacher = teacher_network(list(w), rng, masks(wr))
    S0 = rng.choice(np.array([-1, 1], dtype=np.int8), size=(M, N))
    return wr, teacher, S0, forward_signs(teacher, S0)


def slaved_rate(M: int, sweeps: int = 20) -> tuple[float, float]:
    wr, teacher, S0, layers = planted(M)
    st = SlavedState.build(wr, compact_weights(wr, teacher), S0, layers[-1])
    g = np.random.default_rng(1)
    sweep(st, wr, 1, g)  # compile + warm up
    t = time.perf_counter()
    counts = sweep(st, wr, sweeps, g)
    dt = time.perf_counter() - t
    return counts[:, 0].sum() / dt, counts[:, 1].sum() / counts[:, 0].sum()


def engine_rate(M: int, steps: int = 3) -> float:
    """The soft-core engine's rotation weight moves on the same planted network (T = 0)."""
    wr, teacher, S0, layers = planted(M)
    w = wr.w
    L, N = wr.L, int(w.max())
    graph = eng.random_graph(w, int(wr.fan[0]), np.random.default_rng(0))
    S = np.zeros((L + 1, M, N), dtype=np.int8)
    for l in range(L + 1):
        S[l] = layers[l]
    J = np.zeros((L, N, N))
    dense = dense_weights(wr, compact_weights(wr, teacher))
    for l in range(L):
        J[l] = dense[l]
    graph = eng.Graph(wr.fan, wr.conn, graph.rptr, graph.rk, True)
    h = eng.compute_fields(S, J, w, graph)
    counts = np.zeros(4, dtype=np.int64)
    steps_arr = np.full(L, 0.3)
    eng.mc_sweeps(S, J, h, w, 1, np.inf, 0.0, 1.0, eng.MOVE_ROTATION, steps_arr, counts, graph)
    counts[:] = 0
    t = time.perf_counter()
    eng.mc_sweeps(S, J, h, w, steps, np.inf, 0.0, 1.0, eng.MOVE_ROTATION, steps_arr, counts, graph)
    dt = time.perf_counter() - t
    return (counts[0] + counts[2]) / dt  # all attempts (flips + weights) per second


def numpy_rate(M: int, moves: int = 3000, theta_max: float = 0.3) -> float:
    """The same slaved move written with NumPy array operations (the straightforward code)."""
    wr, teacher, S0, layers = planted(M)
    W = [t.copy() for t in teacher]
    L = len(W)
    S = [x.astype(np.float64) for x in layers]  # (M, N) per layer
    H = [S[l] @ W[l].T / np.sqrt(8) for l in range(L)]
    rng = np.random.default_rng(2)
    t = time.perf_counter()
    for _ in range(moves):
        l = rng.integers(L)
        i = rng.integers(W[l].shape[0])
        nz = np.flatnonzero(W[l][i])
        a, b = rng.choice(nz, 2, replace=False)
        th = theta_max * (2 * rng.random() - 1)
        ja, jb = W[l][i, a], W[l][i, b]
        na, nb = ja * np.cos(th) - jb * np.sin(th), ja * np.sin(th) + jb * np.cos(th)
        h = H[l][:, i] + ((na - ja) * S[l][:, a] + (nb - jb) * S[l][:, b]) / np.sqrt(8)
        if l == L - 1:
            ok = np.all(S[L][:, i] * h >= 0)
            new = None
        else:
            flips = np.flatnonzero(np.sign(h + 0.0) != S[l + 1][:, i])
            new = [x[flips].copy() for x in S]
            new[l + 1][:, i] = np.where(h[flips] >= 0, 1.0, -1.0)
            for k in range(l + 1, L):  # forward pass of the affected patterns
                hk = new[k] @ W[k].T / np.sqrt(8)
                if k + 1 < L:
                    new[k + 1] = np.where(hk >= 0, 1.0, -1.0)
                else:
                    ok = np.all(new[L] * hk >= 0)
            ok = ok if flips.size else True
        if ok:
            W[l][i, a], W[l][i, b] = na, nb
            H[l][:, i] = h
            if new is not None and flips.size:
                for k in range(l + 1, L):
                    S[k][flips] = new[k]
                    H[k][flips] = S[k][flips] @ W[k].T / np.sqrt(8)
    return moves / (time.perf_counter() - t)


def main() -> None:
    for M in (640, 160):
        rate, acc = slaved_rate(M)
        ref_np = numpy_rate(M)
        ref = engine_rate(M)
        print(
            f"L=3 c=8 N=64 M={M}: slaved sampler {rate:.3g} rotation attempts/s "
            f"(acceptance {acc:.2f}); NumPy same move {ref_np:.3g}/s (ratio {rate / ref_np:.0f}x); "
            f"soft-core engine {ref:.3g} attempts/s incl. flips (ratio {rate / ref:.2f})"
        )


if __name__ == "__main__":
    main()
