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
from deeprg.perceptron.mp.config import MPConfig


@dataclass(frozen=True)
class Result:
    """Overlaps at the last iterate (§6.6) and the convergence report.

    Teacher scenario: ``Q`` (per weight layer) = mean_i |a_i·J*_i|/c, ``q`` (per neuron layer)
    = mean_i |m_i·S*_i|/M, and the self-overlaps ``Q_self`` = mean_i |a_i|²/c, ``q_self`` =
    mean m² that the Bayes-optimal (Nishimori) identities equate with them; ``nishimori_gap``
    = the largest |Q − Q_self| or |q − q_self| over the layers. Random I/O: Q, q are the
    self-overlaps (no teacher) and the gap is NaN. ``drift``, ``stalled``: see
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


def iterate(inst: Instance, st: State, cfg: MPConfig) -> tuple[State, int, float, float, bool]:
    """Damped iteration until the RMS change of the means falls below ``tol`` (§6.4); returns
    the last state, the iterations done, the last residual (NaN: the iteration blew up), the
    drift: the largest change of any overlap over the last :data:`DRIFT_WINDOW` iterations
    (small drift with a large residual: a few units oscillate, the overlaps do not), and
    whether the run stalled: stopped early because the smallest residual of the last
    ``cfg.stall`` iterations was above 0.9 times that of the ``cfg.stall`` before them (off by
    default: a run that converges in the end may first rise, as random I/O does from a random
    start; a teacher run that does not converge sits on a plateau, BENCHMARKS.md)."""
    res = np.inf
    hist: list[np.ndarray] = []
    resid: list[float] = []
    stalled = False
    W = cfg.stall
    d = cfg.damping_factor
    step: Callable[[Instance, State, float], tuple[State, Info]] = bp.step
    if cfg.neurons == "cavity":
        step = partial(cavity.step, schedule=cfg.schedule)
    while len(hist) == 0 or len(hist) < cfg.max_iter:
        st, info = step(inst, st, d)
        res = info.residual
        hist.append(np.concatenate(overlaps(inst, st)[:2]))
        resid.append(res)
        if not np.isfinite(res) or res < cfg.tol:
            break
        if W and len(resid) >= 2 * W and min(resid[-W:]) > 0.9 * min(resid[-2 * W : -W]):
            stalled = True
            break
    window = hist[-DRIFT_WINDOW - 1 :]
    drift = float(np.abs(window[-1] - window[0]).max()) if len(window) > 1 else np.nan
    return st, len(hist), res, drift, stalled


def solve(cfg: MPConfig) -> Result:
    """One instance to its fixed point: overlaps and the convergence report."""
    t0 = time.perf_counter()
    inst, st = build(cfg)
    st, its, res, drift, stalled = iterate(inst, st, cfg)
    Q, q, Qs, qs = overlaps(inst, st)
    gap = np.nan
    if cfg.scenario == "teacher":
        gap = float(max(np.abs(Q - Qs).max(), np.abs(q - qs).max()))
    ok = bool(np.isfinite(res) and res < cfg.tol)
    elapsed = time.perf_counter() - t0
    return Result(Q, q, Qs, qs, gap, ok, its, float(res), drift, elapsed, stalled)
