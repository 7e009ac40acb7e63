"""Theory versus simulation for one network and data set (issue 3, bpkr.md §7).

Runs the BPKR theory (saddle, exact finite width and GP limit for linear networks) and a
posterior sampler of the actual finite network, and reports every observable side by side
with Monte Carlo standard errors and the deviation in units of that error.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from deeprg.data import DataSplit


@dataclass(frozen=True)
class CompareResult:
    theory: dict[str, dict[str, Any]]  # mode -> bpkr report
    sampler: dict[str, Any]  # RunResult.summary() + settings
    deviations: dict[str, dict[str, float]]  # mode -> observable -> (sampler − theory)/se
    run: Any  # RunResult

    def to_json(self) -> dict[str, Any]:
        return {"theory": self.theory, "sampler": self.sampler, "deviations": self.deviations}


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
    checkpoint: str | Path | None = None,
    progress: bool | None = None,
) -> CompareResult:
    """Theory (all applicable modes) vs ``sampler`` on ``split``; see module docstring.

    ``theory`` holds the ``deeprg.bpkr.report`` dicts keyed by mode (saddle, exact, gp for
    linear networks; none yet for ReLU); ``sampler`` the run summary (``RunResult.summary``:
    eps_g, eps_g_se, bias2, variance, a2_over_N, r2, rhat_max, ess_min, ...) plus settings;
    ``deviations[mode][obs]`` = (sampler − theory)/se for eps_g, a2_over_N (vs u_L) and U
    (⟨‖r_1‖²⟩ vs U). Standard errors: spread of the per-chain means over √chains.
    """
    from deeprg.bpkr import fit, report
    from deeprg.errors import InputError, check_choice, check_int, check_positive
    from deeprg.networks import init_params, network
    from deeprg.sampling import SAMPLERS, ChainRNG, make_sampler, run_chains

    check_choice("sampler", sampler, SAMPLERS)
    chains = check_int("chains", chains, minimum=2)
    check_positive("temperature T (sampling needs T > 0)", T)
    check_positive("eta", eta)
    warmup = steps // 4 if warmup is None else warmup
    net = network(split.N0, widths, sigma2, activation)
    if sampler == "gibbs" and activation != "linear":
        raise InputError("sampler 'gibbs' needs activation 'linear' (use mala or langevin)")
    theory: dict[str, dict[str, Any]] = {}
    if activation == "linear":
        for mode in ("saddle", "exact", "gp"):
            theory[mode] = report(
                fit(split.X, split.y, widths, sigma2, T, mode), split.X_test, split.y_test
            )
    # ReLU: no BPKR theory mode applies yet (the kernel plug-in of bpkr.md §5 is issue 4),
    # so only the sampler is run and ``theory`` stays empty.
    smp = make_sampler(sampler, net, split.X, split.y, T, eta=eta)
    res = run_chains(
        smp,
        net,
        init_params(net, chains, ChainRNG(np.random.SeedSequence([seed, 1]), chains)),
        X_test=split.X_test,
        y_test=split.y_test,
        steps=steps,
        warmup=warmup,
        thin=thin,
        seed=seed,
        checkpoint=checkpoint,
        progress=progress,
    )
    summ = res.summary() | {
        "steps": steps,
        "warmup": warmup,
        "thin": thin,
        "eta": eta,
        "seed": seed,
    }
    dev: dict[str, dict[str, float]] = {}
    for mode, rep in theory.items():
        d = {"eps_g": (res.eps_g - rep["eps_g"]) / res.eps_g_se}
        d["a2_over_N"] = (res.a2_over_N - rep["u"][-1]) / res.a2_over_N_se
        d["U"] = (res.r2[0] - rep["U"]) / res.r2_se[0]  # ⟨‖r_1‖²⟩ = U (§3.8)
        dev[mode] = {k: float(v) for k, v in d.items()}
    return CompareResult(theory, summ, dev, res)


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
    se[0], se[3] = s["eps_g_se"], s["a2_over_N_se"]
    return xr.Dataset(
        {"value": (("source", "observable"), vals), "sampler_se": ("observable", se)},
        coords={"source": sources, "observable": obs},
    )


def plot_compare(cr: CompareResult, path: Path) -> Path:
    """Bar chart of the observables: theory modes vs sampler with error bars."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from deeprg.results import atomic_path

    ds = compare_dataset(cr)
    fig, ax = plt.subplots(figsize=(7, 3.5))
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
    plt.close(fig)
    return Path(path)
