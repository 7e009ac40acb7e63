"""Kernel path memory (issue 13 item 4): the in-place ReLU Gram and in-place decomposition
give the same numbers as the straightforward constructions. (Peak memory itself is measured
in benchmarks/bench_bpkr_scale.py, not in tests.)"""

from __future__ import annotations

import numpy as np
import pytest

from deeprg.bpkr import base, base_kernel
from deeprg.bpkr.relu import relu_gram
from deeprg.errors import InputError
from deeprg.kernels import relu_base_kernel


@pytest.mark.parametrize("depth", [0, 1, 3])
def test_blocked_in_place_relu_gram_equals_the_nngp_recursion(depth, monkeypatch):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((57, 9))
    X[5] = X[4]  # duplicate inputs (c = 1 exactly on the guarded arc-cosine)
    monkeypatch.setattr("deeprg.bpkr.relu._BLOCK", 200)  # several row blocks
    ref = relu_base_kernel(X, depth=depth).cov12
    np.testing.assert_allclose(relu_gram(X, depth), ref, rtol=1e-14, atol=1e-15)


def test_user_gram_is_not_overwritten_and_spectrum_matches_numpy():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((30, 40))
    y = rng.standard_normal(30)
    gram = X @ X.T / 40 + 0.1 * np.eye(30)  # distinct eigenvalues
    keep = gram.copy()
    kern = base_kernel(X, y, gram=gram, path="kernel")
    np.testing.assert_array_equal(gram, keep)
    evals, evecs = np.linalg.eigh(keep)
    np.testing.assert_allclose(kern.evals, evals, rtol=1e-12)
    np.testing.assert_allclose(kern.ytil**2, (evecs.T @ y) ** 2, rtol=1e-9, atol=1e-12)


def test_kernel_memory_estimate_uses_the_measured_peak(monkeypatch):
    monkeypatch.setattr("deeprg.errors.available_memory", lambda: 10**9)
    P = 10_000  # 2.5 P×P float64 = 2 GB > 1 GB available
    with pytest.raises(InputError, match=r"2.5 P×P float64 arrays\) needs about 2 GB"):
        base.check_kernel_memory(P)
    assert base.check_kernel_memory(5_000) == pytest.approx(2.5 * 8 * 5_000**2)
