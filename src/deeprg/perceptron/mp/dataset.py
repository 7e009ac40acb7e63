"""The xarray Dataset of one message-passing fixed point (docs/theory/perceptron.md §6), in the
package's schema: ``wlayer`` (weight layers 1..L) and ``layer`` (neuron layers 0..L)."""

from __future__ import annotations

from typing import Any

import numpy as np

from deeprg.perceptron.mp.config import MPConfig
from deeprg.perceptron.mp.run import Result
from deeprg.schema import COORDS, annotate, var

VARS: dict[str, dict[str, str]] = {
    "Q": var(
        "weight overlap Q(l)",
        "teacher: mean_i |m_i.J*_i|/c (gauge invariant); random I/O: mean_i |m_i|^2/c",
    ),
    "q": var(
        "neuron overlap q(l)",
        "teacher: mean_i |<S_i>.S*_i|/M (gauge invariant); random I/O: mean <S>^2",
    ),
    "Q_self": var("weight self-overlap", "mean_i |m_i|^2/c of the posterior means m_i"),
    "q_self": var("neuron self-overlap", "mean over units and patterns of <S>^2"),
    "converged": var("converged", "1 if the RMS change of the means fell below tol"),
    "iterations": var("iterations", "message-passing iterations done", "iterations"),
    "damping": var("damping", "weight of the old value in the last iteration's update"),
    "stalled": var(
        "stalled",
        "1 if stopped early: the residual did not fall by 10 % from one `stall` window to the next",
    ),
    "residual": var("residual", "RMS change of the means at the last iteration"),
    "drift": var("overlap drift", "largest change of any overlap Q, q over the last 20 iterations"),
    "nishimori_gap": var(
        "Nishimori gap",
        "largest |Q - Q_self| or |q - q_self| over layers (0 at the Bayes-optimal fixed point; "
        "NaN for random I/O)",
    ),
}


def to_dataset(res: Result, cfg: MPConfig) -> Any:
    """The Dataset of one run; the run time goes to attrs ``elapsed_s``."""
    import xarray as xr

    L = cfg.L
    ds = xr.Dataset(
        {
            "Q": ("wlayer", res.Q),
            "Q_self": ("wlayer", res.Q_self),
            "q": ("layer", res.q),
            "q_self": ("layer", res.q_self),
            "converged": ((), np.int8(res.converged)),
            "iterations": ((), np.int64(res.iterations)),
            "stalled": ((), np.int8(res.stalled)),
            "damping": ((), res.damping),
            "residual": ((), res.residual),
            "drift": ((), res.drift),
            "nishimori_gap": ((), res.nishimori_gap),
        },
        coords={"wlayer": np.arange(1, L + 1), "layer": np.arange(L + 1)},
        attrs={"elapsed_s": res.elapsed_s},
    )
    return annotate(annotate(ds, VARS), COORDS)


def summary(res: Result) -> dict[str, Any]:
    """The ``deeprg mp --json`` object (and the sweep point's result)."""
    return {
        "Q": res.Q.tolist(),
        "q": res.q.tolist(),
        "Q_self": res.Q_self.tolist(),
        "q_self": res.q_self.tolist(),
        "nishimori_gap": res.nishimori_gap,
        "converged": res.converged,
        "iterations": res.iterations,
        "stalled": res.stalled,
        "damping": res.damping,
        "residual": res.residual,
        "drift": res.drift,
        "elapsed_s": res.elapsed_s,
    }


def run_mp(cfg: MPConfig) -> Any:
    """``run(config) -> Dataset`` of the package: solve one instance and label the result."""
    from deeprg.perceptron.mp.run import solve

    return to_dataset(solve(cfg), cfg)
