"""Exact references shared by the Monte Carlo tests (a helper module, not a test file)."""

from itertools import product

import numpy as np


def tiny_reference(S0, SL, nJ=200_000, seed=7):
    """Exact P(hidden spins) of the tiny L = 2, widths (2, 2, 1), M = 2 system at T = 1 with
    the Gaussian weight prior: enumeration × importance sampling over the weights."""
    rng = np.random.default_rng(seed)
    J1 = rng.standard_normal((nJ, 2, 2))
    J2 = rng.standard_normal((nJ, 1, 2))
    configs = list(product([-1, 1], repeat=4))
    ref = np.empty(len(configs))
    se = np.empty(len(configs))
    h1 = np.einsum("nij,mj->nmi", J1, S0.astype(float)) / np.sqrt(2)
    for c_idx, c in enumerate(configs):
        Sh = np.array(c, dtype=float).reshape(2, 2)
        r1 = Sh[None] * h1
        e1 = np.sum(np.where(r1 < 0, r1**2, 0.0), axis=(1, 2))
        h2 = np.einsum("nij,mj->nmi", J2, Sh) / np.sqrt(2)
        r2 = SL[None].astype(float) * h2
        e2 = np.sum(np.where(r2 < 0, r2**2, 0.0), axis=(1, 2))
        wts = np.exp(-(e1 + e2))
        ref[c_idx], se[c_idx] = wts.mean(), wts.std() / np.sqrt(nJ)
    return configs, ref / ref.sum(), se / ref.sum()
