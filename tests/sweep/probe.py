"""The test-only sweep experiment ``probe``: the ``toy`` function plus failure, a worker crash
and a marker file recording every evaluation (fault-injection for the sweep tests).

Registered on import (tests/conftest.py imports it; subprocess drivers import it from this
folder). Forked local workers inherit the registration.
"""

import math
import os
from typing import Any

from deeprg.sweep.registry import REQUIRED, register_point, toy


@register_point(
    "probe",
    {
        "x": (float, REQUIRED),
        "y": (float, 0.0),
        "seed": (int, 0, ">=0"),
        "sleep": (float, 0.0, ">=0"),
        "fail_if_x": (float, math.nan),
        "work": (int, 0, ">=0"),
        "crash_if_x": (float, math.nan),
        "marker": (str, ""),
    },
    "test probe: toy + failure at fail_if_x, worker crash at crash_if_x, marker file",
)
def probe(
    x: float,
    y: float = 0.0,
    seed: int = 0,
    sleep: float = 0.0,
    fail_if_x: float = math.nan,
    work: int = 0,
    marker: str = "",
    crash_if_x: float = math.nan,
) -> dict[str, Any]:
    if marker:
        with open(marker, "a") as fh:
            fh.write(f"{x} {y} {seed}\n")
    if x == fail_if_x:
        raise ValueError(f"probe point failed on purpose at x={x}")
    if x == crash_if_x:  # the worker process dies
        os._exit(3)
    return toy(x, y, seed, sleep, work)
