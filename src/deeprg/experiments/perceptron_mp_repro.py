"""Reproduction ``perceptron-message-passing`` (docs/theory/perceptron.md §6.7): message passing
on teacher–student instances of deep perceptron networks at growing c (N = 8c), per-layer
overlaps Q(l) and the input/output asymmetry Q(1)/Q(L) extrapolated in 1/c, against the
replica theory's closures A and B, each with and without the side field h_b the instances carry
(with the field the theory describes the same posterior as BP: the like-for-like comparison).

The figure is drawn from the saved Dataset by the plotter registered under the reproduction's
name (``deeprg plot perceptron-message-passing.nc``).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np

from deeprg.experiments.registry import ReproductionResult, register
from deeprg.plotting import colormap, register_plot, save_figure, subplots
from deeprg.schema import annotate, var

NAME = "perceptron-message-passing"
SIZES: dict[str, dict[str, Any]] = {
    "tiny": {"Ls": [3], "alphas": [5.0], "cs": [8, 12], "instances": 1, "max_iter": 60},
    "quick": {"Ls": [3, 4], "alphas": [5.0, 10.0, 20.0], "cs": [16, 32], "instances": 1},
    "full": {"Ls": [3, 4], "alphas": [5.0, 10.0, 20.0], "cs": [16, 32, 64, 128], "instances": 3},
}
H_B = 0.3  # side field of the instances (MPConfig default for the teacher scenario)

_ATTRS = {
    "Q": var("BP overlap Q(l)", "gauge-invariant mean_i |m_i.J*_i|/c at the last iterate"),
    "Q_self": var("BP self-overlap Q(l)", "mean_i |m_i|^2/c (= Q at the Bayes-optimal point)"),
    "q": var("BP neuron overlap q(l)", "mean_i |<S_i>.S*_i|/M at the last iterate"),
    "converged": var("converged", "1 if the RMS change of the means fell below tol"),
    "residual": var("residual", "RMS change of the means at the last iteration"),
    "drift": var("overlap drift", "largest change of an overlap over the last 20 iterations"),
    "nishimori_gap": var("Nishimori gap", "largest |Q - Q_self|, |q - q_self| over layers"),
    "iterations": var("iterations", "message-passing iterations done", "iterations"),
    "elapsed_s": var("run time", "wall time of one instance", "s"),
    "ratio": var("asymmetry Q(1)/Q(L)", "per instance"),
    "ratio_mean": var("mean asymmetry", "Q(1)/Q(L) averaged over instances"),
    "ratio_extrap": var(
        "asymmetry extrapolated to 1/c = 0", "linear least-squares fit of ratio_mean in 1/c"
    ),
    "ratio_extrap_se": var("standard error of ratio_extrap", "from the fit residuals (NaN: 2 c)"),
    "Q_A": var("RS Q(l), closure A", "teacher-student replica RS, closure A, no field"),
    "Q_A_field": var("RS Q(l), closure A, field", "closure A with the side field h_b"),
    "Q_B": var("RS Q(l), closure B", "teacher-student replica RS, closure B, no field"),
    "q_A_field": var("RS q(l), closure A, field", "closure A with the side field h_b"),
    "q_B": var("RS q(l), closure B", "teacher-student replica RS, closure B, no field"),
    "Q_B_field": var("RS Q(l), closure B, field", "closure B with the side field h_b"),
    "q_B_field": var("RS q(l), closure B, field", "closure B with the side field h_b"),
    "ratio_B_field": var("RS asymmetry, closure B, field", "Q(1)/Q(L), closure B with h_b"),
    "ratio_A": var("RS asymmetry, closure A", "Q(1)/Q(L) of closure A (1 by reflection)"),
    "ratio_A_field": var("RS asymmetry, closure A, field", "Q(1)/Q(L), closure A with h_b"),
    "ratio_B": var("RS asymmetry, closure B", "Q(1)/Q(L) of closure B (NaN: unavailable)"),
}


_KEYS = ("converged", "residual", "drift", "nishimori_gap", "iterations", "elapsed_s")
WORKERS = 2  # processes over the grid points (one BLAS thread each)
STALL = 50  # at the last damping level, no 10 % progress over 50 iterations stops a point


def _solve_point(task):
    """One grid point (a worker's task ``(cfg, points)``): the solver's Result. With a folder
    ``points`` the finished point is kept there as ``<config hash>.npz`` (configuration, hash
    and package version inside) and read back instead of solved again: an interrupted run
    resumes from its finished points; a file whose recorded configuration differs from the
    point's is refused with one line."""
    from deeprg.identity import config_hash
    from deeprg.perceptron.mp import solve
    from deeprg.perceptron.mp.run import Result
    from deeprg.results import load_checkpoint, save_checkpoint

    cfg, points = task
    if points is None:
        return solve(cfg)
    path = Path(points) / f"{config_hash(cfg)}.npz"
    hint = f"delete {points} or choose another --out"
    done = load_checkpoint(path, cfg, types={"Result": Result}, what="finished point", hint=hint)
    if done is not None:
        return done
    r = solve(cfg)
    save_checkpoint(path, r, cfg)
    return r


def _bp(Ls, alphas, cs, instances, seed, max_iter, workers=WORKERS, points=None):
    """BP on every (L, α, c, instance); arrays padded with NaN to the largest depth. The points
    run in ``workers`` processes, the costliest (L·α·c³) first so that the two cores finish
    together; every point's seed derives from (seed, L, α, c, instance) alone, so the result
    does not depend on ``workers``. ``points``: folder of finished points (resume; see
    :func:`_solve_point`)."""
    from deeprg.perceptron.mp import MPConfig
    from deeprg.seeds import derive_seed

    Lmax = max(Ls)
    shape = (len(Ls), len(alphas), len(cs), instances)
    out = {k: np.full((*shape, Lmax), np.nan) for k in ("Q", "Q_self")}
    out["q"] = np.full((*shape, Lmax + 1), np.nan)
    for k in _KEYS:
        out[k] = np.full(shape, np.nan)
    cfgs = {}
    for idx in np.ndindex(*shape):
        i, j, k, s = idx
        L, a, c = Ls[i], alphas[j], cs[k]
        cfgs[idx] = MPConfig(
            L=L, N=8 * c, c=c, alpha=a, max_iter=max_iter, stall=STALL,
            seed=derive_seed(seed, L, round(10 * a), c, s),
        )  # fmt: skip
    order = sorted(cfgs, key=lambda idx: -(cfgs[idx].L * cfgs[idx].alpha * cfgs[idx].c ** 3))
    if points is not None:
        Path(points).mkdir(parents=True, exist_ok=True)
    tasks = [(cfgs[i], points) for i in order]
    for idx, r in zip(order, _map(_solve_point, tasks, workers), strict=True):
        L = cfgs[idx].L
        out["Q"][idx][:L], out["Q_self"][idx][:L], out["q"][idx][: L + 1] = r.Q, r.Q_self, r.q
        for key in _KEYS:
            out[key][idx] = float(getattr(r, key))
    return out


def _map(fn, tasks, workers):
    """``map(fn, tasks)`` in ``workers`` processes with one BLAS thread each (in this process
    when workers = 1 or there is one task)."""
    if workers <= 1 or len(tasks) <= 1:
        return [fn(t) for t in tasks]
    from deeprg.parallel import process_pool
    from deeprg.perceptron.mp import MPConfig

    fn((MPConfig(L=2, N=8, c=4, alpha=1.0, max_iter=2), None))  # compile before the fork
    with process_pool(workers) as ex:
        return list(ex.map(fn, tasks))


def _theory(Ls, alphas):
    """Closures A and B (no field, field h_b) profiles, NaN where missing."""
    from deeprg.perceptron.replica import solve_rs

    Lmax = max(Ls)
    shape = (len(Ls), len(alphas))
    th = {k: np.full((*shape, Lmax), np.nan) for k in ("Q_A", "Q_A_field", "Q_B", "Q_B_field")}
    th |= {k: np.full((*shape, Lmax + 1), np.nan) for k in ("q_A_field", "q_B", "q_B_field")}
    note = "closure B: solved"
    for i, j in np.ndindex(*shape):
        L, a = Ls[i], alphas[j]
        th["Q_A"][i, j, :L] = solve_rs(L, a, scenario="teacher").Q
        sa = solve_rs(L, a, scenario="teacher", field=H_B)
        th["Q_A_field"][i, j, :L], th["q_A_field"][i, j, : L + 1] = sa.Q, sa.q
        try:
            sb = solve_rs(L, a, scenario="teacher", closure="B")
            th["Q_B"][i, j, :L], th["q_B"][i, j, : L + 1] = sb.Q, sb.q
            sf = solve_rs(L, a, scenario="teacher", closure="B", field=H_B)
            th["Q_B_field"][i, j, :L], th["q_B_field"][i, j, : L + 1] = sf.Q, sf.q
        except Exception as exc:  # closure B (teacher) may be unavailable
            note = f"closure B unavailable: {exc}"
    return th, note


def _ratio(Q: np.ndarray, Ls: list[int]) -> np.ndarray:
    """Q(1)/Q(L) along the last axis (weight layers), L per first-axis entry."""
    last = np.stack([Q[i, ..., L - 1] for i, L in enumerate(Ls)])
    with np.errstate(divide="ignore", invalid="ignore"):
        return Q[..., 0] / last


def _extrapolate(r: np.ndarray, cs: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """Linear fit of r (…, c) in x = 1/c: the intercept and its standard error."""
    x = 1.0 / np.asarray(cs, dtype=float)
    X = np.stack([np.ones_like(x), x], axis=1)
    flat = r.reshape(-1, len(cs)).T
    coef, *_ = np.linalg.lstsq(X, flat, rcond=None)
    dof = len(cs) - 2
    if dof <= 0:
        return coef[0].reshape(r.shape[:-1]), np.full(r.shape[:-1], np.nan)
    s2 = ((flat - X @ coef) ** 2).sum(axis=0) / dof
    cov00 = np.linalg.inv(X.T @ X)[0, 0]
    return coef[0].reshape(r.shape[:-1]), np.sqrt(s2 * cov00).reshape(r.shape[:-1])


@register(NAME, "Message passing, teacher-student: Q(l) and Q(1)/Q(L) vs 1/c against closures A, B")
def run(size: str, seed: int, out_dir: Path) -> ReproductionResult:
    import xarray as xr

    p = SIZES[size]
    Ls, alphas, cs, n_inst = p["Ls"], p["alphas"], p["cs"], p["instances"]
    points = out_dir / f".{NAME}-points"  # finished points of an interrupted run
    bp = _bp(Ls, alphas, cs, n_inst, seed, p.get("max_iter", 500), points=points)
    th, note = _theory(Ls, alphas)
    Lmax = max(Ls)
    ratio = _ratio(bp["Q"], Ls)
    ratio_mean = ratio.mean(axis=-1)
    ext, ext_se = _extrapolate(ratio_mean, cs)
    d5, d4, d2 = (
        ("L", "alpha", "c", "instance", "wlayer"),
        ("L", "alpha", "c", "instance"),
        (
            "L",
            "alpha",
        ),
    )
    ds = xr.Dataset(
        {
            "Q": (d5, bp["Q"]),
            "Q_self": (d5, bp["Q_self"]),
            "q": ((*d4, "layer"), bp["q"]),
            **{k: (d4, bp[k]) for k in ("converged", "residual", "drift", "nishimori_gap")},
            **{k: (d4, bp[k]) for k in ("iterations", "elapsed_s")},
            "ratio": (d4, ratio),
            "ratio_mean": (("L", "alpha", "c"), ratio_mean),
            "ratio_extrap": (d2, ext),
            "ratio_extrap_se": (d2, ext_se),
            **{k: ((*d2, "wlayer"), th[k]) for k in ("Q_A", "Q_A_field", "Q_B", "Q_B_field")},
            **{k: ((*d2, "layer"), th[k]) for k in ("q_A_field", "q_B", "q_B_field")},
            "ratio_A": (d2, _ratio(th["Q_A"], Ls)),
            "ratio_A_field": (d2, _ratio(th["Q_A_field"], Ls)),
            "ratio_B": (d2, _ratio(th["Q_B"], Ls)),
            "ratio_B_field": (d2, _ratio(th["Q_B_field"], Ls)),
        },
        coords={
            "L": Ls,
            "alpha": alphas,
            "c": cs,
            "instance": np.arange(n_inst),
            "wlayer": np.arange(1, Lmax + 1),
            "layer": np.arange(Lmax + 1),
        },
        attrs={"h_b": H_B, "N_over_c": 8, "closure_B": note, "size": size},
    )
    annotate(ds, _ATTRS)
    shutil.rmtree(points, ignore_errors=True)  # complete: a later run starts afresh
    return ReproductionResult(ds, [], _summary(ds), {"size": size, **p, "h_b": H_B})


def _summary(ds: Any) -> str:
    """One line per (L, α); a ratio marked * comes from a c where some instance did not
    converge (its value depends on where the iteration stopped), and so does a fit using it."""
    lines = [f"BP converged on {int(np.nansum(ds['converged']))}/{ds['converged'].size} instances"]
    for L in ds["L"].values:
        for a in ds["alpha"].values:
            d = ds.sel(L=L, alpha=a)
            ok = (d["converged"] == 1).all("instance").values
            r = " ".join(
                f"c={int(c)}:{float(v):.3f}{'' if good else '*'}"
                for c, v, good in zip(ds["c"].values, d["ratio_mean"].values, ok, strict=True)
            )
            fit = f"{float(d['ratio_extrap']):.3f}{'' if ok.all() else '*'}"
            lines.append(
                f"L={int(L)} α={float(a):g}: Q(1)/Q(L) {r} → 1/c=0: {fit}"
                f" | closure A {float(d['ratio_A']):.3f}, A+field {float(d['ratio_A_field']):.3f},"
                f" B {float(d['ratio_B']):.3f}, B+field {float(d['ratio_B_field']):.3f}"
            )
    if not bool((ds["converged"] == 1).all()):
        lines.append("* not converged at that c (some instance): the value is not a fixed point's")
    return "\n".join(lines)


def _ratio_range(ds: Any) -> tuple[float, float]:
    """y-range of the ratio panel: the converged points, closure B and A's 1, with a margin
    (a non-converged point far off is left outside rather than squashing the rest)."""
    ok = (ds["converged"] == 1).all("instance")
    vals = np.concatenate(
        [ds["ratio_mean"].where(ok).values.ravel(), ds["ratio_B_field"].values.ravel(), [1.0]]
    )
    vals = vals[np.isfinite(vals)]
    lo, hi = float(vals.min()), float(vals.max())
    pad = 0.1 * max(hi - lo, 0.05)
    return lo - pad, hi + pad


@register_plot(NAME)
def plot(ds: Any, path: Path) -> Path:
    """Left: Q(1)/Q(L) against 1/c per (L, α) with the fit to 1/c = 0 and the closures'
    values at 1/c = 0. Right: Q(l) profiles at the largest c against closures A (field) and B."""
    fig, ax = subplots(1, 2, figsize=(12, 4.5))
    cs = ds["c"].values.astype(float)
    x = 1.0 / cs
    combos = [(L, a) for L in ds["L"].values for a in ds["alpha"].values]
    for n, (L, a) in enumerate(combos):
        col = colormap("viridis")(n / max(len(combos) - 1, 1))
        d = ds.sel(L=L, alpha=a)
        lab = f"L={int(L)} α={float(a):g}"
        ax[0].plot(x, d["ratio_mean"], "o-", color=col, label=lab)
        bad = ~(d["converged"] == 1).all("instance").values
        ax[0].plot(x[bad], d["ratio_mean"].values[bad], "o", color=col, mfc="white")
        ax[0].plot([0.0], [float(d["ratio_extrap"])], "s", color=col, mfc="none")
        ax[0].plot([0.0], [float(d["ratio_B_field"])], "x", color=col, ms=9)
        Lw = np.arange(1, int(L) + 1)
        prof = d["Q"].sel(c=cs.max()).mean("instance").values[: int(L)]
        top_ok = not bad[-1]
        style = {"mfc": col if top_ok else "white", "alpha": 1.0 if top_ok else 0.4}
        ax[1].plot(Lw, prof, "o-", color=col, label=f"BP {lab}, c={int(cs.max())}", **style)
        ax[1].plot(Lw, d["Q_A_field"].values[: int(L)], "--", color=col)
        ax[1].plot(Lw, d["Q_B_field"].values[: int(L)], ":", color=col)
    ax[0].axhline(1.0, color="k", lw=0.8, label="closure A (reflection symmetric)")
    ax[0].set_ylim(*_ratio_range(ds))
    ax[0].set_xlabel("1/c")
    ax[0].set_ylabel("Q(1)/Q(L)")
    ax[0].set_title(
        "squares: fit at 1/c = 0; crosses: closure B with h_b; hollow: not converged", fontsize=9
    )
    ax[0].legend(fontsize=6)
    ax[1].set_xlabel("weight layer l")
    ax[1].set_ylabel("Q(l)")
    ax[1].set_title("dashed: closure A with h_b; dotted: closure B with h_b", fontsize=9)
    ax[1].legend(fontsize=6)
    fig.suptitle(
        f"Message passing, teacher-student, N = 8c, side field h_b = {float(ds.attrs['h_b']):g}",
        fontsize=10,
    )
    fig.tight_layout()
    return save_figure(fig, path)
