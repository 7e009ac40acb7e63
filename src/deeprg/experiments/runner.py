"""One entry point for every experiment: ``run(config) -> xarray.Dataset``.

Each configuration model has one runner; :func:`run` dispatches on the model's type and adds the
provenance attributes (``config``, ``config_hash``, ``seed``, ``deeprg_version``, ``created``)
so that every Dataset it returns can be written, compared and plotted the same way
(docs/results-and-configuration.md). The runners are the same functions the CLI commands and
the sweep experiments call.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from deeprg.config import Config
from deeprg.errors import InputError


def _bpkr(c: Any) -> Any:
    from deeprg.bpkr.config import run_bpkr

    return run_bpkr(c)


def _compare(c: Any) -> Any:
    from deeprg.experiments.compare import compare_dataset, run_compare

    return compare_dataset(run_compare(c, progress=False))


def _sampling(c: Any) -> Any:
    """The posterior draws (``chain``, ``draw``) of every traced observable; the summary (ε_g,
    bias², variance with standard errors, R-hat, ESS) in the attributes."""
    from deeprg.experiments.configs import run_sampling
    from deeprg.results import to_json

    res = run_sampling(c)
    ds = res.to_inference_data().posterior
    ds.attrs["summary"] = to_json({k: v for k, v in res.summary().items() if k != "sampler"})
    return ds


def _mc(c: Any) -> Any:
    from deeprg.perceptron.montecarlo import run_mc

    return run_mc(c, progress=False)


def _anneal(c: Any) -> Any:
    from deeprg.perceptron.montecarlo.anneal import anneal

    return anneal(c)


def _replica(c: Any) -> Any:
    from deeprg.perceptron.replica.config import run_replica

    return run_replica(c)[1]


def _mp(c: Any) -> Any:
    from deeprg.perceptron.mp.dataset import run_mp

    return run_mp(c)


RUNNERS: dict[str, Callable[[Any], Any]] = {
    "BPKRConfig": _bpkr,
    "CompareConfig": _compare,
    "SamplingConfig": _sampling,
    "MCConfig": _mc,
    "AnnealConfig": _anneal,
    "ReplicaConfig": _replica,
    "MPConfig": _mp,
}


def run(config: Config) -> Any:
    """The labelled result of the experiment ``config`` describes, with its provenance."""
    from deeprg.results import provenance

    name = type(config).__name__
    if name not in RUNNERS:
        raise InputError(f"no runner for {name}; one of: {', '.join(RUNNERS)}")
    ds = RUNNERS[name](config)
    ds.attrs.update(provenance(config.to_dict(), getattr(config, "seed", None)))
    return ds
