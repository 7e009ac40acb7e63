"""Remaining special-function derivatives vs finite differences and the asymptotic branch of
the Mills-ratio product (deep-perceptron-networks.md §3.4, §3.6, §3.10, §6.3 items 8–9)."""

import numpy as np
import pytest
from scipy import integrate, stats

from deeprg.perceptron.replica import special as sp


def test_ising_entropies_are_stationary_at_their_q():
    """∂s/∂q̂ = ½(q − E tanh²) and ∂s_TS/∂q̂ = ½(E tanh(q̂ + √q̂ z) − q) (Nishimori identity)."""
    qh = np.array([0.05, 0.4, 1.5, 6.0])
    q = np.full_like(qh, 0.3)
    h = 1e-6
    fd = (sp.ising_s(q, qh + h) - sp.ising_s(q, qh - h)) / (2 * h)
    np.testing.assert_allclose(fd, 0.5 * (q - sp.ising_q(qh)), atol=1e-8)
    fd = (sp.ising_s_ts(q, qh + h) - sp.ising_s_ts(q, qh - h)) / (2 * h)
    np.testing.assert_allclose(fd, 0.5 * (sp.ising_q_ts(qh) - q), atol=1e-8)
    # Nishimori: E tanh = E tanh² at the teacher-student field
    z = sp._gh(qh, qh)
    np.testing.assert_allclose(np.tanh(z) @ sp._GH_W, np.tanh(z) ** 2 @ sp._GH_W, atol=1e-10)


def test_weight_entropies_derivatives():
    Q = np.array([0.1, 0.5, 0.9])
    h = 1e-7
    np.testing.assert_allclose(
        (sp.w_rs(Q + h) - sp.w_rs(Q - h)) / (2 * h), Q / (2 * (1 - Q) ** 2), rtol=1e-6
    )
    np.testing.assert_allclose(
        (sp.w_ts(Q + h) - sp.w_ts(Q - h)) / (2 * h), -Q / (2 * (1 - Q)), rtol=1e-6
    )


def test_mills_product_branches_and_field_u():
    def rr_cf(x, n=400):
        """Laplace's continued fraction R = x + 1/(x + 2/(x + 3/…)) (independent reference):
        R − x = 1/t₂ with t₂ = x + 2/(x + 3/…), so R(R − x) = (x + 1/t₂)/t₂ (no cancellation)."""
        t = x
        for k in range(n, 1, -1):
            t = x + k / t
        return (x + 1 / t) / t

    x = np.array([5.0, 29.999999, 30.000001, 1e3])
    ref = np.array([rr_cf(xi) for xi in x])
    # direct branch (x <= 30) loses digits to the cancellation in R − x; series branch ~1e-13
    np.testing.assert_allclose(sp.mills_rr(x), ref, rtol=1e-10)
    # far tail: tends to 1, never blows up (§3.10 trap: the naive formula gives I = 76, and
    # the spec's (1 − x m)/m² gives 1.11 at x = 1e8)
    np.testing.assert_allclose(sp.mills_rr(np.array([1e5, 1e8, 1e12])), 1.0, atol=1e-9)
    # I(p) → ½ with I(p) − ½ ≈ (1 − p)/2 as p → 1 (§6.3 item 9)
    for p in (1 - 1e-6, 1 - 1e-9, 1 - 1e-12):
        assert sp.I_of(np.array([p]))[0] - 0.5 == pytest.approx((1 - p) / 2, rel=2e-3)
    assert sp.mills_rr(np.array([-40.0]))[0] == pytest.approx(0.0, abs=1e-300)
    # u(x) = ½ ln[Φ(x)/Φ(−x)] is odd, ≈ x √(2/π) near 0 and ≈ x²/2 for large x
    xs = np.array([1e-4, 3.0, 40.0])
    np.testing.assert_allclose(sp.u_field(-xs), -sp.u_field(xs))
    assert sp.u_field(xs[:1])[0] == pytest.approx(xs[0] * np.sqrt(2 / np.pi), rel=1e-6)
    # large x: ln Φ(−x) ≈ −x²/2 − ln(x√(2π)), so u ≈ x²/4 + ½ ln(x√(2π))
    assert sp.u_field(xs[2:])[0] == pytest.approx(
        40.0**2 / 4 + np.log(40.0 * np.sqrt(2 * np.pi)) / 2, rel=1e-6
    )


@pytest.mark.parametrize("p", [0.3, 0.999, 1 - 1e-7])
def test_large_gamma_grid_vs_quad(p):
    """G(p) on the refined grid of §3.10 against adaptive quadrature in x = γz."""
    g = np.sqrt(p / (1 - p))
    ref = integrate.quad(
        lambda x: stats.norm.pdf(x / g) / g * stats.norm.logcdf(x),
        -12 * g,
        12 * g,
        points=[0.0],
        limit=400,
    )[0]
    assert sp.G(np.array([p]))[0] == pytest.approx(ref, rel=1e-8, abs=1e-10)
