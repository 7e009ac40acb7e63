"""Running sweeps: executors, a crash-proof result store, progress, and collection.

Store: next to the output ``FILE.nc`` a directory ``FILE.nc.d/`` holds ``spec.json`` and one
JSON file per finished point (``ok/<key>.json``) or failed point (``failed/<key>.json``, with
the error and traceback), each written atomically (temp file + rename) by the worker that
computed it, the moment the point completes. The key hashes the experiment and the *full*
parameter set (defaults included); every point file records the package version and the
configuration hash. Rerunning the same spec skips finished points, so a killed sweep resumes
with nothing lost and nothing recomputed; ``retry_failed`` reruns failures. Points written by
another package version are *stale*: counted by :func:`status`, kept (status 2) by
:func:`collect`, recomputed with ``recompute_stale``. An unreadable point file is moved to
``corrupt/``, counted, and recomputed by the next run; ``collect`` never fails on one. A point
is computed under a per-point file lock (``locks/<key>.lock``), so two runs on the same store
share the work: each point is computed once. ``collect`` combines the store into one xarray
Dataset with the grid axes as dims and writes it with provenance.

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
from concurrent.futures import BrokenExecutor, Executor, Future, as_completed
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from deeprg import __version__
from deeprg.errors import InputError
from deeprg.parallel import THREAD_VARS, process_pool
from deeprg.results import atomic_write_text, check_writable, to_json
from deeprg.sweep.spec import SweepSpec, validate_spec


class WorkerDied(RuntimeError):
    """A worker process died mid-sweep; finished points are in the store (rerun to resume)."""


def _compute(experiment: str, params: dict[str, Any]) -> dict[str, Any]:
    """Evaluate one point; never raises (errors are returned and recorded)."""
    from deeprg.sweep.registry import REQUIRED, get_experiment

    t = time.perf_counter()
    try:
        exp = get_experiment(experiment)
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


def run_point(
    experiment: str,
    params: dict[str, Any],
    point: dict[str, Any] | None = None,
    store: str | None = None,
    recompute_stale: bool = False,
    retry_failed: bool = False,
) -> dict[str, Any]:
    """Run one point in a worker; never raises.

    Without ``store`` the result is returned for the caller to record. With ``store`` (the
    store directory) the point is claimed with a per-point file lock: if another run holds it
    the status is ``"busy"``; if the point was settled meanwhile (done, or failed and not
    retried) it is ``"skipped"``; else it is computed and its record written here, under the
    lock, before returning."""
    if store is None or point is None:
        return _compute(experiment, params)
    from filelock import FileLock, Timeout

    d = Path(store)
    lock = FileLock(str(d / "locks" / f"{point['key']}.lock"))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        return {"status": "busy"}
    try:
        if _settled(d, point["key"], recompute_stale, retry_failed):
            return {"status": "skipped"}
        r = _compute(experiment, params)
        write_record(d, experiment, point, r)
        return r | {"written": True}
    finally:
        lock.release()


def store_dir(out: str | Path) -> Path:
    return Path(str(out) + ".d")


def _point_hash(experiment: str, params: dict[str, Any]) -> str:
    from deeprg.identity import config_hash

    return config_hash({"experiment": experiment, "params": params})


def write_record(d: Path, experiment: str, p: dict[str, Any], r: dict[str, Any]) -> None:
    """Write a point's record atomically to ``ok/`` or ``failed/`` (with its provenance)."""
    rec = {
        "key": p["key"],
        "index": p["index"],
        "experiment": experiment,
        "params": p["params"],
        "deeprg_version": __version__,
        "config_hash": _point_hash(experiment, p["params"]),
        **{k: v for k, v in r.items() if k != "written"},
    }
    sub = "ok" if r["status"] == "ok" else "failed"
    atomic_write_text(d / sub / f"{p['key']}.json", json.dumps(rec))
    if sub == "ok":
        (d / "failed" / f"{p['key']}.json").unlink(missing_ok=True)


def read_record(path: Path) -> dict[str, Any] | None:
    """A point file's record; None if it does not exist. An unreadable file (truncated,
    corrupt, not a record) is moved to the store's ``corrupt/`` folder and None returned, so
    the point counts as missing and is recomputed."""
    try:
        rec = json.loads(path.read_text())
        if not isinstance(rec, dict) or "status" not in rec:
            raise ValueError("not a point record")
        return rec
    except FileNotFoundError:
        return None
    except (OSError, ValueError, UnicodeDecodeError):
        bad = path.parent.parent / "corrupt"
        bad.mkdir(exist_ok=True)
        dest = bad / f"{path.stem}.{time.time_ns()}.json"
        try:
            os.replace(path, dest)
        except OSError:
            pass
        return None


def _state(d: Path, key: str) -> str:
    """'done', 'stale' (done by another package version), 'failed' or 'missing'."""
    rec = read_record(d / "ok" / f"{key}.json")
    if rec is not None:
        return "done" if rec.get("deeprg_version") == __version__ else "stale"
    return "failed" if read_record(d / "failed" / f"{key}.json") is not None else "missing"


def _settled(d: Path, key: str, recompute_stale: bool, retry_failed: bool) -> bool:
    st = _state(d, key)
    return (
        st == "done"
        or (st == "stale" and not recompute_stale)
        or (st == "failed" and not retry_failed)
    )


@dataclass(frozen=True)
class SweepStatus:
    total: int
    done: int
    failed: int
    stale: int = 0
    corrupt: int = 0  # points whose file was unreadable (moved to corrupt/), not yet redone

    @property
    def missing(self) -> int:
        return self.total - self.done - self.failed - self.stale

    def line(self) -> str:
        extra = f", {self.stale} stale" if self.stale else ""
        bad = f" ({self.corrupt} corrupt, moved to corrupt/)" if self.corrupt else ""
        return (
            f"{self.done}/{self.total} points done{extra}, {self.failed} failed, "
            f"{self.missing} missing{bad}"
        )


def status(spec: SweepSpec, out: str | Path) -> SweepStatus:
    d = store_dir(out)
    states = {p["key"]: _state(d, p["key"]) for p in spec.points()}
    cdir = d / "corrupt"
    moved = {f.name.split(".")[0] for f in cdir.glob("*.json")} if cdir.is_dir() else set()
    n = {k: sum(v == k for v in states.values()) for k in ("done", "failed", "stale")}
    corrupt = sum(1 for k in moved if states.get(k) == "missing")
    return SweepStatus(len(states), n["done"], n["failed"], n["stale"], corrupt)


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
        cl: Any = None
        if scheduler is not None:
            client = Client(scheduler)
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
    with process_pool(workers) as ex:
        yield ex


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
    recompute_stale: bool = False,
    progress: bool | None = None,
    write: bool = True,
) -> SweepStatus:
    """Run every unfinished point of ``spec`` and (by default) write the combined netCDF.

    The output and its store are checked writable before any point runs. Points being
    computed by another run on the same store are left to it (each point is computed once).
    """
    if isinstance(spec, dict):
        spec = validate_spec(spec)
    if write:
        check_writable(out, what="sweep output")
    d = check_writable(store_dir(out), kind="dir", what="sweep store")
    for sub in ("ok", "failed", "locks"):
        (d / sub).mkdir(parents=True, exist_ok=True)
    atomic_write_text(d / "spec.json", spec.model_dump_json(indent=1))
    todo = [p for p in spec.points() if not _settled(d, p["key"], recompute_stale, retry_failed)]

    def record(p: dict[str, Any], r: dict[str, Any]) -> None:
        if not r.get("written") and r["status"] in ("ok", "failed"):
            write_record(d, spec.experiment, p, r)

    show = sys.stderr.isatty() if progress is None else progress
    if todo:
        ctx = (
            make_executor(kind, workers=workers, scheduler=scheduler, cluster=cluster, spec=spec)
            if executor is None
            else _null(executor)
        )
        with ctx as ex:
            futs: dict[Future, dict[str, Any]] = {
                ex.submit(
                    run_point,
                    spec.experiment,
                    p["params"],
                    p,
                    str(d),
                    recompute_stale,
                    retry_failed,
                ): p
                for p in todo
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
            failed += r["status"] == "failed"
            if bar is not None and task is not None:
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
    """Combine the store into one xarray Dataset (grid axes as dims); write ``out`` atomically.

    List-valued results get the dimension their experiment declares (``layer``, ``wlayer``,
    ...: :attr:`deeprg.sweep.registry.Experiment.result_dims`), else ``<name>_index``;
    unreadable point files are moved aside and counted as missing (:func:`read_record`)."""
    import xarray as xr

    from deeprg.results import write_dataset
    from deeprg.sweep.registry import get_experiment

    coords, sizes = _grid_coords(spec)
    dim_names, shape = tuple(sizes), tuple(sizes.values())
    status_arr, data = _gather(spec, store_dir(out), dim_names, shape)
    ds = xr.Dataset({"status": (dim_names, status_arr)}, coords=coords)
    ds["status"].attrs |= {
        "long_name": "point status",
        "units": "1",
        "description": "1 done, 2 done by another deeprg version (stale), 0 missing, -1 failed",
    }
    result_dims = get_experiment(spec.experiment).result_dims
    for k, by_pos in data.items():
        dim, start = result_dims.get(k, (f"{k}_index", 0))
        arr = _stack(by_pos, shape)
        if arr.ndim == len(shape):
            ds[k] = (dim_names, arr)
        else:
            ds[k] = ((*dim_names, dim), arr)
            n = arr.shape[-1]
            if dim not in ds.coords or ds.sizes[dim] < n:
                ds = ds.assign_coords({dim: np.arange(start, start + n)})
    if write:
        write_dataset(ds, out, config=spec.model_dump())
    return ds


def _grid_coords(spec: SweepSpec) -> tuple[dict[str, Any], dict[str, int]]:
    """Coordinates of the grid dims (each free axis, ``zip`` for zipped axes, ``seed``)."""
    axes = spec.axes()
    coords: dict[str, Any] = {}
    sizes: dict[str, int] = {}
    for dim, names in spec.dims():
        if dim == "seed" and spec.seeds is not None:
            vals = spec.seeds.seed_list()
            coords["seed"] = np.asarray(vals)
        elif dim == "zip":
            vals = axes[names[0]]
            coords["zip"] = np.arange(len(vals))
            coords |= {nm: ("zip", _coord(axes[nm])) for nm in names}
        else:
            vals = axes[dim]
            coords[dim] = _coord(vals)
        sizes[dim] = len(vals)
    return coords, sizes


def _gather(spec: SweepSpec, d: Path, dim_names: tuple[str, ...], shape: tuple[int, ...]):
    """(status array, {result name: {grid position: value}}) from the store."""
    status_arr = np.zeros(shape, dtype=np.int8)
    data: dict[str, dict[tuple[int, ...], Any]] = {}
    for p in spec.points():
        pos = tuple(p["index"][dn] for dn in dim_names)
        rec = read_record(d / "ok" / f"{p['key']}.json")
        if rec is not None and isinstance(rec.get("result"), dict):
            status_arr[pos] = 1 if rec.get("deeprg_version") == __version__ else 2
            for k, v in _flatten(rec["result"]).items():
                data.setdefault(k, {})[pos] = v
        elif read_record(d / "failed" / f"{p['key']}.json") is not None:
            status_arr[pos] = -1
    return status_arr, data


def _stack(by_pos: dict[tuple[int, ...], Any], shape: tuple[int, ...]) -> np.ndarray:
    """One array over the grid: text labels as strings, lists NaN-padded along a last axis."""
    sample = next(iter(by_pos.values()))
    if isinstance(sample, str):  # one label per point (e.g. a status)
        labels = np.full(shape, "", dtype=object)
        for pos, v in by_pos.items():
            labels[pos] = "" if v is None else str(v)
        return labels.astype(str)
    if not _is_text(sample) and not isinstance(sample, list):
        arr = np.full(shape, np.nan)
        for pos, v in by_pos.items():
            arr[pos] = float(v) if v is not None else np.nan
        return arr
    n = max(len(v) if isinstance(v, list) else 1 for v in by_pos.values())
    text = _is_text(sample)  # labels (e.g. the mc experiment's liquid/solid phase per layer)
    out = np.full((*shape, n), "" if text else np.nan, dtype=object if text else float)
    for pos, v in by_pos.items():
        vals = v if isinstance(v, list) else [v]
        out[pos][: len(vals)] = vals if text else np.asarray(vals, dtype=float)
    return out.astype(str) if text else out
