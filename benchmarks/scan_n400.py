"""N = 400 point of the "which renormalization theory holds where" scan (issue 16).

Measures, for the template model at α = P/N = 1 and width N = 400 (P = 400), depth L = 3, the
ε_g of MALA samples of the finite network and of the three theories (scalar heuristic,
layer-wise theory, GP limit), with exactly the conventions of the ``medium`` size of
``deeprg reproduce bpkr-nonlinear`` (``deeprg.experiments.bpkr_nonlinear.run_nonlinear``):
σ² = 1, T = 0.05, 300 test points, seed 0, ``_split("template", P, 300, seed)``, 8 chains,
thin 10, η = 0.02 (initial MALA step, adapted in warm-up = steps // 4) and the chain seed
``derive_seed(seed, a=0, b, L, N)`` with b = 0 for ReLU and 1 for erf (the medium run's
index into ["relu", "erf"]).

Note: the medium run drew P_max = 200 points and used nested subsets; P = 400 here is a new
draw of the template model with the same seed (its first 200 points are not those of the
medium run's draw in general).

Command (≈ hours on the 2-core shared machine at 10,000 steps; ``--steps`` to shorten)::

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/scan_n400.py \
        --act erf --steps 10000

``--timing`` only times a 50-step MALA run (8 chains) and exits. The result row is printed
and written to ``benchmarks/results/scan_n400_<act>_L<L>_N<N>.json``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from deeprg.experiments.bpkr_nonlinear import SIZES_NL, THEORIES, _split, _theory_eps, mala_run
from deeprg.sampling import derive_seed

OUT = Path(__file__).resolve().parent / "results"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--act", choices=["relu", "erf"], default="erf")
    ap.add_argument("--N", type=int, default=400)
    ap.add_argument("--L", type=int, default=3)
    ap.add_argument("--steps", type=int, default=SIZES_NL["medium"]["steps"])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--timing", action="store_true", help="time 50 MALA steps and exit")
    args = ap.parse_args()

    cfg = SIZES_NL["medium"]
    T = 0.05
    N, L, act, seed = args.N, args.L, args.act, args.seed
    P = max(2, round(cfg["alpha"] * N))
    a, b = 0, ["relu", "erf"].index(act)  # medium run: data ["template"], acts ["relu", "erf"]
    split = _split("template", P, cfg["P_test"], seed)

    def sample(steps: int):
        return mala_run(split, L, N, act, T, cfg["chains"], steps, derive_seed(seed, a, b, L, N))

    if args.timing:
        t0 = time.perf_counter()
        r = sample(50)
        dt = time.perf_counter() - t0
        print(
            f"50 MALA steps (8 chains, {act} L={L} N={N} P={P}): {dt:.1f} s -> "
            f"{dt / 50:.3f} s/step; acceptance {r.acceptance:.3f}"
        )
        return

    t0 = time.perf_counter()
    th = _theory_eps(split, L, N, act, T)
    t_th = time.perf_counter() - t0
    print(
        f"theories ({t_th:.1f} s): "
        + ", ".join(f"{t} {e:.5f}" for t, e in zip(THEORIES, th, strict=True))
    )
    t0 = time.perf_counter()
    res = sample(args.steps)
    t_mc = time.perf_counter() - t0
    eps, se = float(res.eps_g), float(res.eps_g_se)
    rel = {t: (e - eps) / eps for t, e in zip(THEORIES, th, strict=True)}
    dev = {t: (e - eps) / se for t, e in zip(THEORIES, th, strict=True)}
    row = {
        "data": "template",
        "activation": act,
        "L": L,
        "N": N,
        "P": P,
        "P_test": cfg["P_test"],
        "alpha": cfg["alpha"],
        "T": T,
        "seed": seed,
        "chain_seed": int(derive_seed(seed, a, b, L, N)),
        "chains": cfg["chains"],
        "steps": args.steps,
        "warmup": args.steps // 4,
        "thin": 10,
        "eta0": 0.02,
        "acceptance": float(res.acceptance),
        "sim_eps_g": eps,
        "sim_eps_g_se": se,
        "sim_rhat": float(res.rhat_max),
        "sim_ess": float(res.ess_min),
        "sim_equilibrated": bool(res.equilibrated),
        "eps_g_theory": dict(zip(THEORIES, th, strict=True)),
        "rel_dev": rel,
        "dev_se": dev,
        "N_rel_dev": {t: N * v for t, v in rel.items()},
        "wall_s_theory": t_th,
        "wall_s_mala": t_mc,
        "note": "P = 400 is a new draw of the template model (the medium run drew P_max = 200)",
    }
    d = " ".join(f"{t} {dev[t]:+.1f}se({100 * rel[t]:+.1f}%)" for t in THEORIES)
    print(
        f"[template {act} L={L} N={N} P={P}] MALA {eps:.4f}±{se:.4f} "
        f"(R-hat {row['sim_rhat']:.3f}, ESS {row['sim_ess']:.0f}, acc {row['acceptance']:.3f}, "
        f"{args.steps} steps, {t_mc / 60:.1f} min): {d}"
    )
    OUT.mkdir(exist_ok=True)
    path = OUT / f"scan_n400_{act}_L{L}_N{N}.json"
    path.write_text(json.dumps(row, indent=1, default=lambda x: float(np.asarray(x))) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
