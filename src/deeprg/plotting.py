"""Figures without pyplot, and figures from files.

The library never touches the user's matplotlib backend or pyplot's global figure list:
:func:`subplots` builds a :class:`matplotlib.figure.Figure` directly (it renders with the Agg
canvas on ``savefig`` whatever backend the user chose) and :func:`save_figure` writes it
atomically. Matplotlib is imported lazily, inside these functions.

Figures are drawn from saved Datasets: every command output records its kind in the file's
``plot`` attribute, plotters register for a kind with :func:`register_plot`, and
:func:`deeprg.experiments.figures.plot_file` (``deeprg plot FILE.nc``) regenerates the figure
from the file alone.

One style for the package: every registered plotter runs inside
``matplotlib.rc_context(STYLE)`` (the user's global rcParams are untouched), and panels and
axes are labelled with the symbols of the theory pages via :func:`label`.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

Plotter = Callable[[Any, Path], Path]

STYLE: dict[str, Any] = {
    "font.size": 9,
    "axes.titlesize": 9,
    "axes.labelsize": 9,
    "axes.grid": True,
    "grid.alpha": 0.25,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.fontsize": 7,
    "legend.framealpha": 0.7,
    "legend.loc": "best",
    "lines.linewidth": 1.4,
    "lines.markersize": 4,
    "errorbar.capsize": 2.5,
    "savefig.dpi": 120,
    "savefig.bbox": "tight",
}

LABELS: dict[str, str] = {
    "eps_g": "generalization error ε_g",
    "bias2": "bias²",
    "variance": "predictor variance",
    "U": "kernel scale U",
    "width": "hidden width N",
    "L": "depth L",
    "alpha": "load α",
    "sigma2": "prior variance σ²",
    "T": "temperature T",
    "P": "training set size P",
    "q": "neuron overlap q(l)",
    "Q": "weight overlap Q(l)",
    "layer": "layer l",
    "wlayer": "weight layer l",
}


def label(name: str) -> str:
    """The axis/panel label of a variable or dimension (its symbol), or the name itself."""
    return LABELS.get(name, name)


_PLOTTERS: dict[str, tuple[str, Plotter]] = {}  # kind -> (module that defines it, plotter)


def subplots(nrows: int = 1, ncols: int = 1, *, figsize: Any = None, **kw: Any) -> tuple[Any, Any]:
    """Like ``pyplot.subplots`` (same ``squeeze``, ``sharex``, ``sharey``) but pyplot-free."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize)
    return fig, fig.subplots(nrows, ncols, **kw)


def colormap(name: str) -> Any:
    """A registered colormap by name (``colormap("viridis")(0.3)`` gives an RGBA colour)."""
    from matplotlib import colormaps

    return colormaps[name]


def save_figure(fig: Any, path: str | os.PathLike[str], *, dpi: int = 100) -> Path:
    """Save ``fig`` atomically; the format follows the suffix (png when there is none)."""
    from deeprg.results import atomic_path

    p = Path(path)
    with atomic_path(p) as tmp:
        fig.savefig(tmp, format=p.suffix.lstrip(".") or "png", dpi=dpi)
    return p


def register_plot(kind: str) -> Callable[[Plotter], Plotter]:
    """Decorator: ``plot(ds, path) -> path`` draws the figure of a Dataset of this ``kind``."""

    def deco(fn: Plotter) -> Plotter:
        @functools.wraps(fn)
        def styled(ds: Any, path: Path) -> Path:
            from matplotlib import rc_context

            with rc_context(STYLE):  # type: ignore[arg-type]
                return fn(ds, path)

        _PLOTTERS[kind] = (fn.__module__, styled)
        return styled

    return deco
