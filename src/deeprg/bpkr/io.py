"""Labelled results for BPKR reports (xarray), one writer for CLI and experiments."""

from __future__ import annotations

from typing import Any

import numpy as np


def report_dataset(rep: dict[str, Any]):
    """An xarray Dataset of one ``report`` dict: per-layer u on dim ``layer``, scalars as vars."""
    import xarray as xr

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
    return ds
