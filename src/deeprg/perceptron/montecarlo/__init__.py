"""Monte Carlo of deep perceptron networks (deep-perceptron-networks.md §5), Numba kernels.

L counts weight layers (neuron layers 0..L, the boundaries clamped by the data).
"""

import importlib
from typing import Any

_WHERE = {
    "MCConfig": "config",
    "classify_layers": "analysis",
    "matched_overlaps": "analysis",
    "overlap_histogram": "analysis",
    "triangles": "analysis",
    "ultrametric_statistics": "analysis",
    "ultrametricity": "analysis",
    "init_state": "run",
    "invariant_overlaps": "run",
    "make_graph": "run",
    "overlaps": "run",
    "relaxation_time": "run",
    "run_aging": "run",
    "run_mc": "run",
    "simulate_sample": "run",
    "summary": "run",
}


def __getattr__(name: str) -> Any:
    """Lazy imports: the configuration model loads without Numba (fast CLI start-up)."""
    if name in _WHERE:
        return getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
