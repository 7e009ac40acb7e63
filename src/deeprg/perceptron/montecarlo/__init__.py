"""Monte Carlo of deep perceptron networks (docs/theory/perceptron.md §5), Numba kernels.

L counts weight layers (neuron layers 0..L, the boundaries clamped by the data). The engine is
a composition (see ``run.py``): state, move kernels, protocol, observables, one driver.
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
    "Ensemble": "state",
    "Model": "state",
    "State": "state",
    "init_state": "state",
    "make_graph": "graph",
    "Observable": "observables",
    "OBSERVABLES": "observables",
    "invariant_overlaps": "observables",
    "overlaps": "observables",
    "Protocol": "protocol",
    "Dynamics": "moves",
    "nishimori": "dataset",
    "relaxation_time": "dataset",
    "summary": "dataset",
    "simulate_sample": "sample",
    "run_aging": "run",
    "run_mc": "run",
}


def __getattr__(name: str) -> Any:
    """Lazy imports: the configuration model loads without Numba (fast CLI start-up)."""
    if name in _WHERE:
        return getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "OBSERVABLES",
    "Dynamics",
    "Ensemble",
    "MCConfig",
    "Model",
    "Observable",
    "Protocol",
    "State",
    "classify_layers",
    "init_state",
    "invariant_overlaps",
    "make_graph",
    "matched_overlaps",
    "nishimori",
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
