"""Reproductions for deep perceptron networks (docs/theory/perceptron.md §4, §6.2).

``perceptron-phase``: heat maps of q(l) and Q(l) over (l, ln α), random I/O and teacher–student
(RS, closure A); ``perceptron-profiles``: q(l), Q(l) vs l at several α; ``perceptron-thresholds``:
α_g(l) and α_c(l) vs l from the front criterion, with exponential and power-law fits;
``perceptron-dynamics``: Monte Carlo q(l; t) relaxation per layer and τ(l) vs l for several N.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from deeprg.experiments.registry import ReproductionResult, register


def _save(fig, path: Path) -> list[Path]:
    from deeprg.experiments.bpkr_repro import _save as save

    return save(fig, path)


@register(
    "perceptron-phase",
    "Replica RS: q(l), Q(l) over (l, ln α), random I/O and teacher–student (closure A)",
)
def run_phase(size: str, seed: int, out_dir: Path) -> ReproductionResult:
    import xarray as xr

    from deeprg.perceptron.replica import path_dataset, solve_path
    from deeprg.plotting import subplots

    L, n = {"tiny": (4, 6), "quick": (12, 60), "full": (20, 200)}[size]
    alphas = np.geomspace(1.0, 2000.0 if size != "tiny" else 30.0, n)
    parts = []
    for scen in ("random", "teacher"):
        parts.append(
            path_dataset(solve_path(L, alphas, scenario=scen)).expand_dims(scenario=[scen])
        )
    ds = xr.concat(parts, dim="scenario", coords="minimal", compat="override")
    fig, axes = subplots(2, 2, figsize=(10, 7), sharex=True)
    for r, scen in enumerate(("random", "teacher")):
        for c, (key, dim) in enumerate((("q", "layer"), ("Q", "wlayer"))):
            ax = axes[r, c]
            im = ax.pcolormesh(
                np.log(alphas),
                ds[dim],
                ds[key].sel(scenario=scen).values.T,
                vmin=0,
                vmax=1,
                shading="auto",
                cmap="magma",
            )
            ax.set_title(f"{key}(l), {scen}", fontsize=9)
            ax.set_ylabel({"layer": "layer l", "wlayer": "weight layer l"}[dim])
            fig.colorbar(im, ax=ax)
    for ax in axes[1]:
        ax.set_xlabel("ln α")
    fig.suptitle(
        f"RS layered replica theory, closure A, L = {L}: solid wedges from both boundaries, liquid centre",
        fontsize=10,
    )
    fig.tight_layout()
    figs = _save(fig, out_dir / "perceptron-phase")
    conv = float(ds["converged"].mean())
    sym = float(np.nanmax(np.abs(ds["q"].values - ds["q"].values[..., ::-1])))
    msg = f"{int(ds['converged'].sum())} of {ds['converged'].size} RS solves converged ({100 * conv:.0f}%); reflection symmetry max |q(l) − q(L−l)| = {sym:.1e}"
    return ReproductionResult(ds, figs, msg, {"size": size, "L": L, "n_alpha": n})


@register(
    "perceptron-profiles",
    "Replica RS: profiles q(l), Q(l) vs l at several α, random I/O and teacher–student",
)
def run_profiles(size: str, seed: int, out_dir: Path) -> ReproductionResult:
    import xarray as xr

    from deeprg.perceptron.replica import path_dataset, solve_path
    from deeprg.plotting import subplots

    L = {"tiny": 6, "quick": 24, "full": 24}[size]
    marks = {
        "random": [5.1, 20.8, 47.2, 95.3, 491.0, 2000.0],
        "teacher": [9.46, 19.2, 51.5, 104.0, 281.0],
    }
    if size == "tiny":
        marks = {"random": [5.1, 20.8], "teacher": [9.46]}
    parts = []
    fig, axes = subplots(2, 2, figsize=(10, 7))
    for r, scen in enumerate(("random", "teacher")):
        grid = np.union1d(
            np.geomspace(2.0, max(marks[scen]), 40 if size != "tiny" else 8), marks[scen]
        )
        ds = path_dataset(solve_path(L, grid, scenario=scen)).sel(alpha=marks[scen])
        parts.append(
            ds.expand_dims(scenario=[scen])
            .assign_coords(alpha=np.arange(len(marks[scen])))
            .rename(alpha="mark")
            .assign(alpha_value=("mark", marks[scen]))
        )
        for a in marks[scen]:
            axes[r, 0].plot(ds["layer"], ds["q"].sel(alpha=a), "o-", ms=3, label=f"α={a}")
            axes[r, 1].plot(ds["wlayer"], ds["Q"].sel(alpha=a), "o-", ms=3)
        axes[r, 0].set_title(f"q(l), {scen}", fontsize=9)
        axes[r, 1].set_title(f"Q(l), {scen}", fontsize=9)
        axes[r, 0].legend(fontsize=6)
    for ax in axes.ravel():
        ax.set_xlabel("layer l")
    fig.tight_layout()
    figs = _save(fig, out_dir / "perceptron-profiles")
    out = xr.concat(
        parts, dim="scenario", data_vars="all", coords="minimal", compat="override", join="outer"
    )
    rnd = out.sel(scenario="random")
    msg = "random I/O, α = " + ", ".join(
        f"{a:g}: q(1..3) = {np.round(rnd['q'].isel(mark=i).values[1:4], 3).tolist()}"
        for i, a in enumerate(marks["random"])
    )
    return ReproductionResult(out, figs, msg, {"size": size, "L": L})


@register(
    "perceptron-thresholds",
    "Replica RS: α_g(l) (glass) and α_c(l) (crystal) vs l by the front criterion, with fits",
)
def run_thresholds(size: str, seed: int, out_dir: Path) -> ReproductionResult:
    import xarray as xr

    from deeprg.perceptron.replica import front_thresholds
    from deeprg.plotting import subplots

    n_layers, L, amax, ng = {
        "tiny": (2, 6, 40.0, 20),
        "quick": (5, 14, 1000.0, 80),
        "full": (7, 20, 4000.0, 160),
    }[size]
    res = {
        scen: front_thresholds(L, n_layers, scenario=scen, alpha_max=amax, n_grid=ng)
        for scen in ("random", "teacher")
    }
    n = max(len(r.alpha) for r in res.values())
    arr = np.full((2, n), np.nan)
    for i, r in enumerate(res.values()):
        arr[i, : len(r.alpha)] = r.alpha
    ds = xr.Dataset(
        {"alpha_threshold": (("scenario", "layer"), arr)},
        coords={"scenario": list(res), "layer": np.arange(1, n + 1)},
    )
    fig, ax = subplots(figsize=(5, 4))
    for scen, r in res.items():
        ax.semilogy(
            r.layer, r.alpha, "o-", label=f"{scen}: λ={r.exp_fit[1]:.2f}, ν={r.power_fit[1]:.2f}"
        )
    ax.axhline(np.pi**2 / 4, color="gray", lw=0.5)
    ax.set_xlabel("layer l from a boundary")
    ax.set_ylabel("α at which layer l freezes")
    ax.legend(fontsize=7)
    fig.tight_layout()
    figs = _save(fig, out_dir / "perceptron-thresholds")
    msg = "; ".join(
        f"{s}: α(l) = {np.round(r.alpha, 2).tolist()}, ln α = a + l/λ with λ = {r.exp_fit[1]:.2f}, power ν = {r.power_fit[1]:.2f}"
        for s, r in res.items()
    )
    return ReproductionResult(ds, figs, msg, {"size": size, "L": L, "n_layers": n_layers})


@register(
    "perceptron-dynamics", "Monte Carlo: q(l; t) relaxation per layer and τ(l) vs l for several N"
)
def run_dynamics(size: str, seed: int, out_dir: Path) -> ReproductionResult:
    import xarray as xr

    from deeprg.perceptron.montecarlo import MCConfig, run_mc
    from deeprg.plotting import colormap, subplots

    Ns, L, alpha, steps, samples = {
        "tiny": ([4], 4, 4.0, 16, 2),
        "quick": ([4, 8, 16], 6, 4.0, 1024, 8),
        "full": ([4, 8, 16, 32], 10, 8.0, 16384, 32),
    }[size]
    parts = []
    fig, axes = subplots(1, len(Ns) + 1, figsize=(4 * (len(Ns) + 1), 3.5))
    for k, N in enumerate(Ns):
        cfg = MCConfig(
            L=L,
            N=N,
            alpha=alpha,
            T=0.05,
            t_w=steps // 4,
            steps=steps,
            n_times=14,
            samples=samples,
            seed=seed + N,
        )
        ds = run_mc(cfg, workers=2 if samples > 2 else 1, progress=False)
        q = ds["q"].mean("sample")
        for l in range(L + 1):
            axes[k].semilogx(
                ds["time"], q.sel(layer=l), label=f"l={l}", color=colormap("viridis")(l / L)
            )
        axes[k].set_title(f"N = {N}: host–guest q(l; t)", fontsize=9)
        axes[k].set_xlabel("t (MCS)")
        axes[-1].plot(ds["layer"][1:-1], ds["tau"][1:-1], "o-", label=f"N={N}")
        parts.append(ds[["q", "Q", "tau", "energy"]].mean("sample").expand_dims(N=[N]))
    axes[0].legend(fontsize=6)
    axes[-1].set_title("τ(l) (1/e crossing)", fontsize=9)
    axes[-1].set_xlabel("layer l")
    axes[-1].set_yscale("log")
    axes[-1].legend(fontsize=7)
    fig.suptitle(f"Monte Carlo, random I/O, L={L}, α={alpha}, T=0.05 (pCN moves)", fontsize=10)
    fig.tight_layout()
    figs = _save(fig, out_dir / "perceptron-dynamics")
    out = xr.concat(parts, dim="N", coords="minimal", compat="override")
    tau = out["tau"].values
    msg = "τ(l) per N (NaN: not relaxed within the run): " + "; ".join(
        f"N={N}: {np.round(tau[i], 1).tolist()}" for i, N in enumerate(Ns)
    )
    return ReproductionResult(
        out,
        figs,
        msg,
        {"size": size, "L": L, "alpha": alpha, "steps": steps, "samples": samples, "Ns": Ns},
    )


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


@register(
    "perceptron-teacher",
    "Teacher–student: MC ε_g vs α for several L and matched q_TS(l), Q_TS(l) vs replica RS",
)
def run_teacher(size: str, seed: int, out_dir: Path) -> ReproductionResult:
    import xarray as xr

    from deeprg.perceptron.montecarlo import MCConfig, run_mc
    from deeprg.perceptron.replica import solve_path
    from deeprg.plotting import colormap, subplots

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
    th = {L: solve_path(L, grid, scenario="teacher") for L in Ls}
    fig, ax = subplots(1, 3, figsize=(14, 4))
    for k, L in enumerate(Ls):
        col = colormap("viridis")(k / max(len(Ls) - 1, 1))
        ax[0].plot(grid, [s.eps_g for s in th[L]], color=col, label=f"RS theory L={L}")
        pts = [(a, f) for (LL, a, f, _, _) in rows if LL == L]
        ax[0].errorbar(
            [a for a, _ in pts],
            [float(f["eps_g"]) for _, f in pts],
            yerr=[float(f["eps_g_se"]) for _, f in pts],
            fmt="o",
            color=col,
            ms=4,
            label=f"MC L={L}",
        )
    ax[0].set_xscale("log")
    ax[0].set_xlabel("α = M/N")
    ax[0].set_ylabel("ε_g (fresh inputs)")
    ax[0].legend(fontsize=7)
    a_prof = max(alphas)
    sol = solve_path(Lmax, np.geomspace(0.5, a_prof, 30), scenario="teacher")[-1]
    _, _, fp, q0, Q0 = next(r for r in rows if r[0] == Lmax and r[1] == a_prof)
    lay, wl = np.arange(Lmax + 1), np.arange(1, Lmax + 1)
    panels = (
        (ax[1], lay, sol.q, "q_ts_matched", q0, "RS q(l) = q_TS(l)", "neurons", "layer l"),
        (ax[2], wl, sol.Q, "Q_ts_matched", Q0, "RS Q(l) = Q_TS(l)", "weights", "weight layer l"),
    )
    for a_, x, theory, var, floor, lab, what, xlabel in panels:
        a_.plot(x, theory, "k-", label=lab)
        a_.errorbar(x, fp[var], fp[var + "_se"], fmt="o", label="MC matched")
        a_.plot(x, floor, "k:", label="matching floor (random student)")
        a_.set_title(f"{what}, L={Lmax}, α={a_prof:g}", fontsize=9)
        a_.set_xlabel(xlabel)
        a_.legend(fontsize=7)
    fig.suptitle(
        f"Teacher–student: MC (N={N}, T={T:g}, rotation moves, {steps}+{steps} MCS, "
        f"{samples} samples) vs replica RS (closure A)",
        fontsize=10,
    )
    fig.tight_layout()
    figs = _save(fig, out_dir / "perceptron-teacher")
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
            "q_ts_mc": ("layer", fp["q_ts_matched"].values),
            "q_ts_mc_se": ("layer", fp["q_ts_matched_se"].values),
            "q_ts_floor": ("layer", q0.values),
            "q_rs": ("layer", sol.q),
            "Q_ts_mc": ("wlayer", fp["Q_ts_matched"].values),
            "Q_ts_mc_se": ("wlayer", fp["Q_ts_matched_se"].values),
            "Q_ts_floor": ("wlayer", Q0.values),
            "Q_rs": ("wlayer", sol.Q),
        },
        coords={"L": Ls, "alpha": alphas, "layer": lay, "wlayer": wl},
    )
    z = (eps - eps_th) / np.where(eps_se > 0, eps_se, np.nan)
    msg = (
        f"ε_g MC − RS in standard errors (rows L = {Ls}): {np.round(z, 1).tolist()}"
        + f"; MC ε_g: {np.round(eps, 3).tolist()}; RS: {np.round(eps_th, 3).tolist()}"
    )
    cfg_out = {"size": size, "Ls": Ls, "alphas": alphas, "N": N, "T": T, "steps": steps,
           "samples": samples}  # fmt: skip
    return ReproductionResult(out, figs, msg, cfg_out)


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
    from deeprg.plotting import colormap, subplots

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
    chi = {}
    for cl, s in th.items():
        dq = (mc["q"].values[:, 1:-1] - s.q[1:-1]) / np.maximum(mc["q_se"].values[:, 1:-1], 1e-3)
        dQ = (mc["Q"].values - s.Q) / np.maximum(mc["Q_se"].values, 1e-3)
        chi[cl] = np.sqrt(np.mean(np.concatenate([dq, dQ], axis=1) ** 2, axis=1))
    asym = mc["Q"].values[:, 0] - mc["Q"].values[:, -1]
    fig, ax = subplots(1, 2, figsize=(11, 4))
    for cl, ls in (("A", "-"), ("B", "--")):
        ax[0].plot(lay, th[cl].q, "k" + ls, label=f"RS closure {cl}")
        ax[1].plot(wl, th[cl].Q, "k" + ls, label=f"RS closure {cl}")
    for k, lab in enumerate(mc["size"].values):
        col = colormap("plasma")(k / max(len(sizes) - 1, 1))
        m = mc.isel(size=k)
        ax[0].errorbar(lay, m["q"], m["q_se"], fmt="o", color=col, ms=4, label=str(lab))
        ax[1].errorbar(wl, m["Q"], m["Q_se"], fmt="o", color=col, ms=4, label=str(lab))
        ax[0].plot(lay, m["q_short_tw"], "o", mfc="none", color=col, ms=6)
        ax[1].plot(wl, m["Q_short_tw"], "o", mfc="none", color=col, ms=6)
    ax[0].set_title("neuron overlaps q(l) (host–guest)", fontsize=9)
    ax[1].set_title("weight overlaps Q(l) (host–guest)", fontsize=9)
    for a_ in ax:
        a_.set_xlabel("layer l")
        a_.legend(fontsize=7)
    fig.suptitle(
        f"Dense-limit test, random I/O, L={L}, α={alpha:g}: MC (annealed {T_anneal:g}→{T:g} over "
        f"t_w = {tws[1]} (filled) or {tws[0]} (open), then {steps} MCS, {samples} samples) "
        "vs RS closures A and B",
        fontsize=10,
    )
    fig.tight_layout()
    figs = _save(fig, out_dir / "perceptron-dense-limit")
    mc["rms_z_A"] = ("size", chi["A"])
    mc["aging_z"] = aging_z
    mc["rms_z_B"] = ("size", chi["B"])
    mc["Q_in_minus_out"] = ("size", asym)
    mc["q_rs_A"], mc["q_rs_B"] = ("layer", th["A"].q), ("layer", th["B"].q)
    mc["Q_rs_A"], mc["Q_rs_B"] = ("wlayer", th["A"].Q), ("wlayer", th["B"].Q)
    mc = mc.assign_coords(layer=lay, wlayer=wl)
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
    return ReproductionResult(mc, figs, msg, cfg_out)


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
    from deeprg.plotting import colormap, subplots

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
    hidden = list(range(1, L))
    shown = sorted({hidden[0], hidden[len(hidden) // 2]})
    fig, ax = subplots(1, len(shown) + 2, figsize=(4.2 * (len(shown) + 2), 3.6))
    for k, l in enumerate(shown):
        for j, tw in enumerate(t_ws):
            q = ds["q"].sel(t_w=tw, layer=l).mean("sample")
            ax[k].semilogx(ds["time"], q, color=colormap("viridis")(j / max(len(t_ws) - 1, 1)),
                           label=f"t_w={tw}")  # fmt: skip
        ax[k].set_title(f"aging, layer l={l}", fontsize=9)
        ax[k].set_xlabel("t − t_w (MCS)")
        ax[k].set_ylabel("q(l; t, t_w)")
    ax[0].legend(fontsize=7)
    for l in range(L + 1):
        if 0 < l < L:
            ax[-2].plot(
                hist["q"], hist.sel(layer=l), color=colormap("plasma")(l / L), label=f"l={l}"
            )
    ax[-2].set_title(f"P_l(q), t_w={max(t_ws)}, t={steps}", fontsize=9)
    ax[-2].set_xlabel("q")
    ax[-2].legend(fontsize=7)
    ax[-1].plot(um["layer"][1:-1], um["delta"][1:-1], "o-", label="Δ (same sample)")
    ax[-1].plot(um["layer"][1:-1], um["delta_null"][1:-1], "s--", label="Δ null (3 samples)")
    ax[-1].set_title("ultrametricity: ⟨q_mid − q_min⟩", fontsize=9)
    ax[-1].set_xlabel("layer l")
    ax[-1].legend(fontsize=7)
    fig.suptitle(
        f"Monte Carlo, random I/O, L={L}, N={N}, α={alpha:g}, T={T:g}, 3 clones, {samples} samples",
        fontsize=10,
    )
    fig.tight_layout()
    figs = _save(fig, out_dir / "perceptron-aging")
    out = ds[["q", "Q", "energy"]].mean("sample")
    out["q_se"] = ds["q"].std("sample", ddof=1) / np.sqrt(samples)
    out["P_q"] = hist.rename(q="q_bin")
    out["ultra_delta"] = um["delta"]
    out["ultra_delta_null"] = um["delta_null"]
    out["ultra_K"] = um["K"]
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
    return ReproductionResult(out, figs, msg, cfg_out)
