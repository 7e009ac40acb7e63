"""Labelled results for BPKR reports (xarray), one writer for CLI and experiments."""

from __future__ import annotations

from typing import Any

import numpy as np


def report_dataset(rep: dict[str, Any]):
    """An xarray Dataset of one ``report`` dict: per-layer u on dim ``layer``, scalars as vars."""
    import xarray as xr

    if "D" in rep:
        return _multi_dataset(rep)
    L = len(rep["u"])
    ds = xr.Dataset(
        {
            "u": ("layer", np.asarray(rep["u"], float)),
            "width": ("layer", np.asarray(rep["widths"], float)),
            "sigma2_next": ("layer", np.asarray(rep["sigma2"][1:], float)),
        },
        coords={"layer": np.arange(1, L + 1)},
    )
    for key in ("U", "G", "eps_g", "bias2", "variance", "train_error", "log_evidence", "T"):
        if rep.get(key) is not None:
            ds[key] = float(rep[key])
    ds["converged"] = bool(rep["converged"])
    ds["status"] = str(rep.get("status", "converged" if rep["converged"] else "not_converged"))
    if rep.get("residual") is not None:
        ds["residual"] = float(rep["residual"])
    ds.attrs["mode"] = rep["mode"]
    return _annotate_single(ds)


def _annotate_single(ds: Any) -> Any:
    """Attributes of a single-output report's variables (docs/theory/bpkr.md §2–4)."""
    from deeprg.schema import annotate, var

    table = {
        "u": var("layer order parameter", "u_l: renormalization of the layer-l kernel"),
        "width": var("hidden width", "N_l"),
        "sigma2_next": var("prior variance of the next weights", "sigma_{l+1}^2"),
        "U": var("kernel scale", "U = prod_l u_l: the output kernel is U K_0 (bpkr.md §2.3)"),
        "G": var("saddle-point source", "G(U) in u_l = sigma^2 (1 + G(U) / N_l)"),
        "eps_g": var("generalization error", "bias2 + variance on the test inputs"),
        "bias2": var("squared bias", "mean over test inputs of (mean predictor - y)^2"),
        "variance": var("predictor variance", "mean over test inputs"),
        "train_error": var("training error", "per training example"),
        "log_evidence": var("log evidence", "log marginal likelihood (per the mode)", "nats"),
        "T": var("temperature", "likelihood noise variance T"),
        "converged": var("converged", "the solver reached its tolerance"),
        "status": var("solver status", "converged | not_converged"),
        "residual": var("residual", "the solver's final residual"),
        "layer": var("hidden layer", "l = 1..L"),
    }
    return annotate(ds, table)


def _multi_dataset(rep: dict[str, Any]):
    """Dataset of a multi-output report: Q on (layer, output, output_2), per-output errors."""
    import xarray as xr

    from deeprg.schema import annotate, var

    Q = np.asarray(rep["Q"], float)
    L, D = Q.shape[0], Q.shape[1]
    ds = xr.Dataset(
        {
            "Q": (("layer", "output", "output_2"), Q),
            "M": (("output", "output_2"), np.asarray(rep["M"], float)),
            "width": ("layer", np.asarray(rep["widths"], float)),
        },
        coords={"layer": np.arange(1, L + 1), "output": np.arange(D), "output_2": np.arange(D)},
    )
    for key in ("eps_g", "bias2", "variance", "accuracy", "train_error", "log_evidence", "T"):
        if rep.get(key) is not None:
            ds[key] = float(rep[key])
    for key in ("eps_g_per_output", "bias2_per_output", "variance_per_output"):
        if rep.get(key) is not None:
            ds[key] = ("output", np.asarray(rep[key], float))
    ds["converged"] = bool(rep["converged"])
    ds["residual"] = float(rep["residual"])
    ds.attrs["mode"] = rep["mode"]
    table = {
        "Q": var("layer order parameter", "Q_l = U_l / sigma_{l+1}^2, a D x D matrix per layer"),
        "M": var("renormalized output covariance", "vec f ~ N(0, M (x) K_0) at the saddle"),
        "width": var("hidden width", "N_l"),
        "eps_g": var("generalization error", "bias2 + variance averaged over outputs"),
        "bias2": var("squared bias", "averaged over test inputs and outputs"),
        "variance": var("predictor variance", "averaged over test inputs and outputs"),
        "accuracy": var("test accuracy", "fraction with argmax of the mean = argmax of y"),
        "train_error": var("training error", "per training example and output"),
        "log_evidence": var("log evidence", "saddle-point log marginal likelihood", "nats"),
        "T": var("temperature", "likelihood noise variance T"),
        "eps_g_per_output": var("generalization error per output", "bias2 + variance"),
        "bias2_per_output": var("squared bias per output", "mean over test inputs"),
        "variance_per_output": var("variance per output", "mean over test inputs"),
        "converged": var("converged", "saddle solver reached its gradient tolerance"),
        "residual": var("residual", "max |gradient| of the action in log M per unit width"),
        "layer": var("hidden layer", "l = 1..L"),
        "output": var("output", "network output index"),
        "output_2": var("output", "network output index (second matrix axis)"),
    }
    return annotate(ds, table)
