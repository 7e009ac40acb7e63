"""Batched finite networks (bpkr.md §1.1–1.2) vs finite differences and per-chain loops."""

import numpy as np
import pytest

from deeprg.errors import InputError
from deeprg.networks import backprop_readout, forward, init_params, network, potential_and_grad


def _data(P, N0, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((P, N0)), rng.standard_normal(P)


@pytest.mark.parametrize("activation", ["linear", "relu"])
def test_gradient_matches_finite_differences(activation):
    rng = np.random.default_rng(0)
    X, y = _data(7, 5)
    net = network(5, [4, 3], [0.8, 1.3, 0.7], activation)
    p = init_params(net, 2, rng)
    pot, g, _ = potential_and_grad(net, p, X, y, 0.3)
    eps = 1e-6
    for k in range(len(p)):
        for idx in [
            (0, *tuple(0 for _ in p[k].shape[1:])),
            (1, *tuple(s - 1 for s in p[k].shape[1:])),
            (1, *tuple(s // 2 for s in p[k].shape[1:])),
        ]:
            pp, pm = [q.copy() for q in p], [q.copy() for q in p]
            pp[k][idx] += eps
            pm[k][idx] -= eps
            fd = (
                potential_and_grad(net, tuple(pp), X, y, 0.3)[0]
                - potential_and_grad(net, tuple(pm), X, y, 0.3)[0]
            ) / (2 * eps)
            assert fd[idx[0]] == pytest.approx(g[k][idx], rel=1e-6, abs=1e-7)


@pytest.mark.parametrize("activation", ["linear", "relu"])
def test_forward_and_potential_match_per_chain_loop(activation):
    rng = np.random.default_rng(1)
    X, y = _data(6, 5, seed=2)
    s2 = [0.7, 1.1, 0.9]
    net = network(5, [4, 3], s2, activation)
    p = init_params(net, 3, rng)
    T = 0.4
    f, _ = forward(net, p, X)
    pot, _, _ = potential_and_grad(net, p, X, y, T)
    for c in range(3):
        for mu in range(X.shape[0]):  # naive: one chain, one input at a time
            h = X[mu]
            for l, W in enumerate(p[:-1]):
                h = W[c] @ h / np.sqrt(net.dims[l])
                if activation == "relu":
                    h = np.maximum(h, 0)
            assert f[c, mu] == pytest.approx(p[-1][c] @ h / np.sqrt(3), abs=1e-12)
        E = 0.5 * np.sum((f[c] - y) ** 2)
        prior = sum(np.sum(q[c] ** 2) / (2 * s) for q, s in zip(p, s2, strict=True))
        assert pot[c] == pytest.approx(E / T + prior, rel=1e-12)


def test_backprop_readout_represents_f_at_every_layer():
    rng = np.random.default_rng(3)
    X, _ = _data(6, 5)
    net = network(5, [4, 3], 1.0)
    p = init_params(net, 3, rng)
    f, xs = forward(net, p, X)
    r = backprop_readout(net, p)
    for l in range(net.L + 1):  # f = r_l · x_l (§3.8)
        np.testing.assert_allclose(f, np.einsum("cj,cpj->cp", r[l], xs[l]), atol=1e-12)


def test_bad_network_input():
    with pytest.raises(InputError):
        network(5, [4, 0], 1.0)
    with pytest.raises(InputError):
        network(5, [4], [1.0, 1.0, 1.0])
    with pytest.raises(InputError):
        network(5, [4], 1.0, "tanh")
