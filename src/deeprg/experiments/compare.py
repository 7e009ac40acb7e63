"""Theory versus simulation for one network and data set (issue 3, docs/theory/bpkr.md §7).

Runs the BPKR theory (saddle, exact finite width and GP limit for linear networks) and a
posterior sampler of the actual finite network, and reports every observable side by side
with Monte Carlo standard errors and the deviation in units of that error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from deeprg.data import DataSplit
from deeprg.plotting import register_plot
from deeprg.schema import annotate, var


@dataclass(frozen=True)
class CompareResult:
    theory: dict[str, dict[str, Any]]  # mode -> bpkr report
    sampler: dict[str, Any]  # RunResult.summary() + settings
    deviations: dict[str, dict[str, float]]  # mode -> observable -> (sampler − theory)/se
    run: Any  # RunResult
    kernels: dict[str, dict[str, Any]] = field(default_factory=dict)  # mode -> rel_err per layer
    config: dict[str, Any] = field(default_factory=dict)  # the full configuration (provenance)

    def to_json(self) -> dict[str, Any]:
        return {
            "theory": self.theory,
            "sampler": self.sampler,
            "deviations": self.deviations,
            "kernels": self.kernels,
        }


def compare(
    split: DataSplit,
    widths: list[int],
    sigma2: float | list[float],
    T: float,
    *,
    activation: str = "linear",
    sampler: str = "gibbs",
    chains: int = 16,
    steps: int = 2000,
    warmup: int | None = None,
    thin: int = 5,
    eta: float = 1e-3,
    seed: int = 0,
    kernel_inputs: int = 20,
    checkpoint: str | Path | None = None,
    progress: bool | None = None,
    overwrite: bool = False,
) -> CompareResult:
    """Theory (all applicable modes) vs ``sampler`` on ``split``; see module docstring.

    ``theory`` holds the ``deeprg.bpkr.report`` dicts keyed by mode (saddle, exact, gp for
    linear networks; none yet for ReLU); ``sampler`` the run summary (``RunResult.summary``:
    eps_g, eps_g_se, bias2, variance, a2_over_N, r2, rhat_max, ess_min, ...) plus settings;
    ``deviations[mode][obs]`` = (sampler − theory)/se for eps_g, a2_over_N (vs u_L) and U
    (⟨‖r_1‖²⟩ vs U), and ``K_l`` = ‖⟨K_l⟩_sampler − ⟨K_l⟩_theory‖_F / ‖se‖_F for the mean layer
    kernels (§4.2) on the first ``kernel_inputs`` training inputs (≈ 1 when they agree; the
    relative Frobenius errors are in ``kernels[mode]``). Standard errors: spread of the
    per-chain means over √chains.

    ``checkpoint``: resumes a sampling run only if it was written with this exact
    configuration (data, network, temperature, sampler settings, seed); any difference is
    refused with one line naming the keys (``overwrite=True`` discards the old checkpoint).
    """
    from deeprg.bpkr import fit, report
    from deeprg.errors import InputError, check_choice, check_int, check_positive
    from deeprg.identity import array_digest
    from deeprg.sampling import SAMPLERS, sample_posterior
    from deeprg.sampling.run import check_draws

    check_choice("sampler", sampler, SAMPLERS)
    chains = check_int("chains", chains, minimum=2)
    check_positive("temperature T (sampling needs T > 0)", T)
    check_positive("eta", eta)
    warmup = steps // 4 if warmup is None else warmup
    check_draws(steps, thin)
    if sampler == "gibbs" and activation != "linear":
        raise InputError("sampler 'gibbs' needs activation 'linear' (use mala or langevin)")
    kernel_inputs = check_int("kernel_inputs", kernel_inputs, minimum=0)
    Z = split.X[: min(kernel_inputs, split.X.shape[0])] if kernel_inputs else None
    config = {
        "data": split.info | {"P": split.X.shape[0], "P_test": split.X_test.shape[0]},
        "data_digest": [array_digest(a) for a in (split.X, split.y, split.X_test, split.y_test)],
        "widths": list(widths),
        "sigma2": sigma2,
        "T": T,
        "activation": activation,
        "sampler": sampler,
        "chains": chains,
        "steps": steps,
        "warmup": warmup,
        "thin": thin,
        "eta": eta,
        "seed": seed,
        "kernel_inputs": kernel_inputs,
    }
    theory: dict[str, dict[str, Any]] = {}
    K_theory: dict[str, np.ndarray] = {}
    # ReLU: the §5.1 heuristic in saddle and GP modes (no exact finite-width mode, no layer
    # kernels); linear: all three modes.
    modes = ("saddle", "exact", "gp") if activation == "linear" else ("saddle", "gp")
    for mode in modes:
        fit_ = fit(split.X, split.y, widths, sigma2, T, mode, activation=activation)
        theory[mode] = report(fit_, split.X_test, split.y_test)
        if Z is not None and activation == "linear":
            K_theory[mode] = fit_.layer_kernels(Z)
    res = sample_posterior(
        split,
        widths,
        sigma2,
        T,
        activation=activation,
        sampler=sampler,
        chains=chains,
        steps=steps,
        warmup=warmup,
        thin=thin,
        eta=eta,
        seed=seed,
        Z=Z,
        checkpoint=checkpoint,
        overwrite=overwrite,
        progress=progress,
        config=config,
    )
    summ = res.summary() | {
        "steps": steps,
        "warmup": warmup,
        "thin": thin,
        "eta": eta,
        "seed": seed,
    }
    dev: dict[str, dict[str, float]] = {}
    kernels: dict[str, dict[str, Any]] = {}
    for mode, rep in theory.items():
        d = {"eps_g": (res.eps_g - rep["eps_g"]) / res.eps_g_se}
        d["a2_over_N"] = (res.a2_over_N - rep["u"][-1]) / res.a2_over_N_se
        if res.r2.size:  # linear networks: ⟨‖r_1‖²⟩ = U (§3.8)
            d["U"] = (res.r2[0] - rep["U"]) / res.r2_se[0]
        if mode in K_theory and res.layer_kernels is not None and Z is not None:
            assert res.layer_kernels_se is not None
            diff = res.layer_kernels[1:] - K_theory[mode][1:]
            nrm = lambda a: np.linalg.norm(a, axis=(-2, -1))  # noqa: E731
            for l, z in enumerate(nrm(diff) / nrm(res.layer_kernels_se[1:]), start=1):
                d[f"K_{l}"] = z
            kernels[mode] = {
                "rel_err": [float(v) for v in nrm(diff) / nrm(K_theory[mode][1:])],
                "n_inputs": int(Z.shape[0]),
            }
        dev[mode] = {k: float(v) for k, v in d.items()}
    return CompareResult(theory, summ, dev, res, kernels, config)


def run_compare(
    cfg: Any,
    *,
    split: DataSplit | None = None,
    checkpoint: str | Path | None = None,
    progress: bool | None = None,
    overwrite: bool = False,
) -> CompareResult:
    """:func:`compare` for a :class:`~deeprg.experiments.configs.CompareConfig` (the data are
    loaded from it unless ``split`` is given)."""
    return compare(
        cfg.load() if split is None else split,
        list(cfg.widths),
        cfg.sigma2_value,
        cfg.T,
        kernel_inputs=cfg.kernel_inputs,
        checkpoint=checkpoint,
        progress=progress,
        overwrite=overwrite,
        **cfg.sampling_kwargs(),
    )


def compare_dataset(cr: CompareResult):
    """Labelled data set: observables (eps_g, bias2, variance, a2_over_N) by source."""
    import xarray as xr

    obs = ["eps_g", "bias2", "variance", "a2_over_N"]
    sources = [*cr.theory, "sampler"]
    vals = np.full((len(sources), len(obs)), np.nan)
    se = np.full(len(obs), np.nan)
    for i, m in enumerate(cr.theory):
        rep = cr.theory[m]
        vals[i] = [rep["eps_g"], rep["bias2"], rep["variance"], rep["u"][-1]]
    s = cr.sampler
    vals[-1] = [s["eps_g"], s["bias2"], s["variance"], s["a2_over_N"]]
    se[:] = [s["eps_g_se"], s["bias2_se"], s["variance_se"], s["a2_over_N_se"]]

    ds = xr.Dataset(
        {"value": (("source", "observable"), vals), "sampler_se": ("observable", se)},
        coords={"source": sources, "observable": obs},
    )
    ds.attrs["plot"] = "compare"
    return annotate(
        ds,
        {
            "value": var(
                "observable by source",
                "eps_g, bias2, variance and a2/N (sampled |a|^2/N_L vs the theory's u_L) from "
                "each theory mode and from the sampler",
            ),
            "sampler_se": var(
                "Monte Carlo standard error",
                "sd of the per-chain means over sqrt(chains); bias2 and variance: jackknife "
                "over chains (NaN: not estimated)",
            ),
        },
    )


def plot_compare(cr: CompareResult, path: Path) -> Path:
    """Bar chart of the observables: theory modes vs sampler with error bars."""
    return plot_compare_dataset(compare_dataset(cr), path)


@register_plot("compare")
def plot_compare_dataset(ds, path: Path) -> Path:
    """The compare figure from its saved Dataset (``deeprg plot``)."""
    from deeprg.plotting import subplots
    from deeprg.results import atomic_path

    fig, ax = subplots(figsize=(7, 3.5))
    obs = list(ds["observable"].values)
    x = np.arange(len(obs))
    n = len(ds["source"])
    for i, src in enumerate(ds["source"].values):
        v = ds["value"].sel(source=src).values
        err = ds["sampler_se"].values if src == "sampler" else None
        ax.bar(x + (i - n / 2 + 0.5) * 0.8 / n, v, 0.8 / n, yerr=err, label=str(src), capsize=3)
    ax.set_xticks(x, obs)
    ax.legend()
    ax.set_title("theory vs sampler")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=Path(path).suffix.lstrip(".") or "png", dpi=110)
    return Path(path)


# --- Reproduction: docs/theory/bpkr.md §7.2 table, blocked Gibbs vs saddle / exact / GP -----------------

_TABLE_ROWS = (
    (1, 60, 1.0),
    (1, 30, 1.0),
    (1, 120, 1.0),
    (1, 60, 2.0),
    (1, 60, 0.5),
    (2, 60, 1.0),
    (2, 30, 1.0),
)
_SIZES = {
    "tiny": {"chains": 2, "steps": 40},  # plumbing only (tests)
    "quick": {"chains": 16, "steps": 1200},
    "full": {"chains": 32, "steps": 6000},
}


_TABLE_ATTRS = {
    "eps_g": var("generalization error", "test eps_g per table row from each source"),
    "a2_over_N": var("readout norm per width", "sampled <|a|^2>/N_L (gibbs) vs the theory's u_L"),
    "eps_g_se": var("standard error of the Gibbs eps_g", "sd of chain means / sqrt(chains)"),
    "a2_over_N_se": var("standard error of the Gibbs a2/N", "sd of chain means / sqrt(chains)"),
    "rhat_max": var("max R-hat", "largest split R-hat of the Gibbs run of the row"),
    "L": var("depth L", "number of hidden layers of the row's network"),
    "width": var("width N", "hidden-layer width of the row's network"),
    "sigma2": var("prior variance sigma^2", "weight prior variance of the row's network"),
}


def _register() -> None:
    from deeprg.experiments.registry import ReproductionResult, register

    @register(
        "bpkr-sampling",
        "docs/theory/bpkr.md §7.2: blocked-Gibbs samples of deep linear nets vs BPKR saddle, exact, GP",
    )
    def run(size: str, seed: int, out_dir: Path) -> ReproductionResult:
        import xarray as xr

        from deeprg.data import make_dataset

        cfg: dict[str, Any] = {
            "data": "teacher",
            "P": 60,
            "P_test": 2000,
            "N0": 120,
            "T": 0.05,
            "rows": [list(r) for r in _TABLE_ROWS],
            **_SIZES[size],
            "seed": seed,
        }
        split = make_dataset("teacher", P=60, P_test=2000, N0=120, seed=seed)
        sources = ["saddle", "exact", "gp", "gibbs"]
        eps = np.full((len(_TABLE_ROWS), 4), np.nan)
        a2 = np.full((len(_TABLE_ROWS), 4), np.nan)
        se = np.full((len(_TABLE_ROWS), 2), np.nan)
        rhat = np.full(len(_TABLE_ROWS), np.nan)
        lines = [
            f"{'L':>2} {'N':>4} {'σ²':>4}  ε_g saddle/exact/GP | Gibbs ± se (dev exact) | a²/N"
        ]
        from deeprg.seeds import derive_seed

        for i, (L, N, s2) in enumerate(_TABLE_ROWS):
            cr = compare(
                split,
                [N] * L,
                s2,
                cfg["T"],
                chains=cfg["chains"],
                steps=cfg["steps"],
                thin=2,
                seed=derive_seed(seed, i),
                progress=False,
            )
            for j, m in enumerate(sources[:3]):
                eps[i, j] = cr.theory[m]["eps_g"]
                a2[i, j] = cr.theory[m]["u"][-1]
            s = cr.sampler
            eps[i, 3], a2[i, 3] = s["eps_g"], s["a2_over_N"]
            se[i] = s["eps_g_se"], s["a2_over_N_se"]
            rhat[i] = s["rhat_max"]
            d = cr.deviations["exact"]
            lines.append(
                f"{L:>2} {N:>4} {s2:>4} {eps[i, 0]:.4f}/{eps[i, 1]:.4f}/{eps[i, 2]:.4f} | "
                f"{eps[i, 3]:.4f} ± {se[i, 0]:.4f} ({d['eps_g']:+.1f} se) | "
                f"{a2[i, 3]:.4f} vs u_L exact {a2[i, 1]:.4f} ({d['a2_over_N']:+.1f} se)"
            )
        dev = np.abs(
            np.concatenate([(eps[:, 3] - eps[:, 1]) / se[:, 0], (a2[:, 3] - a2[:, 1]) / se[:, 1]])
        )
        lines.append(
            f"max |Gibbs − exact| = {dev.max():.1f} standard errors over {dev.size} comparisons; "
            f"max R-hat {np.nanmax(rhat):.3f}"
        )
        row = np.arange(len(_TABLE_ROWS))
        ds = xr.Dataset(
            {
                "eps_g": (("row", "source"), eps),
                "a2_over_N": (("row", "source"), a2),
                "eps_g_se": ("row", se[:, 0]),
                "a2_over_N_se": ("row", se[:, 1]),
                "rhat_max": ("row", rhat),
                "L": ("row", [r[0] for r in _TABLE_ROWS]),
                "width": ("row", [r[1] for r in _TABLE_ROWS]),
                "sigma2": ("row", [r[2] for r in _TABLE_ROWS]),
            },
            coords={"row": row, "source": sources},
        )
        annotate(ds, _TABLE_ATTRS)
        return ReproductionResult(ds, [], "\n".join(lines), cfg)


@register_plot("bpkr-sampling")
def plot_bpkr_sampling(ds: Any, path: Path) -> Path:
    """The §7.2 table as a figure: ε_g and ⟨‖a‖²⟩/N_L per row, theory modes vs Gibbs ± se."""
    from deeprg.plotting import save_figure, subplots

    fig, axes = subplots(1, 2, figsize=(10, 3.5))
    row = ds["row"].values
    labels = [
        f"L={int(a)},N={int(n)},σ²={s:g}"
        for a, n, s in zip(ds["L"].values, ds["width"].values, ds["sigma2"].values, strict=True)
    ]
    for ax, key in zip(axes, ("eps_g", "a2_over_N"), strict=True):
        for k, src in enumerate(("saddle", "exact", "gp")):
            v = ds[key].sel(source=src).values
            ax.plot(row - 0.1 * k, v, "_", color=("k", "C1", "C0")[k], ms=12, label=src)
        v = ds[key].sel(source="gibbs").values
        ax.errorbar(row + 0.1, v, yerr=ds[f"{key}_se"].values, fmt="s", color="C3", label="Gibbs")
        ax.set_xticks(row, labels, rotation=30, fontsize=7)
        ax.set_title("ε_g" if key == "eps_g" else "⟨‖a‖²⟩/N_L vs u_L")
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    return save_figure(fig, path, dpi=110)


_register()
