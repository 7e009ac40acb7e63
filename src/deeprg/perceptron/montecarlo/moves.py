"""Move kernels of the Monte Carlo (docs/theory/perceptron.md §5.1), each with ``init`` (its
parameters, from the configuration) and ``step`` (run it on a state with a
``numpy.random.Generator``):

- :class:`Flip`: Metropolis neuron flips of the hidden layers;
- :class:`PCN`: preconditioned Crank–Nicolson weight moves (Gaussian-prior ensemble);
- :class:`Rotation`: plane rotations of two weights of one row (spherical ensemble);
- :class:`Sweeps`: their composition into MC steps (a flip sweep, then a weight sweep), run as
  one compiled call per stretch of steps;
- :class:`TemperingSwaps`: parallel-tempering swaps between the replicas of a clone;
- :class:`Dynamics`: the whole update of a clone (sweeps at each temperature, swaps every
  ``pt_every`` steps).

A new local move is a compiled sweep kernel in ``engine.py`` (selected by its code in
``_mc_steps``) plus a class here; a new observable does not touch this module.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from deeprg.perceptron.montecarlo import engine as eng
from deeprg.perceptron.montecarlo.config import MCConfig
from deeprg.perceptron.montecarlo.state import Ensemble, Model, State


@dataclass(frozen=True)
class Flip:
    """Neuron flips S_i → −S_i of the hidden layers (one sweep: Σ_{l=1}^{L−1} w[l]·M attempts)."""

    @classmethod
    def init(cls, cfg: MCConfig) -> Flip:
        return cls()

    def step(self, st: State, model: Model, n: int, beta: float, counts, rng) -> float:
        return eng.run_steps(st.S, st.J, st.h, model.w, model.graph, n, beta, model.kappa,
                             model.eps, model.flip_code, eng.MOVE_NONE, np.zeros(len(model.w) - 1),
                             counts, rng)  # fmt: skip


@dataclass(frozen=True)
class WeightMove:
    """A weight move with one size per weight layer (one sweep: Σ_l w[l]·fan[l−1] attempts)."""

    sizes: np.ndarray
    code: ClassVar[int] = eng.MOVE_NONE

    def step(self, st: State, model: Model, n: int, beta: float, counts, rng) -> float:
        return eng.run_steps(st.S, st.J, st.h, model.w, model.graph, n, beta, model.kappa,
                             model.eps, False, self.code, self.sizes, counts, rng)  # fmt: skip


@dataclass(frozen=True)
class PCN(WeightMove):
    """J_ij → (J_ij + r x)/√(1+r²), x ~ N(0, 1) (paper eq. 35); r rescaled by fan-in/N at the
    boundary layers (§5.1)."""

    code: ClassVar[int] = eng.MOVE_PCN

    @classmethod
    def init(cls, cfg: MCConfig) -> PCN:
        w, L = cfg.widths, cfg.L

        def r(l: int) -> float:
            if l == 1:
                return cfg.r * w[0] / cfg.N
            return cfg.r * w[l] / cfg.N if l == L else cfg.r

        return cls(np.array([r(l) for l in range(1, L + 1)], dtype=np.float64))


@dataclass(frozen=True)
class Rotation(WeightMove):
    """(J_ij, J_ik) rotated by θ ~ U(−θ_max, θ_max) in their plane (row norms preserved)."""

    code: ClassVar[int] = eng.MOVE_ROTATION

    @classmethod
    def init(cls, cfg: MCConfig) -> Rotation:
        return cls(np.full(cfg.L, cfg.theta_max, dtype=np.float64))


WEIGHT_MOVES: dict[str, type[PCN] | type[Rotation]] = {"pcn": PCN, "rotation": Rotation}


@dataclass
class Sweeps:
    """One MC step = a flip sweep then a weight sweep (§5.1), composed in one compiled loop.
    ``counts``: (flip attempts, accepted, weight attempts, accepted), over all replicas."""

    model: Model
    flip: Flip | None
    weight: WeightMove
    counts: np.ndarray = field(default_factory=lambda: np.zeros(4, dtype=np.int64))

    @classmethod
    def init(cls, cfg: MCConfig, model: Model) -> Sweeps:
        return cls(model, Flip.init(cfg), WEIGHT_MOVES[cfg.move].init(cfg))

    def step(self, st: State, n: int, beta: float, rng: np.random.Generator) -> float:
        m = self.model
        flip = m.flip_code if self.flip is not None else 0
        return eng.run_steps(st.S, st.J, st.h, m.w, m.graph, n, beta, m.kappa, m.eps, flip,
                             self.weight.code, self.weight.sizes, self.counts, rng)  # fmt: skip

    def acceptance(self) -> np.ndarray:
        c = self.counts
        return np.array([c[1] / max(c[0], 1), c[3] / max(c[2], 1)])


@dataclass
class TemperingSwaps:
    """Neighbour swaps of a clone's replicas (alternating even/odd pairs) with probability
    min(1, exp[(β_i − β_j)(E_i − E_j)]). ``counts``: attempts and accepted swaps per
    neighbour pair; ``counts[2, 0]`` counts the swap rounds (their parity)."""

    model: Model
    counts: np.ndarray

    @classmethod
    def init(cls, cfg: MCConfig, model: Model) -> TemperingSwaps:
        return cls(model, np.zeros((3, max(cfg.pt_n - 1, 1)), dtype=np.int64))

    def step(self, ens: Ensemble, betas: np.ndarray, rng: np.random.Generator) -> None:
        states = ens.states
        E = [self.model.energy(st) for st in states]
        start = int(self.counts[2, 0]) % 2
        self.counts[2, 0] += 1
        for i in range(start, len(states) - 1, 2):
            self.counts[0, i] += 1
            x = (betas[i] - betas[i + 1]) * (E[i] - E[i + 1])
            if x >= 0 or rng.random() < np.exp(x):
                self.counts[1, i] += 1
                states[i], states[i + 1] = states[i + 1], states[i]
                E[i], E[i + 1] = E[i + 1], E[i]

    def acceptance(self) -> np.ndarray:
        return self.counts[1] / np.maximum(self.counts[0], 1)


@dataclass
class Dynamics:
    """The update of one clone: ``n`` MC steps of every replica at its β; with several
    replicas, a round of tempering swaps after every ``every`` steps."""

    sweeps: Sweeps
    swaps: TemperingSwaps
    every: int

    @classmethod
    def init(cls, cfg: MCConfig, model: Model) -> Dynamics:
        return cls(Sweeps.init(cfg, model), TemperingSwaps.init(cfg, model), cfg.pt_every)

    def step(self, ens: Ensemble, n: int, betas: np.ndarray, rng: np.random.Generator) -> None:
        if len(ens.states) == 1:
            self.sweeps.step(ens.host, n, float(betas[0]), rng)
            return
        done = 0
        while done < n:
            m = min(self.every, n - done)
            for st, b in zip(ens.states, betas, strict=True):
                self.sweeps.step(st, m, float(b), rng)
            done += m
            self.swaps.step(ens, betas, rng)
