"""Monte Carlo reproductions for deep perceptron networks (docs/theory/perceptron.md §5).

``perceptron-dynamics``: q(l; t) relaxation per layer and τ(l) vs l for several N;
``perceptron-teacher``: teacher–student ε_g vs α and matched overlaps against replica RS;
``perceptron-dense-limit``: random-I/O overlaps at growing N and c against closures A and B;
``perceptron-aging``: aging families, overlap histograms P_l(q) and ultrametricity per layer.

Every figure is drawn from the saved Dataset by the plotter registered under the
reproduction's name (``deeprg plot NAME.nc``); run settings the figures quote are Dataset
attributes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from deeprg.experiments.registry import ReproductionResult, register
from deeprg.plotting import colormap, register_plot, save_figure, subplots
from deeprg.schema import annotate, var


@register(
    "perceptron-dynamics", "Monte Carlo: q(l; t) relaxation per layer and τ(l) vs l for several N"
)
def run_dynamics(size: str, seed: int, out_dir: Path) -> ReproductionResult:
    import xarray as xr

    from deeprg.perceptron.montecarlo import MCConfig, run_mc

    Ns, L, alpha, steps, samples = {
        "tiny": ([4], 4, 4.0, 16, 2),
        "quick": ([4, 8, 16], 6, 4.0, 1024, 8),
        "full": ([4, 8, 16, 32], 10, 8.0, 16384, 32),
    }[size]
    T = 0.05
    parts = []
    for N in Ns:
        cfg = MCConfig(
            L=L,
            N=N,
            alpha=alpha,
            T=T,
            t_w=steps // 4,
            steps=steps,
            n_times=14,
            samples=samples,
            seed=seed + N,
        )
        ds = run_mc(cfg, workers=2 if samples > 2 else 1, progress=False)
        parts.append(ds[["q", "Q", "tau", "energy"]].mean("sample").expand_dims(N=[N]))
    out = xr.concat(parts, dim="N", coords="minimal", compat="override")
    out.attrs.update({"alpha": alpha, "T": T})
    tau = out["tau"].values
    msg = "τ(l) per N (NaN: not relaxed within the run): " + "; ".join(
        f"N={N}: {np.round(tau[i], 1).tolist()}" for i, N in enumerate(Ns)
    )
    return ReproductionResult(
        out,
        [],
        msg,
        {"size": size, "L": L, "alpha": alpha, "steps": steps, "samples": samples, "Ns": Ns},
    )


@register_plot("perceptron-dynamics")
def plot_dynamics(ds: Any, path: Path) -> Path:
    """Sample-mean q(l; t) per N, and τ(l) of the hidden layers against l for every N."""
    Ns = [int(n) for n in ds["N"].values]
    L = int(ds.sizes["layer"]) - 1
    fig, axes = subplots(1, len(Ns) + 1, figsize=(4 * (len(Ns) + 1), 3.5))
    for k, N in enumerate(Ns):
        d = ds.sel(N=N)
        for l in range(L + 1):
            axes[k].semilogx(
                ds["time"], d["q"].sel(layer=l), label=f"l={l}", color=colormap("viridis")(l / L)
            )
        axes[k].set_title(f"N = {N}: host–guest q(l; t)", fontsize=9)
        axes[k].set_xlabel("t (MCS)")
        axes[-1].plot(ds["layer"][1:-1], d["tau"][1:-1], "o-", label=f"N={N}")
    axes[0].legend(fontsize=6)
    axes[-1].set_title("τ(l) (1/e crossing)", fontsize=9)
    axes[-1].set_xlabel("layer l")
    axes[-1].set_yscale("log")
    axes[-1].legend(fontsize=7)
    fig.suptitle(
        f"Monte Carlo, random I/O, L={L}, α={ds.attrs['alpha']}, T={ds.attrs['T']} (pCN moves)",
        fontsize=10,
    )
    fig.tight_layout()
    return save_figure(fig, path)


def _mc_final(ds, names):
    """Final-time sample means and standard errors of the named variables."""
    last = ds.isel(time=-1)
    n = ds.sizes["sample"]
    out = {}
    for v in names:
        x = last[v]
        out[v] = x.mean("sample")
        out[v + "_se"] = x.std("sample", ddof=1) / np.sqrt(n) if n > 1 else x.mean("sample") * 0
    return out


_TEACHER_ATTRS = {
    "eps_g_mc": var("MC generalization error", "eps_g on fresh inputs, final time, sample mean"),
    "eps_g_mc_se": var("standard error of eps_g_mc", "sd over samples / sqrt(samples)"),
    "eps_g_rs": var("RS generalization error", "replica RS (closure A) eps_g at the MC loads"),
    "eps_g_rs_curve": var(
        "RS generalization error on a dense grid",
        "replica RS (closure A, exact by Nishimori) eps_g along alpha_grid, per depth L",
    ),
    "alpha_grid": var("load alpha (theory grid)", "dense alpha grid of the RS theory lines"),
    "q_ts_mc": var(
        "MC matched teacher-student q", "q_TS(l) after matching, at the largest L, alpha"
    ),
    "q_ts_mc_se": var("standard error of q_ts_mc", "sd over samples / sqrt(samples)"),
    "q_ts_floor": var("matching floor of q_TS", "q_TS(l) of a random student after matching"),
    "q_rs": var("RS q(l) = q_TS(l)", "replica RS neuron overlaps at the largest L and alpha"),
    "Q_ts_mc": var(
        "MC matched teacher-student Q", "Q_TS(l) after matching, at the largest L, alpha"
    ),
    "Q_ts_mc_se": var("standard error of Q_ts_mc", "sd over samples / sqrt(samples)"),
    "Q_ts_floor": var("matching floor of Q_TS", "Q_TS(l) of a random student after matching"),
    "Q_rs": var("RS Q(l) = Q_TS(l)", "replica RS weight overlaps at the largest L and alpha"),
}


@register(
    "perceptron-teacher",
    "Teacher–student: MC ε_g vs α for several L and matched q_TS(l), Q_TS(l) vs replica RS",
)
def run_teacher(size: str, seed: int, out_dir: Path) -> ReproductionResult:
    import xarray as xr

    from deeprg.perceptron.montecarlo import MCConfig, run_mc
    from deeprg.perceptron.replica import solve_path

    Ls, alphas, N, T, steps, samples = {
        "tiny": ([1, 2], [1.0, 3.0], 8, 0.01, 64, 2),
        "quick": ([1, 2, 3], [0.5, 1.0, 2.0, 3.0, 4.0, 6.0], 16, 0.01, 2000, 6),
        "full": ([1, 2, 3, 4], [0.5, 1, 2, 3, 4, 6, 8, 12], 32, 0.005, 8000, 16),
    }[size]
    workers = 2 if samples > 2 else 1
    rows = []
    for L in Ls:
        for a in alphas:
            cfg = MCConfig(
                L=L, N=N, alpha=a, T=T, scenario="teacher", move="rotation", t_w=steps,
                steps=steps, n_times=6, samples=samples, seed=seed + 1000 * L + int(10 * a),
            )  # fmt: skip
            ds = run_mc(cfg, workers=workers, progress=False)
            f = _mc_final(ds, ["eps_g", "q_ts_matched", "Q_ts_matched", "energy"])
            rows.append((L, a, f, ds["q_ts_floor"].mean("sample"), ds["Q_ts_floor"].mean("sample")))
    # theory lines (RS = exact by Nishimori), dense α grid
    grid = np.geomspace(min(alphas) / 2, max(alphas) * 1.5, 60)
    Lmax = max(Ls)
    curve = np.array([[s.eps_g for s in solve_path(L, grid, scenario="teacher")] for L in Ls])
    a_prof = max(alphas)
    sol = solve_path(Lmax, np.geomspace(0.5, a_prof, 30), scenario="teacher")[-1]
    _, _, fp, q0, Q0 = next(r for r in rows if r[0] == Lmax and r[1] == a_prof)
    lay, wl = np.arange(Lmax + 1), np.arange(1, Lmax + 1)
    eps = np.full((len(Ls), len(alphas)), np.nan)
    eps_se = np.full_like(eps, np.nan)
    eps_th = np.full_like(eps, np.nan)
    for L, a, f, _, _ in rows:
        i, j = Ls.index(L), alphas.index(a)
        eps[i, j], eps_se[i, j] = float(f["eps_g"]), float(f["eps_g_se"])
        eps_th[i, j] = solve_path(L, [a], scenario="teacher")[0].eps_g
    out = xr.Dataset(
        {
            "eps_g_mc": (("L", "alpha"), eps),
            "eps_g_mc_se": (("L", "alpha"), eps_se),
            "eps_g_rs": (("L", "alpha"), eps_th),
            "eps_g_rs_curve": (("L", "alpha_grid"), curve),
            "q_ts_mc": ("layer", fp["q_ts_matched"].values),
            "q_ts_mc_se": ("layer", fp["q_ts_matched_se"].values),
            "q_ts_floor": ("layer", q0.values),
            "q_rs": ("layer", sol.q),
            "Q_ts_mc": ("wlayer", fp["Q_ts_matched"].values),
            "Q_ts_mc_se": ("wlayer", fp["Q_ts_matched_se"].values),
            "Q_ts_floor": ("wlayer", Q0.values),
            "Q_rs": ("wlayer", sol.Q),
        },
        coords={"L": Ls, "alpha": alphas, "alpha_grid": grid, "layer": lay, "wlayer": wl},
        attrs={"N": N, "T": T, "steps": steps, "samples": samples},
    )
    annotate(out, _TEACHER_ATTRS)
    z = (eps - eps_th) / np.where(eps_se > 0, eps_se, np.nan)
    msg = (
        f"ε_g MC − RS in standard errors (rows L = {Ls}): {np.round(z, 1).tolist()}"
        + f"; MC ε_g: {np.round(eps, 3).tolist()}; RS: {np.round(eps_th, 3).tolist()}"
    )
    cfg_out = {"size": size, "Ls": Ls, "alphas": alphas, "N": N, "T": T, "steps": steps,
           "samples": samples}  # fmt: skip
    return ReproductionResult(out, [], msg, cfg_out)


@register_plot("perceptron-teacher")
def plot_teacher(ds: Any, path: Path) -> Path:
    """ε_g against α (RS lines, MC points) per depth, and the matched overlap profiles at the
    largest depth and load against the RS profiles and the matching floor."""
    fig, ax = subplots(1, 3, figsize=(14, 4))
    Ls = [int(v) for v in ds["L"].values]
    for k, L in enumerate(Ls):
        col = colormap("viridis")(k / max(len(Ls) - 1, 1))
        d = ds.sel(L=L)
        ax[0].plot(ds["alpha_grid"], d["eps_g_rs_curve"], color=col, label=f"RS theory L={L}")
        ax[0].errorbar(
            ds["alpha"], d["eps_g_mc"], yerr=d["eps_g_mc_se"], fmt="o", color=col, ms=4,
            label=f"MC L={L}",
        )  # fmt: skip
    ax[0].set_xscale("log")
    ax[0].set_xlabel("α = M/N")
    ax[0].set_ylabel("ε_g (fresh inputs)")
    ax[0].legend(fontsize=7)
    Lmax, a_prof = max(Ls), float(ds["alpha"].max())
    panels = (
        (ax[1], "layer", "q", "RS q(l) = q_TS(l)", "neurons", "layer l"),
        (ax[2], "wlayer", "Q", "RS Q(l) = Q_TS(l)", "weights", "weight layer l"),
    )
    for a_, dim, key, lab, what, xlabel in panels:
        x = ds[dim]
        a_.plot(x, ds[f"{key}_rs"], "k-", label=lab)
        a_.errorbar(x, ds[f"{key}_ts_mc"], ds[f"{key}_ts_mc_se"], fmt="o", label="MC matched")
        a_.plot(x, ds[f"{key}_ts_floor"], "k:", label="matching floor (random student)")
        a_.set_title(f"{what}, L={Lmax}, α={a_prof:g}", fontsize=9)
        a_.set_xlabel(xlabel)
        a_.legend(fontsize=7)
    at = ds.attrs
    fig.suptitle(
        f"Teacher–student: MC (N={at['N']}, T={float(at['T']):g}, rotation moves, "
        f"{at['steps']}+{at['steps']} MCS, {at['samples']} samples) vs replica RS (closure A)",
        fontsize=10,
    )
    fig.tight_layout()
    return save_figure(fig, path)


_DENSE_ATTRS = {
    "q_rs_A": var("RS q(l), closure A", "replica RS neuron overlaps of closure A (product)"),
    "q_rs_B": var("RS q(l), closure B", "replica RS neuron overlaps of closure B (cavity)"),
    "Q_rs_A": var("RS Q(l), closure A", "replica RS weight overlaps of closure A (product)"),
    "Q_rs_B": var("RS Q(l), closure B", "replica RS weight overlaps of closure B (cavity)"),
    "rms_z_A": var("rms distance to closure A", "rms of (MC - RS A)/se over hidden q and all Q"),
    "rms_z_B": var("rms distance to closure B", "rms of (MC - RS B)/se over hidden q and all Q"),
    "aging_z": var("aging of Q", "max over weight layers of |Q(long t_w) - Q(short t_w)|/se"),
    "Q_in_minus_out": var("input-output asymmetry", "Q(1) - Q(L) of the MC at the long t_w"),
}


def _closure_distance(mc: Any, s: Any) -> Any:
    """rms over the hidden q and all Q of (MC − RS)/se, per network size."""
    dq = (mc["q"].values[:, 1:-1] - s.q[1:-1]) / np.maximum(mc["q_se"].values[:, 1:-1], 1e-3)
    dQ = (mc["Q"].values - s.Q) / np.maximum(mc["Q_se"].values, 1e-3)
    return np.sqrt(np.mean(np.concatenate([dq, dQ], axis=1) ** 2, axis=1))


@register(
    "perceptron-dense-limit",
    "Random I/O: MC overlaps at growing N and c vs the RS profiles of closures A and B",
)
def run_dense_limit(size: str, seed: int, out_dir: Path) -> ReproductionResult:
    """Which closure describes the model? A (product) is reflection symmetric: the input side
    freezes like the output side; B (cavity) freezes from the output side only. Measured:
    host–guest overlaps at the end of the clone protocol, per layer, for fully connected (c = N)
    and sparse c-regular networks (the theory's tree-like limit is 1 ≪ c ≪ N)."""
    import xarray as xr

    from deeprg.perceptron.montecarlo import MCConfig, run_mc
    from deeprg.perceptron.replica import solve_path

    L, alpha, T, sizes, steps, samples = {
        "tiny": (3, 4.0, 0.01, [(6, None), (8, 4)], 32, 2),
        "quick": (4, 5.0, 0.01, [(12, None), (24, 12), (48, 12)], 4000, 8),
        "full": (4, 5.0, 0.005, [(12, None), (24, None), (24, 12), (48, 12), (96, 12),
                                 (96, 24)], 16000, 16),
    }[size]  # fmt: skip
    T_anneal = 0.3
    tws = [
        steps // 2,
        2 * steps,
    ]  # two waiting times: overlaps that still age are not at equilibrium
    grid = np.linspace(0.5, alpha, 40)
    th = {cl: solve_path(L, grid, closure=cl)[-1] for cl in ("A", "B")}
    parts = []
    for N, c in sizes:
        per_tw = []
        for tw in tws:
            cfg = MCConfig(
                L=L, N=N, c=c, alpha=alpha, T=T, T_anneal=T_anneal, move="rotation", t_w=tw,
                steps=steps, n_times=8, samples=samples, seed=seed + 7 * N + (c or 0),
            )  # fmt: skip
            ds = run_mc(cfg, workers=2 if samples > 2 else 1, progress=False)
            f = _mc_final(ds, ["q", "Q", "energy", "violations"])
            per_tw.append(xr.Dataset(f).drop_vars("time", errors="ignore").expand_dims(t_w=[tw]))
        parts.append(xr.concat(per_tw, dim="t_w").expand_dims(size=[f"N={N}, c={c or N}"]))
    both = xr.concat(parts, dim="size")
    d = both.isel(t_w=-1) - both.isel(t_w=0)
    se = np.sqrt(both["Q_se"].isel(t_w=-1) ** 2 + both["Q_se"].isel(t_w=0) ** 2)
    aging_z = (abs(d["Q"]) / se.clip(min=1e-3)).max("wlayer")
    mc = both.isel(t_w=-1).drop_vars("t_w")
    for v in ("q", "Q", "q_se", "Q_se", "energy", "violations"):
        mc[v + "_short_tw"] = both[v].isel(t_w=0).drop_vars("t_w")
    lay, wl = np.arange(L + 1), np.arange(1, L + 1)
    # distance of each MC profile (hidden q and all Q) to each closure, in standard errors
    chi = {cl: _closure_distance(mc, s) for cl, s in th.items()}
    asym = mc["Q"].values[:, 0] - mc["Q"].values[:, -1]
    mc["rms_z_A"] = ("size", chi["A"])
    mc["aging_z"] = aging_z
    mc["rms_z_B"] = ("size", chi["B"])
    mc["Q_in_minus_out"] = ("size", asym)
    mc["q_rs_A"], mc["q_rs_B"] = ("layer", th["A"].q), ("layer", th["B"].q)
    mc["Q_rs_A"], mc["Q_rs_B"] = ("wlayer", th["A"].Q), ("wlayer", th["B"].Q)
    mc = mc.assign_coords(layer=lay, wlayer=wl)
    annotate(mc, _DENSE_ATTRS)
    mc.attrs.update({"alpha": alpha, "T": T, "T_anneal": T_anneal, "t_w_short": tws[0],
                     "t_w_long": tws[1], "steps": steps, "samples": samples})  # fmt: skip
    verdict = [
        f"{lab}: rms z to A {za:.1f}, to B {zb:.1f}, Q(1) − Q(L) = {dd:+.3f}, "
        f"max |ΔQ| between t_w = {tws[0]} and {tws[1]}: {az:.1f} se"
        for lab, za, zb, dd, az in zip(
            mc["size"].values, chi["A"], chi["B"], asym, aging_z.values, strict=True
        )
    ]
    msg = (
        f"RS at α={alpha:g}: Q_A = {np.round(th['A'].Q, 3).tolist()}, "
        f"Q_B = {np.round(th['B'].Q, 3).tolist()}; " + "; ".join(verdict)
    )
    cfg_out = {"size": size, "L": L, "alpha": alpha, "T": T, "T_anneal": T_anneal, "t_w": str(tws),
           "sizes": str(sizes), "steps": steps, "samples": samples}  # fmt: skip
    return ReproductionResult(mc, [], msg, cfg_out)


@register_plot("perceptron-dense-limit")
def plot_dense_limit(ds: Any, path: Path) -> Path:
    """MC q(l), Q(l) per network size (filled: long t_w, open: short t_w) against the RS
    profiles of closures A and B."""
    fig, ax = subplots(1, 2, figsize=(11, 4))
    lay, wl = ds["layer"], ds["wlayer"]
    for cl, ls in (("A", "-"), ("B", "--")):
        ax[0].plot(lay, ds[f"q_rs_{cl}"], "k" + ls, label=f"RS closure {cl}")
        ax[1].plot(wl, ds[f"Q_rs_{cl}"], "k" + ls, label=f"RS closure {cl}")
    n = int(ds.sizes["size"])
    for k, lab in enumerate(ds["size"].values):
        col = colormap("plasma")(k / max(n - 1, 1))
        m = ds.isel(size=k)
        ax[0].errorbar(lay, m["q"], m["q_se"], fmt="o", color=col, ms=4, label=str(lab))
        ax[1].errorbar(wl, m["Q"], m["Q_se"], fmt="o", color=col, ms=4, label=str(lab))
        ax[0].plot(lay, m["q_short_tw"], "o", mfc="none", color=col, ms=6)
        ax[1].plot(wl, m["Q_short_tw"], "o", mfc="none", color=col, ms=6)
    ax[0].set_title("neuron overlaps q(l) (host–guest)", fontsize=9)
    ax[1].set_title("weight overlaps Q(l) (host–guest)", fontsize=9)
    for a_ in ax:
        a_.set_xlabel("layer l")
        a_.legend(fontsize=7)
    at = ds.attrs
    fig.suptitle(
        f"Dense-limit test, random I/O, L={int(ds.sizes['wlayer'])}, α={float(at['alpha']):g}: "
        f"MC (annealed {float(at['T_anneal']):g}→{float(at['T']):g} over t_w = {at['t_w_long']} "
        f"(filled) or {at['t_w_short']} (open), then {at['steps']} MCS, {at['samples']} samples) "
        "vs RS closures A and B",
        fontsize=10,
    )
    fig.tight_layout()
    return save_figure(fig, path)


_AGING_ATTRS = {
    "q_se": var("standard error of q", "sd of q(l; t, t_w) over samples / sqrt(samples)"),
    "P_q": var(
        "overlap histogram P_l(q)",
        "density of the clone-pair overlaps q_l over samples and pairs at the longest t_w and "
        "the last time",
    ),
    "q_bin": var("overlap bin centre", "centres of the bins of P_q on [-1, 1]"),
    "ultra_delta": var("ultrametricity statistic", "<q_mid - q_min> over clone triangles"),
    "ultra_delta_null": var(
        "ultrametricity null", "<q_mid - q_min> over triangles with sides from three samples"
    ),
    "ultra_K": var("ultrametricity K", "K statistic of the clone triangles per layer"),
}


@register(
    "perceptron-aging",
    "Monte Carlo: aging families q(l; t, t_w), overlap histograms P_l(q), ultrametricity per layer",
)
def run_aging_repro(size: str, seed: int, out_dir: Path) -> ReproductionResult:
    """Spec §6.2 (MC plots) and §6.1 item 8: host–guest overlaps for several waiting times of
    the same host history, P_l(q) over samples and clone pairs at the longest t_w, and the
    ultrametricity statistic Δ = ⟨q_mid − q_min⟩ against its null per layer (three clones)."""
    from deeprg.perceptron.montecarlo import (
        MCConfig,
        overlap_histogram,
        run_aging,
        ultrametricity,
    )

    L, N, alpha, T, t_ws, steps, samples = {
        "tiny": (3, 6, 2.0, 0.05, [4, 16], 16, 3),
        "quick": (6, 12, 4.0, 0.05, [16, 64, 256, 1024], 2048, 16),
        "full": (10, 20, 8.0, 0.02, [16, 64, 256, 1024, 4096, 16384], 16384, 64),
    }[size]
    cfg = MCConfig(
        L=L, N=N, alpha=alpha, T=T, move="rotation", steps=steps, n_times=14, samples=samples,
        clones=3, seed=seed,
    )  # fmt: skip
    ds = run_aging(cfg, t_ws, workers=2 if samples > 2 else 1, progress=False)
    last = ds.sel(t_w=max(t_ws))
    hist = overlap_histogram(last, bins=24)
    um = ultrametricity(last)
    out = ds[["q", "Q", "energy"]].mean("sample")
    out["q_se"] = ds["q"].std("sample", ddof=1) / np.sqrt(samples)
    out["P_q"] = hist.rename(q="q_bin")
    out["ultra_delta"] = um["delta"]
    out["ultra_delta_null"] = um["delta_null"]
    out["ultra_K"] = um["K"]
    annotate(out, _AGING_ATTRS)
    out.attrs.update({"N": N, "alpha": alpha, "T": T, "steps": steps, "samples": samples})
    tau = {tw: [float(v) for v in ds["tau"].sel(t_w=tw).values[1:-1]] for tw in t_ws}
    msg = (
        "τ(l) of the hidden layers per t_w (MCS; NaN: not relaxed): "
        + "; ".join(f"t_w={tw}: {np.round(v, 1).tolist()}" for tw, v in tau.items())
        + "; ultrametricity Δ / Δ_null per hidden layer: "
        + str(np.round(um["delta"].values[1:-1], 3).tolist())
        + " / "
        + str(np.round(um["delta_null"].values[1:-1], 3).tolist())
    )
    cfg_out = {"size": size, "L": L, "N": N, "alpha": alpha, "T": T, "t_w": str(t_ws),
               "steps": steps, "samples": samples}  # fmt: skip
    return ReproductionResult(out, [], msg, cfg_out)


@register_plot("perceptron-aging")
def plot_aging(ds: Any, path: Path) -> Path:
    """q(l; t, t_w) per waiting time for two hidden layers, P_l(q) of the hidden layers, and the
    ultrametricity statistic against its null."""
    L = int(ds.sizes["layer"]) - 1
    t_ws = [int(v) for v in ds["t_w"].values]
    hidden = list(range(1, L))
    shown = sorted({hidden[0], hidden[len(hidden) // 2]})
    at = ds.attrs
    fig, ax = subplots(1, len(shown) + 2, figsize=(4.2 * (len(shown) + 2), 3.6))
    for k, l in enumerate(shown):
        for j, tw in enumerate(t_ws):
            q = ds["q"].sel(t_w=tw, layer=l)
            ax[k].semilogx(ds["time"], q, color=colormap("viridis")(j / max(len(t_ws) - 1, 1)),
                           label=f"t_w={tw}")  # fmt: skip
        ax[k].set_title(f"aging, layer l={l}", fontsize=9)
        ax[k].set_xlabel("t − t_w (MCS)")
        ax[k].set_ylabel("q(l; t, t_w)")
    ax[0].legend(fontsize=7)
    for l in hidden:
        ax[-2].plot(
            ds["q_bin"], ds["P_q"].sel(layer=l), color=colormap("plasma")(l / L), label=f"l={l}"
        )
    ax[-2].set_title(f"P_l(q), t_w={max(t_ws)}, t={at['steps']}", fontsize=9)
    ax[-2].set_xlabel("q")
    ax[-2].legend(fontsize=7)
    ax[-1].plot(ds["layer"][1:-1], ds["ultra_delta"][1:-1], "o-", label="Δ (same sample)")
    ax[-1].plot(ds["layer"][1:-1], ds["ultra_delta_null"][1:-1], "s--", label="Δ null (3 samples)")
    ax[-1].set_title("ultrametricity: ⟨q_mid − q_min⟩", fontsize=9)
    ax[-1].set_xlabel("layer l")
    ax[-1].legend(fontsize=7)
    fig.suptitle(
        f"Monte Carlo, random I/O, L={L}, N={at['N']}, α={float(at['alpha']):g}, "
        f"T={float(at['T']):g}, 3 clones, {at['samples']} samples",
        fontsize=10,
    )
    fig.tight_layout()
    return save_figure(fig, path)
