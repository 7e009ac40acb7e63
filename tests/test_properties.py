"""hypothesis property tests: the BPKR saddle against an independent evaluation of its
equations (bpkr.md §2.4), and the gauge / permutation invariances of the Monte Carlo overlaps
(deep-perceptron-networks.md §2.4, §5.3)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deeprg.bpkr import fit
from deeprg.data.patterns import random_patterns
from deeprg.perceptron.montecarlo import MCConfig, init_state, invariant_overlaps, matched_overlaps
from deeprg.perceptron.montecarlo import engine as eng
from deeprg.perceptron.montecarlo.analysis import row_cosine
from deeprg.perceptron.montecarlo.run import State

FAST = settings(max_examples=25, deadline=None)


def _data(seed, P, N0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((P, N0))
    return X, X @ rng.standard_normal(N0) / np.sqrt(N0) + 0.3 * rng.standard_normal(P)


def _G(X, y, U, s1, T):
    """G(U) = Σ ỹ² Vμ/(Vμ + T)² − Σ Vμ/(Vμ + T), V = Uσ_1², μ, ỹ: eigen-pairs of XXᵀ/N0."""
    mu, Q = np.linalg.eigh(X @ X.T / X.shape[1])
    yt, Vm = Q.T @ y, U * s1 * np.clip(mu, 0, None)
    return float(np.sum(yt**2 * Vm / (Vm + T) ** 2) - np.sum(Vm / (Vm + T)))


@FAST
@given(
    seed=st.integers(0, 10**6),
    P=st.integers(3, 12),
    N0=st.integers(2, 16),
    widths=st.lists(st.integers(3, 60), min_size=1, max_size=3),
    s2=st.floats(0.5, 2.0),
    T=st.floats(0.02, 1.0),
)
def test_saddle_is_stationary(seed, P, N0, widths, s2, T):
    """u_l = σ²_{l+1}(1 + G(U)/N_l) and U = Π u_l, with G evaluated here from scratch."""
    X, y = _data(seed, P, N0)
    f = fit(X, y, widths, s2, T)
    assert f.converged
    G = _G(X, y, f.U, s2, T)
    np.testing.assert_allclose(f.u, s2 * (1 + G / np.asarray(widths)), rtol=1e-8, atol=1e-12)
    assert f.U == pytest.approx(np.prod(f.u), rel=1e-10)


@FAST
@given(
    seed=st.integers(0, 10**6),
    P=st.integers(3, 12),
    N0=st.integers(2, 16),
    L=st.integers(1, 3),
    s2=st.floats(0.5, 2.0),
    T=st.floats(0.02, 1.0),
)
def test_saddle_approaches_the_gp_monotonically_with_width(seed, P, N0, L, s2, T):
    """Uniform widths N = 4, 16, 64, 256: log U − log U_GP keeps its sign and shrinks."""
    X, y = _data(seed, P, N0)
    dev = np.array([np.log(fit(X, y, [N] * L, s2, T).U / s2**L) for N in (4, 16, 64, 256)])
    assert np.all(np.abs(np.diff(np.sign(dev[np.abs(dev) > 1e-12]))) == 0)
    assert np.all(np.diff(np.abs(dev)) <= 1e-12)


def _make(L, N, alpha, seed):
    cfg = MCConfig(L=L, N=N, alpha=alpha, T=0.3)
    rng = np.random.default_rng(seed)
    S0, SL = random_patterns(cfg.M, list(cfg.widths), rng)
    return init_state(cfg, S0, SL, rng), cfg.widths


def _transform(a, w, rng, permute):
    """Random gauge flips (and permutations) of every hidden layer: exact symmetries."""
    S, J = a.S.copy(), a.J.copy()
    for l in range(1, J.shape[0]):
        n = int(w[l])
        sg = rng.choice([-1, 1], size=n)
        pi = rng.permutation(n) if permute else np.arange(n)
        S[l, :, :n] = (S[l, :, :n] * sg)[:, pi]
        J[l - 1, :n, :] = (J[l - 1, :n, :] * sg[:, None])[pi]
        J[l, :, :n] = (J[l, :, :n] * sg[None, :])[:, pi]
    return State(S, J, eng.compute_fields(S, J, w))


# small M included: the spin overlaps O_ij = k/M then tie often (equal or opposite spin columns
# of two hidden units), and the matching must break the ties by the weights, not unit order
mc_cases = given(
    L=st.integers(2, 4),
    N=st.integers(3, 10),
    alpha=st.sampled_from([0.5, 1.0, 2.0, 3.0]),
    seed=st.integers(0, 10**6),
)


@FAST
@mc_cases
def test_matched_and_kernel_overlaps_are_gauge_and_permutation_invariant(L, N, alpha, seed):
    a, w = _make(L, N, alpha, seed)
    c, _ = _make(L, N, alpha, seed + 1)  # an unrelated replica
    rng = np.random.default_rng(seed)
    b = _transform(a, w, rng, permute=True)
    q, Q = matched_overlaps(a.S, a.J, b.S, b.J, w)
    np.testing.assert_allclose(q, 1.0, rtol=1e-12)
    np.testing.assert_allclose(Q, 1.0, rtol=1e-12)
    np.testing.assert_allclose(invariant_overlaps(a, b, w)[1], 1.0, rtol=1e-12)
    # overlaps with a third network do not change when that network is transformed
    c2 = _transform(c, w, rng, permute=True)
    q1, Q1 = matched_overlaps(a.S, a.J, c.S, c.J, w)
    q2, Q2 = matched_overlaps(a.S, a.J, c2.S, c2.J, w)
    np.testing.assert_allclose(q1, q2, atol=1e-12)
    np.testing.assert_allclose(Q1, Q2, atol=1e-12)  # ties broken by weights, not unit order
    np.testing.assert_allclose(invariant_overlaps(a, c, w)[1], invariant_overlaps(a, c2, w)[1])
    # the gap overlaps are gauge (not permutation) invariant
    g = _transform(c, w, rng, permute=False)
    np.testing.assert_allclose(invariant_overlaps(a, g, w)[0], invariant_overlaps(a, c, w)[0])


@FAST
@given(
    n=st.integers(1, 8),
    m=st.integers(1, 8),
    seed=st.integers(0, 10**6),
)
def test_row_cosine_invariances(n, m, seed):
    """Joint row permutation, joint column permutation and signs, positive row scalings."""
    rng = np.random.default_rng(seed)
    A, B = rng.standard_normal((n, m)), rng.standard_normal((n, m))
    ref = row_cosine(A, B)
    pr, pc, sg = rng.permutation(n), rng.permutation(m), rng.choice([-1, 1], size=m)
    assert row_cosine((A * sg)[pr][:, pc], (B * sg)[pr][:, pc]) == pytest.approx(ref, abs=1e-12)
    sc = rng.uniform(0.1, 10, (n, 1))
    assert row_cosine(A * sc, B / sc) == pytest.approx(ref, abs=1e-12)
    assert row_cosine(A, A) == pytest.approx(1.0, abs=1e-12)
    assert -1 - 1e-12 <= ref <= 1 + 1e-12
