"""Observables of the Monte Carlo (docs/theory/perceptron.md §5.2–5.4): each declares its
name, its dims (canonical: ``time``, ``layer`` = neuron layers 0..L, ``wlayer`` = weight layers
1..L, ``pair``, ...; ``sample`` is added by the assembly) and its attributes, and how it is
measured. One loop measures them (``sample.py``) and one assembly turns the declarations into
the Dataset (``dataset.py``); adding an observable is adding a declaration here.

Stages: ``TIMED`` observables are measured at every measurement time on a :class:`Snapshot`
(the clones' hosts, the reference state at t_w, the teacher); ``INITIAL`` ones once, on the
random initial student; ``FINAL`` ones at the end, from the move statistics.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal

import numpy as np

from deeprg.perceptron.montecarlo import engine as eng
from deeprg.perceptron.montecarlo.analysis import matched_overlaps, row_cosine
from deeprg.perceptron.montecarlo.config import MCConfig
from deeprg.perceptron.montecarlo.instance import Instance
from deeprg.perceptron.montecarlo.state import State


def overlaps(a: State, b: State, w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(q(l), l = 0..L; Q(l), l = 1..L normalized by row norms; mean_i |q_i(l)|)."""
    L = a.J.shape[0]
    q = np.empty(L + 1)
    qabs = np.empty(L + 1)
    for l in range(L + 1):
        prod = a.S[l, :, : w[l]].astype(np.float64) * b.S[l, :, : w[l]]
        q[l] = prod.mean()
        qabs[l] = np.abs(prod.mean(axis=0)).mean()
    Q = np.empty(L)
    for l in range(1, L + 1):
        Q[l - 1] = row_cosine(a.J[l - 1, : w[l], : w[l - 1]], b.J[l - 1, : w[l], : w[l - 1]])
    return q, Q, qabs


def invariant_overlaps(a: State, b: State, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Gauge-invariant overlaps of §5.3: (gap overlap (1/(N M)) Σ r^a r^b per weight layer
    l = 1..L (gauge invariant; unit by unit, so not invariant under permutations of hidden
    units); cosine similarity of the off-diagonal representation kernels
    K^{μν}(l) = (1/N) Σ_i S_i^μ S_i^ν of the two replicas, per neuron layer l = 0..L)."""
    L = a.J.shape[0]
    r = np.empty(L)
    for l in range(1, L + 1):
        ra = a.S[l, :, : w[l]] * a.h[l - 1, :, : w[l]]
        rb = b.S[l, :, : w[l]] * b.h[l - 1, :, : w[l]]
        r[l - 1] = np.mean(ra * rb)
    k = np.empty(L + 1)
    for l in range(L + 1):
        Sa = a.S[l, :, : w[l]].astype(np.float64)
        Sb = b.S[l, :, : w[l]].astype(np.float64)
        Ka, Kb = Sa @ Sa.T, Sb @ Sb.T
        np.fill_diagonal(Ka, 0.0)
        np.fill_diagonal(Kb, 0.0)
        den = np.sqrt(np.sum(Ka * Ka) * np.sum(Kb * Kb))
        k[l] = np.sum(Ka * Kb) / den if den > 0 else 1.0
    return r, k


def student_eps_g(st: State, w: np.ndarray, S_test: np.ndarray, teacher_out: np.ndarray) -> float:
    """Fraction of output bits where the student's sign network disagrees with the teacher's
    outputs ``teacher_out`` on the fresh inputs ``S_test``."""
    from deeprg.data.patterns import forward_signs

    L = st.J.shape[0]
    student = [st.J[l - 1, : w[l], : w[l - 1]] for l in range(1, L + 1)]
    return float(np.mean(forward_signs(student, S_test)[-1] != teacher_out))


def clone_pairs(n: int) -> list[tuple[int, int]]:
    return [(a, b) for a in range(n) for b in range(a + 1, n)]


@dataclass
class Snapshot:
    """What the observables of one measurement read; shared quantities are computed once."""

    hosts: list[State]  # the host (lowest temperature) of every clone
    ref: State  # the host at t_w
    inst: Instance
    teacher: State | None = None

    @property
    def w(self) -> np.ndarray:
        return self.inst.model.w

    @cached_property
    def pairs(self) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        return [overlaps(self.hosts[a], self.hosts[b], self.w) for a, b in
                clone_pairs(len(self.hosts))]  # fmt: skip

    @cached_property
    def matched(self) -> tuple[np.ndarray, np.ndarray]:
        a, b = self.hosts[0], self.hosts[1]
        return matched_overlaps(a.S, a.J, b.S, b.J, self.w, self.inst.permute)

    @cached_property
    def invariant(self) -> tuple[np.ndarray, np.ndarray]:
        return invariant_overlaps(self.hosts[0], self.hosts[1], self.w)

    @cached_property
    def energies(self) -> tuple[np.ndarray, np.ndarray]:
        m, st = self.inst.model, self.hosts[0]
        return eng.layer_energies(st.S, st.h, m.w, m.kappa, m.eps)

    @cached_property
    def ts(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        assert self.teacher is not None
        return overlaps(self.hosts[0], self.teacher, self.w)

    @cached_property
    def ts_matched(self) -> tuple[np.ndarray, np.ndarray]:
        a, t = self.hosts[0], self.teacher
        assert t is not None
        return matched_overlaps(a.S, a.J, t.S, t.J, self.w, self.inst.permute)

    def eps_g(self) -> float:
        i = self.inst
        assert i.S_test is not None and i.test_out is not None
        return student_eps_g(self.hosts[0], self.w, i.S_test, i.test_out)


Stage = Literal["timed", "initial", "final"]


@dataclass(frozen=True)
class Observable:
    """One recorded variable: name, per-sample dims, attributes and its measurement."""

    name: str
    dims: tuple[str, ...]
    long_name: str
    description: str
    measure: Callable[[Any], Any]
    units: str = "1"
    stage: Stage = "timed"
    teacher: bool = False  # teacher–student runs only
    tempering: bool = False  # parallel-tempering runs only

    @property
    def attrs(self) -> dict[str, str]:
        return {"long_name": self.long_name, "units": self.units, "description": self.description}

    def shape(self, sizes: dict[str, int]) -> tuple[int, ...]:
        return tuple(sizes[d] for d in self.dims)

    def applies(self, cfg: MCConfig) -> bool:
        return (not self.teacher or cfg.scenario == "teacher") and (
            not self.tempering or cfg.pt_n > 1
        )


T, LY, WL, PR = "time", "layer", "wlayer", "pair"
_timed = [
    Observable("q", (T, LY), "replica overlap of the neurons",
               "host-guest (clone pair 0-1) overlap q(l; t)", lambda s: s.pairs[0][0]),
    Observable("qabs", (T, LY), "gauge-invariant neuron overlap",
               "mean over units of |q_i(l; t)|", lambda s: s.pairs[0][2]),
    Observable("C", (T, LY), "autocorrelation of the neurons",
               "overlap of the host at t_w + t with itself at t_w",
               lambda s: overlaps(s.hosts[0], s.ref, s.w)[0]),
    Observable("Q", (T, WL), "replica overlap of the weights",
               "host-guest Q(l; t), rows normalized by their norms", lambda s: s.pairs[0][1]),
    Observable("energy", (T, WL), "energy per weight layer",
               "sum of V(r) over the gaps of layer l", lambda s: s.energies[0]),
    Observable("violations", (T, WL), "violated gaps", "number of gaps r < kappa in layer l",
               lambda s: s.energies[1]),
    Observable("gap_overlap", (T, WL), "gap overlap",
               "(1/NM) sum r^a r^b per weight layer (gauge invariant)",
               lambda s: s.invariant[0]),
    Observable("kernel_overlap", (T, LY), "representation-kernel overlap",
               "cosine similarity of the off-diagonal kernels K^{mu nu}(l) of host and guest",
               lambda s: s.invariant[1]),
    Observable("q_matched", (T, LY), "matched neuron overlap",
               "host-guest q after gauge and permutation matching", lambda s: s.matched[0]),
    Observable("Q_matched", (T, WL), "matched weight overlap",
               "host-guest Q after gauge and permutation matching", lambda s: s.matched[1]),
    Observable("q_pairs", (T, PR, LY), "neuron overlap per clone pair",
               "q(l; t) for every pair of clones", lambda s: np.stack([p[0] for p in s.pairs])),
    Observable("Q_pairs", (T, PR, WL), "weight overlap per clone pair",
               "Q(l; t) for every pair of clones", lambda s: np.stack([p[1] for p in s.pairs])),
    Observable("q_ts", (T, LY), "student-teacher neuron overlap",
               "site-wise overlap with the teacher", lambda s: s.ts[0], teacher=True),
    Observable("Q_ts", (T, WL), "student-teacher weight overlap",
               "site-wise weight overlap with the teacher", lambda s: s.ts[1], teacher=True),
    Observable("eps_g", (T,), "generalization error",
               "fraction of output bits wrong on fresh inputs", Snapshot.eps_g, teacher=True),
    Observable("q_ts_matched", (T, LY), "matched student-teacher neuron overlap",
               "after gauge/permutation matching", lambda s: s.ts_matched[0], teacher=True),
    Observable("Q_ts_matched", (T, WL), "matched student-teacher weight overlap",
               "after gauge/permutation matching", lambda s: s.ts_matched[1], teacher=True),
]  # fmt: skip
_initial = [
    Observable("q_ts_floor", (LY,), "random-student floor of q_ts_matched",
               "teacher vs a random initial student", lambda s: s.ts_matched[0],
               stage="initial", teacher=True),
    Observable("Q_ts_floor", (WL,), "random-student floor of Q_ts_matched",
               "teacher vs a random initial student", lambda s: s.ts_matched[1],
               stage="initial", teacher=True),
]  # fmt: skip
_final = [
    Observable("acceptance", ("move",), "acceptance rate",
               "accepted / attempted moves (flip, weight)", lambda d: d.sweeps.acceptance(),
               stage="final"),
    Observable("pt_acceptance", ("pt_pair",), "tempering swap acceptance",
               "accepted / attempted neighbour swaps", lambda d: d.swaps.acceptance(),
               stage="final", tempering=True),
]  # fmt: skip
OBSERVABLES: tuple[Observable, ...] = (*_timed, *_initial, *_final)


def select(cfg: MCConfig, stage: Stage | None = None) -> list[Observable]:
    """The observables a run under ``cfg`` records (of one stage, or all)."""
    return [o for o in OBSERVABLES if o.applies(cfg) and (stage is None or o.stage == stage)]


def sizes(cfg: MCConfig, n_times: int) -> dict[str, int]:
    """Lengths of the per-sample dims."""
    return {T: n_times, LY: cfg.L + 1, WL: cfg.L, PR: len(clone_pairs(cfg.clones)),
            "move": 2, "pt_pair": max(cfg.pt_n - 1, 1)}  # fmt: skip
