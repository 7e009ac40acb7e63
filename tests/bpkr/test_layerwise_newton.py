"""Cholesky–Newton path of the erf layer-wise solver (deeprg.bpkr.layerwise_newton,
docs/theory/nonlinear-renormalization.md §2.4) and its fused Gram-map kernels.

References independent of the new code: the NumPy Gram map and adjoint of
deeprg.kernels.grad, finite differences, a dense evaluation of the action from the NNGP
layers of deeprg.kernels.nngp, and the eigen-path solver (quasi-Newton on the reduced action).
"""

from __future__ import annotations

import numpy as np
import pytest

from deeprg.bpkr import layerwise
from deeprg.bpkr.base import architecture
from deeprg.bpkr.layerwise import solve_layerwise
from deeprg.bpkr.layerwise_newton import CholeskyAction, newton_solve
from deeprg.kernels import nngp
from deeprg.kernels.erf_fused import erf_gram, erf_hess, erf_jvp, erf_vjp, inner_lower
from deeprg.kernels.grad import gram_map, gram_map_vjp


def _data(P=40, N0=12, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((P, N0))
    y = np.tanh(X @ rng.standard_normal(N0) / 3) + 0.1 * rng.standard_normal(P)
    return X, y


def _sym(rng, P):
    M = rng.standard_normal((P, P))
    return M + M.T


def _gram_pair(P=9, seed=1):
    rng = np.random.default_rng(seed)
    Z = rng.standard_normal((P, 4))
    return rng, 0.8 * Z @ Z.T / 4


def test_fused_erf_map_and_adjoint_match_the_numpy_reference():
    rng, K = _gram_pair()
    P = K.shape[0]
    np.testing.assert_allclose(erf_gram(K, np.empty_like(K)), gram_map("erf", K), atol=1e-15)
    B = _sym(rng, P)
    ref = gram_map_vjp("erf", K, B)
    np.testing.assert_allclose(erf_vjp(K, B, np.empty_like(K)), 0.5 * (ref + ref.T), atol=1e-13)
    U = _sym(rng, P)
    assert inner_lower(B, U) == pytest.approx(float(np.sum(B * U)), rel=1e-13)


def test_fused_erf_derivatives_match_finite_differences():
    rng, K = _gram_pair()
    P = K.shape[0]
    U, V, B = _sym(rng, P), _sym(rng, P), _sym(rng, P)
    h = 1e-6
    fd = (gram_map("erf", K + h * U) - gram_map("erf", K - h * U)) / (2 * h)
    jvp = erf_jvp(K, U, np.empty_like(K))
    np.testing.assert_allclose(jvp, fd, rtol=1e-6, atol=1e-8)
    h = 1e-5
    fd2 = np.sum(
        B * (erf_jvp(K + h * V, U, np.empty_like(K)) - erf_jvp(K - h * V, U, np.empty_like(K)))
    )
    assert erf_hess(K, B, U, V) == pytest.approx(fd2 / (2 * h), rel=1e-6)
    # negative control: without the variance (diagonal) terms the derivative is wrong
    off = U - np.diag(np.diag(U))
    assert np.max(np.abs(erf_jvp(K, off, np.empty_like(K)) - fd)) > 1e-2


def _dense_S(X, y, q, widths, s2, T):
    """S(q) from the NNGP layers of deeprg.kernels.nngp and a dense solve; constant convention
    (N_l/2)(Q_l − log Q_l) of layerwise_newton (GP layers: no prior term)."""
    Q = np.exp(q)
    L = len(widths)
    K = nngp(X, activation="erf", sigma2=list(Q * np.asarray(s2[1:])), depth=L, input_sigma2=s2[0])
    A = K[-1].cov12 + T * np.eye(len(y))
    N = np.asarray(widths, float)
    prior = float(
        np.sum(np.where(np.isfinite(N), 0.5 * np.where(np.isfinite(N), N, 0) * (Q - q), 0))
    )
    return prior + 0.5 * y @ np.linalg.solve(A, y) + 0.5 * np.linalg.slogdet(A)[1]


@pytest.mark.parametrize(
    "widths", [[30.0, 25.0], [30.0, 25.0, 40.0], [np.inf, 25.0, 40.0], [30.0, 25.0, np.inf]]
)
def test_cholesky_action_gradient_and_hessian(widths):
    X, y = _data()
    L = len(widths)
    s2, T = [1.2, *[0.9, 1.4, 1.1][:L]], 0.05
    act = CholeskyAction(X, y, architecture(widths, s2, T))
    rng = np.random.default_rng(3)
    fin = np.isfinite(widths)
    q = np.where(fin, rng.normal(0.0, 0.2, L), 0.0)
    ev = act(q, "exact")
    assert ev is not None
    assert ev.S == pytest.approx(_dense_S(X, y, q, widths, s2, T), rel=1e-12)
    h = 1e-5
    for i in np.flatnonzero(fin):
        e = h * np.eye(L)[i]
        fd = (_dense_S(X, y, q + e, widths, s2, T) - _dense_S(X, y, q - e, widths, s2, T)) / (2 * h)
        assert ev.g[i] == pytest.approx(fd, rel=1e-7, abs=1e-8)
        plus, minus = act(q + e, "exact"), act(q - e, "exact")
        assert plus is not None and minus is not None
        np.testing.assert_allclose(ev.H[i], (plus.g - minus.g) / (2 * h), rtol=1e-6, atol=1e-6)
    assert np.all(ev.g[~fin] == 0.0)
    # proj mode: the same gradient; its Hessian is exact up to the stored residual
    proj = act(q, "proj")
    assert proj is not None
    np.testing.assert_array_equal(proj.g, ev.g)
    np.testing.assert_allclose(proj.H, ev.H, rtol=1e-5)


@pytest.mark.parametrize(
    "widths, s2",
    [
        ([30, 22], [1.3, 0.8, 1.6]),
        ([25, 40, 30], [1.3, 0.8, 1.6, 1.2]),
        ([25, np.inf, 30], [1.0, 1.1, 0.9, 1.2]),
        ([25, 40, np.inf], [1.0, 1.1, 0.9, 1.2]),
    ],
)
def test_newton_path_agrees_with_the_eigen_path(widths, s2, monkeypatch):
    X, y = _data()
    arch = architecture(widths, s2, 0.05)
    new = solve_layerwise(X, y, arch, "erf", gtol=1e-11)
    with monkeypatch.context() as m:
        m.setattr(layerwise, "_newton_applies", lambda *a: False)
        old = solve_layerwise(X, y, arch, "erf", gtol=1e-11)
    assert new.converged and old.converged
    np.testing.assert_allclose(new.q, old.q, rtol=0, atol=1e-8)
    assert new.action == pytest.approx(old.action, rel=1e-12)
    assert new.log_evidence == pytest.approx(old.log_evidence, rel=1e-12)
    assert new.grad_norm <= 1e-11


def test_newton_reports_failure():
    X, y = _data()
    arch = architecture([30, 25, 40], [1.2, 0.9, 1.4, 1.1], 0.05)
    _, _, _, ok = newton_solve(CholeskyAction(X, y, arch), maxiter=1)
    assert not ok  # one step from the GP point is not converged, and says so
    # a singular K_L + T I (duplicated inputs, T = 0) is refused, not factored
    Xd = np.vstack([X[:5], X[:5]])
    yd = np.concatenate([y[:5], y[:5]])
    assert CholeskyAction(Xd, yd, architecture([30, 25], [1.0, 1.0, 1.0], 0.0))(np.zeros(2)) is None


def test_fused_hessian_contractions_agree():
    from deeprg.kernels.erf_fused import erf_hess2, erf_hess_all

    rng, K = _gram_pair()
    P = K.shape[0]
    B, U, V, W = (_sym(rng, P) for _ in range(4))
    dirs = np.stack([U, V, W])
    H = erf_hess_all(K, B, dirs)
    for a in range(3):
        for b in range(3):
            assert H[a, b] == pytest.approx(erf_hess(K, B, dirs[a], dirs[b]), rel=1e-12)
    np.testing.assert_allclose(erf_hess2(K, B, U, V), H[:2, :2], rtol=1e-12)


def test_strongly_nonlinear_narrow_network_converges_on_the_newton_path(monkeypatch):
    # widths of 7..20 units and T = 4e-5: far from the GP point, where the projected Hessian
    # with a stale residual would stall; the iteration must finish without the fallback
    rng = np.random.default_rng(0)
    X = 2.0 * rng.standard_normal((120, 8))
    y = np.tanh(X @ rng.standard_normal(8) / 3) + 0.2 * rng.standard_normal(120)
    arch = architecture([20, 13, 7], [1.5, 2.0, 0.8, 1.7], 4e-5)
    _, _, n, ok = newton_solve(CholeskyAction(X, y, arch))
    assert ok and n <= 10
    new = solve_layerwise(X, y, arch, "erf")
    monkeypatch.setattr(layerwise, "_newton_applies", lambda *a: False)
    old = solve_layerwise(X, y, arch, "erf")
    assert new.converged and old.converged
    np.testing.assert_allclose(new.q, old.q, rtol=0, atol=1e-8)


def test_newton_solution_is_the_root_of_the_dense_action_gradient():
    # independent of every solver in the package: scipy's MINPACK root of the central-difference
    # gradient of S evaluated densely from deeprg.kernels.nngp
    from scipy.optimize import root

    X, y = _data(P=30, N0=6, seed=4)
    widths, s2, T = [18.0, 25.0, 12.0], [1.1, 1.4, 0.9, 1.3], 0.03
    sol = solve_layerwise(X, y, architecture(widths, s2, T), "erf", gtol=1e-11)

    def grad(q, h=1e-5):
        return np.array(
            [
                (
                    _dense_S(X, y, q + h * e, widths, s2, T)
                    - _dense_S(X, y, q - h * e, widths, s2, T)
                )
                / (2 * h)
                for e in np.eye(3)
            ]
        )

    ref = root(grad, np.zeros(3), tol=1e-11)
    assert np.max(np.abs(grad(ref.x))) < 1e-7  # a root up to the finite-difference noise
    np.testing.assert_allclose(sol.q, ref.x, rtol=0, atol=1e-8)
    # negative control: the GP point (Q = 1) is far from stationary
    assert np.max(np.abs(grad(np.zeros(3)))) > 1.0


def test_a_failed_check_is_corrected_on_the_eigen_path(monkeypatch):
    import deeprg.bpkr.layerwise_newton as ln

    X, y = _data()
    arch = architecture([25, 40, 30], [1.3, 0.8, 1.6, 1.2], 0.05)
    ref = solve_layerwise(X, y, arch, "erf")
    solve = ln.newton_solve

    def off(action, **kw):  # hand the check a point 1e-4 away from the minimum
        q, ev, n, ok = solve(action, **kw)
        return q + 1e-4, ev, n, ok

    monkeypatch.setattr(ln, "newton_solve", off)
    sol = solve_layerwise(X, y, arch, "erf")
    assert sol.converged and sol.grad_norm <= 1e-9
    assert sol.evaluations > ref.evaluations  # the check failed and was corrected
    np.testing.assert_allclose(sol.q, ref.q, rtol=0, atol=1e-8)
