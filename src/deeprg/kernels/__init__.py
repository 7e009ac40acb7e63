"""deeprg.kernels."""
