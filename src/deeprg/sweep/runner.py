"""Running sweeps: executors, a crash-proof result store, progress, and collection.

Store: next to the output ``FILE.nc`` a directory ``FILE.nc.d/`` holds ``spec.json`` and one
JSON file per finished point (``ok/<key>.json``) or failed point (``failed/<key>.json``, with
the error and traceback), each written atomically (temp file + rename) the moment the point
completes. Rerunning the same spec skips finished points, so a killed sweep resumes with
nothing lost and nothing recomputed; ``retry_failed`` reruns failures. ``collect`` combines the
store into one xarray Dataset with the grid axes as dims and writes it with provenance.

Executors follow ``concurrent.futures.Executor``: local processes by default (one BLAS thread
per worker) or Dask distributed (an existing scheduler, a LocalCluster, or SLURM/PBS through
dask-jobqueue).
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
from concurrent.futures import BrokenExecutor, Executor, Future, ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from deeprg.errors import InputError
from deeprg.results import atomic_write_text, to_json
from deeprg.sweep.spec import SweepSpec, validate_spec

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")


class WorkerDied(RuntimeError):
    """A worker process died mid-sweep; finished points are in the store (rerun to resume)."""


def _worker_init() -> None:
    for v in THREAD_VARS:
        os.environ[v] = "1"
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)
    except ImportError:  # pragma: no cover
        pass


def run_point(experiment: str, params: dict[str, Any]) -> dict[str, Any]:
    """Run one point in a worker; never raises (errors are returned and recorded)."""
    from deeprg.sweep.registry import get_experiment

    t = time.perf_counter()
    try:
        exp = get_experiment(experiment)
        from deeprg.sweep.registry import REQUIRED

        kwargs = {k: p.default for k, p in exp.params.items() if p.default is not REQUIRED}
        kwargs |= params
        res = exp.fn(**kwargs)
        return {
            "status": "ok",
            "result": json.loads(to_json(res)),
            "elapsed": time.perf_counter() - t,
        }
    except Exception as exc:
        return {
            "status": "failed",
            "error": f"{type(exc).__name__}: {exc}",
            "traceback": traceback.format_exc(),
            "elapsed": time.perf_counter() - t,
        }


def store_dir(out: str | Path) -> Path:
    return Path(str(out) + ".d")


@dataclass(frozen=True)
class SweepStatus:
    total: int
    done: int
    failed: int

    @property
    def missing(self) -> int:
        return self.total - self.done - self.failed


def status(spec: SweepSpec, out: str | Path) -> SweepStatus:
    d = store_dir(out)
    pts = spec.points()
    ok = sum((d / "ok" / f"{p['key']}.json").exists() for p in pts)
    bad = sum(
        (d / "failed" / f"{p['key']}.json").exists()
        and not (d / "ok" / f"{p['key']}.json").exists()
        for p in pts
    )
    return SweepStatus(len(pts), ok, bad)


def jobqueue_kwargs(spec: SweepSpec | None) -> dict[str, Any]:
    """dask-jobqueue cluster arguments from the spec's ``[resources]`` (one BLAS thread)."""
    res = spec.resources if spec is not None else None
    kw: dict[str, Any] = (
        {}
        if res is None
        else {
            "cores": res.cores,
            "processes": res.processes,
            "memory": res.memory,
            "walltime": res.walltime,
        }
    )
    if res is not None and res.queue:
        kw["queue"] = res.queue
    kw["job_script_prologue"] = [f"export {v}=1" for v in THREAD_VARS]
    return kw


@contextmanager
def make_executor(
    kind: str = "local",
    *,
    workers: int = 2,
    scheduler: str | None = None,
    cluster: str | None = None,
    spec: SweepSpec | None = None,
):
    """Yield a concurrent.futures-compatible executor: 'local' processes or 'dask'."""
    if scheduler is not None or cluster is not None or kind == "dask":
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise InputError(
                "Dask executors need the [dist] extra: pip install 'deeprg[dist]'"
            ) from None
        if scheduler is not None:
            client = Client(scheduler)
            cl = None
        elif cluster in ("slurm", "pbs"):
            import dask_jobqueue

            cls = dask_jobqueue.SLURMCluster if cluster == "slurm" else dask_jobqueue.PBSCluster
            kw = jobqueue_kwargs(spec)
            cl = cls(**kw)
            cl.scale(jobs=spec.resources.jobs if spec is not None else 1)
            client = Client(cl)
        elif cluster is None:
            cl = LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
            )
            client = Client(cl)
        else:
            raise InputError(f"--cluster must be slurm or pbs, got {cluster!r}")
        try:
            yield client.get_executor()
        finally:
            client.close()
            if cl is not None:
                cl.close()
        return
    if kind != "local":
        raise InputError(f"executor must be 'local' or 'dask', got {kind!r}")
    for v in THREAD_VARS:
        os.environ.setdefault(v, "1")
    import multiprocessing as mp

    ctx = mp.get_context("fork") if sys.platform.startswith("linux") else mp.get_context("spawn")
    ex = ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_worker_init)
    try:
        yield ex
    finally:
        ex.shutdown(wait=True, cancel_futures=True)


def run_sweep(
    spec: SweepSpec | dict[str, Any],
    out: str | Path,
    *,
    executor: Executor | None = None,
    kind: str = "local",
    workers: int = 2,
    scheduler: str | None = None,
    cluster: str | None = None,
    retry_failed: bool = False,
    progress: bool | None = None,
    write: bool = True,
) -> SweepStatus:
    """Run every unfinished point of ``spec`` and (by default) write the combined netCDF."""
    if isinstance(spec, dict):
        spec = validate_spec(spec)
    d = store_dir(out)
    (d / "ok").mkdir(parents=True, exist_ok=True)
    (d / "failed").mkdir(parents=True, exist_ok=True)
    atomic_write_text(d / "spec.json", spec.model_dump_json(indent=1))
    todo = []
    for p in spec.points():
        if (d / "ok" / f"{p['key']}.json").exists():
            continue
        if (d / "failed" / f"{p['key']}.json").exists() and not retry_failed:
            continue
        todo.append(p)

    def record(p: dict[str, Any], r: dict[str, Any]) -> None:
        rec = {"key": p["key"], "index": p["index"], "params": p["params"], **r}
        sub = "ok" if r["status"] == "ok" else "failed"
        atomic_write_text(d / sub / f"{p['key']}.json", json.dumps(rec))
        if sub == "ok":
            (d / "failed" / f"{p['key']}.json").unlink(missing_ok=True)

    show = sys.stderr.isatty() if progress is None else progress
    if todo:
        ctx = (
            make_executor(kind, workers=workers, scheduler=scheduler, cluster=cluster, spec=spec)
            if executor is None
            else _null(executor)
        )
        with ctx as ex:
            futs: dict[Future, dict[str, Any]] = {
                ex.submit(run_point, spec.experiment, p["params"]): p for p in todo
            }
            _drain(futs, record, show, len(todo))
    st = status(spec, out)
    if write:
        collect(spec, out)
    return st


@contextmanager
def _null(ex: Executor):
    yield ex


def _drain(futs: dict[Future, dict[str, Any]], record, show: bool, n: int) -> None:
    done = failed = 0
    bar = task = None
    if show:
        from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

        bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total}"),
            TimeRemainingColumn(),
        )
        task = bar.add_task("sweep", total=n)
        bar.start()
    try:
        for fut in as_completed(futs):
            try:
                r = fut.result()
            except BrokenExecutor as exc:  # a worker process died: no point can be blamed
                for f, p in futs.items():  # save every point that did finish
                    if f.done() and not f.cancelled() and f.exception() is None:
                        record(p, f.result())
                raise WorkerDied(
                    f"sweep stopped: a worker process died ({type(exc).__name__}; e.g. out of "
                    "memory or a crash in compiled code); finished points are saved, rerun the "
                    "same command to resume"
                ) from None
            except Exception as exc:  # e.g. Dask KilledWorker, unpicklable result: this point
                r = {
                    "status": "failed",
                    "error": f"{type(exc).__name__}: {exc}",
                    "traceback": "".join(traceback.format_exception(exc)),
                    "elapsed": float("nan"),
                }
            record(futs[fut], r)
            done += r["status"] == "ok"
            failed += r["status"] != "ok"
            if bar is not None:
                running = sum(f.running() for f in futs)
                bar.update(
                    task,
                    advance=1,
                    description=f"sweep  done {done}  failed {failed}  running {running}",
                )
    finally:
        if bar is not None:
            bar.stop()


def _coord(values: list[Any]) -> np.ndarray:
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return np.asarray(values)
    return np.asarray([json.dumps(v) if not isinstance(v, str) else v for v in values])


def _flatten(result: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested result dicts become ``outer_inner`` keys (one variable each)."""
    out: dict[str, Any] = {}
    for k, v in result.items():
        if isinstance(v, dict):
            out |= _flatten(v, f"{prefix}{k}_")
        else:
            out[f"{prefix}{k}"] = v
    return out


def _is_text(v: Any) -> bool:
    return isinstance(v, str) or (isinstance(v, list) and bool(v) and isinstance(v[0], str))


def collect(spec: SweepSpec, out: str | Path, *, write: bool = True):
    """Combine the store into one xarray Dataset (grid axes as dims); write ``out`` atomically."""
    import xarray as xr

    from deeprg.results import write_dataset

    d = store_dir(out)
    dims = spec.dims()
    axes = spec.axes()
    sizes = {}
    coords: dict[str, Any] = {}
    for dim, names in dims:
        if dim == "seed":
            vals = spec.seeds.seed_list()
            coords["seed"] = np.asarray(vals)
        elif dim == "zip":
            vals = axes[names[0]]
            coords["zip"] = np.arange(len(vals))
            for nm in names:
                coords[nm] = ("zip", _coord(axes[nm]))
        else:
            vals = axes[dim]
            coords[dim] = _coord(vals)
        sizes[dim] = len(vals)
    shape = tuple(sizes.values())
    dim_names = tuple(sizes)
    status_arr = np.zeros(shape, dtype=np.int8)
    data: dict[str, dict[tuple[int, ...], Any]] = {}
    for p in spec.points():
        pos = tuple(p["index"][dn] for dn in dim_names)
        okf, badf = d / "ok" / f"{p['key']}.json", d / "failed" / f"{p['key']}.json"
        if okf.exists():
            rec = json.loads(okf.read_text())
            status_arr[pos] = 1
            for k, v in _flatten(rec["result"]).items():
                data.setdefault(k, {})[pos] = v
        elif badf.exists():
            status_arr[pos] = -1
    ds = xr.Dataset({"status": (dim_names, status_arr)}, coords=coords)
    ds["status"].attrs["meaning"] = "1 done, 0 missing, -1 failed"
    for k, vals in data.items():
        sample = next(iter(vals.values()))
        if _is_text(sample):  # labels (e.g. the mc experiment's liquid/solid phase per layer)
            n = max(len(v) if isinstance(v, list) else 1 for v in vals.values())
            arr = np.full((*shape, n), "", dtype=object)
            for pos, v in vals.items():
                arr[pos][: len(v) if isinstance(v, list) else 1] = v
            ds[k] = ((*dim_names, f"{k}_index"), arr.astype(str))
        elif isinstance(sample, list):
            n = max(len(v) for v in vals.values())
            arr = np.full((*shape, n), np.nan)
            for pos, v in vals.items():
                arr[pos][: len(v)] = np.asarray(v, dtype=float)
            ds[k] = ((*dim_names, f"{k}_index"), arr)
        else:
            arr = np.full(shape, np.nan)
            for pos, v in vals.items():
                arr[pos] = float(v) if v is not None else np.nan
            ds[k] = (dim_names, arr)
    if write:
        write_dataset(ds, out, config=spec.model_dump())
    return ds
