"""Sweep scheduling overhead and parallel efficiency (issue 7).
Run: OMP_NUM_THREADS=1 python benchmarks/bench_sweep.py

- overhead per point: n sleep points of 1 s on 2 workers; ideal wall time n/2 s;
  overhead = (wall − ideal)/n per point, as a fraction of the 1-s point (target < 5%);
- parallel efficiency: n CPU-bound 1-s points on 2 workers vs the same points run serially
  in this process, measured in the same run (target >= 85%);
- the same for a Dask LocalCluster (2 single-threaded worker processes).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from deeprg.sweep import run_sweep
from deeprg.sweep.registry import toy


def timed(spec, kind, n_workers=2):
    with tempfile.TemporaryDirectory() as d:
        t = time.perf_counter()
        st = run_sweep(spec, Path(d) / "b.nc", kind=kind, workers=n_workers, progress=False)
        dt = time.perf_counter() - t
    assert st.done == st.total
    return dt


def main(n: int = 16) -> None:
    xs = [float(i) for i in range(n)]
    sleep_spec = {"experiment": "toy", "fixed": {"sleep": 1.0}, "grid": {"x": xs}}
    cpu_spec = {"experiment": "toy", "fixed": {"spin": 1.0}, "grid": {"x": xs}}
    t = time.perf_counter()
    for x in xs[:4]:
        toy(x, spin=1.0)
    serial = (time.perf_counter() - t) * n / 4
    for kind in ("local", "dask"):
        t_sleep = timed(sleep_spec, kind)
        over = (t_sleep - n / 2) / n
        t_cpu = timed(cpu_spec, kind)
        eff = serial / (2 * t_cpu)
        print(
            f"{kind:5s}: {n} x 1-s sleep points on 2 workers: {t_sleep:.2f} s (ideal {n / 2:.1f} s) -> "
            f"overhead {over * 1e3:.0f} ms/point = {100 * over:.1f}% (target < 5%); "
            f"CPU-bound: {t_cpu:.2f} s vs serial {serial:.2f} s -> efficiency {100 * eff:.0f}% (target >= 85%)"
        )


if __name__ == "__main__":
    main()
