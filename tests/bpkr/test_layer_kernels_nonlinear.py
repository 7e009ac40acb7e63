"""Mean hidden-layer kernels ⟨K_l⟩ of nonlinear networks under the layer-wise theory
(docs/theory/nonlinear-renormalization.md §2.5). References: the existing §4.2 recursion for
linear networks (saddle mode), the NNGP kernels of deeprg.kernels.nngp in the GP limit, and
MALA samples of finite erf networks (slow), where the GP kernel and the renormalized kernel
Q σ² k_φ (no shape change) are the negative controls."""

import numpy as np
import pytest
from stats_helpers import assert_consistent, assert_detected, check

from deeprg.bpkr import fit
from deeprg.bpkr.layerwise import layer_kernels_layerwise
from deeprg.errors import InputError
from deeprg.kernels import nngp
from deeprg.kernels.grad import gram_map

WIDTHS, S2, T = [30, 22, 45], [1.2, 0.9, 1.5, 1.1], 0.05


def _data(P=40, N0=20, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((P, N0))
    y = np.tanh(X @ rng.standard_normal(N0) / 3) + 0.1 * rng.standard_normal(P)
    return X, y, rng.standard_normal((7, N0))


def test_linear_activation_equals_the_exact_recursion_at_the_saddle():
    X, y, Z = _data()
    f = fit(X, y, WIDTHS, S2, T, mode="saddle", activation="linear", path="kernel")
    K = layer_kernels_layerwise(X, y, Z, f.arch, "linear", f.u)
    ref = f.layer_kernels(Z)
    assert np.max(np.abs(K - ref)) < 1e-10 * np.max(np.abs(ref))


@pytest.mark.parametrize("act", ["erf", "relu", "tanh"])
def test_gp_limit_equals_the_nngp_kernels(act):
    X, y, Z = _data()
    K = fit(X, y, WIDTHS, S2, T, mode="gp", activation=act).layer_kernels(Z)
    ref = nngp(
        Z, activation=np.tanh if act == "tanh" else act, sigma2=S2[1:], depth=3, input_sigma2=S2[0]
    )
    for l in range(4):
        # tanh: two Gauss–Hermite evaluations (64 nodes) of the same integrals
        np.testing.assert_allclose(
            K[l], ref[l].cov12, rtol=1e-7, atol=1e-8 if act == "tanh" else 1e-12
        )


@pytest.mark.parametrize("act", ["erf", "relu"])
def test_finite_width_kernels_approach_the_nngp_like_one_over_width(act):
    """At fixed P the shift ⟨K_l⟩ − K_l^GP is O(P/N): N × shift tends to a constant."""
    X, y, Z = _data()
    gp = fit(X, y, WIDTHS, S2, T, mode="gp", activation=act).layer_kernels(Z)
    shifts = []
    for n in (1e4, 1e5):
        K = fit(X, y, [n] * 3, S2, T, activation=act).layer_kernels(Z)
        shifts.append(n * np.linalg.norm(K[1:] - gp[1:]))
    assert shifts[1] == pytest.approx(shifts[0], rel=0.02)


def test_scalar_heuristic_has_no_layer_kernels_at_depth():
    X, y, Z = _data()
    with pytest.raises(InputError, match="layerwise"):
        fit(X, y, WIDTHS, S2, T, activation="erf", renormalization="scalar").layer_kernels(Z)
    a = fit(X, y, [30], S2[:2], T, activation="erf", renormalization="scalar").layer_kernels(Z)
    b = fit(X, y, [30], S2[:2], T, activation="erf").layer_kernels(Z)
    np.testing.assert_allclose(a, b, rtol=1e-10)


# ----------------------------------------------------------------------------- MALA (slow)


def _mala_setup():
    rng = np.random.default_rng(3)
    P, N0 = 30, 60
    w = rng.standard_normal(N0)
    X = rng.standard_normal((P, N0))
    y = np.tanh(X @ w / np.sqrt(N0))
    return X, y


def _summaries(K, yz):
    """(…, L+1, 2): mean diagonal of ⟨K_l⟩ on Z and its alignment yᵀ⟨K_l⟩y/yᵀy."""
    tr = np.einsum("...ii->...", K) / K.shape[-1]
    al = np.einsum("...ij,i,j->...", K, yz, yz) / (yz @ yz)
    return np.stack([tr, al], -1)


@pytest.fixture(scope="module")
def erf_samples():
    from deeprg.data import DataSplit
    from deeprg.sampling import sample_posterior

    X, y = _mala_setup()
    Z, yz = X[:8].copy(), y[:8].copy()
    res = sample_posterior(
        DataSplit(X, y, Z, yz, {}),
        [30],
        1.0,
        0.02,
        activation="erf",
        sampler="mala",
        chains=16,
        steps=20000,
        thin=10,
        eta=0.05,
        seed=1,
        Z=Z,
        progress=False,
    )
    return X, y, Z, yz, res


def _erf_check(erf_samples, theory):
    X, y, Z, yz, res = erf_samples
    f = fit(X, y, [30], 1.0, 0.02, activation="erf", mode="gp" if theory == "gp" else "saddle")
    if theory == "renormalized only":  # Q σ² k_φ(K_0): the scalar rescaling, no shape change
        K1 = f.u[0] * gram_map("erf", Z @ Z.T / Z.shape[1])
        ref = _summaries(K1, yz)
    else:
        ref = _summaries(f.layer_kernels(Z)[1], yz)
    per_chain = _summaries(res.layer_kernels_chains[:, 1], yz)  # (C, 2), independent chains
    return check(per_chain[:, None, :], ref, independent=True, names=["trace", "alignment"])


@pytest.mark.slow
def test_erf_layer_kernel_matches_mala_samples(erf_samples):
    """L = 1, N = 30, P = 30: measured alignment 0.7301 ± 0.0040 vs theory 0.7305, GP 0.6155."""
    assert erf_samples[4].equilibrated
    assert_consistent(_erf_check(erf_samples, "layerwise"))


@pytest.mark.slow
@pytest.mark.parametrize("wrong", ["gp", "renormalized only"])
def test_negative_control_erf_layer_kernel_wrong_theories_fail(erf_samples, wrong):
    assert_detected(_erf_check(erf_samples, wrong))
