"""Figures without pyplot: the library never touches the user's matplotlib backend or pyplot's
global figure list.

:func:`subplots` builds a :class:`matplotlib.figure.Figure` directly (it renders with the Agg
canvas on ``savefig`` whatever backend the user chose) and :func:`save_figure` writes it
atomically. Matplotlib is imported lazily, inside these functions.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any


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
