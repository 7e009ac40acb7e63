"""One BLAS thread per worker process (oversubscription is 10-30x slower on small machines).

Environment variables only take effect before NumPy loads its BLAS, so worker processes call
:func:`one_blas_thread` as their initializer: it sets the variables (for any child processes)
and limits the already-loaded thread pools with ``threadpoolctl``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")


def one_blas_thread() -> None:
    """Initializer of worker processes: one BLAS/OpenMP thread from now on."""
    for v in THREAD_VARS:
        os.environ[v] = "1"
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)


@contextmanager
def process_pool(workers: int, start: str | None = None) -> Iterator[ProcessPoolExecutor]:
    """``workers`` processes with one BLAS thread each (:func:`one_blas_thread`), started by
    ``start`` (default: fork on Linux, so that compiled kernels are inherited; spawn elsewhere);
    on leaving, waits for the running tasks and cancels the pending ones."""
    import multiprocessing as mp

    method = start or ("fork" if sys.platform.startswith("linux") else "spawn")
    ex = ProcessPoolExecutor(
        workers, mp_context=mp.get_context(method), initializer=one_blas_thread
    )
    try:
        yield ex
    finally:
        ex.shutdown(wait=True, cancel_futures=True)
