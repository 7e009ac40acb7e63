"""Shared pieces of the BPKR reproductions R1–R6 (docs/theory/bpkr.md §2–6; issue 4).

Theory curves on (mode, L, width) amortized over one eigendecomposition, sampler points with
Monte Carlo errors (blocked Gibbs for linear networks, MALA for ReLU), the agreement summary
(max |deviation| in MC standard errors), the sizes of every reproduction ("tiny": plumbing,
used by the default tests; "quick": minutes on 2 cores; "full": publication statistics), the
variable attributes of their Datasets and the width/depth panel drawing. The paper's exact
figure parameters are not published, so the grids are the project's own reproduction plan
(docs/validation.md). Each reproduction lives in its own module and draws its figure from the
saved file.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from deeprg.plotting import label
from deeprg.schema import var

OBS = ("eps_g", "bias2", "variance", "U")


def theory_curves(
    split, Ls, widths, sigma2, T, modes, activation="linear"
) -> dict[str, np.ndarray]:
    """Theory observables on (mode, L, width); one eigendecomposition per depth (ReLU) or total."""
    from deeprg.bpkr import architecture, base_kernel, fit_kernel, report
    from deeprg.bpkr.relu import relu_kernel

    out = {k: np.full((len(modes), len(Ls), len(widths)), np.nan) for k in OBS}
    lin = base_kernel(split.X, split.y) if activation == "linear" else None
    for j, L in enumerate(Ls):
        kern = lin if lin is not None else relu_kernel(split.X, split.y, L)
        for k, n in enumerate(widths):
            arch = architecture([n] * L, sigma2, T)
            for i, mode in enumerate(modes):
                rep = report(fit_kernel(kern, arch, mode), split.X_test, split.y_test)
                for o in OBS:
                    out[o][i, j, k] = rep[o]
    return out


def sample_point(split, L, n, sigma2, T, *, sampler, chains, steps, seed, eta=0.02, thin=None):
    from deeprg.sampling import derive_seed, sample_posterior

    res = sample_posterior(
        split,
        [n] * L,
        sigma2,
        T,
        activation="linear" if sampler == "gibbs" else "relu",
        sampler=sampler,
        chains=chains,
        steps=steps,
        thin=thin or (2 if sampler == "gibbs" else 10),  # MALA draws are autocorrelated
        eta=eta,
        seed=derive_seed(seed, L, n),
        progress=False,
    )
    U = res.r2[0] if res.r2.size else np.nan
    U_se = res.r2_se[0] if res.r2.size else np.nan
    return {
        "eps_g": (res.eps_g, res.eps_g_se),
        "bias2": (res.bias2, res.bias2_se),
        "variance": (res.variance, res.variance_se),
        "U": (U, U_se),
        "a2_over_N": (res.a2_over_N, res.a2_over_N_se),
        "rhat": (res.rhat_max, np.nan),
    }


def agreement(ds, ref_mode: str = "exact") -> tuple[float, str]:
    """Max |sampler − theory| / se over sampler points (eps_g and U where available)."""
    devs = []
    for o in ("eps_g", "U"):
        if f"sim_{o}" not in ds or f"sim_{o}_se" not in ds:
            continue
        th = ds[o].sel(mode=ref_mode)
        sim, se = ds[f"sim_{o}"], ds[f"sim_{o}_se"]
        for L in ds["L"].values:
            for i, n in enumerate(ds[sim.dims[-1]].values):
                t = float(th.sel(L=L).interp({th.dims[-1]: n}))
                v, s = float(sim.sel(L=L)[i]), float(se.sel(L=L)[i])
                if np.isfinite(v) and np.isfinite(s) and s > 0:
                    devs.append(abs(v - t) / s)
    m = max(devs) if devs else float("nan")
    return (
        m,
        f"max |sampler − {ref_mode} theory| = {m:.2f} standard errors over {len(devs)} comparisons",
    )


def width_dataset(theory, modes, Ls, widths, sims, sim_widths, extra_coords=None):
    import xarray as xr

    data = {o: (("mode", "L", "width"), theory[o]) for o in OBS}
    coords = {
        "mode": list(modes),
        "L": list(Ls),
        "width": list(widths),
        "sim_width": list(sim_widths),
    }
    for o in ("eps_g", "bias2", "variance", "U", "a2_over_N", "rhat"):
        v = np.full((len(Ls), len(sim_widths)), np.nan)
        s = np.full_like(v, np.nan)
        for (j, k), r in sims.items():
            v[j, k], s[j, k] = r[o]
        data[f"sim_{o}"] = (("L", "sim_width"), v)
        data[f"sim_{o}_se"] = (("L", "sim_width"), s)
    return xr.Dataset(data, coords=coords | (extra_coords or {}))


SIZES: dict[str, dict[str, dict[str, Any]]] = {
    "bpkr-width": {
        "tiny": {
            "Ls": [1, 2],
            "sigma2": [1.0],
            "T": [0.05],
            "n_w": 3,
            "sim_Ls": [1],
            "sim_widths": [30],
            "chains": 4,
            "steps": 40,
        },
        "quick": {
            "Ls": [1, 2, 4],
            "sigma2": [0.5, 1.0, 2.0],
            "T": [1e-3, 0.05],
            "n_w": 9,
            "sim_Ls": [1, 2],
            "sim_widths": [30, 120],
            "chains": 16,
            "steps": 800,
        },
        "full": {
            "Ls": [1, 2, 4],
            "sigma2": [0.5, 1.0, 2.0],
            "T": [1e-3, 0.05],
            "n_w": 25,
            "sim_Ls": [1, 2, 4],
            "sim_widths": [15, 30, 60, 120, 240],
            "chains": 32,
            "steps": 4000,
        },
    },
    "bpkr-depth": {
        "tiny": {
            "L_max": 2,
            "sets": [(0.5, 0.5), (1.5, 2.0)],
            "sim_Ls": [1],
            "chains": 4,
            "steps": 40,
        },
        "quick": {
            "L_max": 10,
            "sets": [(0.5, 0.5), (0.5, 2.0), (1.5, 0.5), (2.5, 0.5)],
            "sim_Ls": [1, 2, 4],
            "chains": 16,
            "steps": 800,
        },
        "full": {
            "L_max": 10,
            "sets": [(0.5, 0.5), (0.5, 2.0), (1.5, 0.5), (2.5, 0.5)],
            "sim_Ls": [1, 2, 3, 4, 6, 8, 10],
            "chains": 32,
            "steps": 4000,
        },
    },
    "bpkr-learning-curve": {
        "tiny": {
            "N0": 30,
            "N": 30,
            "Ls": [1],
            "T": [0.05],
            "n_P": 4,
            "sim_P": [20],
            "chains": 4,
            "steps": 40,
        },
        "quick": {
            "N0": 100,
            "N": 100,
            "Ls": [1, 3],
            "T": [1e-4, 0.05, 0.5],
            "n_P": 30,
            "sim_P": [50, 150],
            "chains": 16,
            "steps": 600,
        },
        "full": {
            "N0": 100,
            "N": 100,
            "Ls": [1, 3],
            "T": [1e-4, 0.05, 0.5],
            "n_P": 80,
            "sim_P": [25, 50, 90, 110, 150, 250],
            "chains": 32,
            "steps": 4000,
        },
    },
    "bpkr-relu": {
        "tiny": {
            "P": 20,
            "Ls": [1],
            "widths": [20, 40],
            "sim_widths": [20],
            "sim_Ls": [1],
            "chains": 4,
            "steps": 40,
        },
        "quick": {
            "P": 60,
            "Ls": [1, 2, 3],
            "widths": [25, 50, 100, 200, 400, 800],
            "sim_widths": [50, 200],
            "sim_Ls": [1, 3],
            "chains": 16,
            "steps": 3000,
        },
        "full": {
            "P": 100,
            "Ls": [1, 2, 3, 4, 6],
            "widths": list(np.geomspace(25, 1600, 13).round().astype(int)),
            "sim_widths": [50, 100, 200, 400],
            "sim_Ls": [1, 2, 3, 4, 6],
            "chains": 32,
            "steps": 20000,
        },
    },
}

TEACHER = {"P": 60, "P_test": 500, "N0": 120}  # docs/theory/bpkr.md §7.1 recipe (500 test points)


_OBS_TEXT = {
    "eps_g": ("generalization error", "test mean squared error of the posterior predictor"),
    "bias2": ("squared bias", "test mean of (mean predictor - target)^2"),
    "variance": ("predictor variance", "test mean of the posterior variance of the predictor"),
    "U": ("readout-norm renormalization", "u_L = <|a|^2>/N_L, the top layer's kernel scale"),
}
_SIM_EXTRA = {
    "a2_over_N": ("sampled readout norm per width", "<|a|^2>/N_L over the kept draws"),
    "rhat": ("max R-hat", "largest split R-hat of the sampler run"),
}

ATTRS: dict[str, dict[str, str]] = {
    **{
        o: var(f"theory {t}", f"{d}; per theory mode (saddle, exact, gp)")
        for o, (t, d) in _OBS_TEXT.items()
    },
    **{
        f"sim_{o}": var(f"sampled {t}", f"{d}; from posterior samples")
        for o, (t, d) in (_OBS_TEXT | _SIM_EXTRA).items()
    },
    **{
        f"sim_{o}_se": var(f"standard error of sim_{o}", "sd of chain means / sqrt(chains)")
        for o in (*_OBS_TEXT, *_SIM_EXTRA)
    },
    "mode": var(
        "theory mode", "saddle: BPKR saddle point; exact: finite-width mixture; gp: N -> inf"
    ),
    "L": var("depth L", "number of hidden layers"),
    "width": var("hidden width N (theory grid)", "N_l = N for every hidden layer"),
    "sim_width": var("hidden width N (sampled)", "widths with sampler points"),
    "sigma2": var("prior variance sigma^2", "weight prior variance, every layer"),
    "T": var("temperature T", "Gibbs posterior temperature"),
}


def draw_panels(axes, ds, xdim: str, *, logx: bool = True, legend: bool = True) -> None:
    """One row of panels eps_g, bias², variance, U vs ``xdim`` (one color per L; saddle solid,
    exact dashed, GP dotted; sampler points with error bars)."""
    styles = {"saddle": "-", "exact": "--", "gp": ":"}
    for ax, o in zip(axes, OBS, strict=True):
        for c, L in enumerate(ds["L"].values):
            col = f"C{c}"
            for mode in ds["mode"].values:
                ax.plot(
                    ds[xdim],
                    ds[o].sel(mode=mode, L=L),
                    styles[str(mode)],
                    color=col,
                    label=f"L={L} {mode}" if o == "eps_g" else None,
                )
            if f"sim_{o}" in ds:
                err = ds.get(f"sim_{o}_se")
                ax.errorbar(
                    ds[f"sim_{xdim}"],
                    ds[f"sim_{o}"].sel(L=L),
                    yerr=None if err is None else err.sel(L=L),
                    fmt="o",
                    color=col,
                    ms=4,
                    capsize=2,
                )
        if logx:
            from matplotlib.ticker import NullFormatter

            ax.set_xscale("log")
            ax.xaxis.set_minor_formatter(NullFormatter())  # labels of minor ticks overlap
        ax.set_xlabel(label(xdim))
        ax.set_title(label(o))
    if legend:
        axes[0].legend(fontsize=6, ncol=2)
