"""Explicit Monte Carlo state: one replica (:class:`State`), a clone's tempering ladder
(:class:`Ensemble`) and the static energy model they are evaluated in (:class:`Model`).

Arrays (padded to Nmax = max w; see ``engine.py``): ``S[l, μ, i]`` int8 ±1 (layers 0 and L
clamped), ``J[l−1, i, j]`` weights of layer l (zero off the graph), ``h[l−1, μ, i]`` cached
local fields of layer l.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from deeprg.perceptron.montecarlo import engine as eng
from deeprg.perceptron.montecarlo.graph import Graph, dense_graph

if TYPE_CHECKING:
    from deeprg.perceptron.montecarlo.config import MCConfig


@dataclass
class State:
    """One replica: neurons S, weights J and the cached fields h."""

    S: np.ndarray
    J: np.ndarray
    h: np.ndarray

    def copy(self) -> State:
        return State(self.S.copy(), self.J.copy(), self.h.copy())


@dataclass
class Ensemble:
    """One clone: its replicas ordered by temperature (one replica without tempering). Swaps
    reorder ``states``; the observables read ``host`` (the lowest temperature, T)."""

    states: list[State]

    @property
    def host(self) -> State:
        return self.states[0]

    def copy(self) -> Ensemble:
        return Ensemble([st.copy() for st in self.states])


@dataclass(frozen=True)
class Model:
    """The energy a state is evaluated in: widths, connectivity, margin κ and scale ε."""

    w: np.ndarray
    graph: Graph
    kappa: float
    eps: float
    free_output: bool = False  # the output neurons flip too (control runs)

    @classmethod
    def from_config(cls, cfg: MCConfig, graph: Graph) -> Model:
        return cls(cfg.widths, graph, float(cfg.kappa), float(cfg.eps), cfg.free_output)

    @property
    def flip_code(self) -> int:
        """What the compiled flip sweep moves: 1 hidden layers, 2 hidden layers and outputs."""
        return 2 if self.free_output else 1

    def energy(self, st: State) -> float:
        """Total energy H of a state (from its cached fields)."""
        return float(eng.layer_energies(st.S, st.h, self.w, self.kappa, self.eps)[0].sum())

    def fields(self, S: np.ndarray, J: np.ndarray) -> np.ndarray:
        return eng.compute_fields(S, J, self.w, self.graph)


def init_state(
    cfg: MCConfig,
    S0: np.ndarray,
    SL: np.ndarray,
    rng: np.random.Generator,
    graph: Graph | None = None,
) -> State:
    """Clamped boundaries, random hidden ±1, Gaussian rows (on the graph) rescaled to
    norm² = fan-in."""
    from deeprg.data.patterns import spherical_rows

    w = cfg.widths
    g = graph or dense_graph(w)
    L, M, Nmax = cfg.L, cfg.M, int(w.max())
    S = np.zeros((L + 1, M, Nmax), dtype=np.int8)
    S[0, :, : w[0]] = S0
    S[L, :, : w[L]] = SL
    for l in range(1, L):
        S[l, :, : w[l]] = rng.choice(np.array([-1, 1], dtype=np.int8), size=(M, w[l]))
    J = np.zeros((L, Nmax, Nmax))
    for l in range(1, L + 1):
        mask = g.mask(l, w) if g.sparse else None
        J[l - 1, : w[l], : w[l - 1]] = spherical_rows(int(w[l]), int(w[l - 1]), rng, mask)
    return State(S, J, eng.compute_fields(S, J, w, g))


def network_state(weights: list[np.ndarray], S0: np.ndarray, like: State, model: Model) -> State:
    """The state of the sign network ``weights`` on the inputs ``S0``: every layer its forward
    pass (so every gap is ≥ 0), padded like ``like``; used for the teacher and planted starts."""
    from deeprg.data.patterns import forward_signs

    w = model.w
    S, J = np.zeros_like(like.S), np.zeros_like(like.J)
    for l, layer in enumerate(forward_signs(weights, S0)):
        S[l, :, : w[l]] = layer
    for l in range(1, len(w)):
        J[l - 1, : w[l], : w[l - 1]] = weights[l - 1]
    return State(S, J, model.fields(S, J))
