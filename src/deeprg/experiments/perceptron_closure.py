"""``perceptron-closure``: which closure of the layered replica theory describes deep
perceptron networks? (docs/theory/perceptron.md §3.2, §3.3, §3.6, §3.7.1, §5.4;
docs/validation.md, "The closure verdict").

Teacher–student data on sparse c-regular networks (N = 8c), at T = 0 and κ = 0, where the
weights are the only free variables (§5.4). Two kinds of simulation on the same instances:

- **planted starts**: the slaved-neuron sampler started at the teacher (an exact posterior
  sample by the Nishimori property, §2.3): two chains per instance, the student–teacher
  overlaps Q_TS(l), q_TS(l) and the clone–clone Q_cc(l) of the two chains as blocks along the
  run; a point counts as equilibrated when the last two quarters agree (drift) and
  Q_cc = Q_TS (the Nishimori identity), both within tolerances stored in the attributes;
- **prior starts**: population annealing in α from the prior (§5.4), its student–teacher
  overlaps and its log Gardner volume per weight; an extinct population or a collapsed
  genealogy is reported as such.

The observable is the per-layer Q_TS(l) and the asymmetry ρ = Q_TS(1)/Q_TS(L): closure A is
reflection symmetric (ρ = 1); closure B freezes from the output (ρ → 0 where the input side is
liquid). Planted values are extrapolated linearly in 1/c. Theory: RS teacher–student closures
A (§3.6) and B (§3.7.1), on the branch of larger free entropy where continuation up and down in
α finds two (first-order jumps to the pinned branch q → 1); their free entropies per weight
f/L are compared with the annealing log volume.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from deeprg.errors import InputError
from deeprg.experiments.registry import ReproductionResult, register
from deeprg.plotting import register_plot, save_figure, subplots
from deeprg.schema import COORDS, annotate, var

DRIFT_TOL = 0.02  # |Q(3rd quarter) − Q(4th quarter)| for an equilibrated planted point
NISHIMORI_TOL = 0.03  # |Q_cc − Q_TS| for an equilibrated planted point
AGREE_TOL = 0.05
C_MIN_FIT = 8  # smallest c in the 1/c extrapolation  # |Q_planted − Q_anneal| floor (3 se when larger) for agreement
N_BLOCKS = 20


@dataclass(frozen=True)
class ClosureSize:
    """Settings of one size of the reproduction."""

    Ls: tuple[int, ...]
    cs: tuple[int, ...]
    alphas: tuple[float, ...]
    instances: int
    sweeps: int  # planted sweeps per chain
    anneal_cs: tuple[int, ...]
    population: int
    anneal_sweeps: int
    grid: int  # theory points on the α grid


SIZES = {
    "test": ClosureSize((3,), (4,), (5.0,), 1, 100, (4,), 40, 2, 3),
    "quick": ClosureSize((3,), (4, 8, 16), (5.0, 10.0, 20.0), 2, 2000, (4,), 200, 5, 14),
    "full": ClosureSize((3, 4), (4, 8, 16), (5.0, 10.0, 20.0), 4, 30000, (4, 8), 1000, 10, 30),
}


# ---------------------------------------------------------------------- theory


def _branch(L: int, grid: np.ndarray, closure: str, down: bool) -> list:
    """RS teacher solutions along ``grid`` by continuation upwards from the liquid seed or
    downwards from a nearly frozen start (seed 0.97)."""
    from deeprg.perceptron.replica import solve_rs

    order = grid[::-1] if down else grid
    out, prev = [], None
    for a in order:  # continuation is sequential
        kw = {"seed": 0.97} if down and prev is None else {}
        prev = solve_rs(L, float(a), scenario="teacher", closure=closure, init=prev, **kw)
        out.append(prev)
    return out[::-1] if down else out


def theory_lines(L: int, grid: np.ndarray, closure: str) -> dict[str, np.ndarray]:
    """Q (alpha, wlayer), f, converged and the branch taken (1: pinned/down branch) of the
    larger-free-entropy solution at every α of ``grid``."""
    up, dn = _branch(L, grid, closure, False), _branch(L, grid, closure, True)
    pick = [d if d.f > u.f + 1e-9 else u for u, d in zip(up, dn, strict=True)]
    return {
        "Q": np.array([s.Q for s in pick]),
        "f": np.array([s.f for s in pick]),
        "converged": np.array([s.converged for s in pick]),
        "pinned": np.array([d.f > u.f + 1e-9 for u, d in zip(up, dn, strict=True)]),
    }


# ---------------------------------------------------------------------- planted chains


def _ts_overlaps(wr: Any, a: Any, b: Any) -> tuple[np.ndarray, np.ndarray]:
    """Sign-matched (q per neuron layer, Q per weight layer) between two slaved states."""
    from deeprg.perceptron.montecarlo.analysis import matched_overlaps
    from deeprg.perceptron.montecarlo.slaved import dense_weights

    L, nmax = wr.L, int(wr.w.max())

    def dense(st: Any) -> tuple[np.ndarray, np.ndarray]:
        Jd = np.zeros((L, nmax, nmax))
        for l, W in enumerate(dense_weights(wr, st.J), start=1):
            Jd[l - 1, : wr.w[l], : wr.w[l - 1]] = W
        return np.transpose(st.S, (0, 2, 1)), Jd

    (Sa, Ja), (Sb, Jb) = dense(a), dense(b)
    return matched_overlaps(Sa, Ja, Sb, Jb, wr.w, permute=False)


def planted_run(L: int, c: int, alpha: float, sweeps: int, seed: int) -> dict[str, np.ndarray]:
    """Two slaved chains from the teacher on one instance: blocks (N_BLOCKS, L) of Q_TS (mean
    of the chains), Q_cc and q_TS (hidden neuron layers), and the acceptance per layer."""
    from deeprg.perceptron.montecarlo.anneal import instance
    from deeprg.perceptron.montecarlo.config import AnnealConfig
    from deeprg.perceptron.montecarlo.slaved import SlavedState, sweep

    cfg = AnnealConfig(
        L=L, N=8 * c, c=c, alpha_max=alpha, scenario="teacher", population=2, seed=seed
    )
    wr, S0, SL, teacher = instance(cfg)
    assert teacher is not None
    T = SlavedState.build(wr, teacher, S0, SL)
    chains = [SlavedState.build(wr, teacher.copy(), S0, SL) for _ in range(2)]
    rngs = [
        np.random.default_rng(np.random.SeedSequence([seed, L, c, int(alpha), k])) for k in (0, 1)
    ]
    per = max(1, sweeps // N_BLOCKS)
    Qts, Qcc, qts, acc = [], [], [], np.zeros((L, 2))
    for _ in range(N_BLOCKS):  # blocks along the run
        for st, rng in zip(chains, rngs, strict=True):
            acc += sweep(st, wr, per, rng)
        o = [_ts_overlaps(wr, st, T) for st in chains]
        Qts.append(0.5 * (o[0][1] + o[1][1]))
        qts.append(0.5 * (o[0][0] + o[1][0])[1:-1])
        Qcc.append(_ts_overlaps(wr, chains[0], chains[1])[1])
    return {
        "Q_ts": np.array(Qts),
        "Q_cc": np.array(Qcc),
        "q_ts": np.array(qts),
        "acceptance": acc[:, 1] / np.maximum(acc[:, 0], 1),
    }


def planted_point(L: int, c: int, alpha: float, size: ClosureSize, seed: int) -> dict[str, Any]:
    """Second-half means over blocks and instances, the standard error over instances (over
    second-half blocks for one instance), the drift, Q_cc for the Nishimori check, and
    ``trace``: the block means of Q_TS (N_BLOCKS, L) averaged over instances."""
    runs = [planted_run(L, c, alpha, size.sweeps, seed + i) for i in range(size.instances)]
    h, q3 = N_BLOCKS // 2, 3 * N_BLOCKS // 4
    Q = np.array([r["Q_ts"][h:].mean(0) for r in runs])
    if len(runs) > 1:
        se = Q.std(0, ddof=1) / np.sqrt(len(runs))
    else:
        se = runs[0]["Q_ts"][h:].std(0, ddof=1) / np.sqrt(N_BLOCKS - h)
    drift = np.mean([r["Q_ts"][h:q3].mean(0) - r["Q_ts"][q3:].mean(0) for r in runs], axis=0)
    Qcc = np.mean([r["Q_cc"][h:].mean(0) for r in runs], axis=0)
    Qm = Q.mean(0)
    ok = bool(np.max(np.abs(drift)) < DRIFT_TOL and np.max(np.abs(Qcc - Qm)) < NISHIMORI_TOL)
    return {
        "Q": Qm,
        "Q_se": se,
        "Q_cc": Qcc,
        "q": np.mean([r["q_ts"][h:].mean(0) for r in runs], axis=0),
        "drift": drift,
        "acceptance": np.mean([r["acceptance"] for r in runs], axis=0),
        "equilibrated": ok,
        "trace": np.mean([r["Q_ts"] for r in runs], axis=0),
    }


# ---------------------------------------------------------------------- prior starts


def anneal_point(L: int, c: int, alpha: float, size: ClosureSize, seed: int) -> dict[str, Any]:
    """Population annealing from the prior to ``alpha`` on instance ``seed`` (the planted
    chains' first instance): Q_TS at α, log volume per weight, families, R_eff; status
    "ok" or "extinct" (the population died out: no estimate)."""
    from deeprg.perceptron.montecarlo.anneal import anneal
    from deeprg.perceptron.montecarlo.config import AnnealConfig

    cfg = AnnealConfig(
        L=L, N=8 * c, c=c, alpha_max=alpha, scenario="teacher", population=size.population,
        sweeps=size.anneal_sweeps, n_alpha=2, seed=seed,
    )  # fmt: skip
    try:
        ds = anneal(cfg)
    except InputError as err:
        return {"status": "extinct", "message": str(err)}
    last = ds.isel(alpha=-1)
    return {
        "status": "ok",
        "Q": last["Q"].values,
        "log_volume": float(last["log_volume"]),
        "families": int(last["families"]),
        "R_eff": float(last["R_eff"]),
    }


# ---------------------------------------------------------------------- assembly


def extrapolate(cs: np.ndarray, y: np.ndarray, se: np.ndarray) -> tuple[float, float]:
    """Weighted straight-line fit y = a + b/c; returns (a, se of a), NaN with < 2 points."""
    ok = np.isfinite(y) & np.isfinite(se)
    if ok.sum() < 2:
        return float("nan"), float("nan")
    X = np.stack([np.ones(ok.sum()), 1.0 / cs[ok]], axis=1)
    w = 1.0 / np.maximum(se[ok], 1e-3) ** 2
    cov = np.linalg.inv(X.T @ (X * w[:, None]))
    a = cov @ (X.T @ (w * y[ok]))
    return float(a[0]), float(np.sqrt(cov[0, 0]))


def _pad(v: np.ndarray, n: int) -> np.ndarray:
    out = np.full(n, np.nan)
    out[: len(v)] = v
    return out


def _simulations(size: ClosureSize, seed: int) -> dict[str, np.ndarray]:
    """Planted and annealing results on the (L, c, alpha, wlayer) grid (NaN: not run)."""
    nL, nc, na, W = len(size.Ls), len(size.cs), len(size.alphas), max(size.Ls)
    shape = (nL, nc, na)
    out = {k: np.full((*shape, W), np.nan) for k in ("Q_mc", "Q_mc_se", "Q_cc", "drift", "Q_pa")}
    out |= {k: np.full(shape, np.nan) for k in ("equilibrated", "log_volume", "R_eff")}
    out |= {"families": np.full(shape, -1), "pa_status": np.full(shape, "not run", dtype=object)}
    for i, L in enumerate(size.Ls):
        for j, c in enumerate(size.cs):
            extinct = False
            for k, a in enumerate(size.alphas):  # sequential: an extinct population stops c
                p = planted_point(L, c, a, size, seed)
                for key, src in (("Q_mc", "Q"), ("Q_mc_se", "Q_se"), ("Q_cc", "Q_cc")):
                    out[key][i, j, k] = _pad(p[src], W)
                out["drift"][i, j, k] = _pad(p["drift"], W)
                out["equilibrated"][i, j, k] = float(p["equilibrated"])
                if c in size.anneal_cs and not extinct:
                    _fill_anneal(out, (i, j, k), anneal_point(L, c, a, size, seed), W)
                    extinct = out["pa_status"][i, j, k] == "extinct"
    return out


def _fill_anneal(out: dict[str, np.ndarray], idx: tuple, r: dict[str, Any], W: int) -> None:
    out["pa_status"][idx] = r["status"]
    if r["status"] == "ok":
        out["Q_pa"][idx] = _pad(r["Q"], W)
        out["log_volume"][idx] = r["log_volume"]
        out["families"][idx] = r["families"]
        out["R_eff"][idx] = r["R_eff"]


def _theory(size: ClosureSize) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """α grid (including the simulated loads) and the closure lines on it."""
    grid = np.union1d(np.geomspace(2.0, 25.0, size.grid), size.alphas)
    W = max(size.Ls)
    out: dict[str, np.ndarray] = {}
    for cl in ("A", "B"):
        Q = np.full((len(size.Ls), len(grid), W), np.nan)
        f = np.full((len(size.Ls), len(grid)), np.nan)
        pinned = np.zeros((len(size.Ls), len(grid)))
        for i, L in enumerate(size.Ls):
            t = theory_lines(L, grid, cl)
            Q[i, :, :L], f[i], pinned[i] = t["Q"], t["f"] / L, t["pinned"]
        out |= {f"Q_{cl}": Q, f"f_{cl}": f, f"pinned_{cl}": pinned}
    return grid, out


_ATTRS = {
    "Q_mc": var("Q_TS, planted", "student-teacher weight overlap, slaved sampler from the "
                "teacher, second-half mean over blocks and instances"),
    "Q_mc_se": var("se of Q_mc", "over instances (over second-half blocks for one instance)"),
    "Q_cc": var("Q clone-clone, planted", "overlap of the two planted chains (Nishimori: = Q_TS)"),
    "drift": var("drift of Q_mc", "3rd-quarter minus 4th-quarter mean (equilibrium: 0)"),
    "equilibrated": var("equilibrated", "1 if |drift| < DRIFT_TOL and |Q_cc - Q_TS| < "
                        "NISHIMORI_TOL in every layer"),
    "Q_pa": var("Q_TS, prior start", "population annealing from the prior, population mean"),
    "log_volume": var("log Gardner volume per weight", "population annealing, ln[V/V(0)]/weights"),
    "R_eff": var("effective population", "R^2 / sum of squared family sizes"),
    "families": var("surviving families", "ancestors at alpha = 0 still present (-1: no run)"),
    "pa_status": var("annealing status", "ok, extinct (no estimate) or not run"),
    "Q_A": var("RS Q(l), closure A", "teacher, larger-f branch"),
    "Q_B": var("RS Q(l), closure B", "teacher, larger-f branch"),
    "f_A": var("RS free entropy per weight, A", "f/L (log volume per weight)"),
    "f_B": var("RS free entropy per weight, B", "f/L (log volume per weight)"),
    "pinned_A": var("A on the pinned branch", "1 where the down-continuation branch wins"),
    "pinned_B": var("B on the pinned branch", "1 where the down-continuation branch wins"),
    "Q_inf": var("Q_TS extrapolated", "planted Q_mc fitted a + b/c, the intercept a"),
    "Q_inf_se": var("se of Q_inf", "weighted least squares"),
    "rho_mc": var("asymmetry rho, planted", "Q_TS(1)/Q_TS(L)"),
    "rho_inf": var("rho extrapolated", "intercept of rho = a + b/c"),
    "Q_pinned": var("pinned-branch Q", "R_Gibbs(alpha): every layer a Gibbs learner (q = 1)"),
}  # fmt: skip


def _extrapolations(ds: Any, size: ClosureSize) -> None:
    """Q_inf (L, alpha, wlayer), rho_mc (L, c, alpha) and rho_inf (L, alpha), in place. The
    fit uses the equilibrated points with c >= C_MIN_FIT only (c = 4 is far from the
    asymptotic regime; a non-equilibrated planted value is not an equilibrium estimate)."""
    cs = np.asarray(size.cs, dtype=np.float64)
    use = (ds["equilibrated"].values == 1) & (cs[None, :, None] >= C_MIN_FIT)
    Qmc = np.where(use[..., None], ds["Q_mc"].values, np.nan)
    se = ds["Q_mc_se"].values
    nL, _, na, W = Qmc.shape
    Qinf, Qinf_se = np.full((nL, na, W), np.nan), np.full((nL, na, W), np.nan)
    rho = np.full(Qmc.shape[:3], np.nan)
    rho_inf = np.full((nL, na), np.nan)
    for i, L in enumerate(size.Ls):
        rho[i] = Qmc[i, :, :, 0] / Qmc[i, :, :, L - 1]
        rse = np.abs(rho[i]) * np.hypot(se[i, :, :, 0] / Qmc[i, :, :, 0],
                                        se[i, :, :, L - 1] / Qmc[i, :, :, L - 1])  # fmt: skip
        for k in range(na):
            for l in range(L):
                Qinf[i, k, l], Qinf_se[i, k, l] = extrapolate(cs, Qmc[i, :, k, l], se[i, :, k, l])
            rho_inf[i, k] = extrapolate(cs, rho[i, :, k], rse[:, k])[0]
    ds["Q_inf"] = (("L", "alpha", "wlayer"), Qinf)
    ds["Q_inf_se"] = (("L", "alpha", "wlayer"), Qinf_se)
    ds["rho_mc"] = (("L", "c", "alpha"), ds["Q_mc"].values[..., 0] / _last(ds, size))
    ds["rho_inf"] = (("L", "alpha"), rho_inf)


def _last(ds: Any, size: ClosureSize) -> np.ndarray:
    """Q_mc of the last weight layer of each L, shape (L, c, alpha)."""
    return np.stack([ds["Q_mc"].values[i, ..., L - 1] for i, L in enumerate(size.Ls)])


def pinned_reference(alphas: Any) -> np.ndarray:
    """R_Gibbs(α): the overlap of every layer when the hidden neurons are pinned to the
    teacher's (q = 1), each perceptron then a Gibbs learner of its teacher perceptron — the
    large-α branch of both closures (§3.7.1)."""
    from deeprg.perceptron.replica import solve_rs

    return np.array([solve_rs(1, float(a), scenario="teacher").Q[0] for a in alphas])


def build_dataset(size: ClosureSize, seed: int) -> Any:
    """Theory, simulations and extrapolations as one annotated Dataset."""
    import xarray as xr

    sim = _simulations(size, seed)
    grid, th = _theory(size)
    W = max(size.Ls)
    d4, d3 = ("L", "c", "alpha", "wlayer"), ("L", "c", "alpha")
    data = {k: (d4 if v.ndim == 4 else d3, v) for k, v in sim.items()}
    data["pa_status"] = (d3, sim["pa_status"].astype(str))
    th_ds = xr.Dataset(
        {k: (("L", "alpha_theory", "wlayer") if v.ndim == 3 else ("L", "alpha_theory"), v)
         for k, v in th.items()},
        coords={"alpha_theory": grid},
    )  # fmt: skip
    ds = xr.Dataset(
        data,
        coords={"L": list(size.Ls), "c": list(size.cs), "alpha": list(size.alphas),
                "wlayer": np.arange(1, W + 1)},
    ).merge(th_ds)  # fmt: skip
    _extrapolations(ds, size)
    ds["Q_pinned"] = (("alpha",), pinned_reference(size.alphas))
    annotate(ds, COORDS | _ATTRS)
    ds.attrs.update({
        "instances": size.instances, "sweeps": size.sweeps, "population": size.population,
        "anneal_sweeps": size.anneal_sweeps, "N_over_c": 8, "drift_tol": DRIFT_TOL,
        "nishimori_tol": NISHIMORI_TOL, "agree_tol": AGREE_TOL,
    })  # fmt: skip
    return ds


# ---------------------------------------------------------------------- summary


def _theory_at(ds: Any, cl: str, L: int, a: float) -> np.ndarray:
    return ds[f"Q_{cl}"].sel(L=L, alpha_theory=a).values[:L]


def agreement(ds: Any, L: int, c: int, a: float) -> str:
    """'agree', 'differ' or 'n/a' between planted and prior starts at one point."""
    p = ds.sel(L=L, c=c, alpha=a)
    if str(p["pa_status"].values) != "ok":
        return "n/a"
    dQ = np.abs(p["Q_mc"].values[:L] - p["Q_pa"].values[:L])
    tol = np.maximum(AGREE_TOL, 3 * p["Q_mc_se"].values[:L])
    return "agree" if bool(np.all(dQ <= tol)) else "differ"


def _rms_z(x: np.ndarray, ref: np.ndarray, se: np.ndarray) -> float:
    """rms of (x − ref)/se over finite entries (NaN if none)."""
    z = (x - ref) / np.maximum(se, 1e-3)
    z = z[np.isfinite(z)]
    return float(np.sqrt(np.mean(z**2))) if z.size else float("nan")


def _point_line(ds: Any, L: int, a: float) -> str:
    """One summary line per (L, α): theory, extrapolated planted overlaps, the verdict."""
    QA, QB = _theory_at(ds, "A", L, a), _theory_at(ds, "B", L, a)
    Qi = ds["Q_inf"].sel(L=L, alpha=a).values[:L]
    se = ds["Q_inf_se"].sel(L=L, alpha=a).values[:L]
    zA, zB = _rms_z(Qi, QA, se), _rms_z(Qi, QB, se)
    eq = ds["equilibrated"].sel(L=L, alpha=a).values
    per_c = ", ".join(
        f"c={c}: {np.round(ds['Q_mc'].sel(L=L, c=c, alpha=a).values[:L], 3).tolist()}"
        f"{'' if e == 1 else ' (NOT equilibrated)'} [{agreement(ds, L, int(c), a)}]"
        for c, e in zip(ds["c"].values, eq, strict=True)
    )
    return (
        f"L={L} alpha={a:g}: A {np.round(QA, 3).tolist()} B {np.round(QB, 3).tolist()}; "
        f"planted {per_c}; 1/c->0: {np.round(Qi, 3).tolist()} (se {np.round(se, 3).tolist()}), "
        f"rho_inf={float(ds['rho_inf'].sel(L=L, alpha=a)):.3f}; rms z to A {zA:.1f}, to B {zB:.1f}"
        f"; pinned (R_Gibbs) {float(ds['Q_pinned'].sel(alpha=a)):.4f}"
    )


def summary(ds: Any) -> str:
    lines = [_point_line(ds, int(L), float(a)) for L in ds["L"].values for a in ds["alpha"].values]
    for L in ds["L"].values:
        for c in ds["c"].values:
            for a in ds["alpha"].values:
                p = ds.sel(L=L, c=c, alpha=a)
                st = str(p["pa_status"].values)
                if st == "not run":
                    continue
                fA = float(ds["f_A"].sel(L=L, alpha_theory=a))
                fB = float(ds["f_B"].sel(L=L, alpha_theory=a))
                lines.append(
                    f"anneal L={L} c={c} alpha={a:g}: {st}, log V/weight "
                    f"{float(p['log_volume']):.4f} (A {fA:.4f}, B {fB:.4f}), families "
                    f"{int(p['families'])}, R_eff {float(p['R_eff']):.1f}, Q "
                    f"{np.round(p['Q_pa'].values[: int(L)], 3).tolist()}"
                )
    return "\n".join(lines)


@register(
    "perceptron-closure",
    "Teacher-student, sparse networks: planted and prior-start overlaps vs closures A and B",
)
def run_closure(size: str, seed: int, out_dir: Path) -> ReproductionResult:
    """The closure verdict (docs/validation.md): Q_TS(l) and ρ = Q_TS(1)/Q_TS(L) from planted
    and prior starts at growing c (N = 8c), extrapolated in 1/c, against closures A and B."""
    if size not in SIZES:
        raise InputError(f"size must be one of {', '.join(SIZES)}, got {size!r}")
    sz = SIZES[size]
    ds = build_dataset(sz, seed)
    cfg = {"size": size, "Ls": list(sz.Ls), "cs": list(sz.cs), "alphas": list(sz.alphas)}
    return ReproductionResult(ds, [], summary(ds), cfg)


@register_plot("perceptron-closure")
def plot_closure(ds: Any, path: Path) -> Path:
    """Per (L, α): Q_TS(l) of the planted runs per c, the 1/c extrapolation and both closures;
    last column: ρ against α (theory lines, extrapolated points)."""
    Ls, alphas = ds["L"].values, ds["alpha"].values
    fig, axes = subplots(len(Ls), len(alphas) + 1, figsize=(3.6 * (len(alphas) + 1), 3 * len(Ls)))
    axes = np.atleast_2d(axes)
    for i, L in enumerate(Ls):
        lay = np.arange(1, int(L) + 1)
        for k, a in enumerate(alphas):
            ax = axes[i, k]
            for cl, sty in (("A", "k-"), ("B", "r--")):
                ax.plot(lay, _theory_at(ds, cl, int(L), float(a)), sty, label=f"closure {cl}")
            for c in ds["c"].values:
                p = ds.sel(L=L, c=c, alpha=a)
                mk = "o" if float(p["equilibrated"]) == 1 else "x"
                ax.errorbar(lay, p["Q_mc"].values[: int(L)], p["Q_mc_se"].values[: int(L)],
                            fmt=mk, ms=4, label=f"planted c={c}")  # fmt: skip
            qi = ds["Q_inf"].sel(L=L, alpha=a).values[: int(L)]
            ax.plot(lay, qi, "s", mfc="none", color="g", label="1/c → 0")
            ax.axhline(float(ds["Q_pinned"].sel(alpha=a)), color="gray", ls=":", label="pinned")
            ax.set_title(f"L={L}, α={a:g} (x: not equilibrated)", fontsize=8)
            ax.set_xlabel("weight layer l")
            ax.set_ylim(-0.05, 1.05)
        axes[i, 0].legend(fontsize=6)
        _plot_rho(axes[i, -1], ds, int(L))
    fig.suptitle("Teacher–student, N = 8c, T = 0: Q_TS(l) vs closures A and B", fontsize=10)
    fig.tight_layout()
    return save_figure(fig, path)


def _plot_rho(ax: Any, ds: Any, L: int) -> None:
    g = ds["alpha_theory"].values
    for cl, sty in (("A", "k-"), ("B", "r--")):
        Q = ds[f"Q_{cl}"].sel(L=L).values
        with np.errstate(divide="ignore", invalid="ignore"):
            ax.plot(g, Q[:, 0] / Q[:, L - 1], sty, label=f"closure {cl}")
    ax.plot(ds["alpha"], ds["rho_inf"].sel(L=L), "gs", mfc="none", label="planted, 1/c → 0")
    for c in ds["c"].values:
        ax.plot(ds["alpha"], ds["rho_mc"].sel(L=L, c=c), "o", ms=3, label=f"planted c={c}")
    ax.set_xscale("log")
    ax.minorticks_off()
    ax.set_xticks([2, 5, 10, 20], ["2", "5", "10", "20"])
    ax.set_title(f"ρ = Q(1)/Q({L})", fontsize=8)
    ax.set_xlabel("α")
    ax.legend(fontsize=6)
