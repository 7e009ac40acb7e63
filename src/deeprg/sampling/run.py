"""Running many chains: warm-up, thinning, streaming observables, diagnostics, checkpoints.

Observables (bpkr.md §3.2, §3.8, §4.2), accumulated on every kept draw without storing draws:

- f on test inputs: Welford mean and variance over all draws (the posterior predictive);
- ε_g = ⟨mean_x (f(x) − y(x))²⟩ over draws; bias² = mean_x(⟨f⟩ − y)², variance = ε_g − bias²;
- ‖a‖²/N_L (sampled u_L) and ‖r_l‖² (sampled U_{≥l}, l = 1..L) for linear networks;
- ⟨‖W_l‖_F²⟩ for every layer including the readout (the §3.8 excess-norm check: the data
  change each layer's squared norm by the same σ²G);
- mean layer kernels ⟨K_l⟩ = σ²_{l+1}⟨x_lᵀx_l⟩/N_l on chosen inputs.

Per-chain traces of the scalar observables are kept (thinned) for R-hat and ESS via ArviZ.
Monte Carlo standard errors come from the chain-to-chain spread of the per-chain means
(chains are independent): se = sd(chain means)/√C, valid for any within-chain
autocorrelation once the chains are past warm-up (needs C >= 2; use C >~ 8).

Randomness: chain c uses its own generator spawned from ``SeedSequence(seed)``
(:class:`~deeprg.sampling.rng.ChainRNG`), so its trajectory does not depend on how many other
chains run beside it.

Checkpoints (an ``.npz`` read without pickle: parameters, sampler state, accumulators, traces
and the exact state of every chain's generator) are written every ``checkpoint_every`` steps
with the run's full configuration and its hash; a rerun with the same path and the same
configuration resumes bit-identically, a rerun with any other configuration (sampler, its
target, steps, warm-up, thinning, seed, initial parameters, test data, the caller's
``config``) is refused with one line naming the keys that differ (``overwrite=True`` starts
afresh).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from deeprg.errors import InputError, check_int
from deeprg.identity import array_digest
from deeprg.networks import Network, backprop_readout, forward
from deeprg.results import load_checkpoint, save_checkpoint
from deeprg.sampling.rng import ChainRNG
from deeprg.sampling.samplers import Sampler, SamplerState


@dataclass
class _Acc:
    """Streaming sums (mutable, private to a run)."""

    n: int = 0
    f_mean: np.ndarray | None = None  # (C, n_test) Welford running mean per chain
    f_m2: np.ndarray | None = None  # (C, n_test) Welford sum of squared deviations
    K_sum: np.ndarray | None = None  # (C, L+1, n_z, n_z) summed over draws
    traces: dict[str, list[np.ndarray]] = field(default_factory=dict)
    stats: dict[str, list[np.ndarray]] = field(default_factory=dict)  # per-draw sampler stats


@dataclass(frozen=True)
class RunResult:
    """Results of a sampling run (per-chain and pooled)."""

    sampler: str
    n_chains: int
    n_draws: int
    f_mean: np.ndarray  # (n_test,) pooled posterior mean of f ((n_test, D) for D outputs)
    f_var: np.ndarray  # (n_test,) pooled posterior variance of f ((n_test, D))
    eps_g: float
    eps_g_se: float
    bias2: float
    variance: float
    a2_over_N: float
    a2_over_N_se: float
    r2: np.ndarray  # (L,) ⟨‖r_l‖²⟩, l = 1..L (D outputs: ⟨‖R_l‖_F²⟩ = ⟨Tr M_{≥l}⟩)
    r2_se: np.ndarray
    w2: np.ndarray  # (L+1,) ⟨‖W_l‖_F²⟩, l = 1..L+1 (last: the readout a)
    w2_se: np.ndarray
    layer_kernels: np.ndarray | None  # (L+1, n_z, n_z): ⟨K_l⟩ = σ_{l+1}²⟨x_l x_lᵀ⟩/N_l on Z
    layer_kernels_se: np.ndarray | None
    traces: dict[str, np.ndarray]  # name -> (C, n_draws)
    rhat: dict[str, float]
    ess: dict[str, float]
    acceptance: float
    step_size: np.ndarray | None = None
    stats: dict[str, np.ndarray] = field(default_factory=dict)  # name -> (C, n_draws)
    layer_kernels_chains: np.ndarray | None = None  # (C, L+1, n_z, n_z) per-chain means
    bias2_se: float = float("nan")  # jackknife over chains (bias² is nonlinear in the mean)
    variance_se: float = float("nan")

    @property
    def rhat_max(self) -> float:
        return float(max(self.rhat.values()))

    @property
    def ess_min(self) -> float:
        return float(min(self.ess.values()))

    @property
    def equilibrated(self) -> bool:
        """The convergence check: R-hat max <= RHAT_MAX and bulk ESS min >= ESS_MIN over the
        scalar observables (False when they are undefined)."""
        return bool(self.rhat_max <= RHAT_MAX and self.ess_min >= ESS_MIN)

    def to_inference_data(self, attrs: dict[str, str] | None = None) -> Any:
        """The kept draws as ``arviz.InferenceData``: ``posterior`` (per-draw observables, dims
        ``chain``, ``draw`` and ``wlayer`` = weight layers 1..L+1 / ``layer`` = hidden layers
        1..L) and ``sample_stats`` (``acceptance_rate``, ``step_size``, ``lp`` = −potential
        where the sampler has them). ``attrs`` (e.g. the configuration) go on both groups."""
        import warnings

        import xarray as xr

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            import arviz as az

        tr = self.traces
        C, n = tr["sq_err"].shape
        coords = {"chain": np.arange(C), "draw": np.arange(n)}
        w2 = sorted((k for k in tr if k.startswith("w2_")), key=lambda k: int(k[3:]))
        r2 = sorted((k for k in tr if k.startswith("r2_")), key=lambda k: int(k[3:]))
        post = xr.Dataset(coords=coords)
        for name, dims, values in [
            ("sq_err", ("chain", "draw"), tr["sq_err"]),
            ("a2_over_N", ("chain", "draw"), tr["a2_over_N"]),
            ("f_probe", ("chain", "draw"), tr["f_probe"]),
            ("w2", ("chain", "draw", "wlayer"), np.stack([tr[k] for k in w2], -1)),
        ] + ([("r2", ("chain", "draw", "layer"), np.stack([tr[k] for k in r2], -1))] if r2 else []):
            post[name] = (dims, values)
            post[name].attrs.update(TRACE_ATTRS[name])
        post = post.assign_coords(wlayer=np.arange(1, len(w2) + 1))
        if r2:
            post = post.assign_coords(layer=np.arange(1, len(r2) + 1))
        stats = xr.Dataset(coords=coords)
        for name, values in self.stats.items():
            stats[name] = (("chain", "draw"), values)
            stats[name].attrs.update(TRACE_ATTRS[name])
        for ds in (post, stats):
            ds.attrs.update(attrs or {})
            ds.attrs["sampler"] = self.sampler
        return az.InferenceData(posterior=post, sample_stats=stats)

    def summary(self) -> dict[str, Any]:
        return {
            "sampler": self.sampler,
            "chains": self.n_chains,
            "draws_per_chain": self.n_draws,
            "eps_g": self.eps_g,
            "eps_g_se": self.eps_g_se,
            "bias2": self.bias2,
            "bias2_se": self.bias2_se,
            "variance": self.variance,
            "variance_se": self.variance_se,
            "a2_over_N": self.a2_over_N,
            "a2_over_N_se": self.a2_over_N_se,
            "r2": [float(v) for v in self.r2],
            "r2_se": [float(v) for v in self.r2_se],
            "w2": [float(v) for v in self.w2],
            "w2_se": [float(v) for v in self.w2_se],
            "rhat_max": self.rhat_max,
            "ess_min": self.ess_min,
            "equilibrated": self.equilibrated,
            "equilibrium_criterion": f"R-hat max <= {RHAT_MAX}, ESS min >= {ESS_MIN}",
            "acceptance": self.acceptance,
        }


RHAT_MAX = 1.05  # rank-normalized split R-hat (ArviZ) of every scalar observable
ESS_MIN = 100.0  # bulk effective sample size of every scalar observable, all chains together

TRACE_ATTRS: dict[str, dict[str, str]] = {
    "sq_err": {
        "long_name": "squared test error of one draw",
        "units": "1",
        "description": "mean over test inputs of (f(x) - y(x))^2 for this draw; its posterior "
        "mean is eps_g",
    },
    "a2_over_N": {
        "long_name": "readout norm per unit",
        "units": "1",
        "description": "|a|^2 / N_L, whose posterior mean is u_L",
    },
    "f_probe": {
        "long_name": "output on the first test input",
        "units": "1",
        "description": "f(x_test[0]) for this draw",
    },
    "w2": {
        "long_name": "squared Frobenius norm of a weight layer",
        "units": "1",
        "description": "|W_l|_F^2 for weight layers l = 1..L+1 (L+1: the readout a)",
    },
    "r2": {
        "long_name": "squared norm of the back-propagated readout",
        "units": "1",
        "description": "|r_l|^2, l = 1..L (linear networks; the mean of |r_1|^2 is U)",
    },
    "acceptance_rate": {
        "long_name": "acceptance probability of the step",
        "units": "1",
        "description": "Metropolis acceptance probability (1 for Gibbs and Langevin)",
    },
    "step_size": {
        "long_name": "step size eta",
        "units": "1",
        "description": "per-chain step size in the paper's units (MALA adapts it in warm-up)",
    },
    "lp": {
        "long_name": "log posterior density (unnormalized)",
        "units": "1",
        "description": "-(E/T + sum |W|^2 / (2 sigma^2)) at the draw",
    },
}


def _diagnostics(traces: dict[str, np.ndarray]) -> tuple[dict[str, float], dict[str, float]]:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        import arviz as az

    rhat, ess = {}, {}
    for k, v in traces.items():
        if v.shape[1] < 4:
            rhat[k], ess[k] = float("nan"), float("nan")
            continue
        rhat[k] = float(az.rhat(v))
        ess[k] = float(az.ess(v))
    return rhat, ess


def _chain_se(tr: np.ndarray) -> float:
    m = tr.mean(1)
    return float(m.std(ddof=1) / np.sqrt(len(m))) if len(m) > 1 else float("nan")


def _jackknife_se(values: np.ndarray) -> float:
    """Jackknife standard error from the C leave-one-chain-out estimates."""
    C = values.size
    if C < 2:
        return float("nan")
    return float(np.sqrt((C - 1) / C * np.sum((values - values.mean()) ** 2)))


def bias_variance_se(f_mean_chains: np.ndarray, sq_err: np.ndarray, y: np.ndarray):
    """Jackknife (leave one chain out) standard errors of bias² = mean_x(f̄ − y)² and
    variance = ε_g − bias² (docs/theory/bpkr.md §3.2): f_mean_chains (C, n_test[, D]) are the
    per-chain posterior means, sq_err (C, n_draws) the squared-error trace, y the targets."""
    C = f_mean_chains.shape[0]
    if C < 2:
        return float("nan"), float("nan")
    f_minus = (f_mean_chains.sum(0)[None] - f_mean_chains) / (C - 1)
    b = ((f_minus - y[None]) ** 2).reshape(C, -1).mean(1)
    e = sq_err.mean(1)
    e_minus = (e.sum() - e) / (C - 1)
    return _jackknife_se(b), _jackknife_se(e_minus - b)


def check_draws(steps: int, thin: int) -> None:
    """At least two kept draws per chain (R-hat, ESS and errors are undefined below that)."""
    steps, thin = check_int("steps", steps), check_int("thin", thin)
    if (steps + thin - 1) // thin < 2:
        raise InputError(
            f"steps/thin must keep at least 2 draws per chain, got steps={steps}, thin={thin}"
        )


def run_chains(
    sampler: Sampler,
    net: Network,
    params0: tuple[np.ndarray, ...],
    *,
    X_test: np.ndarray,
    y_test: np.ndarray,
    steps: int,
    warmup: int,
    thin: int = 1,
    seed: int = 0,
    Z: np.ndarray | None = None,
    checkpoint: str | Path | None = None,
    checkpoint_every: int = 500,
    progress: bool | None = None,
    config: dict[str, Any] | None = None,
    overwrite: bool = False,
) -> RunResult:
    """Run all chains for ``warmup`` + ``steps`` steps, keeping every ``thin``-th draw.

    ``checkpoint``: an ``.npz`` path; an existing checkpoint resumes only if it was written
    with the same configuration (``config``, the caller's description of the experiment, plus
    everything this function sees), else :class:`~deeprg.errors.InputError`; ``overwrite``
    discards it. A killed run keeps its last checkpoint; calling again with the same
    ``checkpoint`` resumes bit-identically.
    """
    steps, warmup = check_int("steps", steps), check_int("warmup", warmup, minimum=0)
    thin = check_int("thin", thin)
    check_draws(steps, thin)
    total = warmup + steps
    ident = dict(config or {}) | {
        "run": {
            "sampler": sampler.name,
            "target": sampler.config,
            "steps": steps,
            "warmup": warmup,
            "thin": thin,
            "seed": seed,
            "params0": [array_digest(p) for p in params0],
            "X_test": array_digest(X_test),
            "y_test": array_digest(y_test),
            "Z": array_digest(Z),
        }
    }
    ck = Path(checkpoint) if checkpoint is not None else None
    if ck is not None and overwrite:
        ck.unlink(missing_ok=True)
    saved = (
        load_checkpoint(ck, ident, types={"SamplerState": SamplerState, "_Acc": _Acc})
        if ck is not None
        else None
    )
    if saved is not None:
        state, acc, t0, acc_rate = saved["state"], saved["acc"], saved["t"], saved["acc_rate"]
        rng = ChainRNG.from_generators(saved["rng"])
    else:
        state = sampler.init(params0)
        rng = ChainRNG(seed, params0[0].shape[0])
        acc, t0, acc_rate = _Acc(), 0, []
    show = sys.stdout.isatty() if progress is None else progress
    bar = None
    if show:
        from rich.console import Console
        from rich.progress import Progress

        bar = Progress(console=Console(stderr=True), transient=True)
        task = bar.add_task(f"{sampler.name}", total=total, completed=t0)
        bar.start()
    try:
        for t in range(t0, total):
            state, info = sampler.step(state, rng, adapt=t < warmup, t=t + 1)
            if t >= warmup:
                acc_rate.append(float(np.mean(info["acceptance"])))
                if (t - warmup) % thin == 0:
                    _observe(acc, net, state, X_test, y_test, Z)
                    _record_stats(acc, state, info)
            if bar is not None:
                bar.update(task, advance=1)
            done = t + 1
            if ck is not None and (done % checkpoint_every == 0 or done == total):
                saved = {"state": state, "acc": acc, "t": done, "acc_rate": acc_rate}
                save_checkpoint(ck, saved | {"rng": rng.generators}, ident)
    finally:
        if bar is not None:
            bar.stop()
    return _finalize(sampler.name, net, acc, acc_rate, state, y_test)


def _record_stats(acc: _Acc, state: SamplerState, info: dict[str, Any]) -> None:
    """Sampler statistics of a kept draw, per chain (ArviZ ``sample_stats``)."""
    C = state.params[0].shape[0]
    st = {"acceptance_rate": np.broadcast_to(np.asarray(info["acceptance"], float), (C,))}
    if state.step_size is not None:
        st["step_size"] = np.asarray(state.step_size, float)
    if state.potential is not None:
        st["lp"] = -np.asarray(state.potential, float)
    for k, v in st.items():
        acc.stats.setdefault(k, []).append(np.array(v))


def _observe(
    acc: _Acc,
    net: Network,
    state: SamplerState,
    Xt: np.ndarray,
    yt: np.ndarray,
    Z: np.ndarray | None,
) -> None:
    p = state.params
    f, _ = forward(net, p, Xt)
    if acc.f_mean is None:
        acc.f_mean = np.zeros_like(f)
        acc.f_m2 = np.zeros_like(f)
    acc.n += 1
    delta = f - acc.f_mean  # Welford update, per chain and test input
    acc.f_mean += delta / acc.n
    acc.f_m2 += delta * (f - acc.f_mean)
    C = f.shape[0]
    tr = {  # D outputs: f (C, n, D); errors and |a|^2/N_L averaged over outputs
        "sq_err": np.mean(((f - yt[None]) ** 2).reshape(C, -1), axis=1),
        "a2_over_N": np.sum(p[-1].reshape(C, -1) ** 2, 1) / (net.dims[-1] * net.outputs),
    }
    tr["f_probe"] = f.reshape(C, -1)[:, 0]
    for l, w in enumerate(p, start=1):
        wf = w.reshape(w.shape[0], -1)
        tr[f"w2_{l}"] = np.einsum("ci,ci->c", wf, wf)
    if net.activation == "linear":
        r = backprop_readout(net, p)
        for l in range(1, net.L + 1):
            tr[f"r2_{l}"] = np.sum(r[l].reshape(C, -1) ** 2, 1)
    for k, v in tr.items():
        acc.traces.setdefault(k, []).append(v)
    if Z is not None:
        _, xs = forward(net, p, Z)
        K = np.stack(
            [
                np.einsum("cpi,cqi->cpq", x, x) * (s / x.shape[-1])
                for x, s in zip(xs, net.sigma2, strict=True)
            ],
            axis=1,
        )
        acc.K_sum = K if acc.K_sum is None else acc.K_sum + K


def _finalize(
    name: str, net: Network, acc: _Acc, acc_rate: list[float], state: SamplerState, y: np.ndarray
) -> RunResult:
    if acc.f_mean is None or acc.f_m2 is None:
        raise ValueError("no draws were kept")
    C = acc.f_mean.shape[0]
    n = acc.n
    f_mean = acc.f_mean.mean(0)
    # pooled variance = mean within-chain variance + spread of the chain means
    f_var = (acc.f_m2 / n).mean(0) + ((acc.f_mean - f_mean) ** 2).mean(0)
    traces = {k: np.stack(v, axis=1) for k, v in acc.traces.items()}  # (C, n_draws)
    sq = traces["sq_err"]
    eps_g = float(sq.mean())
    # With pooled moments ε_g = mean_x[(f̄ − y)²] + mean_x[var f] holds exactly.
    variance = float(f_var.mean())
    bias2 = eps_g - variance
    bias2_se, variance_se = bias_variance_se(acc.f_mean, sq, np.asarray(y, dtype=np.float64))
    rhat, ess = _diagnostics(traces)
    r2 = (
        np.array([traces[f"r2_{l}"].mean() for l in range(1, net.L + 1)])
        if net.activation == "linear"
        else np.array([])
    )
    r2_se = (
        np.array([_chain_se(traces[f"r2_{l}"]) for l in range(1, net.L + 1)])
        if net.activation == "linear"
        else np.array([])
    )
    K = K_se = None
    if acc.K_sum is not None:
        Kc = acc.K_sum / n  # per-chain means
        K, K_se = Kc.mean(0), Kc.std(0, ddof=1) / np.sqrt(C)
    wk = [f"w2_{l}" for l in range(1, net.L + 2)]
    return RunResult(
        sampler=name,
        n_chains=C,
        n_draws=n,
        f_mean=f_mean,
        f_var=f_var,
        eps_g=eps_g,
        eps_g_se=_chain_se(sq),
        bias2=bias2,
        bias2_se=bias2_se,
        variance=variance,
        variance_se=variance_se,
        a2_over_N=float(traces["a2_over_N"].mean()),
        a2_over_N_se=_chain_se(traces["a2_over_N"]),
        r2=r2,
        r2_se=r2_se,
        w2=np.array([traces[k].mean() for k in wk]),
        w2_se=np.array([_chain_se(traces[k]) for k in wk]),
        layer_kernels=K,
        layer_kernels_se=K_se,
        traces=traces,
        rhat=rhat,
        ess=ess,
        acceptance=float(np.mean(acc_rate)) if acc_rate else float("nan"),
        step_size=state.step_size,
        stats={k: np.stack(v, axis=1) for k, v in acc.stats.items()},
        layer_kernels_chains=None if acc.K_sum is None else acc.K_sum / n,
    )
