"""Blocked Gibbs: the first layer's feature-space conditional and the Cholesky/triangular-solve
draws equal the direct Gaussian conditional (same random numbers, same draw)."""

import numpy as np
import pytest

from deeprg.sampling import samplers as S


def _direct(Phi, y, s2, T, z):
    """w = μ + Σ^{1/2}-draw computed with explicit dense linear algebra (independent reference):
    Σ⁻¹ = I/s2 + ΦᵀΦ/T = LLᵀ, μ = Σ Φᵀy/T, w = μ + L⁻ᵀ z."""
    out = []
    for c in range(Phi.shape[0]):
        prec = np.eye(Phi.shape[2]) / s2 + Phi[c].T @ Phi[c] / T
        L = np.linalg.cholesky(prec)
        mu = np.linalg.inv(prec) @ (Phi[c].T @ y / T)
        out.append(mu + np.linalg.inv(L.T) @ z[c])
    return np.array(out)


@pytest.mark.parametrize(("P", "d"), [(30, 12), (12, 30), (20, 20)])
def test_first_layer_feature_space_equals_the_generic_conditional(P, d):
    rng = np.random.default_rng(P * 100 + d)
    X, y, C = rng.standard_normal((P, d)), rng.standard_normal(P), 4
    rn = rng.random(C) + 0.5
    gram = (X @ X.T if P < d else X.T @ X) / d
    a = S._first_layer(X, gram, X.T @ y, rn, y, 1.3, 0.1, np.random.default_rng(5))
    Phi = rn[:, None, None] * np.broadcast_to(X, (C, P, d)) / np.sqrt(d)
    b = S._blr_sample(Phi, y, 1.3, 0.1, np.random.default_rng(5))
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)


def test_cholesky_draw_equals_the_dense_formula():
    rng = np.random.default_rng(1)
    C, P, d = 3, 25, 6
    Phi, y = rng.standard_normal((C, P, d)), rng.standard_normal(P)
    got = S._blr_sample(Phi, y, 0.7, 0.2, np.random.default_rng(9))
    z = np.random.default_rng(9).standard_normal((C, d, 1))[..., 0]
    np.testing.assert_allclose(got, _direct(Phi, y, 0.7, 0.2, z), rtol=1e-10, atol=1e-12)


def test_matheron_draw_has_the_conditional_mean_and_covariance():
    """P < d: Matheron's rule against the closed-form mean and covariance (10⁴ draws)."""
    rng = np.random.default_rng(2)
    P, d, s2, T = 3, 5, 0.8, 0.3
    Phi1, y = rng.standard_normal((P, d)), rng.standard_normal(P)
    n = 20000
    w = S._blr_sample(np.broadcast_to(Phi1, (n, P, d)), y, s2, T, np.random.default_rng(3))
    prec = np.eye(d) / s2 + Phi1.T @ Phi1 / T
    cov = np.linalg.inv(prec)
    mu = cov @ Phi1.T @ y / T
    z = (w.mean(0) - mu) / np.sqrt(np.diag(cov) / n)
    assert np.max(np.abs(z)) < 4.5
    np.testing.assert_allclose(np.cov(w.T), cov, atol=6 * np.max(np.diag(cov)) / np.sqrt(n))
    # negative control: a wrong temperature moves the mean by many standard errors
    w_bad = S._blr_sample(np.broadcast_to(Phi1, (n, P, d)), y, s2, 2 * T, np.random.default_rng(3))
    assert np.max(np.abs((w_bad.mean(0) - mu) / np.sqrt(np.diag(cov) / n))) > 6
