"""Input kernels and NNGP recursions (design.md; docs/theory/bpkr.md §1.3, §5.1).

``input_kernel`` builds K_0 = σ² X1 X2^T/N0; ``nngp_layer`` applies one step
K_l = σ² E_{N(0, K_{l−1})}[φ(h)φ(h')] for "linear", "relu" (arc-cosine, guarded at
correlation ±1), "erf" (closed form) or any callable φ (2-D Gauss–Hermite quadrature);
``nngp`` returns the kernels of layers 0..depth; ``relu_base_kernel`` is the σ-free
K_L^GP/σ^{2L} of the BPKR ReLU heuristic.
"""

from deeprg.kernels.nngp import (
    ACTIVATIONS,
    Kernel,
    erf_map,
    gauss_hermite,
    input_kernel,
    nngp,
    nngp_layer,
    quadrature_diag,
    quadrature_map,
    relu_base_kernel,
    relu_cross_fn,
    relu_map,
)

__all__ = [
    "ACTIVATIONS",
    "Kernel",
    "erf_map",
    "gauss_hermite",
    "input_kernel",
    "nngp",
    "nngp_layer",
    "quadrature_diag",
    "quadrature_map",
    "relu_base_kernel",
    "relu_cross_fn",
    "relu_map",
]
