"""The free-output control (issue 14): output neurons that flip instead of being clamped.
Exact reference: at fixed weights each free output neuron is an independent two-state system,
P(S = +1) = e^{−βV(h)} / (e^{−βV(h)} + e^{−βV(−h)}); negative control at the wrong β."""

import numpy as np
import pytest
from stats_helpers import assert_consistent, assert_detected, check

from deeprg.errors import InputError
from deeprg.perceptron.montecarlo import engine as eng
from deeprg.perceptron.montecarlo.config import MCConfig


def _state(seed=0, N_in=8, N_out=3, M=4):
    rng = np.random.default_rng(seed)
    w = np.array([N_in, N_out])
    S = np.zeros((2, M, N_in), dtype=np.int8)
    S[0] = rng.choice(np.array([-1, 1], dtype=np.int8), size=(M, N_in))
    S[1, :, :N_out] = 1
    J = np.zeros((1, N_in, N_in))
    J[0, :N_out] = rng.standard_normal((N_out, N_in))
    graph = eng.dense_graph(w)
    return S, J, eng.compute_fields(S, J, w, graph), w, graph


def _chain(beta_run, n=4000, seed=1):
    S, J, h, w, graph = _state()
    rng = np.random.default_rng(seed)
    counts = np.zeros(4, dtype=np.int64)
    trace = np.empty((n, S.shape[1] * w[1]))
    for t in range(n):
        eng.run_steps(S, J, h, w, graph, 1, beta_run, 0.0, 1.0, 2, eng.MOVE_NONE,
                      np.zeros(1), counts, rng)  # fmt: skip
        trace[t] = (S[1, :, : w[1]] > 0).ravel()
    return h[0, :, : w[1]].ravel(), trace


def _exact(h, beta):
    def V(r):
        return np.minimum(r, 0.0) ** 2

    up, down = np.exp(-beta * V(h)), np.exp(-beta * V(-h))
    return up / (up + down)


def test_free_outputs_sample_their_exact_conditional_law():
    beta = 3.0
    h, trace = _chain(beta)
    assert_consistent(check(trace, _exact(h, beta)))
    _, wrong = _chain(2 * beta)  # negative control: the same check at twice the inverse T
    assert_detected(check(wrong, _exact(h, beta)))


def test_output_flip_delta_h_is_the_energy_difference():
    S, J, h, w, graph = _state(seed=3)
    E0 = eng.layer_energies(S, h, w, 0.0, 1.0)[0].sum()
    ok, dH = eng.flip_attempt(S, J, h, w, 1, 2, 1, 0.0, 0.0, 1.0, graph, np.random.default_rng(0))
    assert ok  # beta = 0 accepts
    E1 = eng.layer_energies(S, h, w, 0.0, 1.0)[0].sum()
    assert dH == pytest.approx(E1 - E0, abs=1e-12)


def test_free_output_is_a_random_io_control_and_runs():
    from deeprg.perceptron.montecarlo import run_mc

    with pytest.raises(InputError, match="free_output"):
        MCConfig(scenario="teacher", free_output=True)
    cfg = MCConfig(L=2, N=6, alpha=2.0, T=0.05, t_w=4, steps=16, samples=2, free_output=True)
    ds = run_mc(cfg, progress=False)
    assert ds["q"].sel(layer=2).values.min() < 1.0  # the outputs move (clamped: exactly 1)
    clamped = run_mc(cfg.replace(free_output=False), progress=False)
    assert np.all(clamped["q"].sel(layer=2).values == 1.0)
