"""Monte Carlo of deep perceptron networks (deep-perceptron-networks.md §5), Numba kernels.

L counts weight layers (neuron layers 0..L, the boundaries clamped by the data).
"""

from deeprg.perceptron.montecarlo.analysis import (
    classify_layers,
    matched_overlaps,
    overlap_histogram,
    triangles,
    ultrametric_statistics,
    ultrametricity,
)
from deeprg.perceptron.montecarlo.run import (
    MCConfig,
    init_state,
    invariant_overlaps,
    make_graph,
    overlaps,
    relaxation_time,
    run_aging,
    run_mc,
    simulate_sample,
    summary,
)

__all__ = [
    "MCConfig",
    "classify_layers",
    "init_state",
    "invariant_overlaps",
    "make_graph",
    "matched_overlaps",
    "overlap_histogram",
    "overlaps",
    "relaxation_time",
    "run_aging",
    "run_mc",
    "simulate_sample",
    "summary",
    "triangles",
    "ultrametric_statistics",
    "ultrametricity",
]
