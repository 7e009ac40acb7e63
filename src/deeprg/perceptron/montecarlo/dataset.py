"""The xarray Dataset of a Monte Carlo run, assembled from the observables' declarations, and
what is derived from it: relaxation times τ(l), the Nishimori diagnostics of teacher–student
runs and the ``deeprg mc --json`` summary.

Nishimori diagnostics (teacher–student): in equilibrium the student is a posterior sample,
and so is the teacher (the Nishimori property), so the overlap of two clones equals the overlap
of a clone with the teacher. Per neuron layer (q) and weight layer (Q), at the final time, both
are averaged over samples with their standard errors; a layer is ``consistent`` when the
sample-mean difference (clone–clone minus student–teacher, paired by sample) is within 3 of its
standard errors. Both sides use the gauge- and permutation-matched overlaps (``q_matched`` and
``q_ts_matched``; sign matching only on sparse graphs), so hidden-layer symmetries do not
count as disagreement.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from deeprg.perceptron.montecarlo import observables as obs
from deeprg.perceptron.montecarlo.analysis import classify_layers, ultrametricity
from deeprg.perceptron.montecarlo.config import MCConfig

TAU = {
    "long_name": "relaxation time",
    "units": "MC steps",
    "description": "first time the sample-mean q(l; t) crosses 1/e (NaN: not reached)",
}
TEMPERATURE = {
    "long_name": "tempering temperatures",
    "units": "1",
    "description": "the geometric ladder from T to pt_T_max",
}
NISHIMORI_Z = 3.0  # agreement within this many standard errors


def _nishimori_attrs() -> dict[str, dict[str, str]]:
    out = {}
    for v, dim in (("q", "neuron"), ("Q", "weight")):
        for side, what in (("clone", "clone-clone (pair 0-1)"), ("ts", "student-teacher")):
            out[f"nishimori_{v}_{side}"] = {
                "long_name": f"{what} matched {dim} overlap",
                "units": "1",
                "description": f"sample mean of {v}_{'matched' if side == 'clone' else 'ts_matched'}"
                " at the final time",
            }
            out[f"nishimori_{v}_{side}_se"] = {
                "long_name": f"standard error of nishimori_{v}_{side}",
                "units": "1",
                "description": "standard deviation over samples / sqrt(samples)",
            }
        out[f"nishimori_{v}_consistent"] = {
            "long_name": f"Nishimori identity holds ({dim} layers)",
            "units": "1",
            "description": "clone-clone and student-teacher overlaps agree within "
            f"{NISHIMORI_Z:g} standard errors of their paired difference",
        }
    return out


def variables() -> dict[str, dict[str, str]]:
    """Attributes of every variable a Monte Carlo Dataset may hold."""
    table = {o.name: o.attrs for o in obs.OBSERVABLES}
    return table | {"tau": TAU, "temperature": TEMPERATURE} | _nishimori_attrs()


def relaxation_time(t: np.ndarray, c: np.ndarray, level: float = np.exp(-1)) -> float | None:
    """First crossing of ``level`` by c(t), interpolated linearly in log t; None if not reached."""
    below = np.flatnonzero(c < level)
    if below.size == 0:
        return None
    k = below[0]
    if k == 0:
        return float(t[0])
    lt0, lt1 = np.log(t[k - 1]), np.log(t[k])
    frac = (c[k - 1] - level) / (c[k - 1] - c[k])
    return float(np.exp(lt0 + frac * (lt1 - lt0)))


def assemble(cfg: MCConfig, results: list[dict[str, np.ndarray]]):
    """The Dataset of a run from its per-sample results (sample order), with canonical dims,
    attributes, provenance, τ(l) and (teacher–student) the Nishimori diagnostics."""
    import xarray as xr

    from deeprg.identity import identity
    from deeprg.schema import COORDS, annotate

    data = {
        o.name: (("sample", *o.dims), np.stack([r[o.name] for r in results]))
        for o in obs.select(cfg)
    }
    ds = xr.Dataset(
        data,
        coords={
            "sample": np.arange(len(results)),
            "pair": [f"{a}-{b}" for a, b in obs.clone_pairs(cfg.clones)],
            "time": results[0]["times"],
            "layer": np.arange(cfg.L + 1),
            "wlayer": np.arange(1, cfg.L + 1),
            "move": ["flip", "weight"],
        },
    )
    qm = ds["q"].mean("sample").values
    tau = [relaxation_time(ds["time"].values, qm[:, l]) for l in range(cfg.L + 1)]
    ds["tau"] = ("layer", np.array([np.nan if v is None else v for v in tau]))
    if cfg.pt_n > 1:
        ds["temperature"] = ("pt_level", cfg.temperatures)
    if cfg.scenario == "teacher":
        add_nishimori(ds)
    annotate(ds, COORDS | variables())
    ds.attrs.update(identity(cfg.to_dict()))
    ds.attrs["plot"] = "mc"  # deeprg plot FILE.nc
    return ds


def _mean_se(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n = x.shape[0]
    return x.mean(0), x.std(0, ddof=1) / np.sqrt(n)


def add_nishimori(ds, time: int = -1) -> None:
    """Add the Nishimori diagnostics (module docstring) to a teacher–student Dataset: variables
    ``nishimori_{q,Q}_{clone,ts}[_se]``, ``nishimori_{q,Q}_consistent`` and the attribute
    ``nishimori`` ("consistent", "inconsistent: ..." naming the failing layers, or
    "undetermined" with fewer than 2 samples)."""
    last = ds.isel(time=time)
    if ds.sizes["sample"] < 2:
        ds.attrs["nishimori"] = "undetermined (fewer than 2 samples)"
        return
    failed = []
    for v, dim in (("q", "layer"), ("Q", "wlayer")):
        clone, ts = last[f"{v}_matched"].values, last[f"{v}_ts_matched"].values
        for side, x in (("clone", clone), ("ts", ts)):
            m, se = _mean_se(x)
            ds[f"nishimori_{v}_{side}"] = (dim, m)
            ds[f"nishimori_{v}_{side}_se"] = (dim, se)
        d, d_se = _mean_se(clone - ts)
        ok = np.abs(d) <= NISHIMORI_Z * d_se
        ds[f"nishimori_{v}_consistent"] = (dim, ok)
        failed += [f"{v}({dim} {int(l)})" for l, good in zip(ds[dim].values, ok, strict=True)
                   if not good]  # fmt: skip
    ds.attrs["nishimori"] = "consistent" if not failed else "inconsistent: " + ", ".join(failed)


def nishimori(ds) -> dict[str, Any] | None:
    """The ``nishimori`` object of ``--json`` (None for random I/O runs)."""
    if "q_ts_matched" not in ds:
        return None
    out: dict[str, Any] = {"status": str(ds.attrs.get("nishimori", "undetermined"))}
    if "nishimori_q_clone" not in ds:
        return out | {"consistent": None}
    for v in ("q", "Q"):
        for side in ("clone", "ts"):
            out[f"{v}_{side}"] = ds[f"nishimori_{v}_{side}"].values.tolist()
            out[f"{v}_{side}_se"] = ds[f"nishimori_{v}_{side}_se"].values.tolist()
    out["consistent"] = {v: [bool(x) for x in ds[f"nishimori_{v}_consistent"].values]
                         for v in ("q", "Q")}  # fmt: skip
    return out


def nishimori_failed(ds) -> bool:
    """Whether a teacher–student run's Nishimori diagnostics fail."""
    return str(ds.attrs.get("nishimori", "")).startswith("inconsistent")


def summary(ds) -> dict[str, Any]:
    """The ``deeprg mc --json`` object: final energies, overlaps, relaxation times; for
    teacher–student runs ε_g, the student–teacher overlaps and ``nishimori``."""
    last = ds.isel(time=-1)
    out = {
        "energy_final": float(last["energy"].sum("wlayer").mean("sample")),
        "violations_final": float(last["violations"].sum("wlayer").mean("sample")),
        "energy_per_layer": last["energy"].mean("sample").values.tolist(),
        "q": last["q"].mean("sample").values.tolist(),
        "Q": last["Q"].mean("sample").values.tolist(),
        "tau": [None if np.isnan(v) else float(v) for v in ds["tau"].values],
        "phase": classify_layers(last["q"].mean("sample").values),
        "acceptance": ds["acceptance"].mean("sample").values.tolist(),
    }
    if "eps_g" in ds:
        out["eps_g_final"] = float(last["eps_g"].mean("sample"))
        for k in ("q_ts", "Q_ts", "q_ts_matched", "Q_ts_matched"):
            out[k] = last[k].mean("sample").values.tolist()
        out["nishimori"] = nishimori(ds)
    if ds.sizes.get("pair", 1) >= 3 and ds.sizes["sample"] >= 3:
        um = ultrametricity(ds)
        out["ultrametricity"] = {k: um[k].values.tolist() for k in ("delta", "delta_null", "K")}
    return out
