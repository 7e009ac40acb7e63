"""Parameter sweeps from a laptop to a cluster, with results that never get lost (issue 7).

``load_spec(TOML) -> SweepSpec``; ``run_sweep(spec, out)`` runs the unfinished points on local
processes or Dask and writes one labelled netCDF; ``status`` and ``collect`` inspect a store.
"""

from deeprg.sweep.registry import experiments, get_experiment, register_point
from deeprg.sweep.runner import (
    SweepStatus,
    WorkerDied,
    collect,
    make_executor,
    run_point,
    run_sweep,
    status,
    store_dir,
)
from deeprg.sweep.spec import SweepSpec, load_spec, validate_spec

__all__ = [
    "SweepSpec",
    "SweepStatus",
    "WorkerDied",
    "collect",
    "experiments",
    "get_experiment",
    "load_spec",
    "make_executor",
    "register_point",
    "run_point",
    "run_sweep",
    "status",
    "store_dir",
    "validate_spec",
]
