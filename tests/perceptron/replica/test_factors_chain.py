"""The factor interface (one class per factor type, any Parisi level k), the closures assembled
from it, the pure breakpoint solve and the result schema (issue 12 items 2 and 4)."""

import numpy as np
import pytest
import xarray as xr

from deeprg.errors import InputError
from deeprg.perceptron.replica import factors as F
from deeprg.perceptron.replica import (
    path_dataset,
    rsb_dataset,
    solve_path,
    solve_rs,
    solve_rsb,
)
from deeprg.perceptron.replica import rsb as R
from deeprg.perceptron.replica import special as sp
from deeprg.perceptron.replica.chain import Chain

X0 = np.zeros(0)
P = np.array([[0.0], [0.1], [0.5], [0.8]])
QHAT = np.array([[0.0], [0.3], [1.0], [2.0]])


@pytest.mark.parametrize("margin", [0.0, 0.7])
def test_rs_factor_terms_equal_the_k0_parisi_terms(margin):
    """The RS fast path (panel quadrature, closed forms) and the Parisi recursion / algebra at
    k = 0 (Gauss–Hermite, bisection) are the same factor terms."""
    fast, gen = F.GapConstraint(0, margin=margin), F.GapConstraint(0, margin=margin, rs_fast=False)
    np.testing.assert_allclose(fast.term(P, X0), gen.term(P, X0), atol=1e-10)
    np.testing.assert_allclose(fast.conjugate(P, X0), gen.conjugate(P, X0), atol=1e-10)
    t, M = fast.moments(P, X0)
    np.testing.assert_array_equal(t, fast.term(P, X0))
    np.testing.assert_array_equal(M, fast.conjugate(P, X0))
    # neurons: term, stationarity q(q̂) and the potential E ln 2cosh
    fast_n, gen_n = F.IsingNeurons(0), F.IsingNeurons(0, rs_fast=False)
    q = np.array([[0.1], [0.2], [0.5], [0.7]])
    np.testing.assert_allclose(fast_n.term(q, QHAT, X0), gen_n.term(q, QHAT, X0), atol=1e-10)
    np.testing.assert_allclose(fast_n.q_of(QHAT, X0), gen_n.q_of(QHAT, X0), atol=1e-10)
    for a, b in zip(fast_n.potential(QHAT, X0), gen_n.potential(QHAT, X0), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-10)
    np.testing.assert_allclose(
        fast_n.legendre(q, QHAT, X0) + fast_n.potential(QHAT, X0)[0], fast_n.term(q, QHAT, X0)
    )
    # weights: term ½ ln det = w_rs, Q(C) closed form vs Parisi algebra
    fast_w, gen_w = F.SphericalWeights(0), F.SphericalWeights(0, rs_fast=False)
    Q = np.array([[0.0], [0.3], [0.9]])
    np.testing.assert_allclose(fast_w.term(Q, X0), gen_w.term(Q, X0), atol=1e-14)
    C = np.array([[0.0], [0.4], [7.0], [300.0]])
    np.testing.assert_allclose(fast_w.Q_of(C, X0), gen_w.Q_of(C, X0), atol=1e-12)
    np.testing.assert_allclose(gen_w.grad(Q, X0), Q / (2 * (1 - Q) ** 2), rtol=1e-12)


def test_teacher_factors_follow_the_sign_convention():
    """Nishimori factors: ∂ term/∂p = +½ M, ∂ w/∂Q = −½ C at Q = Q_of(C), and they are RS only."""
    gap = F.GapConstraint(0, nishimori=True)
    h = 1e-6
    fd = (gap.term(P[1:] + h, X0) - gap.term(P[1:] - h, X0)) / (2 * h)
    np.testing.assert_allclose(fd, 0.5 * gap.conjugate(P[1:], X0)[:, 0], rtol=1e-6)
    w = F.SphericalWeights(0, nishimori=True)
    C = np.array([[0.5], [3.0]])
    Q = w.Q_of(C, X0)
    np.testing.assert_allclose(w.grad(Q, X0), -0.5 * C, rtol=1e-12)
    for cls in (F.SphericalWeights, F.IsingNeurons, F.GapConstraint):
        with pytest.raises(InputError, match="replica symmetric"):
            cls(1, nishimori=True)


# the closure maps as they were written before the factors were assembled (rs.py, PR history)
def _old_map_B(L, alpha, margin, x):
    Q, q, qh = x[:L], np.concatenate([[1.0], x[L : 2 * L - 1]]), x[2 * L - 1 :]
    p = q * Q
    dgb = sp.dG_B(p[:-1], qh) if L > 1 else np.zeros(0)
    dd = np.concatenate([dgb, sp.dG(p[-1:], margin)])
    C = np.maximum(2.0 * (-alpha * q * dd), 0.0)
    Qn = 2 * C / (2 * C + 1 + np.sqrt(4 * C + 1))
    qhn = -2 * Q[1:] * dd[1:]
    qn = sp.q_B(p[:-1], np.maximum(qh, 0.0)) if L > 1 else np.zeros(0)
    return np.concatenate([Qn, qn, np.maximum(qhn, 0.0)])


def _old_map_A(L, alpha, scenario, margin, h, x):
    Q, q = x[:L], np.concatenate([[1.0], x[L:], [1.0]])
    p = q[:-1] * Q * q[1:]
    if scenario == "random":
        d = sp.dG(p, margin)
        C = np.maximum(2.0 * (-alpha * q[:-1] * q[1:] * d), 0.0)
        Qn = 2 * C / (2 * C + 1 + np.sqrt(4 * C + 1))
        psi = -(q[:-2] * Q[:-1] * d[:-1] + Q[1:] * q[2:] * d[1:])
        return np.concatenate([Qn, sp.ising_q(np.maximum(2 * psi, 0.0) + h)])
    d = sp.dG_ts(p)
    C = np.maximum(-2.0 * (-alpha * q[:-1] * q[1:] * d), 0.0)
    psi = -(q[:-2] * Q[:-1] * d[:-1] + Q[1:] * q[2:] * d[1:])
    return np.concatenate([C / (1 + C), sp.ising_q_ts(np.maximum(-2 * psi, 0.0) + h)])


@pytest.mark.parametrize("L", [1, 2, 5])
def test_closure_b_assembled_from_factors_equals_the_old_map(L):
    rng = np.random.default_rng(L)
    chain = Chain(L, 7.3, closure="B", margin=0.3)
    for _ in range(5):
        z = np.concatenate([rng.uniform(0, 0.99, 2 * L - 1), rng.uniform(0, 4.0, L - 1)])
        np.testing.assert_allclose(
            chain.step(z, X0), _old_map_B(L, 7.3, 0.3, z), rtol=1e-12, atol=1e-15
        )


@pytest.mark.parametrize("scenario", ["random", "teacher"])
def test_closure_a_assembled_from_factors_equals_the_old_map(scenario):
    rng = np.random.default_rng(3)
    L = 6
    h = rng.uniform(0, 0.2, L - 1) if scenario == "teacher" else np.zeros(L - 1)
    margin = 0.4 if scenario == "random" else 0.0
    chain = Chain(L, 11.0, scenario=scenario, margin=margin, field=h)
    for _ in range(5):
        z = rng.uniform(0, 0.99, 2 * L - 1)
        ref = _old_map_A(L, 11.0, scenario, margin, h, z)
        np.testing.assert_allclose(chain.step(z, X0), ref, rtol=1e-12, atol=1e-15)


def test_rs_free_entropy_is_stationary_for_both_closures():
    """The assembled free entropy has zero gradient at the solved RS saddle (closure B: in Q,
    q and q̂)."""
    for closure, a in (("A", 30.0), ("B", 40.0)):
        s = solve_path(5, np.geomspace(2, a, 10), closure=closure)[-1]
        chain = Chain(5, a, closure=closure)
        Q, q, qh = s.Q[:, None], s.q[:, None], s.qhat[:, None]
        f0 = chain.free_entropy(Q, q, qh, X0)
        assert f0 == pytest.approx(s.f, abs=1e-12)
        h = 1e-6
        for arr in (Q, q[1:-1], qh):
            for i in np.flatnonzero(arr[:, 0] > 1e-3):
                arr[i] += h
                fp = chain.free_entropy(Q, q, qh, X0)
                arr[i] -= 2 * h
                fm = chain.free_entropy(Q, q, qh, X0)
                arr[i] += h
                assert abs(fp - fm) / (2 * h) < 1e-6


def test_solve_rsb_k0_is_solve_rs():
    s = solve_path(5, np.geomspace(1, 30, 12))[-1]
    r0 = solve_rsb(5, 30.0, 0, init=s)
    ref = solve_rs(5, 30.0, init=s, tol=1e-10, max_iter=4000)
    # same chain and factors; the RSB defaults (60 plain steps before Anderson) take another
    # path to the same fixed point (tolerance 1e-10)
    np.testing.assert_allclose(r0.q[:, 0], ref.q, atol=1e-9)
    np.testing.assert_allclose(r0.Q[:, 0], ref.Q, atol=1e-9)
    assert r0.f == pytest.approx(ref.f, abs=1e-9) and r0.status == ref.status


def _same(a: R.Breakpoints, b: R.Breakpoints) -> None:
    np.testing.assert_array_equal(a.saddle.x, b.saddle.x)
    np.testing.assert_array_equal(a.saddle.q, b.saddle.q)
    np.testing.assert_array_equal(a.saddle.Q, b.saddle.Q)
    np.testing.assert_array_equal(a.dfdx, b.dfdx)
    assert a.converged == b.converged and a.iterations == b.iterations


def test_breakpoint_solve_is_a_pure_function():
    """Same chain, x0 and start → the same result, whatever was solved before or in between."""
    L, a = 3, 4.0
    rs = solve_path(L, np.geomspace(1, a, 8))[-1]
    chain = Chain(L, a, k=1)
    start = R.rsb_start(chain, rs, R.SEED)
    first = R.solve_breakpoints(chain, np.array([0.5]), start)
    assert first.converged and abs(first.dfdx[0]) < 1e-6
    # unrelated history: other starts, other x, other α on a fresh chain
    R.solve_breakpoints(chain, np.array([0.2]), R.rsb_start(chain, None, R.SEED))
    R.inner_saddle(chain, np.array([0.9]), start)
    R.solve_breakpoints(Chain(L, 6.0, k=1), np.array([0.4]), start)
    _same(first, R.solve_breakpoints(chain, np.array([0.5]), start))
    # the inner saddle is a function of (x, start) alone
    s1 = R.inner_saddle(chain, np.array([0.3]), start)
    R.inner_saddle(chain, np.array([0.7]), start)
    s2 = R.inner_saddle(chain, np.array([0.3]), start)
    np.testing.assert_array_equal(s1.q, s2.q)


def test_1rsb_just_above_the_first_threshold_keeps_the_frozen_boundary():
    """Continuation from the liquid just past π²/4: the boundary layer freezes (its top level,
    the within-state overlap), and the 1RSB saddle is not above the RS one."""
    r = R.rsb_path(4, [2.0, 3.1], 1)[-1]
    rs = solve_path(4, np.geomspace(1, 3.1, 8))[-1]
    assert r.converged and r.q[1, -1] > 0.01 and r.q[-2, -1] > 0.01
    assert r.f <= rs.f + 1e-9


# ------------------------------------------------------------------ result schema


def _mc_like(L: int) -> xr.Dataset:
    """The dims and coordinates of a Monte Carlo Dataset (montecarlo.run_mc)."""
    return xr.Dataset(
        {
            "q_mc": (("sample", "layer"), np.zeros((2, L + 1))),
            "Q_mc": (("sample", "wlayer"), np.zeros((2, L))),
        },
        coords={"layer": np.arange(L + 1), "wlayer": np.arange(1, L + 1)},
    )


def _check_attrs(ds: xr.Dataset) -> None:
    for name, var in ds.variables.items():
        for key in ("long_name", "units", "description"):
            assert var.attrs.get(key), f"{name} lacks {key}"


@pytest.mark.parametrize("scenario", ["random", "teacher"])
def test_path_dataset_schema_merges_with_monte_carlo(scenario):
    L = 4
    ds = path_dataset(solve_path(L, [1.0, 3.0, 6.0], scenario=scenario))
    assert ds["q"].dims == ("alpha", "layer") and ds["Q"].dims == ("alpha", "wlayer")
    np.testing.assert_array_equal(ds["layer"], np.arange(L + 1))
    np.testing.assert_array_equal(ds["wlayer"], np.arange(1, L + 1))
    assert not np.isnan(ds["Q"]).any()  # no NaN padding any more
    assert np.isnan(ds["qhat"].sel(layer=[0, L])).all()
    _check_attrs(ds)
    merged = xr.merge([ds, _mc_like(L)], join="exact")
    assert merged.sizes["layer"] == L + 1 and merged.sizes["wlayer"] == L


def test_rsb_dataset_schema():
    ds = rsb_dataset(R.rsb_path(3, [2.0, 4.0], 1))
    assert ds["q"].dims == ("alpha", "layer", "level")
    assert ds["Q"].dims == ("alpha", "wlayer", "level")
    _check_attrs(ds)
    merged = xr.merge([ds, _mc_like(3)], join="exact")
    assert merged.sizes["wlayer"] == 3


def test_one_gauss_hermite_helper():
    from deeprg import kernels, quadrature

    assert kernels.gauss_hermite is quadrature.gauss_hermite
    z, w = quadrature.gauss_hermite(240)
    assert sp._GH_X is z and sp._GH_W is w
    assert w.sum() == pytest.approx(1.0) and (z**2 * w).sum() == pytest.approx(1.0)
    with pytest.raises(ValueError):
        z[0] = 1.0  # shared rules are read-only
