"""erf networks (additive to the linear/ReLU ones): exact gradient and the NNGP kernel."""

import numpy as np

from deeprg.kernels import nngp
from deeprg.networks import forward, init_params, network, potential_and_grad


def test_erf_potential_gradient_matches_finite_differences():
    rng = np.random.default_rng(0)
    net = network(5, [4, 3], [1.2, 0.8, 1.5], "erf")
    X, y = rng.standard_normal((7, 5)), rng.standard_normal(7)
    params = init_params(net, 2, rng)
    _, grads, _ = potential_and_grad(net, params, X, y, 0.3)
    h = 1e-6
    for k, p in enumerate(params):
        idx = (1, *(0,) * (p.ndim - 1))
        plus = [q.copy() for q in params]
        minus = [q.copy() for q in params]
        plus[k][idx] += h
        minus[k][idx] -= h
        fd = (
            potential_and_grad(net, tuple(plus), X, y, 0.3)[0][1]
            - potential_and_grad(net, tuple(minus), X, y, 0.3)[0][1]
        ) / (2 * h)
        assert abs(grads[k][idx] - fd) < 1e-6 * max(1.0, abs(fd))


def test_wide_erf_network_output_covariance_is_the_nngp_kernel():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((3, 6))
    net = network(6, [2000], [1.3, 1.0], "erf")
    f, _ = forward(net, init_params(net, 400, rng), X)
    emp = f.T @ f / f.shape[0]
    K = nngp(X, activation="erf", sigma2=1.0, depth=1, input_sigma2=1.3)[-1].cov12
    se = np.sqrt((K.diagonal()[:, None] * K.diagonal()[None, :] + K**2) / f.shape[0])
    assert np.max(np.abs(emp - K) / se) < 5.0
