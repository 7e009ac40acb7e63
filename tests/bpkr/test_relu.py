"""BPKR ReLU heuristic (bpkr.md §5.1): plug-in of the ReLU NNGP kernel into the saddle solver."""

import numpy as np
import pytest

from deeprg.bpkr import fit
from deeprg.errors import InputError
from deeprg.kernels import relu_base_kernel


def test_gp_mode_is_gp_regression_with_the_relu_nngp_kernel():
    rng = np.random.default_rng(4)
    X, y, Xt = rng.standard_normal((20, 12)), rng.standard_normal(20), rng.standard_normal((7, 12))
    L, s2, T = 2, 1.4, 0.1
    g = fit(X, y, [30] * L, s2, T, mode="gp", activation="relu")
    scale = s2 ** (L + 1)  # K_L^GP = Π σ² · (unit-variance ReLU kernel), by homogeneity
    K = scale * relu_base_kernel(X, depth=L).cov12
    k = relu_base_kernel(X, Xt, depth=L)
    mean_ref = scale * k.cov12.T @ np.linalg.solve(K + T * np.eye(20), y)
    var_ref = scale * k.var2 - scale**2 * np.einsum(
        "pt,pt->t", k.cov12, np.linalg.solve(K + T * np.eye(20), k.cov12)
    )
    m, v, _ = g.predict(Xt)
    np.testing.assert_allclose(m, mean_ref, atol=1e-10)
    np.testing.assert_allclose(v, var_ref, atol=1e-10)


def test_saddle_equations_hold_with_the_relu_kernel_and_huge_width_is_gp():
    rng = np.random.default_rng(5)
    X, y, Xt, yt = (
        rng.standard_normal((25, 10)),
        rng.standard_normal(25),
        rng.standard_normal((9, 10)),
        rng.standard_normal(9),
    )
    f = fit(X, y, [30, 50], [1.1, 1.3, 0.8], 0.1, activation="relu")
    assert f.converged
    np.testing.assert_allclose(
        np.array([30, 50]) * (f.u / np.array([1.3, 0.8]) - 1), f.G, rtol=1e-10
    )
    big = fit(X, y, [10**9] * 2, 1.2, 0.1, activation="relu").errors(Xt, yt)["eps_g"]
    gp = fit(X, y, [5, 5], 1.2, 0.1, mode="gp", activation="relu").errors(Xt, yt)["eps_g"]
    assert big == pytest.approx(gp, rel=1e-6)


def test_relu_rejects_exact_mode_and_layer_kernels():
    rng = np.random.default_rng(6)
    X, y = rng.standard_normal((8, 4)), rng.standard_normal(8)
    with pytest.raises(InputError, match="exact"):
        fit(X, y, [5], 1.0, 0.1, mode="exact", activation="relu")
    with pytest.raises(InputError, match="linear"):
        fit(X, y, [5], 1.0, 0.1, activation="relu").layer_kernels(X)
    with pytest.raises(InputError, match="activation"):
        fit(X, y, [5], 1.0, 0.1, activation="tanh")


@pytest.mark.slow
def test_relu_heuristic_vs_mala_sampling_of_a_one_hidden_layer_net():
    """§7.5-style check at L = 1: the heuristic's ⟨‖a‖²⟩/N and ε_g within a few % of MALA.

    The heuristic is not exact, so the tolerance is the spec's observed agreement (≈3%) plus
    3 Monte Carlo standard errors, not the MC error alone."""
    from deeprg.data import make_dataset
    from deeprg.experiments.compare import compare

    split = make_dataset("teacher", P=40, P_test=500, N0=80, seed=0)
    cr = compare(
        split,
        [60],
        1.0,
        0.05,
        activation="relu",
        sampler="mala",
        chains=16,
        steps=6000,
        eta=0.02,
        seed=1,
        progress=False,
    )
    th, s = cr.theory["saddle"], cr.sampler
    assert abs(s["a2_over_N"] - th["u"][-1]) < 0.03 * th["u"][-1] + 3 * s["a2_over_N_se"]
    assert abs(s["eps_g"] - th["eps_g"]) < 0.05 * th["eps_g"] + 3 * s["eps_g_se"]
