"""Layer-wise kernel renormalization for nonlinear networks and the D×D multi-output theory
(docs/theory/nonlinear-renormalization.md). References: direct dense evaluations of the
actions (independent of the solvers' eigenbasis and adjoint code), finite differences, the
existing linear/ReLU BPKR, the GP limit and closed-form GP regression."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special

from deeprg.bpkr import fit
from deeprg.bpkr.base import architecture, base_kernel
from deeprg.bpkr.layerwise import solve_layerwise
from deeprg.bpkr.multi import fit_multi
from deeprg.errors import InputError
from deeprg.kernels import nngp
from deeprg.kernels.grad import gram_map, gram_map_vjp


def _data(P=40, N0=20, n=15, seed=0, D=None):
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((N0, D or 1))
    X, Xt = rng.standard_normal((P, N0)), rng.standard_normal((n, N0))
    y = np.tanh(X @ w / 3) + 0.1 * rng.standard_normal((P, D or 1))
    yt = np.tanh(Xt @ w / 3)
    return (X, y[:, 0], Xt, yt[:, 0]) if D is None else (X, y, Xt, yt)


def dense_action(X, y, q, widths, s2, T, act):
    """S(q) from scratch: NNGP layers of deeprg.kernels.nngp (σ² = Q_l σ_{l+1}²), dense solve."""
    L = len(widths)
    Q = np.exp(q)
    K = nngp(X, activation=act, sigma2=list(Q * np.asarray(s2[1:])), depth=L, input_sigma2=s2[0])
    A = K[-1].cov12 + T * np.eye(len(y))
    # (N_l/2)(u_l/σ_{l+1}² − log u_l) with u_l = Q_l σ_{l+1}² (the package's constant convention)
    prior = sum(0.5 * n * (Qi - np.log(Qi * s)) for n, Qi, s in zip(widths, Q, s2[1:], strict=True))
    return prior + 0.5 * y @ np.linalg.solve(A, y) + 0.5 * np.linalg.slogdet(A)[1]


@pytest.mark.parametrize("act", ["erf", "relu", "tanh"])
def test_gram_map_adjoint_matches_finite_differences(act):
    rng = np.random.default_rng(1)
    Z = rng.standard_normal((6, 4))
    K = 0.7 * Z @ Z.T / 4
    B = rng.standard_normal((6, 6))
    dK = rng.standard_normal((6, 6))
    dK = dK + dK.T
    h = 1e-6
    fd = np.sum(B * (gram_map(act, K + h * dK, 32) - gram_map(act, K - h * dK, 32))) / (2 * h)
    assert np.sum(gram_map_vjp(act, K, B, 32) * dK) == pytest.approx(fd, rel=1e-6, abs=1e-9)


@pytest.mark.parametrize("act", ["relu", "linear"])
def test_homogeneous_maps_layerwise_solver_reproduces_the_scalar_bpkr(act):
    X, y, *_ = _data()
    widths, s2, T = [30, 22, 45], [1.2, 0.9, 1.5, 1.1], 0.05
    sol = solve_layerwise(X, y, architecture(widths, s2, T), act)
    ref = fit(X, y, widths, s2, T, activation=act)
    np.testing.assert_allclose(np.exp(sol.q) * s2[1:], ref.u, rtol=1e-8)
    assert sol.action == pytest.approx(ref.action, rel=1e-10)


def test_erf_layerwise_is_stationary_point_of_the_dense_action_and_scalar_is_not():
    X, y, *_ = _data()
    widths, s2, T = [25, 40, 30], [1.3, 0.8, 1.6, 1.2], 0.05
    f = fit(X, y, widths, s2, T, activation="erf")
    q = np.log(f.u / s2[1:])
    assert f.converged and f.renormalization == "layerwise"
    assert dense_action(X, y, q, widths, s2, T, "erf") == pytest.approx(f.action, rel=1e-10)
    scale = 0.5 * np.asarray(widths)

    def grad(qv):
        h = 1e-5
        return np.array(
            [
                (
                    dense_action(X, y, qv + h * e, widths, s2, T, "erf")
                    - dense_action(X, y, qv - h * e, widths, s2, T, "erf")
                )
                / (2 * h)
                for e in np.eye(3)
            ]
        )

    assert np.max(np.abs(grad(q) / scale)) < 1e-7
    # negative control: the scalar renormalization is not a stationary point of this action
    fs = fit(X, y, widths, s2, T, activation="erf", renormalization="scalar")
    qs = np.log(fs.u / s2[1:])
    assert np.max(np.abs(grad(qs) / scale)) > 1e-3


def test_erf_one_layer_theories_coincide_and_huge_width_is_the_gp():
    X, y, Xt, yt = _data()
    a = fit(X, y, [30], [1.1, 1.4], 0.05, activation="erf")
    b = fit(X, y, [30], [1.1, 1.4], 0.05, activation="erf", renormalization="scalar")
    np.testing.assert_allclose(a.u, b.u, rtol=1e-12)
    big = fit(X, y, [10**9] * 2, 1.2, 0.1, activation="erf").errors(Xt, yt)
    gp = fit(X, y, [5, 5], 1.2, 0.1, mode="gp", activation="erf")
    assert big["eps_g"] == pytest.approx(gp.errors(Xt, yt)["eps_g"], rel=1e-6)
    # gp mode = GP regression with the NNGP kernel of deeprg.kernels.nngp
    K = nngp(X, Xt, activation=special.erf, sigma2=1.2, depth=2, input_sigma2=1.2, train_gram=True)
    k = K[-1]
    sol = np.linalg.solve(k.cov11 + 0.1 * np.eye(len(y)), np.column_stack([y, k.cov12]))
    m, v, _ = gp.predict(Xt)
    np.testing.assert_allclose(m, k.cov12.T @ sol[:, 0], atol=1e-6)
    np.testing.assert_allclose(v, k.var2 - np.einsum("pt,pt->t", k.cov12, sol[:, 1:]), atol=1e-6)


def dense_multi_action(lam_K, Y, M, widths, s2n, T):
    """Φ from scratch with the (DP)×(DP) matrix (M ⊗ K)."""
    P, D = Y.shape
    A = np.kron(M, lam_K) + T * np.eye(P * D)
    yv = Y.T.ravel()  # output-major stacking, as deepbays
    w, O = np.linalg.eigh(M)
    data = 0.5 * yv @ np.linalg.solve(A, yv) + 0.5 * np.linalg.slogdet(A)[1]
    if len(widths) == 1:
        n, s = widths[0], s2n[0]
        return data + 0.5 * n * (np.trace(M) / s - np.linalg.slogdet(M)[1])  # u = M
    from deeprg.bpkr.multi import prior_spectral

    return data + prior_spectral(w, np.asarray(widths, float), np.asarray(s2n, float))[0].sum()


def test_multi_output_with_one_column_is_the_scalar_theory():
    X, y, Xt, yt = _data()
    arch = architecture([40, 25], [1.2, 0.9, 1.5], 0.05)
    m = fit_multi(base_kernel(X, y), y[:, None], arch, "saddle")
    f = fit(X, y, [40, 25], [1.2, 0.9, 1.5], 0.05)
    np.testing.assert_allclose([q[0, 0] for q in m.Q], f.u / np.array([0.9, 1.5]), rtol=1e-9)
    assert m.action == pytest.approx(f.action, rel=1e-10)
    assert m.log_evidence == pytest.approx(f.log_evidence, rel=1e-10)
    assert m.errors(Xt, yt[:, None])["eps_g"] == pytest.approx(f.errors(Xt, yt)["eps_g"], rel=1e-9)
    assert m.train_error() == pytest.approx(f.train_error(), rel=1e-9)


@pytest.mark.parametrize("act,widths", [("erf", [35]), ("linear", [30, 45]), ("linear", [25])])
def test_multi_output_is_the_minimum_of_the_dense_kronecker_action(act, widths):
    X, Y, Xt, Yt = _data(P=25, N0=12, D=3, seed=3)
    s2, T = [1.1] + [1.3] * len(widths), 0.05
    f = fit(X, Y, widths, s2, T, activation=act)
    assert f.converged
    if act == "linear":
        K = s2[0] * X @ X.T / X.shape[1]
    else:
        K = nngp(X, activation=act, sigma2=1.0, depth=1, input_sigma2=s2[0])[-1].cov12
    s2n = s2[1:]
    phi0 = dense_multi_action(K, Y, f.M, widths, s2n, T)
    assert phi0 == pytest.approx(f.action, rel=1e-9)
    rng = np.random.default_rng(0)
    for _ in range(5):  # every nearby symmetric positive M has a larger action
        E = rng.standard_normal((3, 3)) * 1e-3
        Mp = f.M + (E + E.T) / 2
        assert dense_multi_action(K, Y, Mp, widths, s2n, T) > phi0
    # negative control: the GP point (M = Π σ² I) is not a minimum
    gp = fit(X, Y, widths, s2, T, activation=act, mode="gp")
    assert dense_multi_action(K, Y, gp.M, widths, s2n, T) > phi0 + 1e-3


def test_multi_output_rotation_equivariance_and_gp_regression():
    X, Y, Xt, Yt = _data(P=30, N0=15, D=3, seed=4)
    R = np.linalg.qr(np.random.default_rng(5).standard_normal((3, 3)))[0]
    a = fit(X, Y, [20], 1.0, 0.05, activation="erf")
    b = fit(X, Y @ R, [20], 1.0, 0.05, activation="erf")
    np.testing.assert_allclose(b.M, R.T @ a.M @ R, atol=1e-8)
    ma, va = a.predict(Xt)
    mb, _ = b.predict(Xt)
    np.testing.assert_allclose(mb, ma @ R, atol=1e-8)
    # gp mode: independent GP regression per output
    g = fit(X, Y, [20], [1.0, 1.7], 0.05, mode="gp")
    K0 = X @ X.T / X.shape[1]
    k = X @ Xt.T / X.shape[1]
    mean = 1.7 * k.T @ np.linalg.solve(1.7 * K0 + 0.05 * np.eye(30), Y)
    np.testing.assert_allclose(g.predict(Xt)[0], mean, atol=1e-10)
    e = g.errors(Xt, Yt)
    assert 0.0 <= e["accuracy"] <= 1.0 and len(e["eps_g_per_output"]) == 3


def test_undefined_combinations_are_refused_in_one_line():
    X, Y, *_ = _data(D=2)
    for kwargs, match in [
        ({"widths": [5, 5], "activation": "erf"}, "one hidden layer"),
        ({"widths": [5], "mode": "exact"}, "exact"),
        ({"widths": [5], "activation": "sigmoid"}, "activation"),
        ({"widths": [5], "renormalization": "matrix"}, "renormalization"),
    ]:
        with pytest.raises(InputError, match=match) as info:
            fit(X, Y, T=0.1, **kwargs)
        assert "\n" not in str(info.value)
    with pytest.raises(InputError, match="exact"):
        fit(X, Y[:, 0], [5], 1.0, 0.1, mode="exact", activation="erf")
