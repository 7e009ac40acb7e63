"""L = 1 teacher–student in equilibrium (issue 14 item 6): the planted slaved-neuron sampler at
T = 0 samples the version space of K independent perceptrons; the student–teacher overlap R
must equal the replica Gibbs-learning R(α) (docs/theory/perceptron.md §3.6 at L = 1), with the
tolerance from the measured autocorrelation of R(t)."""

import numpy as np
import pytest
from stats_helpers import assert_consistent, assert_detected, check

from deeprg.data.patterns import forward_signs, teacher_network
from deeprg.perceptron.montecarlo.slaved import SlavedState, compact_weights, sweep, wiring
from deeprg.seeds import derive_seed


def planted_overlaps(alpha, N0=32, K=16, samples=2, burn=500, n=300, every=25, kappa=0.0):
    """R(t) per unit (chains = units × samples; independent posteriors), after ``burn`` sweeps
    from the teacher, every ``every`` sweeps; ``kappa`` is the sampler's margin (κ = −∞ would
    ignore the data)."""
    M = round(alpha * N0)
    out = []
    for s in range(samples):
        rng = np.random.default_rng(derive_seed(7, N0, s))
        wr = wiring(np.array([N0, K]), None, rng)
        teacher = teacher_network([N0, K], rng, None)
        S0 = np.where(rng.standard_normal((M, N0)) >= 0, 1, -1).astype(np.int8)
        Jt = compact_weights(wr, teacher)
        st = SlavedState.build(wr, Jt.copy(), S0, forward_signs(teacher, S0)[-1])
        sweep(st, wr, burn, rng, kappa=kappa)
        R = np.empty((n, K))
        for t in range(n):
            sweep(st, wr, every, rng, kappa=kappa)
            R[t] = (st.J[0, :K] * Jt[0, :K]).sum(-1) / N0  # rows beyond K are padding
        out.append(R.T)
    return np.concatenate(out)[:, :, None]  # (chains, n, 1)


def _gibbs_R(alpha):
    from deeprg.perceptron.replica import solve_rs

    return float(solve_rs(1, alpha, scenario="teacher").Q[0])


@pytest.mark.statistical
def test_planted_L1_overlap_is_gibbs_learning():
    alpha = 4.0
    assert_consistent(check(planted_overlaps(alpha), [_gibbs_R(alpha)], names=["R(alpha=4)"]))


@pytest.mark.statistical
def test_negative_control_sampler_that_ignores_the_data_fails():
    """κ = −10⁹: every move is accepted, the sampler forgets the data and R decays to 0."""
    alpha = 4.0
    trace = planted_overlaps(alpha, kappa=-1e9, burn=100, n=100)
    assert_detected(check(trace, [_gibbs_R(alpha)], names=["R(alpha=4)"]))
