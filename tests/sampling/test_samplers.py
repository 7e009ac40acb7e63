"""Samplers vs closed forms and vs the exact finite-width theory (issue 3)."""

import copy

import numpy as np
import pytest
from scipy.stats import multivariate_normal
from stats_helpers import assert_consistent, assert_detected, check

from deeprg.bpkr import fit
from deeprg.networks import init_params, network, potential_and_grad
from deeprg.sampling import ChainRNG, Sampler, make_sampler, run_chains
from deeprg.sampling.samplers import langevin_proposal


def teacher(P, N0, n_test=50, seed=0, noise=0.3):
    rng = np.random.default_rng(seed)
    w0 = rng.standard_normal(N0)
    X, Xt = rng.standard_normal((P, N0)), rng.standard_normal((n_test, N0))
    return X, X @ w0 / np.sqrt(N0) + noise * rng.standard_normal(P), Xt, Xt @ w0 / np.sqrt(N0)


BLR_N0, BLR_P, BLR_T, BLR_S2 = 4, 10, 0.5, 1.5
BLR_RUNS = {"gibbs": (0.0, 600), "mala": (0.05, 3000), "langevin": (0.05, 3000)}
BLR_NAMES = ["f1", "f2", "f3", "f1^2", "f2^2", "f3^2", "|a|^2"]


def blr_reference(name):
    """Exact stationary moments of (f(x_t), f(x_t)², ‖a‖²) for L = 0 (f = a·x/√N0).

    gibbs and mala: the Bayesian linear regression posterior N(μ, Σ). Langevin (unadjusted)
    with h = ηT has its own exact Gaussian stationary law for this Gaussian target: the same
    mean and Σ_h = Σ (I − hΣ⁻¹/2)⁻¹ (from Σ_h = (I − hA)Σ_h(I − hA) + 2hI, A = Σ⁻¹), so its
    O(η) bias is part of the reference rather than absorbed in the tolerance."""
    X, y, Xt, _ = teacher(BLR_P, BLR_N0, n_test=3, seed=2)
    Phi = X / np.sqrt(BLR_N0)
    A = np.eye(BLR_N0) / BLR_S2 + Phi.T @ Phi / BLR_T
    S = np.linalg.inv(A)
    mu = S @ Phi.T @ y / BLR_T
    if name == "langevin":
        h = BLR_RUNS["langevin"][0] * BLR_T
        S = S @ np.linalg.inv(np.eye(BLR_N0) - h * A / 2)
    B = Xt / np.sqrt(BLR_N0)
    m, v = B @ mu, np.einsum("ti,ij,tj->t", B, S, B)
    return np.concatenate([m, v + m**2, [np.trace(S) + mu @ mu]])


def blr_trace(name, T=BLR_T, ignore_energy=False, chains=32, seed=4):
    """(C, n, 7) trace of the observables of :func:`blr_reference` from ``name`` run at
    temperature T (the right one: BLR_T), or on the prior alone (``ignore_energy``: inputs
    zeroed, so the likelihood is constant)."""
    eta, steps = BLR_RUNS[name]
    X, y, Xt, _ = teacher(BLR_P, BLR_N0, n_test=3, seed=2)
    net = network(BLR_N0, [], BLR_S2)
    smp = make_sampler(name, net, 0 * X if ignore_energy else X, y, T, eta=eta)
    st = smp.init(init_params(net, chains, np.random.default_rng(3)))
    rng = ChainRNG(seed, chains)
    warmup, out = steps // 5, []
    for t in range(warmup + steps):
        st, _ = smp.step(st, rng, adapt=t < warmup, t=t + 1)
        if t >= warmup and (t - warmup) % 2 == 0:
            a = st.params[0]
            f = a @ Xt.T / np.sqrt(BLR_N0)
            out.append(np.column_stack([f, f**2, np.sum(a**2, 1)]))
    return np.stack(out, axis=1)


def check_blr(name, trace):
    return check(trace, blr_reference(name), names=BLR_NAMES)


@pytest.mark.parametrize("name", ["gibbs", "mala", "langevin"])
def test_samplers_recover_bayesian_linear_regression(name):
    """L = 0: the posterior of f at test inputs and of ‖a‖² is Gaussian in closed form; means
    of f, f² and ‖a‖² within errors from the measured autocorrelation (32 chains)."""
    assert_consistent(check_blr(name, blr_trace(name)))


@pytest.mark.parametrize("name", ["gibbs", "mala", "langevin"])
@pytest.mark.parametrize(
    "wrong", ["T_x2", "T_half", "energy_ignored"], ids=["T_x2", "T_half", "energy_ignored"]
)
def test_negative_control_blr_check_fails_for_a_wrong_sampler(name, wrong):
    """The same check on the sampler run at twice / half the temperature or on the prior
    alone must fail."""
    kw = {"T_x2": {"T": 2 * BLR_T}, "T_half": {"T": BLR_T / 2}}.get(wrong, {"ignore_energy": True})
    assert_detected(check_blr(name, blr_trace(name, **kw)))


def test_gibbs_matches_exact_finite_width_theory():
    N0, P, T = 12, 10, 0.1
    X, y, Xt, yt = teacher(P, N0, n_test=40, seed=5)
    widths, s2 = [6, 5], 1.2
    th = fit(X, y, widths, s2, T, mode="exact")
    e = th.errors(Xt, yt)
    net = network(N0, widths, s2)
    res = run_chains(
        make_sampler("gibbs", net, X, y, T),
        net,
        init_params(net, 24, np.random.default_rng(6)),
        X_test=Xt,
        y_test=yt,
        steps=1200,
        warmup=200,
        thin=2,
        seed=7,
        Z=X[:4],
    )
    assert abs(res.eps_g - e["eps_g"]) < 3 * res.eps_g_se
    assert abs(res.a2_over_N - th.u[-1]) < 3 * res.a2_over_N_se
    # ⟨‖r_l‖²⟩ = U_{≥l}: r_1 -> U, r_2 -> u_2
    assert abs(res.r2[0] - th.U) < 3 * res.r2_se[0]
    assert abs(res.r2[1] - th.u[1]) < 3 * res.r2_se[1]
    assert res.rhat_max < 1.05
    # mean layer kernels ⟨K_l⟩ on Z vs the theory's §4.2 recursion (Frobenius norm in units
    # of the Frobenius norm of the entrywise standard errors)
    K_th = th.layer_kernels(X[:4])
    np.testing.assert_allclose(res.layer_kernels[0], K_th[0], rtol=1e-12)
    for l in (1, 2):
        ratio = np.linalg.norm(res.layer_kernels[l] - K_th[l]) / np.linalg.norm(
            res.layer_kernels_se[l]
        )
        assert ratio < 3, (l, ratio)


def test_checkpoint_resume_is_bit_identical(tmp_path):
    N0, P, T = 6, 5, 0.2
    X, y, Xt, yt = teacher(P, N0, n_test=4, seed=8)
    net = network(N0, [4], 1.0)

    def go(ck=None, stop=None):
        smp = make_sampler("mala", net, X, y, T, eta=0.01)
        if stop is not None:  # a run killed during step `stop` (after its last checkpoint)
            calls, inner = iter(range(10**6)), smp

            def step(state, rng, **kw):
                if next(calls) == stop:
                    raise KeyboardInterrupt
                return inner.step(state, rng, **kw)

            smp = Sampler(inner.name, inner.init, step, inner.config)
        return run_chains(
            smp,
            net,
            init_params(net, 4, np.random.default_rng(9)),
            X_test=Xt,
            y_test=yt,
            steps=300,
            warmup=100,
            thin=3,
            seed=10,
            checkpoint=ck,
            checkpoint_every=50,
        )

    full = go()
    ck = tmp_path / "run.ckpt"
    with pytest.raises(KeyboardInterrupt):
        go(ck, stop=170)
    assert ck.exists()  # the checkpoint of step 150 survives the kill
    resumed = go(ck)
    np.testing.assert_array_equal(full.f_mean, resumed.f_mean)
    assert full.eps_g == resumed.eps_g
    np.testing.assert_array_equal(full.traces["sq_err"], resumed.traces["sq_err"])


@pytest.mark.slow
def test_langevin_small_step_matches_exact_theory():
    N0, P, T = 12, 10, 0.1
    X, y, Xt, yt = teacher(P, N0, n_test=40, seed=5)
    widths, s2 = [6, 5], 1.2
    th = fit(X, y, widths, s2, T, mode="exact")
    e = th.errors(Xt, yt)
    net = network(N0, widths, s2)
    res = run_chains(
        make_sampler("langevin", net, X, y, T, eta=0.01),
        net,
        init_params(net, 32, np.random.default_rng(6)),
        X_test=Xt,
        y_test=yt,
        steps=40000,
        warmup=5000,
        thin=20,
        seed=7,
    )
    assert abs(res.eps_g - e["eps_g"]) < 3 * res.eps_g_se
    assert abs(res.a2_over_N - th.u[-1]) < 3 * res.a2_over_N_se


def test_mala_acceptance_matches_direct_density_evaluation():
    """α = min(1, π(θ')q(θ|θ')/(π(θ)q(θ'|θ))), π ∝ exp(−Φ), q = N(θ − h∇Φ(θ), 2h I)."""
    N0, P, T = 4, 6, 0.3
    X, y, _, _ = teacher(P, N0, seed=11)
    net = network(N0, [3], [1.0, 0.8], "relu")
    smp = make_sampler("mala", net, X, y, T, eta=0.3)
    st = smp.init(init_params(net, 5, np.random.default_rng(12)))
    rng = ChainRNG(13, 5)
    prop, _ = langevin_proposal(st, st.step_size, T, copy.deepcopy(rng))
    new, info = smp.step(st, rng)
    pot_p, g_p, _ = potential_and_grad(net, prop, X, y, T)
    h = st.step_size[0] * T
    flat = lambda ps, c: np.concatenate([q[c].ravel() for q in ps])  # noqa: E731
    for c in range(5):
        x, xp = flat(st.params, c), flat(prop, c)
        d = len(x)
        q_fwd = multivariate_normal.logpdf(xp, x - h * flat(st.grad, c), 2 * h * np.eye(d))
        q_bwd = multivariate_normal.logpdf(x, xp - h * flat(g_p, c), 2 * h * np.eye(d))
        log_a = -pot_p[c] + q_bwd + st.potential[c] - q_fwd
        assert info["acceptance"][c] == pytest.approx(min(1.0, np.exp(log_a)), rel=1e-9)
        moved = not np.array_equal(flat(new.params, c), x)
        if moved:
            np.testing.assert_array_equal(flat(new.params, c), xp)
    assert 0 < np.mean(info["acceptance"]) < 1


@pytest.mark.parametrize("name", ["gibbs", "mala"])
def test_chain_streams_do_not_depend_on_the_number_of_chains(name):
    """Per-chain seeds from SeedSequence.spawn: chain c's draws depend only on (seed, c)."""
    X, y, Xt, yt = teacher(8, 6, n_test=5, seed=14)
    net = network(6, [4, 3], 1.0)

    def go(C):
        return run_chains(
            make_sampler(name, net, X, y, 0.2, eta=0.02),
            net,
            init_params(net, C, ChainRNG(15, C)),
            X_test=Xt,
            y_test=yt,
            steps=40,
            warmup=10,
            seed=16,
        )

    a, b = go(3), go(5)
    for k in ("sq_err", "a2_over_N", "r2_1"):
        np.testing.assert_allclose(a.traces[k], b.traces[k][:3], rtol=1e-10)


def gibbs_larger_net(T_run, C=24):
    """Blocked Gibbs on a deep linear net (N0 = 30, widths 10, 15, P = 20) run at T_run; the
    theory (exact finite-width) is at T = 0.05. Returns (check of ε_g, ‖a‖²/N, ‖r_1‖² from
    the measured autocorrelation of the traces, layer-kernel z-scores from the chain-to-chain
    spread)."""
    N0, P, T = 30, 20, 0.05
    X, y, Xt, yt = teacher(P, N0, n_test=50, seed=17)
    widths, s2 = [10, 15], [1.0, 0.8, 1.3]
    th = fit(X, y, widths, s2, T, mode="exact")
    net = network(N0, widths, s2)
    res = run_chains(
        make_sampler("gibbs", net, X, y, T_run),
        net,
        init_params(net, C, ChainRNG(18, C)),
        X_test=Xt,
        y_test=yt,
        steps=800,
        warmup=200,
        thin=2,
        seed=19,
        Z=X[:4],
    )
    keys = ["sq_err", "a2_over_N", "r2_1"]
    ref = [th.errors(Xt, yt)["eps_g"], th.u[-1], th.U]
    tr = np.stack([res.traces[k] for k in keys], axis=-1)
    K_th, iu = th.layer_kernels(X[:4]), np.triu_indices(4)
    zK = np.concatenate(
        [((res.layer_kernels[l] - K_th[l]) / res.layer_kernels_se[l])[iu] for l in (1, 2)]
    )
    return check(tr, ref, names=keys, n_batches=2 * C), zK, res.rhat_max


@pytest.mark.statistical
def test_gibbs_matches_exact_finite_width_theory_larger_net():
    """ε_g, u_L, U and the mean layer kernels ⟨K_1⟩, ⟨K_2⟩ (20 entries, 24 chains: |z| < 4)."""
    res, zK, rhat = gibbs_larger_net(0.05)
    assert_consistent(res)
    assert np.abs(zK).max() < 4, zK
    assert rhat < 1.05


@pytest.mark.statistical
@pytest.mark.parametrize("T_run", [0.1, 0.025], ids=["T_x2", "T_half"])
def test_negative_control_gibbs_larger_net_at_wrong_temperature(T_run):
    assert_detected(gibbs_larger_net(T_run)[0])


def mala_vs_exact(T_run, C=16, steps=4000):
    """MALA on an L = 2 linear net (N0 = 12, widths 6, 5, P = 10) run at T_run vs the exact
    finite-width theory at T = 0.1: ε_g, u_L = ‖a‖²/N_2 and U = ‖r_1‖²; 2 batches per chain
    (τ_int ≈ 80 thinned draws, batches of 1000)."""
    N0, P, T = 12, 10, 0.1
    X, y, Xt, yt = teacher(P, N0, n_test=40, seed=5)
    widths, s2 = [6, 5], 1.2
    th = fit(X, y, widths, s2, T, mode="exact")
    net = network(N0, widths, s2)
    res = run_chains(
        make_sampler("mala", net, X, y, T_run, eta=0.05),
        net,
        init_params(net, C, ChainRNG(6, C)),
        X_test=Xt,
        y_test=yt,
        steps=steps,
        warmup=steps // 4,
        thin=2,
        seed=7,
    )
    keys = ["sq_err", "a2_over_N", "r2_1"]
    ref = [th.errors(Xt, yt)["eps_g"], th.u[-1], th.U]
    tr = np.stack([res.traces[k] for k in keys], axis=-1)
    return check(tr, ref, names=keys, n_batches=2 * C)


@pytest.mark.statistical
def test_mala_matches_exact_finite_width_theory():
    assert_consistent(mala_vs_exact(0.1))


@pytest.mark.statistical
@pytest.mark.parametrize("T_run", [0.2, 0.05], ids=["T_x2", "T_half"])
def test_negative_control_mala_at_wrong_temperature(T_run):
    assert_detected(mala_vs_exact(T_run))


def test_blr_draws_exact_in_both_primal_and_dual_forms():
    """_blr_sample: the Cholesky (d <= P) and Matheron (P < d) branches give the closed-form
    posterior mean and covariance (8000 draws; tolerance from the sampling error)."""
    from deeprg.sampling.rng import ChainRNG
    from deeprg.sampling.samplers import _blr_sample

    rng0 = np.random.default_rng(0)
    for P, d in [(8, 3), (3, 8)]:
        Phi = rng0.standard_normal((P, d))
        y = rng0.standard_normal(P)
        s2, T = 1.3, 0.4
        S = np.linalg.inv(np.eye(d) / s2 + Phi.T @ Phi / T)
        mu = S @ Phi.T @ y / T
        n = 8000
        w = _blr_sample(np.broadcast_to(Phi, (n, P, d)).copy(), y, s2, T, ChainRNG(1, n))
        se = np.sqrt(np.diag(S) / n)
        assert np.all(np.abs(w.mean(0) - mu) < 4 * se)
        C_hat = np.cov(w.T)
        assert np.all(
            np.abs(C_hat - S) < 4 * np.sqrt((S**2 + np.outer(np.diag(S), np.diag(S))) / n)
        )
