"""Seeds for sub-runs, derived once (no seed arithmetic anywhere in the package).

A run with master seed ``s`` that contains sub-runs (grid points, depths, widths, samples)
gives each the seed :func:`derive_seed` ``(s, key1, key2, ...)``: the first 32-bit word of
``numpy.random.SeedSequence([s, key1, ...])``. Different key tuples give statistically
independent streams, unlike ``s + i`` (where master seed 0's point 1 and master seed 1's
point 0 share a stream).
"""

from __future__ import annotations

import numpy as np


def derive_seed(*keys: int) -> int:
    """An independent seed for the sub-run identified by the integer ``keys``."""
    return int(np.random.SeedSequence([int(k) for k in keys]).generate_state(1)[0])
