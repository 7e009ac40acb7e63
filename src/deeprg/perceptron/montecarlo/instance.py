"""The disorder of one sample: connectivity, training data and, for teacher–student runs, the
teacher and a fresh test set (docs/theory/perceptron.md §2.1–2.3)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from deeprg.perceptron.montecarlo.config import MCConfig
from deeprg.perceptron.montecarlo.graph import Graph, make_graph
from deeprg.perceptron.montecarlo.state import Model


@dataclass(frozen=True)
class Instance:
    """Everything a sample draws before its dynamics starts."""

    model: Model
    S0: np.ndarray  # (M, w[0]) training inputs
    SL: np.ndarray  # (M, w[L]) training outputs
    teacher: list[np.ndarray] | None = None  # teacher weights (teacher scenario)
    S_test: np.ndarray | None = None  # fresh inputs for ε_g
    test_out: np.ndarray | None = None  # the teacher's outputs on them

    @property
    def graph(self) -> Graph:
        return self.model.graph

    @property
    def permute(self) -> bool:
        """Whether matched overlaps may permute hidden units (not on sparse graphs, where the
        wiring fixes each unit's identity)."""
        return not self.graph.sparse


def draw_instance(cfg: MCConfig, rng: np.random.Generator) -> Instance:
    """Graph, data (random ±1 I/O or the teacher's forward pass) and test set, from ``rng``."""
    from deeprg.data.patterns import forward_signs, random_patterns, teacher_data

    w = cfg.widths
    graph = make_graph(cfg, rng)
    model = Model.from_config(cfg, graph)
    if cfg.scenario != "teacher":
        S0, SL = random_patterns(cfg.M, list(w), rng)
        return Instance(model, S0, SL)
    masks = [graph.mask(l, w) for l in range(1, cfg.L + 1)] if graph.sparse else None
    S0, SL, teacher = teacher_data(cfg.M, list(w), rng, D=cfg.D, masks=masks)
    S_test = random_patterns(cfg.P_test, list(w), rng)[0]
    return Instance(model, S0, SL, teacher, S_test, forward_signs(teacher, S_test)[-1])
