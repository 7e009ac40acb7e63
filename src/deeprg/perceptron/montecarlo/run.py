"""Monte Carlo runs of deep perceptron networks: samples in processes, the sample store, aging
families (docs/theory/perceptron.md §5.1–5.4).

The engine is a composition of small modules: ``graph`` (connectivity), ``engine`` (compiled
kernels), ``state`` (replicas, tempering ensembles, the energy model), ``instance`` (the
disorder of a sample), ``moves`` (flip, pCN, rotation, tempering swaps with init/step),
``protocol`` (start, waiting/annealing, cloning, measurement times, random streams),
``observables`` (declared name, dims, attributes and measurement), ``checkpoint`` (identity and
in-sample checkpoints), ``sample`` (the driver of one sample) and ``dataset`` (the Dataset, τ(l),
Nishimori diagnostics, the JSON summary).

Samples run in parallel processes (one sample per task, seeds spawned from one master seed);
each finished sample is stored atomically, so an interrupted run resumes with the missing
samples only.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from deeprg.errors import InputError
from deeprg.perceptron.montecarlo.checkpoint import (
    _load_npz_checked,
    load_checked,
    sample_config,
    store_config,
)
from deeprg.perceptron.montecarlo.config import MCConfig
from deeprg.perceptron.montecarlo.dataset import assemble, relaxation_time, summary, variables
from deeprg.perceptron.montecarlo.graph import make_graph
from deeprg.perceptron.montecarlo.observables import (
    invariant_overlaps,
    overlaps,
    student_eps_g,
)
from deeprg.perceptron.montecarlo.sample import simulate_sample
from deeprg.perceptron.montecarlo.state import State, init_state

__all__ = [
    "VARIABLES",
    "State",
    "_load_npz_checked",
    "init_state",
    "invariant_overlaps",
    "make_graph",
    "open_store",
    "overlaps",
    "relaxation_time",
    "run_aging",
    "run_mc",
    "sample_config",
    "simulate_sample",
    "store_config",
    "student_eps_g",
    "summary",
]

VARIABLES = variables()


def _run_one(
    args: tuple[MCConfig, int, int, str | None, float],
) -> tuple[int, dict[str, np.ndarray]]:
    cfg, idx, seed, store, ckpt_s = args
    if store is None:
        return idx, simulate_sample(cfg, seed)
    from deeprg.identity import identity
    from deeprg.results import save_npz

    ident = sample_config(cfg, seed)
    p = Path(store) / f"sample_{idx:05d}.npz"
    if p.exists():
        return idx, load_checked(p, ident, "sample")
    ckpt = Path(store) / f"sample_{idx:05d}.ckpt.npz"
    res = simulate_sample(cfg, seed, checkpoint=ckpt, checkpoint_seconds=ckpt_s)
    save_npz(p, res, identity=identity(ident))
    ckpt.unlink(missing_ok=True)
    return idx, res


def open_store(store: str | Path, cfg: MCConfig, *, overwrite: bool = False) -> Path:
    """Prepare a sample store: check it is writable, then create it with ``config.json`` (the
    identity of :func:`store_config`), or verify that an existing one was written with the same
    configuration and package version (else InputError, one line). ``overwrite`` removes the
    store's own files (config, samples, checkpoints) first."""
    import json

    from deeprg.identity import check_identity, identity
    from deeprg.results import atomic_write_text, check_writable

    d = check_writable(store, kind="dir", what="--store")
    cj = d / "config.json"
    if overwrite:
        for f in [cj, *d.glob("sample_*.npz")]:
            f.unlink(missing_ok=True)
    ident = store_config(cfg)
    if cj.exists():
        try:
            stored = json.loads(cj.read_text())
        except (OSError, ValueError):
            raise InputError(f"store {d}: {cj.name} is unreadable (corrupt store)") from None
        check_identity(f"store {d}", stored, ident, "choose a new --store or pass --overwrite")
    elif any(d.glob("sample_*.npz")):
        raise InputError(
            f"store {d} holds samples but no config.json: choose a new --store or pass --overwrite"
        )
    else:
        atomic_write_text(cj, json.dumps(identity(ident), indent=1))
    return d


def run_mc(
    cfg: MCConfig,
    *,
    workers: int = 1,
    store: str | Path | None = None,
    progress: bool | None = None,
    checkpoint_seconds: float = 60.0,
    overwrite: bool = False,
):
    """Run ``cfg.samples`` samples (in ``workers`` processes); returns an xarray Dataset.

    With ``store`` (a directory), finished samples are saved atomically and reused on rerun,
    and a running sample checkpoints its full state at most every ``checkpoint_seconds``
    (at measurement times), so a killed run resumes inside the sample, bit-identically.
    The store records its configuration (``config.json``: every field but ``samples``, the
    package version and the hash); a rerun under any other configuration is refused with one
    line naming the keys that differ, ``overwrite=True`` starts the store afresh. A rerun with
    more ``samples`` reuses the finished ones and adds the rest.
    """
    import sys

    seeds = np.random.SeedSequence(cfg.seed).generate_state(cfg.samples)
    if store is not None:
        open_store(store, cfg, overwrite=overwrite)
    st = None if store is None else str(store)
    tasks = [(cfg, i, int(s), st, checkpoint_seconds) for i, s in enumerate(seeds)]
    results: dict[int, dict[str, np.ndarray]] = {}
    show = sys.stderr.isatty() if progress is None else progress
    bar = task = None
    if show:
        from rich.progress import Progress

        bar = Progress(transient=True)
        task = bar.add_task("samples", total=cfg.samples)
        bar.start()
    try:
        if workers > 1:
            _warm_up()
            from deeprg.parallel import process_pool

            with process_pool(workers, start="fork") as ex:
                for idx, res in ex.map(_run_one, tasks):
                    results[idx] = res
                    if bar is not None and task is not None:
                        bar.update(task, advance=1)
        else:
            for t in tasks:
                idx, res = _run_one(t)
                results[idx] = res
                if bar is not None and task is not None:
                    bar.update(task, advance=1)
    finally:
        if bar is not None:
            bar.stop()
    return assemble(cfg, [results[i] for i in range(cfg.samples)])


def run_aging(cfg: MCConfig, t_ws, **kwargs):
    """Aging family: the clone protocol at several waiting times of the *same* host trajectory
    (§5.1). The waiting-time segment is driven by one seed per sample, so runs that differ only
    in t_w share the host's history up to the shorter t_w; the guests are cloned from it at each
    t_w. Returns the :func:`run_mc` datasets concatenated along a ``t_w`` dimension.
    ``kwargs`` go to :func:`run_mc` (workers, store, progress)."""
    import xarray as xr

    from deeprg.errors import InputError

    t_ws = sorted({int(t) for t in t_ws})
    if not t_ws or t_ws[0] < 0:
        raise InputError(f"t_ws must be non-negative waiting times, got {t_ws}")
    if cfg.T_anneal is not None:
        raise InputError("run_aging needs a fixed temperature (T_anneal must be None)")
    parts = []
    for tw in t_ws:
        store = kwargs.get("store")
        kw = dict(kwargs)
        if store is not None:
            kw["store"] = Path(store) / f"t_w_{tw}"
        ds = run_mc(cfg.replace(t_w=tw), **kw)
        parts.append(ds.expand_dims(t_w=[tw]))
    return xr.concat(parts, dim="t_w", coords="minimal", compat="override")


def _warm_up() -> None:
    """Compile the kernels in the parent before forking workers."""
    cfg = MCConfig(L=2, N=2, alpha=1.0, t_w=1, steps=1, n_times=1, samples=1)
    simulate_sample(cfg, 0)
