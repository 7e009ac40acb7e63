"""The clone protocol of one sample (docs/theory/perceptron.md §5.1) and its random streams.

Start (random hidden neurons and spherical rows, or planted at the teacher), wait t_w MC steps
(optionally annealing the temperature from ``T_anneal`` to T, one step per temperature),
clone the host ``clones − 1`` times, then evolve every clone independently and measure at
geometric times t = 1..steps.

Random streams (:func:`streams`): every sample seed spawns, with ``numpy.random.SeedSequence``,
one Generator for the set-up (graph, data, test set, initial states), one for the waiting time
and one per clone, so the host's history up to t_w does not depend on t_w (aging families
share it), and the state of a run is exactly its states plus the clones' Generator states
(checkpoints store those; nothing is reseeded).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from deeprg.perceptron.montecarlo.config import MCConfig
from deeprg.perceptron.montecarlo.state import Ensemble

SETUP, WAIT, CLONE = 0, 1, 2  # spawn keys of the streams of a sample


def stream(seed: int, *key: int) -> np.random.Generator:
    """The Generator of one stream of a sample: ``SeedSequence(seed, spawn_key=key)``."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=key)))


@dataclass(frozen=True)
class Streams:
    """The Generators of one sample: set-up, waiting time, and one per clone."""

    setup: np.random.Generator
    wait: np.random.Generator
    clones: list[np.random.Generator]


def streams(seed: int, clones: int) -> Streams:
    return Streams(
        stream(seed, SETUP), stream(seed, WAIT), [stream(seed, CLONE, a) for a in range(clones)]
    )


@dataclass(frozen=True)
class Protocol:
    """Temperatures, waiting-time schedule, number of clones and measurement times."""

    betas: np.ndarray  # the tempering ladder's β (just [β] without tempering)
    t_w: int
    T: float
    T_anneal: float | None
    clones: int
    times: np.ndarray  # measurement times after cloning (MC steps), increasing
    start: str  # "random" or "planted"

    @classmethod
    def from_config(cls, cfg: MCConfig) -> Protocol:
        betas = np.array([np.inf if t == 0 else 1.0 / t for t in cfg.temperatures])
        times = np.unique(np.round(np.geomspace(1, cfg.steps, cfg.n_times)).astype(int))
        return cls(betas, cfg.t_w, cfg.T, cfg.T_anneal, cfg.clones, times, cfg.start)

    def waiting(self) -> list[tuple[int, np.ndarray]]:
        """The waiting time as (MC steps, β of the ladder) segments: t_w steps at the run's
        temperatures, or with annealing one step per temperature of the geometric schedule
        T_anneal → T (the last at the run's temperature)."""
        if self.T_anneal is None or self.t_w == 0:
            return [(self.t_w, self.betas)] if self.t_w > 0 else []
        T_end = self.T if self.T > 0 else min(self.T_anneal, 1e-3)
        ramp = np.geomspace(self.T_anneal, T_end, self.t_w)[:-1]
        return [(1, np.array([1.0 / T_k])) for T_k in ramp] + [(1, self.betas)]

    def clone(self, host: Ensemble) -> list[Ensemble]:
        """The host and ``clones − 1`` copies of it."""
        return [host] + [host.copy() for _ in range(self.clones - 1)]
