"""One BLAS thread per worker process (oversubscription is 10-30x slower on small machines).

Environment variables only take effect before NumPy loads its BLAS, so worker processes call
:func:`one_blas_thread` as their initializer: it sets the variables (for any child processes)
and limits the already-loaded thread pools with ``threadpoolctl``.
"""

from __future__ import annotations

import os

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")


def one_blas_thread() -> None:
    """Initializer of worker processes: one BLAS/OpenMP thread from now on."""
    for v in THREAD_VARS:
        os.environ[v] = "1"
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
