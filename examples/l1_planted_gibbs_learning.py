"""L = 1 teacher curve in equilibrium with planted starts (docs/validation.md, issue 14 item 6).

The slaved-neuron sampler at T = 0, started at the teacher (an exact posterior sample), on K
independent perceptrons of N0 inputs; prints one JSON line with the student–teacher overlap R
and ε_g on 2,000 fresh ±1 inputs (time averages over the second half of the run, errors from
the spread of the per-unit averages) against Gibbs learning (the replica RS theory at L = 1).

    OMP_NUM_THREADS=1 python examples/l1_planted_gibbs_learning.py [ALPHA N0 K SAMPLES SWEEPS N_MEAS]

The docs/validation.md rows: ``4 64 8 4 8000 40``, ``6 64 8 4 8000 40``, ``4 128 8 4 6000 30``,
``6 128 8 4 6000 30``. Without arguments a small run (seconds).
"""

import json
import sys
import time

import numpy as np

from deeprg.data.patterns import forward_signs, teacher_network
from deeprg.perceptron.montecarlo.slaved import SlavedState, compact_weights, sweep, wiring
from deeprg.perceptron.replica import solve_rs
from deeprg.seeds import derive_seed


def eps_of(R):
    """Gibbs-learning error of a perceptron at overlap R (Gaussian inputs)."""
    return float(np.arccos(np.clip(R, -1, 1)) / np.pi)


def run_sample(alpha, N0, K, n_sweeps, n_meas, s):
    """(n_meas, 2, K): per measurement the overlap R and the fresh-input error of every unit."""
    M = round(alpha * N0)
    rng = np.random.default_rng(derive_seed(0, 1, int(alpha * 100), N0, s))
    wr = wiring(np.array([N0, K]), None, rng)
    teacher = teacher_network([N0, K], rng, None)
    S0 = np.where(rng.standard_normal((M, N0)) >= 0, 1, -1).astype(np.int8)
    Jt = compact_weights(wr, teacher).copy()
    st = SlavedState.build(wr, Jt.copy(), S0, forward_signs(teacher, S0)[-1])
    X = np.where(rng.standard_normal((2000, N0)) >= 0, 1.0, -1.0)
    y = np.sign(X @ Jt[0, :K].T)
    rows = []
    for _ in range(n_meas):
        sweep(st, wr, n_sweeps // n_meas, rng, theta_max=0.3)
        R = (st.J[0, :K] * Jt[0, :K]).sum(-1) / N0  # rows beyond K are padding
        rows.append(np.stack([R, (np.sign(X @ st.J[0, :K].T) != y).mean(0)]))
    return np.array(rows)


def main(alpha=4.0, N0=32, K=4, samples=1, n_sweeps=400, n_meas=8):
    t0 = time.time()
    traj = np.array([run_sample(alpha, N0, K, n_sweeps, n_meas, s) for s in range(samples)])
    late = traj[:, n_meas // 2 :].mean(1)  # (samples, 2, K): second-half time averages
    R, err = late[:, 0].ravel(), late[:, 1].ravel()
    R_th = float(solve_rs(1, alpha, scenario="teacher").Q[0])
    R_se, e_se = R.std(ddof=1) / np.sqrt(R.size), err.std(ddof=1) / np.sqrt(err.size)
    return {
        "alpha": alpha, "N0": N0, "M": round(alpha * N0), "units": K, "samples": samples,
        "sweeps": n_sweeps, "R_theory": R_th, "R_mc": float(R.mean()), "R_se": float(R_se),
        "dev_se": float((R.mean() - R_th) / R_se), "eps_theory": eps_of(R_th),
        "eps_mc": eps_of(R.mean()), "eps_direct": float(err.mean()), "eps_direct_se": float(e_se),
        "R_t": traj[:, :, 0].mean((0, 2)).round(4).tolist(), "elapsed_s": round(time.time() - t0, 1),
    }  # fmt: skip


if __name__ == "__main__":
    a = sys.argv[1:]
    kw = {} if not a else dict(zip(("alpha", "N0", "K", "samples", "n_sweeps", "n_meas"),
                                   [float(a[0]), *map(int, a[1:])], strict=True))  # fmt: skip
    print(json.dumps(main(**kw)))
