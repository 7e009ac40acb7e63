"""The result schema: canonical dimensions and variable attributes shared by theory and
simulation.

Canonical dims (every Dataset the package writes uses these names with these meanings):

=========  ====================================================================================
``layer``  perceptron networks: neuron layers l = 0..L (0 = input, L = output, both clamped);
           BPKR: hidden layers l = 1..L of the network (layer kernels add l = 0, the input)
``wlayer`` perceptron networks: weight layers l = 1..L (J_l maps layer l−1 to layer l);
           sampled networks: weight matrices l = 1..L+1 (L+1 = the readout)
``alpha``  load: α = P/N (BPKR) or α = M/c (perceptron networks)
``time``   Monte Carlo steps after cloning (measurement times)
``sample`` independent disorder samples (data, graph, initial condition)
``chain``, ``draw``  Markov chains and kept draws (ArviZ)
``pair``   clone pairs "a-b" (Monte Carlo)
=========  ====================================================================================

Every data variable carries ``long_name``, ``units`` (``"1"`` when dimensionless) and
``description``; every file carries ``deeprg_version``, ``config`` (JSON), ``config_hash`` and
``created`` (:func:`deeprg.results.provenance`). :func:`annotate` applies a table of variable
attributes; :func:`missing_attrs` lists what a Dataset lacks (used by the tests).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

REQUIRED_ATTRS = ("long_name", "units", "description")


def var(long_name: str, description: str, units: str = "1") -> dict[str, str]:
    """Attributes of one variable."""
    return {"long_name": long_name, "units": units, "description": description}


def annotate(ds: Any, table: Mapping[str, Mapping[str, str]]) -> Any:
    """Set the attributes of every variable (data and coordinates) found in ``table``."""
    for name, attrs in table.items():
        if name in ds.variables:
            ds[name].attrs.update(attrs)
    return ds


def missing_attrs(ds: Any) -> list[str]:
    """Data variables lacking one of :data:`REQUIRED_ATTRS`."""
    return [v for v in ds.data_vars if any(a not in ds[v].attrs for a in REQUIRED_ATTRS)]


COORDS: dict[str, dict[str, str]] = {
    "layer": var("neuron layer", "l = 0..L: 0 the input, L the output (both clamped)"),
    "wlayer": var("weight layer", "l = 1..L: the couplings from layer l-1 to layer l"),
    "time": var("Monte Carlo time", "MC steps after cloning", "MC steps"),
    "sample": var("sample", "independent sample (data, graph, initial state)"),
    "alpha": var("load alpha", "M/c for perceptron networks, P/N for BPKR"),
}
