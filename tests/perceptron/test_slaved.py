"""Slaved-neuron sampler at T = 0: cached fields stay exact, every visited state is a solution,
and the sampler draws the uniform measure on the solution space (exact reference: rejection
sampling from the prior on a tiny network), with negative controls."""

import numpy as np
import pytest
from stats_helpers import assert_consistent, assert_detected, check

from deeprg.data.patterns import forward_signs, teacher_network
from deeprg.perceptron.montecarlo.slaved import (
    SlavedState,
    _forward,
    compact_weights,
    dense_weights,
    masks,
    random_weights,
    sweep,
    wiring,
)


def _planted(w, c, M, seed, kappa=0.0):
    rng = np.random.default_rng(seed)
    wr = wiring(np.asarray(w), c, rng)
    teacher = teacher_network(list(w), rng, masks(wr) if c is not None else None)
    S0 = rng.choice(np.array([-1, 1], dtype=np.int8), size=(M, w[0]))
    SL = forward_signs(teacher, S0)[-1]
    return wr, SlavedState.build(wr, compact_weights(wr, teacher), S0, SL), S0, SL


@pytest.mark.parametrize(("w", "c"), [((12, 10, 10, 6), 4), ((8, 8, 8), None)])
def test_cached_fields_stay_exact_and_every_state_is_a_solution(w, c):
    wr, st, S0, SL = _planted(w, c, M=40, seed=3)
    g = np.random.default_rng(4)
    for _ in range(5):
        counts = sweep(st, wr, 3, g, theta_max=0.5)
        assert st.violations(wr) == 0
        S, h = st.S.copy(), st.h.copy()
        _forward(st.J, S, h, wr.w, wr.fan, wr.conn)
        np.testing.assert_allclose(st.h, h, atol=1e-12)
        np.testing.assert_array_equal(st.S, S)
    assert counts[:, 1].min() > 0  # every layer moves
    norms = (st.J**2).sum(-1)
    for l in range(1, wr.L + 1):  # rotations keep every row on its sphere
        np.testing.assert_allclose(norms[l - 1, : wr.w[l]], wr.fan[l - 1], rtol=1e-12)
    # the forward pass of the sampled network reproduces the targets
    np.testing.assert_array_equal(forward_signs(dense_weights(wr, st.J), S0)[-1], SL)


def test_a_state_outside_the_solution_space_is_refused():
    from deeprg.errors import InputError

    wr, st, S0, SL = _planted((6, 4, 3), None, M=30, seed=1)
    bad = SlavedState.build(wr, random_weights(wr, np.random.default_rng(0)), S0, SL)
    assert bad.violations(wr) > 0
    with pytest.raises(InputError, match="satisfies every gap"):
        sweep(bad, wr, 1, np.random.default_rng(0))


# -- exact distribution of a tiny network ------------------------------------------------------

TINY = ((3, 2, 1), None, 3)  # widths, c (dense), patterns


def _invariants(wr, J, S):
    """Gauge- and permutation-invariant observables of one state: the hidden kernel
    K_{mu nu} = sum_i S_i^mu S_i^nu (3 pattern pairs), |J1_0 . J1_1| / 3, |J2_0 J2_1| / 2."""
    S1 = S[1, :2].astype(float)  # (units, patterns)
    K = S1.T @ S1
    dots = abs(J[0, 0, :3] @ J[0, 1, :3]) / 3
    prod = abs(J[1, 0, 0] * J[1, 0, 1]) / 2
    return np.array([K[0, 1], K[0, 2], K[1, 2], dots, prod])


def _reference(wr, S0, SL, kappa, n=300_000, seed=11):
    """Rejection sampling from the prior: the uniform measure on the solution space."""
    rng = np.random.default_rng(seed)
    J = random_weights(wr, rng, n)
    W1 = np.einsum("nia,ma->nmi", J[:, 0, :2, :3], S0.astype(float)) / np.sqrt(3)
    S1 = np.where(W1 >= 0, 1.0, -1.0)
    hL = np.einsum("na,nma->nm", J[:, 1, 0, :2], S1) / np.sqrt(2)
    ok = (SL[:, 0][None, :] * hL >= kappa).all(1) & (np.abs(W1) >= kappa).all((1, 2))
    K = np.einsum("nmi,nki->nmk", S1[ok], S1[ok])
    obs = np.stack(
        [
            K[:, 0, 1],
            K[:, 0, 2],
            K[:, 1, 2],
            np.abs(np.einsum("na,na->n", J[ok, 0, 0, :3], J[ok, 0, 1, :3])) / 3,
            np.abs(J[ok, 1, 0, 0] * J[ok, 1, 0, 1]) / 2,
        ],
        axis=1,
    )
    return obs.mean(0), obs.std(0, ddof=1) / np.sqrt(len(obs)), ok.mean()


def _chain(kappa_sampler, n=6000, seed=5):
    w, c, M = TINY
    wr, st, S0, SL = _planted(w, c, M, seed=2)
    g = np.random.default_rng(seed)
    trace = np.empty((n, 5))
    for t in range(n):
        sweep(st, wr, 1, g, kappa=kappa_sampler, theta_max=1.5)
        trace[t] = _invariants(wr, st.J, st.S)
    return wr, S0, SL, trace


def test_samples_the_uniform_measure_on_the_solution_space():
    wr, S0, SL, trace = _chain(0.0)
    ref, ref_se, frac = _reference(wr, S0, SL, 0.0)
    assert 0.01 < frac < 0.9  # a non-trivial constraint
    assert_consistent(check(trace, ref, ref_se, names=["K01", "K02", "K12", "dot", "prod"]))


def test_negative_controls_fail_the_same_check():
    wr, S0, SL, _ = _chain(0.0, n=10)
    ref, ref_se, _ = _reference(wr, S0, SL, 0.0)
    _, _, _, prior = _chain(-np.inf)  # constraints ignored: the prior
    assert_detected(check(prior, ref, ref_se))
    _, _, _, margin = _chain(-0.3)  # a wrong margin (admits small violations)
    assert_detected(check(margin, ref, ref_se))
