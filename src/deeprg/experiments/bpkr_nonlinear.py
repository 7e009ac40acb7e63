"""Reproductions for issue 16: which kernel-renormalization theory holds where, and 10-class MNIST.

- ``bpkr-nonlinear``: at fixed α = P/N, widths N on a grid, depths L, the template model and
  two-class MNIST, ReLU and erf networks: ε_g of MALA samples of the finite network (R-hat,
  ESS and the equilibration flag recorded) against the scalar heuristic (output NNGP kernel
  times one scalar), the layer-wise theory (one Q_l per layer before the next nonlinearity;
  = scalar for ReLU) and the GP limit. The deviation (theory − samples) in standard errors
  and relative, and N × relative deviation (constant if the deviation is a 1/N finite-size
  effect, growing like N if it is a limitation of the theory at fixed α).
- ``bpkr-multiclass``: all ten MNIST digits (the shipped 5,000) with one-hot targets: the D×D
  multi-output theory vs the GP limit vs blocked-Gibbs samples of deep linear networks with
  ten outputs (exact conditionals), and the one-hidden-layer erf theory vs its GP: test
  accuracy of the predictor mean and ε_g (averaged over outputs) vs P.

Figures are drawn with :func:`deeprg.plotting.subplots` and written with
:func:`deeprg.plotting.save_figure`; every Dataset variable carries long_name, units and
description; the configuration of a run is returned in ``ReproductionResult.config``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from deeprg.experiments.registry import ReproductionResult, register
from deeprg.plotting import register_plot, save_figure, subplots
from deeprg.schema import annotate, var

THEORIES = ("scalar", "layerwise", "gp")

SIZES_NL: dict[str, dict[str, Any]] = {
    "tiny": {
        "alpha": 1.0,
        "Ns": [20, 40],
        "Ls": [1, 2],
        "data": ["template"],
        "acts": ["erf"],
        "chains": 4,
        "steps": 60,
        "P_test": 100,
    },
    "quick": {
        "alpha": 1.0,
        "Ns": [50, 100],
        "Ls": [1, 3],
        "data": ["template", "mnist"],
        "acts": ["relu", "erf"],
        "chains": 8,
        "steps": 3000,
        "P_test": 300,
        "mnist_Ns": [50],  # MNIST (N0 = 784) at the smallest width only: minutes, not hours
    },
    "medium": {  # not a CLI size: run(size="medium") from Python (docs/validation.md)
        "alpha": 1.0,
        "Ns": [50, 100, 200],
        "Ls": [1, 3],
        "data": ["template"],
        "acts": ["relu", "erf"],
        "chains": 8,
        "steps": 10000,
        "P_test": 300,
    },
    "full": {
        "alpha": 1.0,
        "Ns": [50, 100, 200, 400],
        "Ls": [1, 2, 3],
        "data": ["template", "mnist"],
        "acts": ["relu", "erf"],
        "chains": 32,
        "steps": 20000,
        "P_test": 1000,
    },
}


def _split(data: str, P: int, P_test: int, seed: int):
    from deeprg.data import make_dataset

    if data == "mnist":
        return make_dataset("mnist", P=P, P_test=P_test, seed=seed, classes=(0, 1))
    return make_dataset("template", P=P, P_test=P_test, seed=seed)


def _theory_eps(split, L: int, N: int, act: str, T: float) -> list[float]:
    from deeprg.bpkr import fit

    out = []
    for th in THEORIES:
        mode = "gp" if th == "gp" else "saddle"
        ren = "scalar" if th == "scalar" else "layerwise"
        f = fit(split.X, split.y, [N] * L, 1.0, T, mode=mode, activation=act, renormalization=ren)
        out.append(f.errors(split.X_test, split.y_test)["eps_g"])
    return out


NL_VARS = {
    "eps_g_theory": var(
        "generalization error of a theory",
        "eps_g = bias^2 + variance on the test set from the scalar heuristic, the layer-wise "
        "theory or the GP limit (dimension theory)",
    ),
    "sim_eps_g": var(
        "generalization error of MALA samples",
        "posterior mean over MALA draws of the finite network of mean_x (f(x) - y(x))^2",
    ),
    "sim_eps_g_se": var(
        "Monte Carlo standard error of sim_eps_g", "chain-to-chain spread / sqrt(chains)"
    ),
    "sim_rhat": var("R-hat max", "rank-normalized split R-hat, max over scalar observables"),
    "sim_ess": var("ESS min", "bulk effective sample size, min over scalar observables"),
    "sim_equilibrated": var(
        "equilibration flag", "1 if R-hat max <= 1.05 and ESS min >= 100, else 0"
    ),
    "dev_se": var("deviation in standard errors", "(eps_g_theory - sim_eps_g) / sim_eps_g_se"),
    "rel_dev": var("relative deviation", "(eps_g_theory - sim_eps_g) / sim_eps_g"),
    "N_rel_dev": var(
        "width times relative deviation",
        "N * rel_dev: constant in N for a 1/N finite-size effect, growing for a theory limitation",
    ),
    "P": var("training set size", "P = alpha N (nested subsets of one draw)"),
    "N": var("hidden width", "N_l = N for every hidden layer"),
    "L": var("depth", "number of hidden layers"),
    "theory": var("theory", "scalar heuristic, layer-wise theory or GP limit"),
    "data": var("data set", "template model or two-class MNIST (0 vs 1)"),
    "activation": var("activation", "relu or erf"),
}


def mala_run(split: Any, L: int, N: int, act: str, T: float, chains: int, steps: int, seed: int):
    """The scan's MALA samples of one finite network (widths N, σ² = 1, thinning 10, initial
    step 0.02 adapted in the warm-up)."""
    from deeprg.sampling import sample_posterior

    return sample_posterior(
        split,
        [N] * L,
        1.0,
        T,
        activation=act,
        sampler="mala",
        chains=chains,
        steps=steps,
        thin=10,
        eta=0.02,
        seed=seed,
        progress=False,
    )


@register(
    "bpkr-nonlinear",
    "issue 16: scalar vs layer-wise kernel renormalization vs GP against MALA samples of ReLU "
    "and erf networks at fixed alpha = P/N, N and L scanned (template model, MNIST 0 vs 1)",
)
def run_nonlinear(size: str, seed: int, out_dir: Path) -> ReproductionResult:
    import xarray as xr

    from deeprg.data import DataSplit
    from deeprg.sampling import derive_seed

    cfg = SIZES_NL[size]
    T = 0.05
    Ns, Ls, datas, acts = cfg["Ns"], cfg["Ls"], cfg["data"], cfg["acts"]
    shape = (len(datas), len(acts), len(Ls), len(Ns))
    th = np.full((*shape, len(THEORIES)), np.nan)
    sim = {k: np.full(shape, np.nan) for k in ("eps", "se", "rhat", "ess", "eq")}
    Ps = [max(2, round(cfg["alpha"] * n)) for n in Ns]
    for a, data in enumerate(datas):
        full = _split(data, max(Ps), cfg["P_test"], seed)
        for k, (N, P) in enumerate(zip(Ns, Ps, strict=True)):
            split = DataSplit(full.X[:P], full.y[:P], full.X_test, full.y_test, full.info)
            for b, act in enumerate(acts):
                for j, L in enumerate(Ls):
                    th[a, b, j, k] = _theory_eps(split, L, N, act, T)
                    if data == "mnist" and N not in cfg.get("mnist_Ns", Ns):
                        continue  # theory only
                    seed_ab = derive_seed(seed, a, b, L, N)
                    res = mala_run(split, L, N, act, T, cfg["chains"], cfg["steps"], seed_ab)
                    for key, v in (
                        ("eps", res.eps_g),
                        ("se", res.eps_g_se),
                        ("rhat", res.rhat_max),
                        ("ess", res.ess_min),
                        ("eq", float(res.equilibrated)),
                    ):
                        sim[key][a, b, j, k] = v
    dims = ("data", "activation", "L", "N")
    dev = (th - sim["eps"][..., None]) / sim["se"][..., None]
    rel = (th - sim["eps"][..., None]) / sim["eps"][..., None]
    ds = xr.Dataset(
        {
            "eps_g_theory": ((*dims, "theory"), th),
            "sim_eps_g": (dims, sim["eps"]),
            "sim_eps_g_se": (dims, sim["se"]),
            "sim_rhat": (dims, sim["rhat"]),
            "sim_ess": (dims, sim["ess"]),
            "sim_equilibrated": (dims, sim["eq"]),
            "dev_se": ((*dims, "theory"), dev),
            "rel_dev": ((*dims, "theory"), rel),
            "N_rel_dev": ((*dims, "theory"), rel * np.asarray(Ns)[:, None]),
            "P": ("N", Ps),
        },
        coords={"data": datas, "activation": acts, "L": Ls, "N": Ns, "theory": list(THEORIES)},
    )
    annotate(ds, NL_VARS)
    ds.attrs.update(alpha=cfg["alpha"], T=T)
    lines = []
    for data in datas:
        for act in acts:
            for L in Ls:
                for N in Ns:
                    s = ds.sel(data=data, activation=act, L=L, N=N)
                    if not np.isfinite(float(s["sim_eps_g"])):
                        th_ = " ".join(
                            f"{t} {float(s['eps_g_theory'].sel(theory=t)):.4f}" for t in THEORIES
                        )
                        lines.append(f"[{data} {act} L={L} N={N}] not sampled; theory: {th_}")
                        continue
                    d = " ".join(
                        f"{t} {float(s['dev_se'].sel(theory=t)):+.1f}se"
                        f"({100 * float(s['rel_dev'].sel(theory=t)):+.1f}%)"
                        for t in THEORIES
                    )
                    lines.append(
                        f"[{data} {act} L={L} N={N} P={int(s['P'])}] MALA "
                        f"{float(s['sim_eps_g']):.4f}±{float(s['sim_eps_g_se']):.4f} "
                        f"(R-hat {float(s['sim_rhat']):.3f}, ESS {float(s['sim_ess']):.0f}): {d}"
                    )
    return ReproductionResult(
        ds, [], "theory − MALA for eps_g:\n" + "\n".join(lines), {"size": size, "T": T, **cfg}
    )


@register_plot("bpkr-nonlinear")
def plot_nonlinear(ds: Any, path: Path) -> Path:
    """Per (data, activation): ε_g against N (top) and (theory − MALA)/MALA in % (bottom)."""
    alpha, T = ds.attrs["alpha"], ds.attrs["T"]
    datas, acts = list(ds["data"].values), list(ds["activation"].values)
    fig, axes = subplots(
        2, len(datas) * len(acts), figsize=(4.2 * len(datas) * len(acts), 7), squeeze=False
    )
    styles = {"scalar": "--", "layerwise": "-", "gp": ":"}
    c = 0
    for data in datas:
        for act in acts:
            top, bot = axes[0, c], axes[1, c]
            for i, L in enumerate(ds["L"].values):
                s = ds.sel(data=data, activation=act, L=L)
                col = f"C{i}"
                top.errorbar(
                    ds["N"],
                    s["sim_eps_g"],
                    yerr=s["sim_eps_g_se"],
                    fmt="o",
                    color=col,
                    ms=4,
                    capsize=2,
                    label=f"L={L} MALA",
                )
                for t in THEORIES:
                    if act == "relu" and t == "scalar":
                        continue  # = layer-wise for ReLU (homogeneous map)
                    top.plot(ds["N"], s["eps_g_theory"].sel(theory=t), styles[t], color=col)
                    bot.errorbar(
                        ds["N"],
                        100 * s["rel_dev"].sel(theory=t),
                        yerr=100 * s["sim_eps_g_se"] / s["sim_eps_g"],
                        fmt=styles[t],
                        marker=".",
                        color=col,
                        capsize=2,
                        label=f"L={L} {t}",
                    )
            for ax in (top, bot):
                ax.set_xscale("log")
                ax.set_xlabel("N (P = αN)")
            bot.axhline(0, color="k", lw=0.5)
            top.set_title(f"{data}, {act}: ε_g (— layer-wise, -- scalar, ·· GP)", fontsize=8)
            bot.set_title("(theory − MALA)/MALA in % (±1 se); 1/N finite size vs flat", fontsize=8)
            top.legend(fontsize=6)
            bot.legend(fontsize=5, ncol=2)
            c += 1
    fig.suptitle(f"Which theory holds where: α = P/N = {alpha}, σ² = 1, T = {T}", fontsize=10)
    fig.tight_layout()
    return save_figure(fig, path)


# ----------------------------------------------------------------------------- multiclass

SIZES_MC: dict[str, dict[str, Any]] = {
    "tiny": {"Ps": [20, 40], "sim_Ps": [20], "N": 20, "Ls": [1], "chains": 4, "steps": 30},
    "quick": {
        "Ps": [25, 50, 100, 200, 400, 800, 1600, 3000],
        "sim_Ps": [50, 200],
        "N": 100,
        "Ls": [1, 2],
        "chains": 8,
        "steps": 300,
    },
    "full": {
        "Ps": [25, 50, 100, 200, 400, 800, 1600, 3000, 4000],
        "sim_Ps": [25, 50, 100, 200, 400, 800],
        "N": 100,
        "Ls": [1, 2, 3],
        "chains": 16,
        "steps": 2000,
    },
}

MC_VARS = {
    "eps_g": var(
        "generalization error of a theory",
        "eps_g averaged over the ten outputs (one-hot targets), from the D x D theory or the GP",
    ),
    "accuracy": var(
        "test accuracy of a theory", "fraction of test digits whose argmax of the mean is right"
    ),
    "sim_eps_g": var(
        "generalization error of Gibbs samples",
        "posterior mean over blocked-Gibbs draws of mean_(x, d) (f_d(x) - y_d(x))^2 (linear)",
    ),
    "sim_eps_g_se": var("Monte Carlo standard error of sim_eps_g", "chain spread / sqrt(chains)"),
    "sim_accuracy": var(
        "test accuracy of the sampled predictor mean", "argmax of the posterior mean of f"
    ),
    "sim_rhat": var("R-hat max", "rank-normalized split R-hat, max over scalar observables"),
    "P": var("training set size", "nested subsets of one permutation of the 5,000 digits"),
    "sim_P": var("training set size of the sampled points", "subset of P"),
    "model": var(
        "network",
        "linear L = 1, 2, 3 (D x D theory, Gibbs samples) or erf L = 1 (D x D theory only)",
    ),
    "mode": var("theory", "saddle (D x D order parameter) or gp (infinite width)"),
}


@register(
    "bpkr-multiclass",
    "issue 16: 10-class MNIST, D x D multi-output theory vs GP vs blocked-Gibbs samples: "
    "test accuracy and eps_g vs P",
)
def run_multiclass(size: str, seed: int, out_dir: Path) -> ReproductionResult:
    import xarray as xr

    from deeprg.bpkr import fit
    from deeprg.bpkr.multidata import mnist_all_classes
    from deeprg.data import DataSplit
    from deeprg.sampling import derive_seed, sample_posterior

    cfg = SIZES_MC[size]
    Ps, N, T = cfg["Ps"], cfg["N"], 0.05
    P_test = 5000 - max(Ps) if size != "tiny" else 200
    P_test = min(P_test, 1000)
    full = mnist_all_classes(max(Ps), P_test, seed=seed)
    models = [f"linear L={L}" for L in cfg["Ls"]] + ["erf L=1"]
    modes = ("saddle", "gp")
    eps = np.full((len(models), len(modes), len(Ps)), np.nan)
    acc = np.full_like(eps, np.nan)
    for k, P in enumerate(Ps):
        X, Y = full.X[:P], full.y[:P]
        for i, m in enumerate(models):
            act, L = m.split()[0], int(m.split("=")[1])
            for j, mode in enumerate(modes):
                f = fit(X, Y, [N] * L, 1.0, T, mode=mode, activation=act)
                e = f.errors(full.X_test, full.y_test)
                eps[i, j, k], acc[i, j, k] = e["eps_g"], e["accuracy"]
    sP = cfg["sim_Ps"]
    sim = {key: np.full((len(models), len(sP)), np.nan) for key in ("eps", "se", "acc", "rhat")}
    for i, m in enumerate(models):
        if not m.startswith("linear"):
            continue
        L = int(m.split("=")[1])
        for k, P in enumerate(sP):
            split = DataSplit(full.X[:P], full.y[:P], full.X_test, full.y_test, full.info)
            res = sample_posterior(
                split,
                [N] * L,
                1.0,
                T,
                sampler="gibbs",
                chains=cfg["chains"],
                steps=cfg["steps"],
                thin=1,
                seed=derive_seed(seed, L, P),
                progress=False,
            )
            a = float(np.mean(np.argmax(res.f_mean, 1) == np.argmax(full.y_test, 1)))
            for key, v in (
                ("eps", res.eps_g),
                ("se", res.eps_g_se),
                ("acc", a),
                ("rhat", res.rhat_max),
            ):
                sim[key][i, k] = v
    ds = xr.Dataset(
        {
            "eps_g": (("model", "mode", "P"), eps),
            "accuracy": (("model", "mode", "P"), acc),
            "sim_eps_g": (("model", "sim_P"), sim["eps"]),
            "sim_eps_g_se": (("model", "sim_P"), sim["se"]),
            "sim_accuracy": (("model", "sim_P"), sim["acc"]),
            "sim_rhat": (("model", "sim_P"), sim["rhat"]),
        },
        coords={"model": models, "mode": list(modes), "P": Ps, "sim_P": sP},
    )
    annotate(ds, MC_VARS)
    ds.attrs.update(N=N, T=T)
    lines = []
    for m in models:
        for P in sP:
            s = ds.sel(model=m, sim_P=P)
            if not np.isfinite(float(s["sim_eps_g"])):
                continue
            t = ds.sel(model=m, P=P)
            th, gp = (float(t["eps_g"].sel(mode=x)) for x in modes)
            v, se = float(s["sim_eps_g"]), float(s["sim_eps_g_se"])
            lines.append(
                f"[{m} P={P}] Gibbs eps_g {v:.4f}±{se:.4f} acc {float(s['sim_accuracy']):.3f} | "
                f"DxD {th:.4f} ({(th - v) / se:+.1f} se) acc "
                f"{float(t['accuracy'].sel(mode='saddle')):.3f} | GP {gp:.4f} "
                f"({(gp - v) / se:+.1f} se) acc {float(t['accuracy'].sel(mode='gp')):.3f}"
            )
    big = ds.sel(P=max(Ps))
    lines.append(
        f"P = {max(Ps)}: accuracy "
        + ", ".join(
            f"{m} {float(big['accuracy'].sel(model=m, mode='saddle')):.3f} "
            f"(GP {float(big['accuracy'].sel(model=m, mode='gp')):.3f})"
            for m in models
        )
    )
    cfg_out = {"size": size, "T": T, "P_test": P_test, **cfg}
    return ReproductionResult(ds, [], "\n".join(lines), cfg_out)


@register_plot("bpkr-multiclass")
def plot_multiclass(ds: Any, path: Path) -> Path:
    """ε_g and test accuracy against P: D×D theory (solid), GP (dotted), Gibbs points."""
    N, T = ds.attrs["N"], ds.attrs["T"]
    fig, axes = subplots(1, 2, figsize=(11, 4))
    for i, m in enumerate(ds["model"].values):
        col = f"C{i}"
        for mode, st in (("saddle", "-"), ("gp", ":")):
            for ax, key in zip(axes, ("eps_g", "accuracy"), strict=True):
                ax.plot(
                    ds["P"],
                    ds[key].sel(model=m, mode=mode),
                    st,
                    color=col,
                    label=f"{m} {'D×D theory' if mode == 'saddle' else 'GP'}",
                )
        if np.isfinite(ds["sim_eps_g"].sel(model=m).values).any():
            axes[0].errorbar(
                ds["sim_P"],
                ds["sim_eps_g"].sel(model=m),
                yerr=ds["sim_eps_g_se"].sel(model=m),
                fmt="o",
                color=col,
                ms=4,
                capsize=2,
                label=f"{m} Gibbs",
            )
            axes[1].plot(ds["sim_P"], ds["sim_accuracy"].sel(model=m), "o", color=col, ms=4)
    for ax, t in zip(axes, ("ε_g (mean over 10 outputs)", "test accuracy"), strict=True):
        ax.set_xscale("log")
        ax.set_xlabel("P")
        ax.set_title(t, fontsize=9)
    axes[0].legend(fontsize=6)
    fig.suptitle(f"10-class MNIST (one-hot), N = {N}, σ² = 1, T = {T}", fontsize=10)
    fig.tight_layout()
    return save_figure(fig, path)
