"""Layered replica theory of deep perceptron networks (deep-perceptron-networks.md §3).

RS saddle points for random inputs/outputs and teacher–student (Nishimori), closures A
(reflection-symmetric triple product, default) and B (cavity-consistent, random I/O),
continuation in α, the front-criterion transition finder, and k-RSB building blocks.
L counts weight layers; neuron layers are 0..L with both boundaries clamped.
"""

from deeprg.perceptron.replica.rs import (
    CLOSURES,
    SCENARIOS,
    RSSolution,
    path_dataset,
    solve_path,
    solve_rs,
)
from deeprg.perceptron.replica.transitions import Thresholds, front_thresholds, solid_thickness

__all__ = [
    "CLOSURES",
    "SCENARIOS",
    "RSSolution",
    "Thresholds",
    "front_thresholds",
    "path_dataset",
    "solid_thickness",
    "solve_path",
    "solve_rs",
]
