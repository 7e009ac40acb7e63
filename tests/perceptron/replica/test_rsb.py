"""k-step RSB of the layered chain and the RS replicon (deep-perceptron-networks.md §3.9, §6.3
items 7–8): reductions to RS, level derivatives vs finite differences, the n → 0 Parisi
inversion vs the closed-form ln det, stationarity of the assembled free entropy at the solved
saddle, Gardner's RS stability at L = 1, and the level hierarchy."""

import numpy as np
import pytest

from deeprg.perceptron.replica import factors as F
from deeprg.perceptron.replica import rs_replicon, solve_path, solve_rs, solve_rsb
from deeprg.perceptron.replica import special as sp
from deeprg.perceptron.replica.chain import Chain
from deeprg.perceptron.replica.parisi import lndet_parisi, lndet_parisi_batch


def test_recursions_reduce_to_rs():
    p = np.array([[0.1], [0.5], [0.8]])
    G, M = F.GapConstraint(0, (241,), rs_fast=False).moments(p, np.zeros(0))
    np.testing.assert_allclose(G, sp.G(p[:, 0]), atol=1e-13)
    np.testing.assert_allclose(M[:, 0], -2 * sp.dG(p[:, 0]), rtol=1e-11)
    # equal levels, any x: RS at that value; x_1 = 1: RS at the lower value (q(x) = q_0)
    G2, _ = F.GapConstraint(1, (72, 48)).moments(np.hstack([p, p]), np.array([0.4]))
    np.testing.assert_allclose(G2, sp.G(p[:, 0]), atol=1e-10)
    p3 = np.array([[0.0, 0.5], [0.2, 0.6]])
    G3, M3 = F.GapConstraint(1, (72, 48)).moments(p3, np.array([1.0]))
    np.testing.assert_allclose(G3, sp.G(p3[:, 0]), atol=1e-12)
    np.testing.assert_allclose(M3[:, 0], -2 * sp.dG(p3[:, 0]), atol=1e-12)
    # Ising, k = 0 (§6.3 item 7): ∫Dz ln 2cosh(√q̂ z) − q̂/2 (+ Legendre term q̂ q/2)
    qh, q = np.array([0.3, 2.0]), np.array([0.2, 0.6])
    term = F.IsingNeurons(0, (241,), rs_fast=False).term(q[:, None], qh[:, None], np.zeros(0))
    np.testing.assert_allclose(term, sp.ising_s(q, qh), atol=1e-13)
    # margin κ: RS gap term G_κ
    Gk, _ = F.GapConstraint(0, (241,), margin=0.7, rs_fast=False).moments(p, np.zeros(0))
    np.testing.assert_allclose(Gk, sp.G(p[:, 0], 0.7), atol=1e-10)


@pytest.mark.parametrize("k", [1, 2])
def test_level_derivatives_vs_finite_differences(k):
    """∂ ln Ξ/∂p_i = −½(x_{i+1} − x_i) M_i; ∂E φ/∂q̂_i = −½(x_{i+1} − x_i) M̂_i (i < k) and
    ½[1 − (1 − x_k) M̂_k] (i = k): the identities behind the k-RSB stationarity equations."""
    x = np.array([0.35]) if k == 1 else np.array([0.25, 0.6])
    xs = np.concatenate([[0.0], x, [1.0]])
    p = np.array([[0.1, 0.4, 0.7][: k + 1], [0.05, 0.2, 0.5][: k + 1]])
    qh = np.array([[0.2, 0.9, 2.5][: k + 1], [0.0, 0.5, 1.0][: k + 1]])
    gap, ising = F.GapConstraint(k, (72, 48, 48)), F.IsingNeurons(k, (72, 48, 48))
    _, M = gap.moments(p, x)
    _, Mh = ising.potential(qh, x)
    h = 1e-6
    for i in range(k + 1):
        e = np.zeros(k + 1)
        e[i] = h
        fd = (gap.moments(p + e, x)[0] - gap.moments(p - e, x)[0]) / (2 * h)
        np.testing.assert_allclose(fd, -0.5 * (xs[i + 1] - xs[i]) * M[:, i], rtol=1e-6, atol=1e-9)
        fd = (ising.potential(qh + e, x)[0] - ising.potential(np.maximum(qh - e, 0), x)[0]) / (
            qh + e - np.maximum(qh - e, 0)
        )[:, i]
        ref = -0.5 * (xs[i + 1] - xs[i]) * Mh[:, i]
        if i == k:
            ref = 0.5 * (1 - (1 - x[-1]) * Mh[:, i])
        sel = qh[:, i] > 2 * h  # one-sided at q̂ = 0 is not a derivative
        np.testing.assert_allclose(fd[sel], ref[sel], rtol=1e-6, atol=1e-9)


def test_parisi_inversion_and_batched_lndet():
    """Q_of(C): unit-diagonal Parisi matrix whose inverse has levels −C_i (n → 0), i.e.
    ∂/∂Q_i [½ (1/n) ln det Q] = ½ (x_{i+1} − x_i) C_i, checked by complex-step derivatives of
    the closed-form ln det (itself checked against explicit matrices in test_replica)."""
    W = F.SphericalWeights(2)
    x = np.array([0.3, 0.7])
    C = np.array([[0.2, 0.5, 1.3], [0.0, 0.1, 3.0], [0.4, 0.4, 0.4]])
    Q = W.Q_of(C, x)
    xs = np.concatenate([[0], x, [1]])
    np.testing.assert_allclose(W.grad(Q, x) / (0.5 * np.diff(xs)), C, rtol=1e-10, atol=1e-12)
    for row in Q:
        assert lndet_parisi_batch(row[None], x)[0] == pytest.approx(lndet_parisi(row, x))
    # RS: Q/(1 − Q)² = C
    c = np.array([[0.0], [0.3], [50.0]])
    Qr = F.SphericalWeights(0, rs_fast=False).Q_of(c, np.zeros(0))[:, 0]
    np.testing.assert_allclose(Qr / (1 - Qr) ** 2, c[:, 0], rtol=1e-12, atol=1e-15)


def test_rs_profile_is_a_fixed_point_of_the_1rsb_map():
    s = solve_path(5, np.geomspace(1, 30, 12))[-1]
    chain = Chain(5, 30.0, k=1)
    Q = np.repeat(s.Q[:, None], 2, axis=1)
    q = np.repeat(s.q[:, None], 2, axis=1)
    z = chain.pack(Q, q)
    np.testing.assert_allclose(chain.step(z, np.array([0.4])), z, atol=2e-9)
    r0 = solve_rsb(5, 30.0, 0, init=s)
    np.testing.assert_allclose(r0.q[:, 0], s.q, atol=1e-9)
    assert r0.f == pytest.approx(s.f, abs=1e-9)
    liquid = solve_rsb(5, 2.0, 1)
    assert liquid.converged and liquid.f == pytest.approx(-2.0 * np.log(2), abs=1e-10)
    assert np.all(liquid.levels[1:-1] == 0)


def test_1rsb_saddle_is_stationary_and_hierarchical():
    """At the solved 1RSB point every partial derivative of the assembled free entropy (closed
    forms + recursions) vanishes, by central differences in every order parameter and x."""
    L, a = 6, 30.0
    s = solve_path(L, np.geomspace(1, a, 14))[-1]
    r = solve_rsb(L, a, 1, init=s)
    assert r.converged and r.residual < 1e-9
    chain = Chain(L, a, k=1)
    params = [r.Q, r.q[1:-1], r.qhat]
    f0 = chain.free_entropy(r.Q, r.q, r.qhat, r.x)
    assert f0 == pytest.approx(r.f, abs=1e-12)
    h = 1e-6
    grads = []
    for j, P in enumerate(params):
        for idx in zip(*np.nonzero(P > 1e-4), strict=True):  # frozen entries only
            vals = []
            for sgn in (1, -1):
                ps = [p.copy() for p in params]
                ps[j][idx] += sgn * h
                q = np.vstack([np.ones(2), ps[1], np.ones(2)])
                vals.append(chain.free_entropy(ps[0], q, ps[2], r.x))
            grads.append((vals[0] - vals[1]) / (2 * h))
    assert len(grads) > 10
    # central differences of f ~ 20 with h = 1e-6: rounding ~1e-9 (measured max 1.4e-8)
    assert np.max(np.abs(grads)) < 1e-7
    assert abs(r.dfdx[0]) < 1e-6
    # reflection symmetry (closure A) and the hierarchy: boundary layers carry more levels
    np.testing.assert_allclose(r.q, r.q[::-1], atol=1e-8)
    assert r.levels.tolist() == [1, 2, 1, 0, 1, 2, 1]
    assert r.f < s.f  # the RSB saddle lies below the unstable RS one (x minimizes f)


def test_replicon_liquid_threshold_and_gardner_stability():
    for a in (1.0, 2.0, 2.4):
        rep = rs_replicon(solve_rs(6, a))
        assert rep.eigenvalue == pytest.approx(1 - 2 * np.sqrt(a) / np.pi, abs=1e-9)
    # beyond π²/4 the frozen RS boundary layer is replicon-unstable (glass), localized there
    for a in (3.0, 20.0):
        s = solve_path(6, np.geomspace(1, a, 12))[-1]
        rep = rs_replicon(s)
        assert rep.eigenvalue < 0
        assert rep.mode_weights[0] + rep.mode_neurons[0] + rep.mode_neurons[-1] > 0.4
    # L = 1 (Gardner, κ >= 0): RS is stable below α_c = 2 (Gardner 1988)
    for a, kappa in ((1.0, 0.0), (1.9, 0.0), (0.5, 0.5)):
        assert rs_replicon(solve_rs(1, a, margin=kappa)).eigenvalue > 0


@pytest.mark.slow
def test_2rsb_adds_a_level_at_the_boundary():
    L, a = 6, 30.0
    s = solve_path(L, np.geomspace(1, a, 14))[-1]
    r1 = solve_rsb(L, a, 1, init=s)
    r2 = solve_rsb(L, a, 2, init=s, x=[0.7 * r1.x[0], r1.x[0] + 0.3 * (1 - r1.x[0])])
    assert r2.converged and np.max(np.abs(r2.dfdx)) < 1e-6
    # not a golden pattern from the code: the properties the theory states (spec §3: the
    # hierarchy thins into the bulk) and reflection symmetry of random I/O (closure A)
    lev, mid = r2.levels, L // 2
    np.testing.assert_array_equal(lev, lev[::-1])
    assert np.all(np.diff(lev[1 : mid + 1]) <= 0)  # fewer levels deeper in the bulk
    assert lev[1] == lev.max() and lev[1] > r1.levels[1]  # the extra level: at the boundary
    assert r2.f < r1.f
