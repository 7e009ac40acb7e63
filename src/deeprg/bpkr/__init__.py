"""Back-Propagating Kernel Renormalization for Bayesian deep linear networks (docs/theory/bpkr.md).

Saddle point (§2.4), exact finite-width scale mixture (§2.3), GP limit (§2.10), predictor
statistics (§3), layer kernels (§4.2), T → 0 closed forms and phase lines (§2.6–2.7) and
vectorized sweeps sharing one eigendecomposition.
"""

from deeprg.bpkr.api import MODES, BPKRFit, fit, fit_kernel, report
from deeprg.bpkr.base import Architecture, BaseKernel, architecture, base_kernel

__all__ = [
    "MODES",
    "Architecture",
    "BPKRFit",
    "BaseKernel",
    "architecture",
    "base_kernel",
    "fit",
    "fit_kernel",
    "report",
]
