"""Sweep scheduling overhead and parallel efficiency (issue 7).
Run: OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/bench_sweep.py

- overhead per point: n sleep points of 1 s on 2 workers; ideal wall time n/2 s;
  overhead = (wall − ideal)/n per point, as a fraction of the 1-s point (target < 5%);
  it includes starting the executor and the atomic per-point writes (reported also without
  the executor start); writing the netCDF (collect, once per sweep) is timed separately;
- parallel efficiency: n CPU-bound points (a fixed amount of pure-Python work calibrated to
  ~1 s) on 2 workers vs the serial time per point measured in this process in the same run:
  efficiency = n · t_serial / (2 · wall) (target >= 85%);
- the same for a Dask LocalCluster (2 single-threaded worker processes);
- machine load: the 1-minute load average before and after, and (local executor) the CPU
  time the workers actually got, cpu_share = worker CPU time / (2 · wall); on a loaded
  machine cpu_share < 1 bounds the efficiency that any scheduler can reach.
"""

from __future__ import annotations

import os
import resource
import tempfile
import time
from pathlib import Path

from deeprg.sweep import collect, make_executor, run_point, run_sweep, validate_spec
from deeprg.sweep.registry import toy


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def timed(spec, kind, n_workers=2):
    with tempfile.TemporaryDirectory() as d:
        c0 = _children_cpu()
        t = time.perf_counter()
        st = run_sweep(
            spec, Path(d) / "b.nc", kind=kind, workers=n_workers, progress=False, write=False
        )
        dt = time.perf_counter() - t
        cpu = _children_cpu() - c0
        t = time.perf_counter()
        collect(validate_spec(spec), Path(d) / "b.nc")
        t_collect = time.perf_counter() - t
    assert st.done == st.total
    return dt, cpu, t_collect


def t_collect_msg(t: float) -> str:
    return f"{t:.2f} s"


def startup(kind: str) -> float:
    """Seconds to start the executor, run one no-op point and shut down."""
    t = time.perf_counter()
    with make_executor(kind, workers=2) as ex:
        ex.submit(run_point, "toy", {"x": 0.0}).result()
    return time.perf_counter() - t


def calibrate(target: float = 1.0) -> int:
    t = time.perf_counter()
    toy(0.0, work=200)
    return max(1, round(200 * target / (time.perf_counter() - t)))


def main(n: int = 16) -> None:
    print(f"load average (1 min) before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    work = calibrate()
    xs = [float(i) for i in range(n)]
    sleep_spec = {"experiment": "toy", "fixed": {"sleep": 1.0}, "grid": {"x": xs}}
    cpu_spec = {"experiment": "toy", "fixed": {"work": work}, "grid": {"x": xs}}
    t = time.perf_counter()
    for x in xs[:3]:
        toy(x, work=work)
    per_point = (time.perf_counter() - t) / 3
    print(f"CPU-bound point: work={work}, serial {per_point:.2f} s/point in this process")
    for kind in ("local", "dask"):
        t_start = startup(kind)
        t_sleep, _, t_coll = timed(sleep_spec, kind)
        over = (t_sleep - n / 2) / n
        steady = (t_sleep - t_start - n / 2) / n
        t_cpu, cpu, _ = timed(cpu_spec, kind)
        eff = n * per_point / (2 * t_cpu)
        share = f", cpu_share {100 * cpu / (2 * t_cpu):.0f}%" if kind == "local" else ""
        print(
            f"{kind:5s}: {n} x 1-s sleep points on 2 workers: {t_sleep:.2f} s (ideal {n / 2:.1f} s)"
            f" -> overhead {over * 1e3:.0f} ms/point = {100 * over:.1f}% (target < 5%), "
            f"{100 * steady:.1f}% without the executor start ({t_start:.2f} s); "
            f"collect to netCDF {t_collect_msg(t_coll)}; "
            f"{n} CPU-bound points: {t_cpu:.2f} s vs ideal {n * per_point / 2:.2f} s -> "
            f"efficiency {100 * eff:.0f}% (target >= 85%){share}"
        )
    print(f"load average (1 min) after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
