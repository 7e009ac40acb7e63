"""Population annealing of deep perceptron networks (issue 14): time per pattern, genealogy and
prior-vs-planted overlaps. Run (one core):

    OMP_NUM_THREADS=1 python benchmarks/bench_anneal.py path --c 4 --alpha 10 --population 200
    OMP_NUM_THREADS=1 python benchmarks/bench_anneal.py path --c 8 --alpha 0.5 --population 1000
    OMP_NUM_THREADS=1 python benchmarks/bench_anneal.py planted --c 4 --alpha 5

``path`` anneals one teacher-student instance (L = 3, N = 8c, seed 0; the instance of
``perceptron-closure`` at α = alpha_max) and prints, per pattern, the wall time, β steps,
sweeps, surviving families against the neutral-genealogy expectation 2R/(2 + Σ offspring
variance), R_eff, the adapted angles, the self-overlap over a step and, at the measurement
points, the student–teacher overlaps; with ``--runs`` > 1 the log volume and overlaps of the
combined runs with their run-to-run standard errors. ``planted`` runs the closure experiment's
planted chains (:func:`deeprg.experiments.perceptron_closure.planted_run`) on the same instance
and prints the closures' free entropies per weight at that α.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np


def path(args: argparse.Namespace) -> None:
    from deeprg.errors import InputError
    from deeprg.perceptron.montecarlo.anneal import AnnealConfig, anneal

    cfg = AnnealConfig(
        L=3, N=8 * args.c, c=args.c, alpha_max=args.alpha, scenario="teacher",
        population=args.population, sweeps=args.sweeps, ess_floor=args.ess_floor,
        target_acceptance=args.target_acceptance, solved_floor=args.solved_floor,
        decorrelation=args.decorrelation, max_sweeps=args.max_sweeps, runs=args.runs,
        max_steps=args.max_steps, run=args.run,
        n_alpha=args.n_alpha, seed=args.seed,
    )  # fmt: skip
    print(json.dumps(cfg.to_dict()))
    t0 = time.perf_counter()
    anneal(cfg.replace(alpha_max=1 / cfg.fan, population=8, runs=1))  # compile the kernels
    print(f"compile {time.perf_counter() - t0:.1f} s", flush=True)
    try:
        ds = anneal(cfg)
    except InputError as err:  # extinct: print the path up to there
        print(err)
        ds = getattr(err, "partial", None)
        if ds is None:
            return
    R = cfg.population
    for i, a in enumerate(ds["alpha"].values):
        p = ds.isel(alpha=i)
        neutral = 2 * R * cfg.runs / (2 + float(p["offspring_var"]) / cfg.runs)
        line = (
            f"alpha {a:6.3f}  t {float(p['seconds']):6.2f} s  steps {int(p['beta_steps']):3d}  "
            f"sweeps {int(p['sweeps_used']):4d}  families {int(p['families']):4d} "
            f"(neutral {neutral:5.0f})  R_eff {float(p['R_eff']):6.1f}  "
            f"logV {float(p['log_volume']):.4f}"
        )
        if "log_volume_se" in ds:
            line += f"({float(p['log_volume_se']):.4f})"
        line += (
            f"  acc {np.round(p['acceptance'].values, 2).tolist()}  theta "
            f"{np.round(p['theta'].values, 2).tolist()}  self-overlap "
            f"{np.round(p['self_overlap'].values, 2).tolist()}"
        )
        if np.isfinite(p["Q"].values).all():
            line += f"  Q_TS {np.round(p['Q'].values, 3).tolist()}"
            if "Q_se" in ds:
                line += f" se {np.round(p['Q_se'].values, 3).tolist()}"
            line += f"  q_TS {np.round(p['q'].values[1:-1], 3).tolist()}"
        print(line, flush=True)
    print(
        f"total {float(ds['seconds'].sum()):.1f} s for {ds.sizes['alpha']} patterns, R = {R}, runs {cfg.runs}"
    )
    if args.out:
        ds.to_netcdf(args.out)


def planted(args: argparse.Namespace) -> None:
    from deeprg.experiments.perceptron_closure import N_BLOCKS, planted_run, theory_lines

    t0 = time.perf_counter()
    r = planted_run(3, args.c, args.alpha, args.planted_sweeps, args.seed)
    h, q3 = N_BLOCKS // 2, 3 * N_BLOCKS // 4
    Q = r["Q_ts"][h:]
    print(
        f"planted L=3 c={args.c} alpha={args.alpha:g} seed={args.seed} sweeps "
        f"{args.planted_sweeps}: Q_TS {np.round(Q.mean(0), 3).tolist()} se(blocks) "
        f"{np.round(Q.std(0, ddof=1) / np.sqrt(len(Q)), 3).tolist()} Q_cc "
        f"{np.round(r['Q_cc'][h:].mean(0), 3).tolist()} drift "
        f"{np.round(r['Q_ts'][h:q3].mean(0) - r['Q_ts'][q3:].mean(0), 3).tolist()} q_TS "
        f"{np.round(r['q_ts'][h:].mean(0), 3).tolist()} ({time.perf_counter() - t0:.0f} s)"
    )
    grid = np.union1d(np.geomspace(2.0, 25.0, 14), [args.alpha])
    k = int(np.flatnonzero(np.isclose(grid, args.alpha))[0])
    for cl in ("A", "B"):
        t = theory_lines(3, grid, cl)
        print(f"closure {cl}: Q {np.round(t['Q'][k], 3).tolist()} f/L {t['f'][k] / 3:.4f}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=("path", "planted"))
    ap.add_argument("--c", type=int, default=4)
    ap.add_argument("--alpha", type=float, default=10.0)
    ap.add_argument("--population", type=int, default=200)
    ap.add_argument("--sweeps", type=int, default=5)
    ap.add_argument("--ess-floor", type=float, default=0.5)
    ap.add_argument("--target-acceptance", type=float, default=0.4)
    ap.add_argument("--solved-floor", type=float, default=None)
    ap.add_argument("--decorrelation", type=float, default=None)
    ap.add_argument("--max-sweeps", type=int, default=50)
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--run", type=int, default=0)
    ap.add_argument("--max-steps", type=int, default=400)
    ap.add_argument("--n-alpha", type=int, default=4)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--planted-sweeps", type=int, default=2000)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    (path if args.what == "path" else planted)(args)


if __name__ == "__main__":
    main()
