"""Reproductions for deep perceptron networks (deep-perceptron-networks.md §4, §6.2).

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
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import xarray as xr

    from deeprg.perceptron.replica import path_dataset, solve_path

    L, n = {"tiny": (4, 6), "quick": (12, 60), "full": (20, 200)}[size]
    alphas = np.geomspace(1.0, 2000.0 if size != "tiny" else 30.0, n)
    parts = []
    for scen in ("random", "teacher"):
        parts.append(
            path_dataset(solve_path(L, alphas, scenario=scen)).expand_dims(scenario=[scen])
        )
    ds = xr.concat(parts, dim="scenario", coords="minimal", compat="override")
    fig, axes = plt.subplots(2, 2, figsize=(10, 7), sharex=True)
    for r, scen in enumerate(("random", "teacher")):
        for c, key in enumerate(("q", "Q")):
            ax = axes[r, c]
            im = ax.pcolormesh(
                np.log(alphas),
                ds["layer"],
                ds[key].sel(scenario=scen).values.T,
                vmin=0,
                vmax=1,
                shading="auto",
                cmap="magma",
            )
            ax.set_title(f"{key}(l), {scen}", fontsize=9)
            ax.set_ylabel("layer l")
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
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import xarray as xr

    from deeprg.perceptron.replica import path_dataset, solve_path

    L = {"tiny": 6, "quick": 24, "full": 24}[size]
    marks = {
        "random": [5.1, 20.8, 47.2, 95.3, 491.0, 2000.0],
        "teacher": [9.46, 19.2, 51.5, 104.0, 281.0],
    }
    if size == "tiny":
        marks = {"random": [5.1, 20.8], "teacher": [9.46]}
    parts = []
    fig, axes = plt.subplots(2, 2, figsize=(10, 7))
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
            axes[r, 1].plot(ds["layer"], ds["Q"].sel(alpha=a), "o-", ms=3)
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
    r = out.sel(scenario="random")
    msg = "random I/O, α = " + ", ".join(
        f"{a:g}: q(1..3) = {np.round(r['q'].isel(mark=i).values[1:4], 3).tolist()}"
        for i, a in enumerate(marks["random"])
    )
    return ReproductionResult(out, figs, msg, {"size": size, "L": L})


@register(
    "perceptron-thresholds",
    "Replica RS: α_g(l) (glass) and α_c(l) (crystal) vs l by the front criterion, with fits",
)
def run_thresholds(size: str, seed: int, out_dir: Path) -> ReproductionResult:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import xarray as xr

    from deeprg.perceptron.replica import front_thresholds

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
    fig, ax = plt.subplots(figsize=(5, 4))
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
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import xarray as xr

    from deeprg.perceptron.montecarlo import MCConfig, run_mc

    Ns, L, alpha, steps, samples = {
        "tiny": ([4], 4, 4.0, 16, 2),
        "quick": ([4, 8, 16], 6, 4.0, 1024, 8),
        "full": ([4, 8, 16, 32], 10, 8.0, 16384, 32),
    }[size]
    parts = []
    fig, axes = plt.subplots(1, len(Ns) + 1, figsize=(4 * (len(Ns) + 1), 3.5))
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
                ds["time"], q.sel(layer=l), label=f"l={l}", color=plt.cm.viridis(l / L)
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
