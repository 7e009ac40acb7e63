"""Message passing on one deep perceptron instance (issue 15). Run:
OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/bench_mp.py [iters]

1. Cost of one iteration at the target size (L = 3, c = 64, N = 512, α = 10, teacher,
   h_b = 0.3) of both forms: the cavity-neuron form (the default, one magnetization per edge)
   and the GAMP node form, and for the node form a baseline measured in the same run on the
   same state: the same update with the per-edge sums done as a Python loop over units (one
   NumPy matrix-vector product per unit) and the channel by scipy.special ufuncs (log_ndtr,
   erfcx) instead of the compiled kernels.
2. Iteration cost of the cavity form against c at N = 8c, α = 10 (the O(L·N·c·M) = O(8 α L c³)
   law: × 8 per doubling of c).
3. One run to the fixed point at the target size with each form (``iters`` iterations at most,
   default 500; 0 skips this part): iterations, time, residual, overlap drift, Nishimori gap.
"""

from __future__ import annotations

import sys
import time

import numpy as np

from deeprg.perceptron.mp import MPConfig, bp, cavity, solve
from deeprg.perceptron.mp.run import build


def per_iteration(cfg: MPConfig, n: int = 5) -> float:
    inst, st = build(cfg)
    step = cavity.step if cfg.neurons == "cavity" else bp.step
    st, _ = step(inst, st, cfg.damping_factor)  # compile + warm up
    t = time.perf_counter()
    for _ in range(n):
        st, _ = step(inst, st, cfg.damping_factor)
    return (time.perf_counter() - t) / n


def _edge_sums_loop(conn, x, y, x2, y2, y3):
    out = np.empty((3, *conn.shape))
    for i in range(conn.shape[0]):
        X, X2 = x[conn[i]], x2[conn[i]]
        out[0, i], out[1, i], out[2, i] = X @ y[i], X2 @ y2[i], X2 @ y3[i]
    return out


def _channel_scipy(omega, V, w_plus, kappa):
    from scipy.special import erfcx, log_ndtr

    sd = np.sqrt(V)
    xp, xm = (omega - kappa) / sd, (-omega - kappa) / sd
    lp, lm = log_ndtr(xp), log_ndtr(xm)
    with np.errstate(divide="ignore"):
        ap, am = np.log(w_plus) + lp, np.log1p(-w_plus) + lm
    lz = np.logaddexp(ap, am)
    wp, wm = np.exp(ap - lz), np.exp(am - lz)
    rp, rm = (
        np.sqrt(2 / np.pi) / erfcx(-xp / np.sqrt(2)),
        np.sqrt(2 / np.pi) / erfcx(-xm / np.sqrt(2)),
    )
    g = (wp * rp - wm * rm) / sd
    return g, -(wp * xp * rp + wm * xm * rm) / V - g * g, 0.5 * (lp - lm)


def baseline_per_iteration(cfg: MPConfig, n: int = 2) -> float:
    fast = (bp._edge_sums, bp.channel)
    bp._edge_sums, bp.channel = _edge_sums_loop, _channel_scipy  # type: ignore[assignment]
    try:
        return per_iteration(cfg, n)
    finally:
        bp._edge_sums, bp.channel = fast  # type: ignore[assignment]


def main() -> None:
    iters = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    target = MPConfig(L=3, N=512, c=64, alpha=10.0, max_iter=max(iters, 1))
    node = MPConfig(**{**target.model_dump(), "neurons": "amp"})
    t_cav, t_fast, t_base = per_iteration(target), per_iteration(node), baseline_per_iteration(node)
    print(
        f"target L=3 c=64 N=512 alpha=10: cavity form {t_cav * 1e3:.0f} ms/iteration; node form "
        f"{t_fast * 1e3:.0f} ms (cavity/node {t_cav / t_fast:.2f}); node-form baseline (loop "
        f"over units + scipy channel) {t_base * 1e3:.0f} ms: {t_base / t_fast:.1f}x"
    )
    prev = None
    for c in (16, 32, 64):
        t = per_iteration(MPConfig(L=3, N=8 * c, c=c, alpha=10.0))
        ratio = f"  x{t / prev:.1f} vs c/2 (O(c^3): x8)" if prev else ""
        print(f"c={c:3d} N={8 * c:4d}: {t * 1e3:8.1f} ms/iteration{ratio}")
        prev = t
    for cfg in (target, node) if iters > 0 else ():
        r = solve(cfg)
        state = "converged" if r.converged else "NOT converged"
        print(
            f"{cfg.neurons} form, fixed point: {state}, {r.iterations} iterations, "
            f"{r.elapsed_s:.1f} s, residual {r.residual:.1e}, overlap drift {r.drift:.1e}, "
            f"Nishimori gap {r.nishimori_gap:.4f}"
        )
        print(f"  Q {np.round(r.Q, 4).tolist()}  q {np.round(r.q, 4).tolist()}")


if __name__ == "__main__":
    main()
