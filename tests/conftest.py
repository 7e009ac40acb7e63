"""Shared pytest configuration: one BLAS thread, headless matplotlib."""

import os
import sys
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

# the test-only sweep experiment "probe" (fault injection); forked workers inherit it
sys.path.insert(0, str(Path(__file__).parent / "sweep"))
import probe  # noqa: F401
