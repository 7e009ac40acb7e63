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

Overlaps at the measurement points: teacher–student, the gauge- (and on dense graphs
permutation-) matched overlaps with the teacher averaged over the population; random I/O, the
matched overlaps between pairs of networks from different families.
"""

from __future__ import annotations

import time
from collections.abc import Callable

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


def anneal(
    cfg: AnnealConfig, *, progress: Callable[[int, int], None] | None = None
):  # -> xarray.Dataset
    """Run population annealing from α = 0 to ``cfg.alpha_max``; returns an xarray Dataset with
    dims ``alpha`` (every pattern count m = 1..M, α = m/c), ``layer`` (0..L) and ``wlayer``
    (1..L): ``log_volume`` per weight, ``families``, ``R_eff``, and at the measurement points
    ``q``, ``Q`` (NaN elsewhere) and the sampler's ``acceptance`` per weight layer."""
    import xarray as xr

    from deeprg.identity import identity
    from deeprg.schema import COORDS, annotate, var

    t0 = time.perf_counter()
    wr, S0, SL, teacher = instance(cfg)
    rng = np.random.default_rng(np.random.SeedSequence([cfg.seed, 1, cfg.run]))
    R, M, L, Nmax = cfg.population, cfg.M, cfg.L, int(cfg.widths.max())
    Jp = random_weights(wr, rng, R)
    Sp = np.zeros((R, L + 1, Nmax, M), dtype=np.int8)
    Sp[:, 0, : wr.w[0]] = S0.T
    Sp[:, L, : wr.w[L]] = SL.T
    hp = np.zeros((R, L, Nmax, M))
    S_teacher = None
    if teacher is not None:
        S_teacher = np.zeros((L + 1, Nmax, M), dtype=np.int8)
        S_teacher[0, : wr.w[0]], S_teacher[L, : wr.w[L]] = S0.T, SL.T
        _forward(teacher, S_teacher, np.zeros((L, Nmax, M)), wr.w, wr.fan, wr.conn)
    family = np.arange(R)
    work = _work(wr, M)
    th = np.full(L, cfg.theta_max)
    logv = np.zeros(M)
    fams, reff = np.zeros(M, dtype=np.int64), np.zeros(M)
    measure = set(np.unique(np.round(np.linspace(1, M, cfg.n_alpha)).astype(int)).tolist())
    q = np.full((M, L + 1), np.nan)
    Q = np.full((M, L), np.nan)
    acc = np.full((M, L), np.nan)
    total = 0.0
    E = np.zeros(R, dtype=np.int64)
    steps = np.zeros(M, dtype=np.int64)
    for mu in range(M):
        _add_pattern(Jp, Sp, hp, wr.w, wr.fan, wr.conn, mu)
        beta = 0.0
        counts = np.zeros((L, 2), dtype=np.int64)
        for step in range(cfg.max_steps + 1):
            _soft_energy(Sp, hp, wr.w, mu, cfg.kappa, E)
            solved = E == 0
            if solved.mean() >= cfg.ess_floor or step == cfg.max_steps:
                if not solved.any():
                    raise InputError(
                        f"population extinct at alpha = {(mu + 1) / cfg.fan:.3g}: raise "
                        f"--population or --sweeps, or lower --ess-floor (R = {R})"
                    )
                total += np.log(solved.mean())  # beta -> infinity: remove the rest
                _resample(_systematic(solved.astype(float), rng), Jp, Sp, hp, (family,), mu + 1)
                break
            db = _next_step(E.astype(float), cfg.ess_floor)
            wts = np.exp(-db * (E - E.min()))
            total += np.log(wts.mean()) - db * E.min()
            _resample(_systematic(wts, rng), Jp, Sp, hp, (family,), mu + 1)
            beta += db
            if cfg.sweeps:
                _population_sweeps(Jp, Sp, hp, mu, wr.w, wr.fan, wr.conn, wr.rptr, wr.rk, wr.rs,
                                   cfg.kappa, th, cfg.sweeps, rng, counts, work, beta)  # fmt: skip
        if cfg.sweeps:  # equilibrate on the solutions of every pattern so far
            _population_sweeps(Jp, Sp, hp, mu + 1, wr.w, wr.fan, wr.conn, wr.rptr, wr.rk, wr.rs,
                               cfg.kappa, th, cfg.sweeps, rng, counts, work, -1.0)  # fmt: skip
        steps[mu] = step
        logv[mu] = total / wr.n_weights
        sizes = np.bincount(family)
        fams[mu], reff[mu] = np.count_nonzero(sizes), R**2 / np.sum(sizes.astype(float) ** 2)
        acc[mu] = np.where(counts[:, 0] > 0, counts[:, 1] / np.maximum(counts[:, 0], 1), np.nan)
        if mu + 1 in measure:
            q[mu], Q[mu] = _overlaps(cfg, wr, Jp, Sp, teacher, S_teacher, family, mu + 1, rng)
        if progress is not None:
            progress(mu + 1, M)
    alpha = np.arange(1, M + 1) / cfg.fan
    ds = xr.Dataset(
        {
            "log_volume": ("alpha", logv),
            "families": ("alpha", fams),
            "R_eff": ("alpha", reff),
            "beta_steps": ("alpha", steps),
            "q": (("alpha", "layer"), q),
            "Q": (("alpha", "wlayer"), Q),
            "acceptance": (("alpha", "wlayer"), acc),
        },
        coords={"alpha": alpha, "layer": np.arange(L + 1), "wlayer": np.arange(1, L + 1)},
    )
    what = "student-teacher" if teacher is not None else "replica (different families)"
    annotate(
        ds,
        COORDS
        | {
            "log_volume": var(
                "log Gardner volume per weight",
                "sum of log surviving fractions / number of weights: ln[V(alpha)/V(0)] per weight",
            ),
            "families": var("surviving families", "distinct ancestors (at alpha = 0) present"),
            "R_eff": var("effective population size", "R^2 / sum of squared family sizes"),
            "beta_steps": var("annealing steps", "beta steps used to add the pattern"),
            "q": var(
                f"{what} neuron overlap", "gauge-matched, population mean (NaN: not measured)"
            ),
            "Q": var(
                f"{what} weight overlap", "gauge-matched, population mean (NaN: not measured)"
            ),
            "acceptance": var("rotation acceptance", "sweeps while adding the pattern, per layer"),
        },
    )
    ds.attrs.update(identity(cfg.to_dict()))
    ds.attrs["elapsed_s"] = time.perf_counter() - t0
    return ds


__all__ = ["AnnealConfig", "anneal", "compact_weights", "instance"]
