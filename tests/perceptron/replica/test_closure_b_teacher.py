"""Closure B for teacher–student (docs/theory/perceptron.md §3.7.1) against references that do
not use the package's solver: the replica definition of the cavity factor (m-derivative of a
direct double integral), the Nishimori identity, Gibbs learning at L = 1, the L = 2 (and L = 3)
liquid thresholds and onset ratio of the linearization, and the large-α decoupling into Gibbs
perceptrons; plus negative controls with a deliberately wrong factor."""

import numpy as np
import pytest
from scipy import integrate, special
from theory_references import gibbs_learning_eps_g

from deeprg.errors import InputError
from deeprg.perceptron.replica import special as sp
from deeprg.perceptron.replica.chain import Chain
from deeprg.perceptron.replica.config import ReplicaConfig
from deeprg.perceptron.replica.rs import X0, solve_path, solve_rs, stability_margin

GOLDEN = (np.sqrt(5) - 1) / 2


def _gibbs_R(alpha: float) -> float:
    return float(np.cos(np.pi * gibbs_learning_eps_g(alpha)))


def _replica_definition(p: float, qhat: float) -> float:
    """∂_m ln ∫Dz Dw [e^{√q̂ w} Φ(γz) + e^{−√q̂ w} Φ(−γz)]^m at m = 1 (the m replicas, teacher
    included, of one hidden perceptron with its output neuron), by dblquad and a central
    difference in m; the package's G_B^TS must equal it (the −q̂/2 of the factor sits in the
    Legendre term)."""
    g, r = np.sqrt(p / (1 - p)), np.sqrt(qhat)

    def ln_psi(m: float) -> float:
        def f(w, z):
            k = np.exp(r * w) * special.ndtr(g * z) + np.exp(-r * w) * special.ndtr(-g * z)
            return np.exp(-(z * z + w * w) / 2) / (2 * np.pi) * k**m

        lim = 12 + 2 * r
        return np.log(integrate.dblquad(f, -12, 12, -lim, lim, epsabs=1e-13, epsrel=1e-12)[0])

    h = 1e-3
    return (ln_psi(1 + h) - ln_psi(1 - h)) / (2 * h)


def _student_teacher_q(p: float, qhat: float) -> float:
    """q in its student–teacher form 2 E_z Φ(γz) E_w tanh(q̂ + √q̂ w + u(γz)), by dblquad."""
    g, r = np.sqrt(p / (1 - p)), np.sqrt(qhat)

    def f(w, z):
        x = g * z
        u = 0.5 * (special.log_ndtr(x) - special.log_ndtr(-x))
        return np.exp(-(z * z + w * w) / 2) / np.pi * special.ndtr(x) * np.tanh(qhat + r * w + u)

    return integrate.dblquad(f, -12, 12, -14, 14, epsabs=1e-12, epsrel=1e-11)[0]


@pytest.fixture
def no_side_channel(monkeypatch):
    """The deliberately wrong factor: the Nishimori side channel (the teacher's signal q̂ σ_t in
    the downstream field) dropped, y = √q̂ w instead of q̂ + √q̂ w."""
    orig = sp._cavity_w_avgs
    monkeypatch.setattr(sp, "_cavity_w_avgs", lambda a, qh: orig(a - qh, qh))


@pytest.mark.parametrize(("p", "qhat"), [(0.3, 0.5), (0.9, 5.0)])
def test_cavity_factor_is_the_replica_definition(p, qhat):
    assert sp.G_B_ts([p], [qhat])[0] == pytest.approx(_replica_definition(p, qhat), abs=1e-6)


def test_cavity_factor_identities():
    """q = 2 ∂_q̂ G − 1 (the Legendre pair), ∂_p G by Stein equals finite differences, q (the
    tanh² form) equals the student–teacher form (Nishimori), G(p, 0) = 0."""
    h = 1e-5
    for p, qh in [(0.001, 0.3), (0.7, 2.0), (0.99, 30.0)]:
        dq = (sp.G_B_ts([p], [qh + h]) - sp.G_B_ts([p], [qh - h]))[0] / (2 * h)
        dp = (sp.G_B_ts([p + h], [qh]) - sp.G_B_ts([p - h], [qh]))[0] / (2 * h)
        q = sp.q_B_ts([p], [qh])[0]
        assert q == pytest.approx(2 * dq - 1, abs=1e-8)
        assert sp.dG_B_ts([p], [qh])[0] == pytest.approx(dp, rel=1e-6)
        assert q == pytest.approx(_student_teacher_q(p, qh), abs=1e-8)
    np.testing.assert_allclose(sp.G_B_ts([0.0, 0.5, 0.99], 0.0), 0.0, atol=1e-14)


def test_wrong_factor_fails_the_cavity_references(no_side_channel):
    assert abs(sp.G_B_ts([0.3], [0.5])[0] - _replica_definition(0.3, 0.5)) > 1e-2
    assert abs(sp.q_B_ts([0.7], [2.0])[0] - _student_teacher_q(0.7, 2.0)) > 1e-2


@pytest.mark.parametrize(("alpha", "R"), [(1.0, 0.486), (2.0, 0.728), (4.0, 0.900)])
def test_l1_is_gibbs_learning(alpha, R):
    s = solve_rs(1, alpha, scenario="teacher", closure="B")
    assert s.converged and s.Q[0] == pytest.approx(_gibbs_R(alpha), abs=1e-8)
    assert s.Q[0] == pytest.approx(R, abs=5e-4)
    # negative control: the L = 1 chain has no cavity factor, so the wrong factor there is the
    # random-I/O (non-Nishimori) weights and gap: Gardner's volume, not Gibbs learning
    wrong = solve_rs(1, alpha, scenario="random", closure="B")
    assert abs(wrong.Q[0] - _gibbs_R(alpha)) > 0.05


@pytest.mark.parametrize(("L", "alpha_c"), [(2, GOLDEN * np.pi**2 / 4), (3, np.pi**2 / 4)])
def test_liquid_threshold(L, alpha_c):
    """The liquid loses stability at (√5 − 1)π²/8 (L = 2) and π²/4 (L = 3, output end); below,
    f = −α ln 2."""
    below = solve_rs(L, 0.99 * alpha_c, scenario="teacher", closure="B", seed=0.0)
    above = solve_rs(L, 1.01 * alpha_c, scenario="teacher", closure="B", seed=0.0)
    assert stability_margin(below) > 0 > stability_margin(above)
    assert below.f == pytest.approx(-0.99 * alpha_c * np.log(2), abs=1e-12)


def test_l2_onset_ratio_and_large_alpha_decoupling():
    """L = 2: Q_1/Q_2 → (√5 − 1)/2 at the onset; at large α the hidden neurons are pinned
    (q_1 → 1) and both perceptrons become Gibbs learners, Q_1, Q_2 → R_Gibbs(α)."""
    ac = GOLDEN * np.pi**2 / 4
    near = solve_rs(2, 1.02 * ac, scenario="teacher", closure="B", max_iter=100000)
    assert near.converged and near.Q[0] / near.Q[1] == pytest.approx(GOLDEN, rel=0.02)
    big = solve_path(2, [5.0, 10.0, 20.0], scenario="teacher", closure="B")[-1]
    assert big.converged and big.q[1] > 0.999
    np.testing.assert_allclose(big.Q, _gibbs_R(20.0), atol=5e-4)


def test_wrong_factor_fails_the_l2_limit(no_side_channel):
    bad = solve_path(2, [5.0, 10.0, 20.0], scenario="teacher", closure="B")[-1]
    assert np.max(np.abs(bad.Q - _gibbs_R(20.0))) > 0.1


def test_l3_fixed_point_is_stationary_and_nishimori():
    """At the solved L = 3 saddle the assembled free entropy has zero gradient in Q, q and q̂,
    and every hidden q equals its student–teacher form."""
    s = solve_path(3, [3.0, 6.0, 10.0], scenario="teacher", closure="B")[-1]
    assert s.converged and np.all(s.q[1:-1] > 0.1)
    chain = Chain(3, 10.0, scenario="teacher", closure="B")
    Q, q, qh = s.Q[:, None].copy(), s.q[:, None].copy(), s.qhat[:, None].copy()
    assert chain.free_entropy(Q, q, qh, X0) == pytest.approx(s.f, abs=1e-12)
    h = 1e-6
    for arr in (Q, q[1:-1], qh):
        for i in range(len(arr)):
            arr[i] += h
            fp = chain.free_entropy(Q, q, qh, X0)
            arr[i] -= 2 * h
            fm = chain.free_entropy(Q, q, qh, X0)
            arr[i] += h
            assert abs(fp - fm) / (2 * h) < 1e-6
    for layer in (1, 2):
        p = s.q[layer - 1] * s.Q[layer - 1]
        assert s.q[layer] == pytest.approx(_student_teacher_q(p, s.qhat[layer - 1]), abs=1e-7)


def test_refusals_and_config():
    cfg = ReplicaConfig(L=3, scenario="teacher", closure="B", field=0.1, alpha="5")
    assert cfg.closure == "B" and cfg.field == 0.1
    with pytest.raises(InputError, match="RS"):
        Chain(3, 5.0, k=1, scenario="random", closure="B")


def test_strong_side_field_decouples_into_gibbs_learners():
    """A strong side channel pins every hidden neuron to the teacher's (q → 1): each perceptron
    is then a Gibbs learner of its teacher perceptron, Q_l = R_Gibbs(α), at any α."""
    s = solve_rs(2, 2.0, scenario="teacher", closure="B", field=400.0)
    assert s.converged and s.q[1] > 1 - 1e-6
    np.testing.assert_allclose(s.Q, _gibbs_R(2.0), atol=1e-4)
    assert s.info["field"] == [400.0]


def test_side_field_saddle_is_stationary_and_nishimori():
    h = np.array([0.3, 0.1])
    s = solve_path(3, [3.0, 6.0], scenario="teacher", closure="B", field=h)[-1]
    assert s.converged
    chain = Chain(3, 6.0, scenario="teacher", closure="B", field=h)
    Q, q, qh = s.Q[:, None].copy(), s.q[:, None].copy(), s.qhat[:, None].copy()
    d = 1e-6
    for arr in (Q, q[1:-1], qh):
        for i in range(len(arr)):
            arr[i] += d
            fp = chain.free_entropy(Q, q, qh, X0)
            arr[i] -= 2 * d
            fm = chain.free_entropy(Q, q, qh, X0)
            arr[i] += d
            assert abs(fp - fm) / (2 * d) < 1e-6
    for layer in (1, 2):
        p = s.q[layer - 1] * s.Q[layer - 1]
        ref = _student_teacher_q(p, s.qhat[layer - 1] + h[layer - 1])
        assert s.q[layer] == pytest.approx(ref, abs=1e-7)
