"""Exact mode linear in depth (issue 13 item 3): the prior density of log U from closed-form
characteristic functions, grouped by equal widths, vs independent references.

References: the closed-form log-Gamma density (L = 1), direct numerical convolution by
adaptive quadrature (L = 2), and the previous implementation — a per-layer FFT convolution of
sampled log-Gamma densities after the same exponential tilt — copied below (L up to 20).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, optimize, special
from scipy.signal import fftconvolve

from deeprg.bpkr import architecture, base_kernel, fit_kernel
from deeprg.bpkr.exact import log_sum_density


def _loggamma_logpdf(v, k, theta):
    """log density of v = log u with u ~ Gamma(k, scale θ)."""
    return k * v - np.exp(v) / theta - special.gammaln(k) - k * np.log(theta)


def _tilt(k, theta, target):
    def f(b):
        return float((special.digamma(k + b) + np.log(theta)).sum() - target)

    lo, hi = -k.min() + 1e-12, max(1.0, 10.0 * k.max())
    while f(hi) < 0:
        hi *= 4.0
    return lo if f(lo) > 0 else float(optimize.brentq(f, lo, hi, xtol=1e-12))


def conv_reference(k, theta, target):
    """The previous implementation: tilted per-layer FFT convolution (one factor per layer)."""
    k, theta = np.asarray(k, float), np.asarray(theta, float)
    beta = _tilt(k, theta, target)
    kt = k + beta
    sd_t = float(np.sqrt(special.polygamma(1, kt).sum()))
    h = min(sd_t / 400.0, float(np.sqrt(special.polygamma(1, kt)).min()) / 20.0)
    dens, start = [], 0.0
    for kl, th in zip(kt, theta, strict=True):
        m = special.digamma(kl) + np.log(th)
        sd = np.sqrt(special.polygamma(1, kl))
        v = h * np.arange(
            int(np.floor((m - 40 * sd - 3) / h)), int(np.ceil((m + 12 * sd + 3) / h)) + 1
        )
        dens.append(np.exp(_loggamma_logpdf(v, kl, th)) * h)
        start += v[0]
    total = dens[0]
    for d in dens[1:]:
        total = fftconvolve(total, d)
    grid = start + h * np.arange(total.size)
    with np.errstate(divide="ignore"):
        logp = np.log(np.clip(total, 0.0, None) / h)
    const = (special.gammaln(kt) + beta * np.log(theta) - special.gammaln(k)).sum()
    bulk = total > 1e-3 * total.max()  # where round-off leaves the reference accurate to 1e-12
    return grid[bulk], (logp - beta * grid + const)[bulk]


def expand(widths, s2next):
    """Per-layer Gamma shapes N_l/2 and scales 2σ²_{l+1}/N_l."""
    w = np.asarray(widths, float)
    return w / 2.0, 2.0 * np.asarray(s2next, float) / w


@pytest.mark.parametrize(
    "widths,s2next,shift",
    [
        ([60], [1.0], 0.0),
        ([30, 80], [1.3, 0.7], 0.4),
        ([20, 20, 50], [1.0, 1.0, 2.0], -0.8),
        ([40, 40, 40, 40], [1.0, 1.0, 1.0, 1.0], 0.0),
        ([7, 300], [0.5, 1.5], 1.5),  # a narrow layer: skewed, heavy left tail
    ],
)
def test_against_per_layer_convolution(widths, s2next, shift):
    k, theta = expand(widths, s2next)
    center = float((special.digamma(k) + np.log(theta)).sum()) + shift  # off the prior mean
    grid, ref = conv_reference(k, theta, center)
    pts = grid[:: max(1, grid.size // 400)]
    ref = ref[:: max(1, grid.size // 400)]
    # grouped: equal (k, θ) pairs merged with their multiplicity
    pairs, counts = np.unique(np.stack([k, theta], 1), axis=0, return_counts=True)
    got = log_sum_density(pairs[:, 0], pairs[:, 1], counts, pts, center=center)
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-10)
    # conditional-moment densities: one factor with shape k + 1
    k1 = k.copy()
    k1[0] += 1.0
    grid1, ref1 = conv_reference(k1, theta, center)
    pts1 = grid1[:: max(1, grid1.size // 200)]
    got1 = log_sum_density(k1, theta, np.ones(k.size), pts1, center=center)
    np.testing.assert_allclose(got1, ref1[:: max(1, grid1.size // 200)], rtol=0, atol=1e-10)


def test_one_layer_is_the_log_gamma_density():
    k, theta = 25.0, 2.0 / 50  # sd of log u ≈ 0.2
    for center in (-0.5, 0.0, 0.4):  # the tilt must not change the density near its centre
        v = np.linspace(center - 0.6, center + 0.6, 41)
        got = log_sum_density([k], [theta], [1], v, center=center)
        np.testing.assert_allclose(got, _loggamma_logpdf(v, k, theta), rtol=0, atol=1e-11)


def test_two_layers_vs_adaptive_quadrature():
    (k1, k2), (t1, t2) = expand([30, 12], [1.0, 1.4])
    s = np.linspace(-0.9, 0.6, 9)

    def conv(x):
        f = lambda v: np.exp(_loggamma_logpdf(v, k1, t1) + _loggamma_logpdf(x - v, k2, t2))  # noqa: E731
        return integrate.quad(f, -12, 6, epsabs=0, epsrel=1e-13, limit=400)[0]

    ref = np.log([conv(x) for x in s])
    got = log_sum_density([k1, k2], [t1, t2], [1, 1], s, center=-0.1)
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-10)


def test_grouping_is_exact():
    k, theta = expand([50, 50, 50, 90, 90], [1.2] * 5)
    s = np.linspace(-1.0, 1.5, 30)
    grouped = log_sum_density([k[0], k[3]], [theta[0], theta[3]], [3, 2], s, center=0.2)
    single = log_sum_density(k, theta, np.ones(5), s, center=0.2)
    np.testing.assert_allclose(grouped, single, rtol=0, atol=1e-11)


def test_deep_network_matches_per_layer_convolution():
    """L = 20 equal widths: one group of multiplicity 20 vs 19 sequential convolutions."""
    k, theta = expand([100] * 20, [1.0] * 20)
    center = float((special.digamma(k) + np.log(theta)).sum()) - 0.3
    grid, ref = conv_reference(k, theta, center)
    step = max(1, grid.size // 300)
    got = log_sum_density([k[0]], [theta[0]], [20], grid[::step], center=center)
    np.testing.assert_allclose(got, ref[::step], rtol=0, atol=1e-10)


def test_exact_mode_at_depth_100():
    """L = 100 equal widths: every u_l the same (symmetry), U close to the saddle's, one
    progress step per layer; cheap because the 100 layers form one group."""
    rng = np.random.default_rng(3)
    X = rng.standard_normal((80, 40))
    y = X @ rng.standard_normal(40) / np.sqrt(40) + 0.3 * rng.standard_normal(80)
    kern = base_kernel(X, y)
    arch = architecture([100] * 100, 1.0, 0.05)
    steps = []
    f = fit_kernel(kern, arch, "exact", progress=lambda d, t: steps.append((d, t)))
    s = fit_kernel(kern, arch, "saddle")
    assert f.converged and f.diagnostics["edge_mass"] < 1e-8
    assert steps[-1] == (100, 100) and len(steps) == 100
    np.testing.assert_allclose(f.u, f.u[0], rtol=1e-10)
    assert f.U == pytest.approx(s.U, rel=0.2)  # O(L/N) finite-width correction
    assert np.all(np.isfinite(f.layer_kernels(X[:5])))
