"""Population annealing in α at T = 0: the Gardner volume of deep perceptron networks and
equilibrium overlaps along the whole α path (docs/montecarlo.md, issue 14).

A population of R networks starts from the prior (rows uniform on their spheres); the training
patterns are added one at a time. A new pattern brings one constraint per output unit (and,
with κ > 0, one per hidden unit), each of which halves the volume at small α, so it is not
imposed at once: its number of violated gaps E is annealed softly, with the earlier patterns
kept as hard constraints (population annealing in β on the newest pattern):

1. every network is forward-propagated on the new pattern (hidden neurons slaved, S = sgn h);
2. β grows from 0 in steps chosen so that the reweighting factors exp(−Δβ E) keep an effective
   sample size ≥ ``ess_floor``·R; at each step log⟨exp(−Δβ E)⟩ is added to log V, the
   population is resampled in proportion to the factors (systematic resampling, in place) and
   every network gets ``sweeps`` sweeps of the slaved-neuron sampler
   (:mod:`~deeprg.perceptron.montecarlo.slaved`) at that β (hard on the earlier patterns);
3. once at least ``ess_floor`` of the population solves the new pattern (E = 0), β → ∞: the
   others are removed, log(surviving fraction) is added to log V, the population is resampled
   back to R, and every network gets ``sweeps`` sweeps with all patterns hard.

The sum estimates ln[V(α)/V(0)], the log of the fraction of weight space that solves the first
M patterns; divided by the number of weights it is the quantity the replica theory computes
(the free entropy per weight at T = 0). Diagnostics: the number of distinct
families (ancestors at α = 0) still present and the effective population size
R_eff = R² / Σ_f n_f² over family sizes n_f; the estimate is trustworthy while R_eff ≫ 1.
``offspring_var`` sums R/ESS − 1 over the resamplings: with networks decorrelated between steps
the genealogy is neutral and keeps about 2R/(2 + offspring_var) families, so fewer families
than that mean too little Monte Carlo between steps (selection of heritable differences).

Options for equilibrium (docs/montecarlo.md; all off by default): ``target_acceptance`` adapts
the rotation angle of every layer after each step (one angle for the whole population during a
step, so each step's kernel keeps its target invariant); ``solved_floor`` sets the fraction that
must solve a pattern before it is made hard; ``decorrelation`` repeats a step's sweeps until the
weight self-overlap over the step is below it (at most ``max_sweeps``); ``runs`` combines
independent populations by Machta's weighted averaging (weights ∝ their volume estimates; the
run-to-run spread gives the standard errors).

Overlaps at the measurement points: teacher–student, the gauge- (and on dense graphs
permutation-) matched overlaps with the teacher averaged over the population; random I/O, the
matched overlaps between pairs of networks from different families.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numba import njit

from deeprg.errors import InputError
from deeprg.perceptron.montecarlo.config import AnnealConfig
from deeprg.perceptron.montecarlo.slaved import (
    Wiring,
    _forward,
    _sweeps,
    _work,
    compact_weights,
    dense_weights,
    random_weights,
    wiring,
)


@njit(cache=True)
def _add_pattern(Jp, Sp, hp, w, fan, conn, mu):
    """Forward pattern mu through every network: its fields and slaved hidden neurons."""
    L = Jp.shape[1]
    for r in range(Jp.shape[0]):
        for l in range(1, L + 1):
            inv = 1.0 / np.sqrt(fan[l - 1])
            for i in range(w[l]):
                acc = 0.0
                for a in range(fan[l - 1]):
                    acc += Jp[r, l - 1, i, a] * Sp[r, l - 1, conn[l - 1, i, a], mu]
                hp[r, l - 1, i, mu] = acc * inv
                if l < L:
                    Sp[r, l, i, mu] = 1 if acc >= 0.0 else -1


@njit(cache=True)
def _soft_energy(Sp, hp, w, mu, kappa, E):
    """E[r] = violated gaps of pattern mu in network r (hidden |h| < κ, output S_L h < κ)."""
    L = hp.shape[1]
    for r in range(Sp.shape[0]):
        n = 0
        for l in range(1, L + 1):
            for i in range(w[l]):
                if l == L:
                    g = Sp[r, l, i, mu] * hp[r, l - 1, i, mu]
                else:
                    g = abs(hp[r, l - 1, i, mu])
                if g < kappa:
                    n += 1
        E[r] = n


@njit(cache=True)
def _population_sweeps(
    Jp, Sp, hp, M, w, fan, conn, rptr, rk, rs, kappa, th, n, rng, counts, work, beta
):
    for r in range(Jp.shape[0]):
        _sweeps(
            Jp[r],
            Sp[r],
            hp[r],
            M,
            w,
            fan,
            conn,
            rptr,
            rk,
            rs,
            kappa,
            th,
            n,
            rng,
            counts,
            work,
            beta,
        )


def _systematic(weights: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Systematic resampling: how many copies each network gets (R in all, multiplicity within
    one of R w_r / Σw; 0 for zero weight)."""
    R = weights.size
    cdf = np.cumsum(weights / weights.sum())
    cdf[-1] = 1.0
    pick = np.searchsorted(cdf, (rng.random() + np.arange(R)) / R, side="right")
    return np.bincount(np.minimum(pick, R - 1), minlength=R)


def _next_step(E: np.ndarray, floor: float) -> float:
    """The largest Δβ (≤ 64) whose factors exp(−Δβ E) keep an effective sample size ≥ floor·R."""

    def ess(db: float) -> float:
        w = np.exp(-db * (E - E.min()))
        return w.sum() ** 2 / (w**2).sum() / E.size

    if ess(64.0) >= floor:
        return 64.0
    lo, hi = 0.0, 64.0
    for _ in range(40):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if ess(mid) >= floor else (lo, mid)
    return max(lo, 1e-6)


@njit(cache=True)
def _copy_configs(Jp, Sp, hp, dst, src, m):
    """Network src[k] overwrites network dst[k] (first m patterns of S and h)."""
    for k in range(dst.size):
        d, r = dst[k], src[k]
        Jp[d] = Jp[r]
        Sp[d, :, :, :m] = Sp[r, :, :, :m]
        hp[d, :, :, :m] = hp[r, :, :, :m]


def _resample(counts, Jp, Sp, hp, flags, m) -> None:
    """In place: dead networks are overwritten by the extra copies of the survivors (and so are
    their rows of every array in ``flags``)."""
    free = np.flatnonzero(counts == 0)
    dup = np.repeat(np.arange(counts.size), np.maximum(counts - 1, 0))
    _copy_configs(Jp, Sp, hp, free, dup, m)
    for f in flags:
        f[free] = f[dup]


def instance(cfg: AnnealConfig) -> tuple[Wiring, np.ndarray, np.ndarray, np.ndarray | None]:
    """The quenched instance of ``cfg.seed``: (wiring, inputs S0 (M × N_0), targets SL
    (M × N_L), the teacher's compact weights or None). Independent of ``cfg.run``."""
    from deeprg.data.patterns import forward_signs, random_patterns

    rng = np.random.default_rng(np.random.SeedSequence([cfg.seed, 0]))
    wr = wiring(cfg.widths, cfg.c, rng)
    S0, SL = random_patterns(cfg.M, list(wr.w), rng)
    if cfg.scenario == "random":
        return wr, S0, SL, None
    teacher = random_weights(wr, rng)
    SL = forward_signs(dense_weights(wr, teacher), S0)[-1]
    return wr, S0, SL, teacher


def _overlaps(cfg, wr, Jp, Sp, teacher, S_teacher, family, m, rng):
    """(q per neuron layer, Q per weight layer) at the current α: with the teacher (teacher
    scenario) or between networks of different families (random I/O), gauge-matched."""
    from deeprg.perceptron.montecarlo.analysis import matched_overlaps

    w, L = wr.w, wr.L
    permute = cfg.c is None

    def dense_state(J, S):
        Jd = np.zeros((L, int(w.max()), int(w.max())))
        for l, W in enumerate(dense_weights(wr, J), start=1):
            Jd[l - 1, : w[l], : w[l - 1]] = W
        return np.transpose(S[:, :, :m], (0, 2, 1)), Jd

    if teacher is not None:
        b = dense_state(teacher, S_teacher)
        pairs = [(r, None) for r in range(Jp.shape[0])]
    else:
        fams = np.unique(family)
        if len(fams) < 2:
            return np.full(L + 1, np.nan), np.full(L, np.nan)
        pairs = []
        for _ in range(cfg.pairs):
            f1, f2 = rng.choice(fams, 2, replace=False)
            pairs.append(
                (rng.choice(np.flatnonzero(family == f1)), rng.choice(np.flatnonzero(family == f2)))
            )
    qs, Qs = [], []
    for r, r2 in pairs:
        a = dense_state(Jp[r], Sp[r])
        other = b if r2 is None else dense_state(Jp[r2], Sp[r2])
        q, Q = matched_overlaps(a[0], a[1], other[0], other[1], w, permute)
        qs.append(q)
        Qs.append(Q)
    return np.mean(qs, 0), np.mean(Qs, 0)


@dataclass
class _Population:
    """R networks on the first patterns of one instance (arrays indexed by network first)."""

    cfg: AnnealConfig
    wr: Wiring
    J: np.ndarray
    S: np.ndarray
    h: np.ndarray
    family: np.ndarray
    rng: np.random.Generator
    work: tuple
    theta: np.ndarray  # largest rotation angle per weight layer (adapted with target_acceptance)
    n_sweeps: int = 0  # sweeps per network since the last reset (diagnostic)
    self_overlap: np.ndarray | None = None  # per layer, after the last step's sweeps
    offspring_var: float = 0.0  # Σ over resamplings of the variance of the offspring numbers

    @classmethod
    def from_prior(cls, cfg: AnnealConfig, wr: Wiring, S0, SL) -> _Population:
        rng = np.random.default_rng(np.random.SeedSequence([cfg.seed, 1, cfg.run]))
        R, M, L, nmax = cfg.population, cfg.M, cfg.L, int(wr.w.max())
        S = np.zeros((R, L + 1, nmax, M), dtype=np.int8)
        S[:, 0, : wr.w[0]] = S0.T
        S[:, L, : wr.w[L]] = SL.T
        J = random_weights(wr, rng, R)
        h = np.zeros((R, L, nmax, M))
        theta = np.full(L, cfg.theta_max)
        return cls(cfg, wr, J, S, h, np.arange(R), rng, _work(wr, M), theta)

    def overlap_with(self, J0: np.ndarray) -> np.ndarray:
        """Mean weight overlap (J·J0)/c of the networks with the configurations J0, per layer."""
        wr = self.wr
        per = np.einsum("rlia,rlia->l", self.J, J0)
        return per / (self.J.shape[0] * wr.w[1:] * wr.fan)

    def sweeps(self, m: int, beta: float, counts: np.ndarray) -> None:
        """cfg.sweeps sweeps of every network, hard on the first m patterns (and soft on
        pattern m at ``beta`` >= 0); with ``decorrelation``, repeated until the mean weight
        overlap with the state before the step is at most that in every layer (at most
        ``max_sweeps``); with ``target_acceptance``, the angles adapt after the step."""
        c, wr = self.cfg, self.wr
        if not c.sweeps:
            return
        J0 = self.J.copy()
        done, step_counts = 0, np.zeros_like(counts)
        while True:
            _population_sweeps(self.J, self.S, self.h, m, wr.w, wr.fan, wr.conn, wr.rptr, wr.rk,
                               wr.rs, c.kappa, self.theta, c.sweeps, self.rng, step_counts,
                               self.work, beta)  # fmt: skip
            done += c.sweeps
            self.self_overlap = self.overlap_with(J0)
            if c.decorrelation is None or done >= c.max_sweeps:
                break
            if np.all(self.self_overlap <= c.decorrelation):
                break
        counts += step_counts
        self.n_sweeps += done
        if c.target_acceptance is not None:
            att = np.maximum(step_counts[:, 0], 1)
            acc = step_counts[:, 1] / att
            self.theta = np.clip(
                self.theta * np.exp(2.0 * (acc - c.target_acceptance)), 1e-3, np.pi
            )

    def resample(self, weights: np.ndarray, m: int) -> None:
        lam = weights / weights.mean()
        self.offspring_var += float(np.mean(lam**2) - 1.0)  # R/ESS - 1 of this step
        _resample(_systematic(weights, self.rng), self.J, self.S, self.h, (self.family,), m)

    def add_pattern(self, mu: int, counts: np.ndarray) -> tuple[float, int]:
        """Anneal pattern mu in (log V increment, beta steps) — see the module docstring."""
        c, wr = self.cfg, self.wr
        _add_pattern(self.J, self.S, self.h, wr.w, wr.fan, wr.conn, mu)
        E = np.zeros(c.population, dtype=np.int64)
        beta, dlogv = 0.0, 0.0
        for step in range(c.max_steps + 1):
            _soft_energy(self.S, self.h, wr.w, mu, c.kappa, E)
            solved = E == 0
            floor = c.ess_floor if c.solved_floor is None else c.solved_floor
            if solved.mean() >= floor or step == c.max_steps:
                if not solved.any():
                    raise InputError(
                        f"population extinct at alpha = {(mu + 1) / c.fan:.3g}: raise "
                        f"--population or --sweeps, or lower --ess-floor (R = {c.population})"
                    )
                self.resample(solved.astype(float), mu + 1)  # beta -> infinity
                self.sweeps(mu + 1, -1.0, counts)  # equilibrate on every pattern so far
                return dlogv + np.log(solved.mean()), step
            db = _next_step(E.astype(float), c.ess_floor)
            wts = np.exp(-db * (E - E.min()))
            dlogv += np.log(wts.mean()) - db * E.min()
            self.resample(wts, mu + 1)
            beta += db
            self.sweeps(mu, beta, counts)
        raise AssertionError("unreachable")

    def families(self) -> tuple[int, float]:
        sizes = np.bincount(self.family).astype(float)
        return int(np.count_nonzero(sizes)), float(self.cfg.population**2 / np.sum(sizes**2))


def _teacher_state(wr: Wiring, teacher: np.ndarray, S0, SL) -> np.ndarray:
    """The teacher's neurons on every pattern (S[l, i, mu])."""
    L, nmax, M = wr.L, int(wr.w.max()), S0.shape[0]
    S = np.zeros((L + 1, nmax, M), dtype=np.int8)
    S[0, : wr.w[0]], S[L, : wr.w[L]] = S0.T, SL.T
    _forward(teacher, S, np.zeros((L, nmax, M)), wr.w, wr.fan, wr.conn)
    return S


def anneal(
    cfg: AnnealConfig, *, progress: Callable[[int, int], None] | None = None
):  # -> xarray.Dataset
    """Run population annealing from α = 0 to ``cfg.alpha_max``; returns an xarray Dataset with
    dims ``alpha`` (every pattern count m = 1..M, α = m/c), ``layer`` (0..L) and ``wlayer``
    (1..L): ``log_volume`` per weight, ``families``, ``R_eff``, ``beta_steps``, and at the
    measurement points ``q``, ``Q`` (NaN elsewhere); ``acceptance`` per weight layer."""
    t0 = time.perf_counter()
    if cfg.runs > 1:
        return _combine(cfg, [_anneal_one(cfg.replace(run=cfg.run + k, runs=1), progress)
                              for k in range(cfg.runs)], t0)  # fmt: skip
    return _anneal_one(cfg, progress)


def _anneal_one(cfg: AnnealConfig, progress: Callable[[int, int], None] | None):
    t0 = time.perf_counter()
    wr, S0, SL, teacher = instance(cfg)
    pop = _Population.from_prior(cfg, wr, S0, SL)
    S_teacher = None if teacher is None else _teacher_state(wr, teacher, S0, SL)
    M, L = cfg.M, cfg.L
    out = {k: np.zeros(M) for k in ("log_volume", "R_eff", "seconds", "offspring_var")}
    out |= {k: np.zeros(M, dtype=np.int64) for k in ("families", "beta_steps", "sweeps_used")}
    out |= {"q": np.full((M, L + 1), np.nan), "Q": np.full((M, L), np.nan)}
    out |= {k: np.full((M, L), np.nan) for k in ("acceptance", "theta", "self_overlap")}
    measure = set(np.unique(np.round(np.linspace(1, M, cfg.n_alpha)).astype(int)).tolist())
    total = 0.0
    for mu in range(M):
        t1 = time.perf_counter()
        counts = np.zeros((L, 2), dtype=np.int64)
        pop.n_sweeps = 0
        try:
            dlogv, out["beta_steps"][mu] = pop.add_pattern(mu, counts)
        except InputError as err:  # extinct: the path so far rides on the error
            if mu > 0:
                part = _dataset(
                    cfg.replace(alpha_max=mu / cfg.fan),
                    {k: v[:mu] for k, v in out.items()},
                    teacher is not None,
                )
                err.partial = part  # type: ignore[attr-defined]
            raise
        total += dlogv
        out["log_volume"][mu] = total / wr.n_weights
        out["families"][mu], out["R_eff"][mu] = pop.families()
        att = counts[:, 0]
        out["acceptance"][mu] = np.where(att > 0, counts[:, 1] / np.maximum(att, 1), np.nan)
        out["sweeps_used"][mu] = pop.n_sweeps
        out["offspring_var"][mu] = pop.offspring_var
        out["theta"][mu] = pop.theta
        if pop.self_overlap is not None:
            out["self_overlap"][mu] = pop.self_overlap
        if mu + 1 in measure:
            out["q"][mu], out["Q"][mu] = _overlaps(
                cfg, wr, pop.J, pop.S, teacher, S_teacher, pop.family, mu + 1, pop.rng
            )
        out["seconds"][mu] = time.perf_counter() - t1
        if progress is not None:
            progress(mu + 1, M)
    ds = _dataset(cfg, out, teacher is not None)
    ds.attrs["elapsed_s"] = time.perf_counter() - t0
    return ds


def _combine(cfg: AnnealConfig, runs: list, t0: float):
    """Machta's weighted averaging of independent populations: at every α run k gets the
    weight w_k ∝ V_k = exp(n_weights · log_volume_k) (its estimate of the volume, i.e. of the
    partition function); the volume is the mean of the V_k, the overlaps the w-weighted means;
    families and R_eff add up over runs (families of different runs are different), R_eff as
    1/Σ_k w_k² / R_eff,k. Standard errors from the run-to-run spread."""
    from scipy.special import logsumexp

    n_w = instance(cfg)[0].n_weights
    v = np.array([r["log_volume"].values for r in runs])  # (runs, alpha)
    n = len(runs)
    logw = n_w * v
    w = np.exp(logw - logsumexp(logw, axis=0))  # (runs, alpha), sums to 1 over runs
    out: dict[str, np.ndarray] = {
        "log_volume": (logsumexp(logw, axis=0) - np.log(n)) / n_w,
        "log_volume_se": v.std(0, ddof=1) / np.sqrt(n),
        "run_log_volume": v,
        "run_weight_eff": 1.0 / np.sum(w**2, 0),
    }
    for k in ("q", "Q"):
        x = np.array([r[k].values for r in runs])  # (runs, alpha, layer)
        mean = np.einsum("ra,ral->al", w, x)
        var = np.einsum("ra,ral->al", w**2, (x - mean) ** 2) * n / (n - 1)
        out[k], out[f"{k}_se"] = mean, np.sqrt(var)
    fam = np.array([r["families"].values for r in runs])
    reff = np.array([r["R_eff"].values for r in runs])
    out["families"] = fam.sum(0)
    out["R_eff"] = 1.0 / np.sum(w**2 / reff, 0)
    for k in ("beta_steps", "sweeps_used", "offspring_var"):
        out[k] = np.array([r[k].values for r in runs]).sum(0)
    for k in ("acceptance", "theta", "self_overlap"):
        out[k] = np.mean([r[k].values for r in runs], axis=0)
    out["seconds"] = np.sum([r["seconds"].values for r in runs], axis=0)
    ds = _dataset(cfg, out, cfg.scenario == "teacher")
    ds.attrs["elapsed_s"] = time.perf_counter() - t0
    return ds


def _dataset(cfg: AnnealConfig, out: dict[str, np.ndarray], with_teacher: bool):
    """The annotated Dataset of an annealing run."""
    import xarray as xr

    from deeprg.identity import identity
    from deeprg.schema import COORDS, annotate, var

    dims = {"q": ("alpha", "layer"), "Q_se": ("alpha", "wlayer"), "q_se": ("alpha", "layer")}
    dims |= {k: ("alpha", "wlayer") for k in ("Q", "acceptance", "theta", "self_overlap")}
    dims |= {"run_log_volume": ("run", "alpha")}
    ds = xr.Dataset(
        {k: (dims.get(k, ("alpha",)), v) for k, v in out.items()},
        coords={
            "alpha": np.arange(1, cfg.M + 1) / cfg.fan,
            "layer": np.arange(cfg.L + 1),
            "wlayer": np.arange(1, cfg.L + 1),
        }
        | ({"run": np.arange(cfg.run, cfg.run + cfg.runs)} if "run_log_volume" in out else {}),
    )
    what = "student-teacher" if with_teacher else "replica (different families)"
    measured = "gauge-matched, population mean (NaN: not measured)"
    table = {
        "log_volume": var(
            "log Gardner volume per weight",
            "sum of log reweighting factors / number of weights: ln[V(alpha)/V(0)] per weight",
        ),
        "families": var("surviving families", "distinct ancestors (at alpha = 0) present"),
        "R_eff": var("effective population size", "R^2 / sum of squared family sizes"),
        "beta_steps": var("annealing steps", "beta steps used to add the pattern"),
        "q": var(f"{what} neuron overlap", measured),
        "Q": var(f"{what} weight overlap", measured),
        "acceptance": var("rotation acceptance", "sweeps while adding the pattern, per layer"),
        "theta": var("largest rotation angle", "per layer, after the pattern (adapted or fixed)"),
        "self_overlap": var(
            "weight self-overlap over a step",
            "mean (J.J_before)/c over the last step's sweeps: decorrelation per step",
        ),
        "offspring_var": var(
            "cumulative offspring variance",
            "sum over all resamplings so far of R/ESS - 1; a neutral genealogy (states "
            "decorrelated between steps) keeps about 2R/(2 + this) families",
        ),
        "sweeps_used": var("sweeps", "sweeps per network while adding the pattern"),
        "seconds": var("wall time", "seconds to add the pattern (all runs: their sum)"),
        "log_volume_se": var(
            "se of log_volume", "spread of the independent runs' estimates / sqrt(runs)"
        ),
        "Q_se": var("se of Q", "weighted spread over the independent runs"),
        "q_se": var("se of q", "weighted spread over the independent runs"),
        "run_log_volume": var("log volume per weight of each run", "before the combination"),
        "run": var("run", "seed of an independent population on the same instance"),
        "run_weight_eff": var(
            "effective number of runs", "1 / sum of squared run weights (weights ~ volume)"
        ),
    }
    annotate(ds, COORDS | table)
    ds.attrs.update(identity(cfg.to_dict()))
    ds.attrs["plot"] = "anneal"  # deeprg plot FILE.nc
    return ds


__all__ = ["AnnealConfig", "anneal", "compact_weights", "instance"]
