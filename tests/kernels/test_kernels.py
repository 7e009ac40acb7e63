"""NNGP kernels: closed forms vs independent quadrature and Monte Carlo networks, guards, limits."""

import dataclasses
import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, special, stats

from deeprg.errors import InputError
from deeprg.kernels import (
    Kernel,
    erf_map,
    input_kernel,
    nngp,
    nngp_layer,
    quadrature_map,
    relu_base_kernel,
    relu_cross_fn,
    relu_map,
)


def relu(h):
    return np.maximum(h, 0.0)


def _inputs(n=6, n0=12, seed=0):
    return np.random.default_rng(seed).standard_normal((n, n0))


def _relu_semi_analytic(k12, v1, v2):
    """E[relu(h) relu(h')] as a 1-D integral with the inner Gaussian expectation in closed form.

    h = a z1, h' = μ + σ z2 with μ = b c z1, σ = b √(1−c²); E_z2[relu(μ + σ z2)] =
    μ Φ(μ/σ) + σ φ(μ/σ). Independent of the arc-cosine formula and of Gauss–Hermite.
    """
    a, b = np.sqrt(v1), np.sqrt(v2)
    c = k12 / (a * b)
    sd = b * np.sqrt(1 - c * c)

    def f(z):
        mu = b * c * z
        inner = mu * stats.norm.cdf(mu / sd) + sd * stats.norm.pdf(mu / sd)
        return a * z * inner * stats.norm.pdf(z)

    return integrate.quad(f, 0, np.inf, epsabs=1e-13, epsrel=1e-12)[0]


@pytest.mark.parametrize("c", [-0.999, -0.6, 0.0, 0.3, 0.9, 0.9999])
def test_relu_closed_form_vs_semi_analytic_integral(c):
    v1, v2 = 1.7, 0.4
    k12 = c * np.sqrt(v1 * v2)
    got = relu_map(np.array([[k12]]), np.array([v1]), np.array([v2]))[0, 0]
    assert got == pytest.approx(_relu_semi_analytic(k12, v1, v2), rel=1e-9, abs=1e-13)


def test_erf_closed_form_vs_gauss_hermite():
    K = input_kernel(_inputs(8), sigma2=1.5)
    exact = erf_map(K.cov12, K.var1, K.var2)
    quad = quadrature_map(special.erf, K.cov12, K.var1, K.var2, order=120)
    np.testing.assert_allclose(quad, exact, rtol=0, atol=1e-10)


def test_gauss_hermite_exact_for_polynomials():
    """Product GH with m nodes is exact for polynomials of degree < 2m per axis."""
    K = input_kernel(_inputs(7))
    k, v = K.cov12, K.var1
    sq = quadrature_map(np.square, k, v, v, order=8)
    np.testing.assert_allclose(sq, np.outer(v, v) + 2 * k**2, rtol=1e-12)
    cube = quadrature_map(lambda h: h**3, k, v, v, order=8)
    np.testing.assert_allclose(cube, 9 * np.outer(v, v) * k + 6 * k**3, rtol=1e-11, atol=1e-12)


def test_relu_gauss_hermite_converges_to_closed_form():
    """The kink makes GH converge only ~1/order for ReLU; the error must shrink accordingly."""
    K = input_kernel(_inputs(8))
    exact = relu_map(K.cov12, K.var1, K.var2)
    err = [
        np.abs(quadrature_map(relu, K.cov12, K.var1, K.var2, order=m) - exact).max() / exact.max()
        for m in (20, 80)
    ]
    assert err[1] < 0.4 * err[0] and err[1] < 5e-3


def _mc_network_kernels(X, activation, sigma2, depth, width, reps, seed, literal):
    """Empirical K_l = σ² φ(h^l)φ(h^l)^T / N of random networks; shape (reps, depth, n, n).

    ``literal``: explicit weight matrices W ~ N(0, 1) (h^{l+1} = W φ(h^l)√(σ²/N)); otherwise the
    exactly equivalent layer-wise law h^{l+1} | h^l ~ N(0, σ² φφ^T/N) per neuron (Cholesky).
    """
    rng = np.random.default_rng(seed)
    n, n0 = X.shape
    out = np.empty((reps, depth, n, n))
    for r in range(reps):  # independent networks
        h = X @ rng.standard_normal((n0, width)) / np.sqrt(n0)  # (n, N), cov K0 = X X^T/N0
        for l in range(depth):
            f = activation(h)
            K = sigma2 * f @ f.T / width
            out[r, l] = K
            if literal:
                h = np.sqrt(sigma2 / width) * f @ rng.standard_normal((width, width))
            else:
                Lc = np.linalg.cholesky(K + 1e-13 * np.trace(K) * np.eye(n))
                h = Lc @ rng.standard_normal((n, width))
    return out


@pytest.mark.parametrize(
    "name,phi,sigma2", [("relu", relu, 2.0), ("erf", special.erf, 1.3), (np.tanh, np.tanh, 1.6)]
)
def test_kernels_vs_wide_random_networks(name, phi, sigma2):
    """Mean empirical kernel of 300 networks of width 4000, depth 3, within 5 standard errors.

    The standard error is ≤ 0.4% relative (a 1% error in σ² already gives ~6 SE at depth 3);
    the finite-width bias is O(1/N) ≈ 3e-4 per layer, below 0.3 SE, so the tolerance is set
    by the Monte Carlo error alone.
    """
    X = _inputs(4, 10, seed=1)
    X[3] = -X[0]  # an antipodal pair
    emp = _mc_network_kernels(X, phi, sigma2, 3, 4000, 300, seed=7, literal=False)
    theory = np.stack([k.cov12 for k in nngp(X, activation=name, sigma2=sigma2, depth=3)[1:]])
    mean = emp.mean(0)
    se = emp.std(0, ddof=1) / np.sqrt(emp.shape[0])
    z = np.abs(mean - theory) / np.maximum(se, 1e-12)
    assert z.max() < 5.0, z.max()


def test_relu_vs_literal_weight_networks():
    """Explicit weight matrices (width 2000, depth 2, 12 networks), tolerance 5 SE."""
    X = _inputs(3, 10, seed=2)
    emp = _mc_network_kernels(X, relu, 2.0, 2, 2000, 12, seed=3, literal=True)
    theory = np.stack([k.cov12 for k in nngp(X, activation="relu", sigma2=2.0, depth=2)[1:]])
    se = emp.std(0, ddof=1) / np.sqrt(emp.shape[0])
    assert (np.abs(emp.mean(0) - theory) / se).max() < 5.0


def test_relu_guard_at_correlation_pm1():
    v = np.array([0.3, 2.0, 5.5])
    d = np.diag(v)
    K = np.outer(np.sqrt(v), np.sqrt(v))  # all correlations exactly 1
    assert np.array_equal(np.diag(relu_map(d * 0 + np.diag(v), v, v)), v / 2)
    assert np.array_equal(relu_map(np.diag(-v), v, v).diagonal(), np.zeros(3))
    over = relu_map(K * (1 + 4e-16), v, v)  # round-off pushes c above 1
    under = relu_map(-K * (1 + 4e-16), v, v)
    assert np.all(np.isfinite(over)) and np.all(np.isfinite(under))
    np.testing.assert_allclose(over, K / 2, rtol=1e-15)
    np.testing.assert_array_equal(under, 0.0)


def test_identical_and_antipodal_inputs_through_depth():
    X = _inputs(3)
    X2 = np.vstack([X, -X])
    ks = nngp(X, X2, activation="relu", sigma2=2.0, depth=6, train_gram=True)
    for k in ks[1:]:
        assert np.all(np.isfinite(k.cov12))
        np.testing.assert_allclose(k.cov12[:, :3].diagonal(), k.var1, rtol=1e-14)
        np.testing.assert_array_equal(k.cov11.diagonal(), k.var1)
    # ReLU maps antipodal inputs to exactly uncorrelated ones after one layer
    assert np.abs(ks[1].cov12[:, 3:].diagonal()).max() <= 1e-14 * ks[1].var1.max()
    g = nngp(X, activation="relu", sigma2=2.0, depth=6)
    for k in g:  # Gram diagonal is exactly the variance
        np.testing.assert_array_equal(k.cov12.diagonal(), k.var1)


def test_relu_halves_variance_and_generic_path_agrees():
    X = _inputs(5)
    ks = nngp(X, activation="relu", sigma2=1.7, depth=4)
    for a, b in itertools.pairwise(ks):
        np.testing.assert_allclose(b.var1, 1.7 / 2 * a.var1, rtol=1e-15)
    q = nngp_layer(ks[0], relu, 1.7)  # 1-D GH on the diagonal: kink at 0, even order → exact-ish
    np.testing.assert_allclose(q.var1, ks[1].var1, rtol=1e-12)


@settings(max_examples=40, deadline=None)
@given(
    c=st.floats(0.01, 100.0),
    v1=st.floats(1e-3, 10.0),
    v2=st.floats(1e-3, 10.0),
    rho=st.floats(-1.0, 1.0),
)
def test_relu_map_positively_homogeneous(c, v1, v2, rho):
    k12 = np.array([[rho * np.sqrt(v1 * v2)]])
    a, b = np.array([v1]), np.array([v2])
    np.testing.assert_allclose(
        relu_map(c * k12, c * a, c * b), c * relu_map(k12, a, b), rtol=1e-12, atol=1e-300
    )


def test_linear_reduces_to_sigma_power_times_input_kernel():
    X = _inputs(5)
    s2 = [0.5, 2.0, 1.3]
    ks = nngp(X, X[:2], activation="linear", sigma2=s2, depth=3)
    for l, k in enumerate(ks):
        np.testing.assert_allclose(k.cov12, np.prod(s2[:l]) * X @ X[:2].T / X.shape[1], rtol=1e-14)


@pytest.mark.parametrize("act", ["relu", "erf", "linear", np.tanh])
def test_grams_are_psd(act):
    X = _inputs(25, 6, seed=5)
    for k in nngp(X, activation=act, sigma2=1.8, depth=3, order=24):
        ev = np.linalg.eigvalsh(k.cov12)
        assert ev.min() >= -1e-12 * ev.max()


def test_relu_base_kernel_is_sigma_free_and_cross_fn():
    X, Xt = _inputs(6), _inputs(3, seed=9)
    L, s2 = 3, 2.7
    base = relu_base_kernel(X, Xt, depth=L, train_gram=True)
    full = nngp(X, Xt, activation="relu", sigma2=s2, depth=L, train_gram=True)[-1]
    np.testing.assert_allclose(full.cov12 / s2**L, base.cov12, rtol=1e-13)
    np.testing.assert_allclose(full.cov11 / s2**L, base.cov11, rtol=1e-13)
    k, d = relu_cross_fn(L)(X, Xt)
    np.testing.assert_array_equal(k, base.cov12)
    np.testing.assert_array_equal(d, base.var2)
    np.testing.assert_allclose(relu_base_kernel(X, depth=L).cov12, base.cov11, rtol=1e-14)


def test_kernel_value_and_replace():
    k = input_kernel(_inputs(4))
    assert isinstance(k, Kernel) and k.same and k.shape == (4, 4) and k.layer == 0
    k2 = k.replace(layer=5)
    assert k2.layer == 5 and k.layer == 0
    with pytest.raises(dataclasses.FrozenInstanceError):
        k.layer = 1  # type: ignore[misc]
    with pytest.raises(InputError, match="train_gram"):
        input_kernel(_inputs(4), _inputs(2)).gram  # noqa: B018


def test_zero_input_gives_zero_not_nan():
    """A zero input has zero preactivations in every layer (no biases), and φ(0) = 0 for
    these activations: its kernel row, column and variance are exactly 0 (not NaN), and the
    other inputs' kernels are those computed without it."""
    X = _inputs(3)
    X[1] = 0.0
    for act in ("relu", "erf", np.tanh):
        k = nngp(X, activation=act, sigma2=1.0, depth=2, order=16)[-1]
        np.testing.assert_array_equal(k.cov12[1], 0.0)
        np.testing.assert_array_equal(k.cov12[:, 1], 0.0)
        assert k.var1[1] == 0.0
        rest = nngp(X[[0, 2]], activation=act, sigma2=1.0, depth=2, order=16)[-1]
        np.testing.assert_allclose(k.cov12[np.ix_([0, 2], [0, 2])], rest.cov12, rtol=1e-12)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"activation": "gelu", "sigma2": 1.0, "depth": 1}, "activation must be one of"),
        ({"activation": "relu", "sigma2": 0.0, "depth": 1}, "sigma2 must be"),
        ({"activation": "relu", "sigma2": [1.0, 2.0], "depth": 3}, "sigma2 must be one value"),
        ({"activation": "relu", "sigma2": 1.0, "depth": -1}, "depth must be"),
        ({"activation": "relu", "sigma2": 1.0, "depth": 1, "order": 1}, "order must be"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(InputError, match=match):
        nngp(_inputs(3), **kwargs)


def test_bad_inputs():
    X = _inputs(3)
    with pytest.raises(InputError, match="X2 must have"):
        input_kernel(X, X[:, :4])
    Xn = X.copy()
    Xn[0, 0] = np.nan
    with pytest.raises(InputError, match="NaN"):
        input_kernel(Xn)
