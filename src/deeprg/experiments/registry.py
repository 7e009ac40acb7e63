"""Registry of reproductions: ``deeprg reproduce NAME``.

Each reproduced result lives in its own module under ``deeprg.experiments`` and registers a
function with :func:`register`. The function builds its configuration for the requested size
(``"quick"``: under 10 minutes on 2 cores, used by a slow test; ``"full"``: publication-quality
statistics), runs theory and simulation and returns a :class:`ReproductionResult`.
:func:`run_reproduction` writes the dataset (atomically, with provenance) and, when a plotter
is registered under the reproduction's name (:func:`deeprg.plotting.register_plot`), draws
``NAME.png`` and ``NAME.pdf`` from the saved file, as ``deeprg plot NAME.nc`` does.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deeprg.errors import InputError

SIZES = ("quick", "full")

# Modules that register reproductions when imported (add yours here).
_REPRODUCTION_MODULES: tuple[str, ...] = (
    "bpkr_curves",
    "bpkr_nonlinear",
    "bpkr_phase",
    "bpkr_relu",
    "bpkr_representations",
    "compare",
    "perceptron_closure",
    "perceptron_mc_repro",
    "perceptron_mp_repro",
    "perceptron_repro",
    "perceptron_theory",
)


@dataclass(frozen=True)
class ReproductionResult:
    """What a reproduction returns: the labelled data, figure paths and a printed summary."""

    dataset: Any  # xarray.Dataset
    figures: list[Path] = field(default_factory=list)
    summary: str = ""
    config: dict[str, Any] = field(default_factory=dict)


RunFn = Callable[..., ReproductionResult]  # run(size: str, seed: int, out_dir: Path)


@dataclass(frozen=True)
class Reproduction:
    name: str
    description: str
    run: RunFn


_REGISTRY: dict[str, Reproduction] = {}


def register(name: str, description: str) -> Callable[[RunFn], RunFn]:
    """Decorator: register ``run(size, seed, out_dir) -> ReproductionResult`` under ``name``."""

    def deco(fn: RunFn) -> RunFn:
        _REGISTRY[name] = Reproduction(name=name, description=description, run=fn)
        return fn

    return deco


def _load() -> None:
    for mod in _REPRODUCTION_MODULES:
        importlib.import_module(f"deeprg.experiments.{mod}")


def available() -> dict[str, Reproduction]:
    """All registered reproductions, by name."""
    _load()
    return dict(sorted(_REGISTRY.items()))


def get(name: str) -> Reproduction:
    """Look up a reproduction, with a one-line error listing the valid names."""
    regs = available()
    if name not in regs:
        raise InputError(
            f"unknown reproduction {name!r}; choose one of: {', '.join(regs) or '(none)'}"
        )
    return regs[name]


def run_reproduction(
    name: str, *, size: str = "quick", seed: int = 0, out_dir: Path
) -> tuple[Path, ReproductionResult]:
    """Run a reproduction and write ``out_dir/NAME.nc``; returns the netCDF path and result."""
    from deeprg.errors import check_choice
    from deeprg.results import check_writable, write_dataset

    check_choice("size", size, SIZES)
    rep = get(name)
    out_dir = check_writable(out_dir, kind="dir", what="--out")
    check_writable(out_dir / f"{name}.nc", what="--out")
    res = rep.run(size=size, seed=seed, out_dir=out_dir)
    config = {"reproduction": name, "size": size, **res.config}
    from deeprg.experiments.figures import plot_file
    from deeprg.plotting import _PLOTTERS

    ds = res.dataset
    has_plot = name in _PLOTTERS  # figures drawn from the saved file (deeprg plot NAME.nc)
    if has_plot:
        ds = ds.copy()
        ds.attrs["plot"] = name
    path = write_dataset(ds, out_dir / f"{name}.nc", config=config, seed=seed)
    if has_plot:
        figs = [plot_file(path, out_dir / f"{name}.{ext}") for ext in ("png", "pdf")]
        res = ReproductionResult(res.dataset, figs, res.summary, res.config)
    return path, res
