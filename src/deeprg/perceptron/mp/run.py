"""Driver of the message passing (docs/theory/perceptron.md §6): draw the instance, iterate
:func:`~deeprg.perceptron.mp.cavity.step` (or the GAMP form
:func:`~deeprg.perceptron.mp.bp.step`) to a fixed point, measure the gauge-invariant overlaps."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np

from deeprg.perceptron.mp import bp, cavity
from deeprg.perceptron.mp.bp import Info, Instance, State, init_state, make_instance
from deeprg.perceptron.mp.config import ADAPTIVE_DAMPING, MPConfig


@dataclass(frozen=True)
class Result:
    """Overlaps at the last iterate (§6.6) and the convergence report.

    Teacher scenario: ``Q`` (per weight layer) = mean_i |a_i·J*_i|/c, ``q`` (per neuron layer)
    = mean_i |m_i·S*_i|/M, and the self-overlaps ``Q_self`` = mean_i |a_i|²/c, ``q_self`` =
    mean m² that the Bayes-optimal (Nishimori) identities equate with them; ``nishimori_gap``
    = the largest |Q − Q_self| or |q − q_self| over the layers. Random I/O: Q, q are the
    self-overlaps (no teacher) and the gap is NaN. ``drift``, ``stalled``, ``damping``: see
    :func:`iterate`."""

    Q: np.ndarray
    q: np.ndarray
    Q_self: np.ndarray
    q_self: np.ndarray
    nishimori_gap: float
    converged: bool
    iterations: int
    residual: float
    drift: float
    elapsed_s: float
    stalled: bool = False
    damping: float = np.nan  # of the last iteration


def overlaps(inst: Instance, st: State) -> tuple[np.ndarray, ...]:
    """(Q, q, Q_self, q_self) of a state (§6.6); Q = Q_self and q = q_self without teacher."""
    c = inst.c
    Q_self = np.array([np.mean((a * a).sum(axis=1)) / c for a in st.a])
    q_self = np.array([np.mean(m * m) for m in st.m])
    if inst.teacher is None or inst.teacher_S is None:
        return Q_self, q_self, Q_self, q_self
    pairs_J = zip(st.a, inst.teacher, strict=True)
    pairs_S = zip(st.m, inst.teacher_S, strict=True)
    Q = np.array([np.mean(np.abs((a * J).sum(axis=1))) / c for a, J in pairs_J])
    q = np.array([np.mean(np.abs((m * S).mean(axis=1))) for m, S in pairs_S])
    return Q, q, Q_self, q_self


def build(cfg: MPConfig) -> tuple[Instance, State]:
    """The instance and the start, from two streams of ``SeedSequence(cfg.seed)``."""
    inst_seq, start_seq = np.random.SeedSequence(cfg.seed).spawn(2)
    widths = (cfg.N_in or cfg.N,) + (cfg.N,) * cfg.L
    inst = make_instance(
        widths, cfg.c, cfg.M, cfg.scenario, cfg.kappa, np.random.default_rng(inst_seq), cfg.h_b
    )
    st = init_state(inst, cfg.start, cfg.bias, np.random.default_rng(start_seq))
    return inst, cavity.init(inst, st) if cfg.neurons == "cavity" else st


DRIFT_WINDOW = 20  # iterations over which the overlap drift is measured


ADAPT_WINDOW = 50  # iterations per window of the damping rule


def _no_progress(resid: list[float], w: int) -> bool:
    """The smallest residual of the last ``w`` iterations is above 0.9 times that of the ``w``
    before them (a plateau)."""
    return min(resid[-w:]) > 0.9 * min(resid[-2 * w : -w])


def iterate(
    inst: Instance, st: State, cfg: MPConfig
) -> tuple[State, int, float, float, bool, float]:
    """Damped iteration until the RMS change of the means falls below ``tol`` (§6.4); returns
    the last state, the iterations done, the last residual (NaN: the iteration blew up), the
    drift: the largest change of any overlap over the last :data:`DRIFT_WINDOW` iterations
    (small drift with a large residual: a few units oscillate, the overlaps do not), whether
    the run stalled, and the damping of the last iteration.

    The default cavity iteration (forward schedule, ``damping`` unset) starts at damping 0.5
    and raises it along :data:`ADAPTIVE_DAMPING` whenever the residual makes no progress over
    :data:`ADAPT_WINDOW` iterations (:func:`_no_progress`): at c ≥ 32 it converges at 0.5,
    at c = 16 some instances oscillate there and converge at 0.7. ``cfg.stall = W`` (off by
    default) stops the run, reported as stalled, once the damping is at its last level and
    the residual has made no progress over W iterations (a run may rise before it converges,
    as random I/O does from a random start)."""
    res = np.inf
    hist: list[np.ndarray] = []
    resid: list[float] = []
    stalled = False
    levels = ADAPTIVE_DAMPING if cfg.adaptive_damping else (cfg.damping_factor,)
    level, since = 0, 0  # damping level and iterations at it
    step: Callable[[Instance, State, float], tuple[State, Info]] = bp.step
    if cfg.neurons == "cavity":
        step = partial(cavity.step, schedule=cfg.schedule)
    while len(hist) == 0 or len(hist) < cfg.max_iter:
        st, info = step(inst, st, levels[level])
        res = info.residual
        hist.append(np.concatenate(overlaps(inst, st)[:2]))
        resid.append(res)
        since += 1
        if not np.isfinite(res) or res < cfg.tol:
            break
        if level + 1 < len(levels):
            if since >= 2 * ADAPT_WINDOW and _no_progress(resid, ADAPT_WINDOW):
                level, since = level + 1, 0
        elif cfg.stall and since >= 2 * cfg.stall and _no_progress(resid, cfg.stall):
            stalled = True
            break
    window = hist[-DRIFT_WINDOW - 1 :]
    drift = float(np.abs(window[-1] - window[0]).max()) if len(window) > 1 else np.nan
    return st, len(hist), res, drift, stalled, levels[level]


def solve(cfg: MPConfig) -> Result:
    """One instance to its fixed point: overlaps and the convergence report."""
    t0 = time.perf_counter()
    inst, st = build(cfg)
    st, its, res, drift, stalled, damping = iterate(inst, st, cfg)
    Q, q, Qs, qs = overlaps(inst, st)
    gap = np.nan
    if cfg.scenario == "teacher":
        gap = float(max(np.abs(Q - Qs).max(), np.abs(q - qs).max()))
    ok = bool(np.isfinite(res) and res < cfg.tol)
    elapsed = time.perf_counter() - t0
    return Result(Q, q, Qs, qs, gap, ok, its, float(res), drift, elapsed, stalled, damping)
