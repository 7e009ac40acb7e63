"""BPKR at the size of real data (issue 13). Every number is measured in this run.

Run (one BLAS thread, as recorded in BENCHMARKS.md):

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/bench_bpkr_scale.py [SECTION ...]

Sections (default: all), each in a fresh subprocess so that its peak memory (VmHWM) is its own:

- ``big``: P = 60,000, N0 = 784, widths [500, 500], T = 0.05 on synthetic Gaussian data:
  decomposition (feature path) + saddle solve + ε_g on 10,000 test points; time and peak
  memory (targets < 5 s, < 2 GB), and the kernel path's memory for the same P (estimate);
- ``sweep``: a 10⁴-point (σ², T) sweep with ε_g at that size (target < 20 s);
- ``paths``: feature vs kernel path on the same data at P = 4,000, N0 = 784 (time ratio and
  agreement of the results);
- ``exact``: exact finite-width mode per point after the decomposition, widths 100, P = 2,000,
  L = 1, 5, 20, 100 (target: L = 100 < 5 s and a few times L = 1);
- ``memory``: kernel-path peak memory in P×P arrays at P = 3,000 (linear with N0 > P, ReLU
  depth 2, and a linear kernel forced onto the kernel path with N0 < P),
  against the previous construction (Gram, symmetrized copy, numpy.linalg.eigh) measured in
  the same run (target <= ~2.5);
- ``peer``: deepbays 0.1.11 (FC_deep, identity kernel) vs deeprg at P = 2,000, N0 = 100,
  L = 2: one solve (target >= 100x) and a sweep (target >= 1000x), same numbers to 1e-8.
  Needs the separate environment made by ``bash benchmarks/peer_env.sh`` (.peer-venv/);
  skipped with a message when it is absent. deepbays is never imported by deeprg.

The 10⁴-point sweep at P = 2,000 on the kernel path (<= 2x one eigendecomposition) is
``benchmarks/bench_bpkr.py``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
PEER_PY = Path(os.environ.get("PEER_VENV", ROOT / ".peer-venv")) / "bin" / "python"


def vm_hwm_mb() -> float:
    """Peak resident memory of this process so far (VmHWM, MB)."""
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def teacher(P: int, N0: int, n_test: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    w = rng.standard_normal(N0)
    X = rng.standard_normal((P, N0))
    y = X @ w / np.sqrt(N0) + 0.3 * rng.standard_normal(P)
    Xt = rng.standard_normal((n_test, N0))
    return X, y, Xt, Xt @ w / np.sqrt(N0)


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def section_big() -> None:
    from deeprg.bpkr import architecture, base_kernel, fit_kernel

    P, N0, n = 60_000, 784, 10_000
    X, y, Xt, yt = teacher(P, N0, n)
    data_mb = (X.nbytes + Xt.nbytes + y.nbytes + yt.nbytes) / 2**20
    before = vm_hwm_mb()
    t0 = time.perf_counter()
    kern = base_kernel(X, y)
    t1 = time.perf_counter()
    f = fit_kernel(kern, architecture([500, 500], 1.0, 0.05), "saddle")
    t2 = time.perf_counter()
    err = f.errors(Xt, yt)
    t3 = time.perf_counter()
    t_pred, _ = timed(lambda: f.predict(Xt))  # projections cached: no second product
    peak = vm_hwm_mb()
    total = t3 - t0
    print(f"P = {P}, N0 = {N0}, widths [500, 500], T = 0.05, n_test = {n} (path {kern.path})")
    print(f"  decomposition (X^T X, eigh N0xN0)  {t1 - t0:8.3f} s")
    print(f"  saddle solve                       {t2 - t1:8.4f} s   converged={f.converged}")
    print(f"  eps_g on {n} test points        {t3 - t2:8.3f} s   eps_g = {err['eps_g']:.6g}")
    print(
        f"  total                              {total:8.3f} s   (target < 5 s: {total / 5:.2f} x)"
    )
    print(f"  predict() again (cached projections) {t_pred:6.3f} s")
    print(
        f"  peak memory (VmHWM) {peak:8.0f} MB   (target < 2048 MB: {peak / 2048:.2f} x); "
        f"data {data_mb:.0f} MB, before the solve {before:.0f} MB"
    )
    print(
        f"  kernel path at this P: one P x P array is {8 * P**2 / 1e9:.1f} GB, "
        f"its peak ~2 P x P = {16 * P**2 / 1e9:.0f} GB (not run)"
    )


def section_sweep() -> None:
    from deeprg.bpkr import architecture, base_kernel, fit_kernel
    from deeprg.bpkr.sweep import errors_points, solve_points

    P, N0, n, n_pts = 60_000, 784, 10_000, 10_000
    X, y, Xt, yt = teacher(P, N0, n)
    rng = np.random.default_rng(1)
    t_dec, kern = timed(lambda: base_kernel(X, y))
    t_one, f = timed(lambda: fit_kernel(kern, architecture([500, 500], 1.0, 0.05)))
    t_err1, _ = timed(lambda: f.errors(Xt, yt))
    s2 = rng.uniform(0.3, 2.5, n_pts)
    T = np.exp(rng.uniform(np.log(1e-3), np.log(1.0), n_pts))
    t_sol, sol = timed(lambda: solve_points(kern, [[500, 500]] * n_pts, list(s2), T))
    t_err, e = timed(lambda: errors_points(kern, np.exp(sol.logU), s2, T, Xt, yt))
    total = t_dec + t_sol + t_err
    print(
        f"(sigma2, T) sweep of {n_pts} points, P = {P}, N0 = {N0}, widths [500, 500], n_test = {n}"
    )
    print(f"  decomposition {t_dec:7.2f} s; saddle solves {t_sol:7.2f} s; eps_g {t_err:7.2f} s")
    print(
        f"  total {total:7.2f} s   (target < 20 s: {total / 20:.2f} x); converged {sol.converged.mean():.2%}"
    )
    one = t_dec + t_one + t_err1
    print(
        f"  one point from scratch {one:.2f} s -> sweep per point {total / n_pts * 1e3:.2f} ms = {one / (total / n_pts):.0f} x cheaper"
    )
    print(f"  eps_g range {e['eps_g'].min():.4g} .. {e['eps_g'].max():.4g}")


def section_paths() -> None:
    from deeprg.bpkr import architecture, base_kernel, fit_kernel

    P, N0 = 4_000, 784
    X, y, Xt, yt = teacher(P, N0, 1_000)
    arch = architecture([500, 500], 1.0, 0.05)
    out = {}
    for path in ("feature", "kernel"):

        def run(path=path):
            k = base_kernel(X, y, path=path)
            f = fit_kernel(k, arch)
            return f, f.errors(Xt, yt)

        out[path] = timed(run)
    (tf, (ff, ef)), (tk, (fk, ek)) = out["feature"], out["kernel"]
    print(f"P = {P}, N0 = {N0}: decomposition + saddle + eps_g on 1000 test points")
    print(f"  kernel path {tk:7.2f} s, feature path {tf:7.3f} s -> {tk / tf:.0f} x")
    rel = max(
        abs(ff.U / fk.U - 1),
        abs(ef["eps_g"] / ek["eps_g"] - 1),
        abs(ff.log_evidence / fk.log_evidence - 1),
    )
    print(f"  max relative difference of U, eps_g, log-evidence between the paths: {rel:.1e}")


def section_exact() -> None:
    from deeprg.bpkr import architecture, base_kernel, fit_kernel

    X, y, *_ = teacher(2_000, 784, 10)
    kern = base_kernel(X, y)
    times = {}
    for L in (1, 5, 20, 100):
        arch = architecture([100] * L, 1.0, 0.05)
        best = min(timed(lambda arch=arch: fit_kernel(kern, arch, "exact"))[0] for _ in range(3))
        f = fit_kernel(kern, arch, "exact")
        times[L] = best
        print(
            f"exact mode, P = 2000, widths 100, L = {L:3d}: {best * 1e3:8.1f} ms per point "
            f"({best / times[1]:.2f} x L = 1)   converged={f.converged} edge mass {f.diagnostics['edge_mass']:.1e}"
        )
    print(
        f"  L = 100: {times[100]:.3f} s (target < 5 s); {times[100] / times[1]:.1f} x L = 1 (target: a few)"
    )


_MEM_CHILD = r"""
import sys, numpy as np
from benchmarks.bench_bpkr_scale import vm_hwm_mb
kind, P = sys.argv[1], int(sys.argv[2])
rng = np.random.default_rng(0)
N0 = P + 100 if kind.startswith("linear-") else 100  # linear kernel path: N0 >= P (full rank)
X = rng.standard_normal((P, N0)); y = rng.standard_normal(P)
from deeprg.bpkr import base_kernel
from deeprg.bpkr.relu import relu_kernel
from deeprg.kernels import relu_base_kernel
base = vm_hwm_mb()
if kind == "linear-new":
    k = base_kernel(X, y, path="kernel")
elif kind == "forced-new":  # N0 < P on the kernel path: rank-deficient, dsyevd
    k = base_kernel(X, y, path="kernel")
elif kind == "linear-old":
    g = X @ X.T / X.shape[1]
    w, v = np.linalg.eigh(0.5 * (g + g.T))
elif kind == "relu-new":
    k = relu_kernel(X, y, 2)
elif kind == "relu-old":
    g = relu_base_kernel(X, depth=2).cov12
    w, v = np.linalg.eigh(0.5 * (g + g.T))
print((vm_hwm_mb() - base) * 2**20 / (8.0 * P * P))
"""


def section_memory() -> None:
    P = 3_000
    res = {}
    for kind in ("linear-old", "linear-new", "relu-old", "relu-new", "forced-new"):
        out = subprocess.run(
            [sys.executable, "-c", _MEM_CHILD, kind, str(P)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        res[kind] = float(out.stdout.strip().splitlines()[-1])
    print(f"kernel path peak memory beyond the inputs, in P x P float64 arrays (P = {P}, VmHWM):")
    for act in ("linear", "relu"):
        old, new = res[f"{act}-old"], res[f"{act}-new"]
        print(
            f"  {act:6s} previous construction {old:5.2f}   now {new:5.2f}   "
            f"({old / new:.1f} x less; target <= ~2.5)"
        )
    print(
        f"  linear with N0 = 100 < P forced onto the kernel path (dsyevd, null cluster): "
        f"{res['forced-new']:.2f} (memory check assumes 3.5)"
    )
    worst = max(res["linear-new"], res["relu-new"])
    print(f"  -> largest P whose kernel path fits in 24 GB: ~{int(np.sqrt(24e9 / (8 * worst))):,}")


_PEER_CHILD = r"""
import json, sys, time
import numpy as np, torch
torch.set_num_threads(1)
import deepbays, deepbays.kernels as K
K.kernel_id = K.kernel_id_torch = lambda cxx, cxy, cyy: cxy  # identity kernel (linear network)
from deepbays.rkgp import FC_deep
d = np.load(sys.argv[1])
X, y, Xt, yt, pts = d["X"], d["y"], d["Xt"], d["yt"], d["pts"]
out = []
for i, (N, s2, T) in enumerate(pts):
    t0 = time.perf_counter()
    m = FC_deep(2, int(N), float(T), priors=[1.0 / s2] * 3, act="id")
    m.preprocess(X, torch.tensor(y))
    m.optimize()
    t1 = time.perf_counter()
    m.predict(Xt)
    eps, bias2, var = m.averageLoss(yt)
    t2 = time.perf_counter()
    out.append({"Q": [float(q) for q in m.optQ], "converged": bool(m.converged),
                "eps_g": eps, "t_solve": t1 - t0, "t_solve_eps": t2 - t0})
print(json.dumps(out))
"""


def section_peer() -> None:
    if not PEER_PY.exists():
        print(
            f"peer comparison skipped: no deepbays environment at {PEER_PY.parent.parent} "
            "(create it with: bash benchmarks/peer_env.sh)"
        )
        return
    from deeprg.bpkr import architecture, base_kernel, fit_kernel
    from deeprg.bpkr.sweep import errors_points, solve_points

    P, N0, n = 2_000, 100, 1_000
    X, y, Xt, yt = teacher(P, N0, n)
    rng = np.random.default_rng(2)
    n_sweep, n_peer = 10_000, 4
    s2 = rng.uniform(0.5, 2.0, n_sweep)
    T = np.exp(rng.uniform(np.log(1e-2), np.log(0.5), n_sweep))
    N = np.full(n_sweep, 500.0)
    pts = np.stack([N, s2, T], 1)
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data.npz"
        np.savez(data, X=X, y=y, Xt=Xt, yt=yt, pts=pts[:n_peer])
        run = subprocess.run(
            [str(PEER_PY), "-c", _PEER_CHILD, str(data)],
            capture_output=True,
            text=True,
            env={**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"},
        )
    if run.returncode != 0:
        print("peer comparison failed to run deepbays:\n" + run.stderr[-2000:])
        return
    peer = json.loads(run.stdout.strip().splitlines()[-1])

    def solve_one(i: int):
        k = base_kernel(X, y)
        return fit_kernel(k, architecture([N[i], N[i]], s2[i], T[i]))

    def solve_eps(i: int):
        f = solve_one(i)
        return f, f.errors(Xt, yt)

    ours = [min(timed(lambda i=i: solve_one(i))[0] for _ in range(5)) for i in range(n_peer)]
    t_kernel = timed(
        lambda: fit_kernel(base_kernel(X, y, path="kernel"), architecture([N[0]] * 2, s2[0], T[0]))
    )[0]
    ours_eps = [min(timed(lambda i=i: solve_eps(i))[0] for _ in range(5)) for i in range(n_peer)]
    diffs = []
    for i, p in enumerate(peer):
        f, e = solve_eps(i)
        q = f.u / s2[i]  # deepbays' order parameters Q_l = u_l / σ²
        diffs.append(max(np.max(np.abs(q - p["Q"]) / np.abs(q)), abs(e["eps_g"] / p["eps_g"] - 1)))
    t_dec, kern = timed(lambda: base_kernel(X, y))
    t_sw, sol = timed(lambda: solve_points(kern, [[v, v] for v in N], list(s2), T))
    t_er, _ = timed(lambda: errors_points(kern, np.exp(sol.logU), s2, T, Xt, yt))
    sweep_pp = (t_dec + t_sw + t_er) / n_sweep
    sq = sol.u[:n_peer] / s2[:n_peer, None]
    diffs.append(float(np.max(np.abs(sq - np.array([p["Q"] for p in peer])) / sq)))
    tp = float(np.median([p["t_solve"] for p in peer]))
    tpe = float(np.median([p["t_solve_eps"] for p in peer]))
    print(
        f"deepbays 0.1.11 FC_deep (identity kernel) vs deeprg, P = {P}, N0 = {N0}, L = 2, widths 500, one core"
    )
    print(
        f"  deepbays converged: {[p['converged'] for p in peer]}; max relative difference of Q_l and eps_g: {max(diffs):.1e} (target <= 1e-8)"
    )
    print(
        f"  one solve from the data:        deepbays {tp:8.3f} s   deeprg {np.median(ours) * 1e3:7.2f} ms -> {tp / np.median(ours):7.0f} x (target >= 100x)"
    )
    print(
        f"  (deeprg on the P x P kernel path, as before issue 13: {t_kernel:.2f} s -> {tp / t_kernel:.0f} x)"
    )
    print(
        f"  one solve + eps_g ({n} test): deepbays {tpe:8.3f} s   deeprg {np.median(ours_eps) * 1e3:7.2f} ms -> {tpe / np.median(ours_eps):7.0f} x"
    )
    print(
        f"  sweep: deeprg {n_sweep} (sigma2, T) points with eps_g in {t_dec + t_sw + t_er:.2f} s = {sweep_pp * 1e6:.0f} us/point; "
        f"deepbays {tpe:.2f} s/point (median of {n_peer}) -> {tpe / sweep_pp:,.0f} x (target >= 1000x)"
    )


SECTIONS = {
    "big": section_big,
    "sweep": section_sweep,
    "paths": section_paths,
    "exact": section_exact,
    "memory": section_memory,
    "peer": section_peer,
}


def main(argv: list[str]) -> None:
    names = argv or list(SECTIONS)
    unknown = [n for n in names if n not in SECTIONS]
    if unknown:
        raise SystemExit(f"unknown section(s) {unknown}; choose from {', '.join(SECTIONS)}")
    if len(names) == 1:
        SECTIONS[names[0]]()
        return
    for name in names:  # each section in its own process: clean peak-memory readings
        print(f"== {name}", flush=True)
        subprocess.run([sys.executable, __file__, name], cwd=ROOT, check=True)


if __name__ == "__main__":
    main(sys.argv[1:])
