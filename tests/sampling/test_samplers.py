"""Samplers vs closed forms and vs the exact finite-width theory (issue 3)."""

import json

import numpy as np
import pytest

from deeprg.bpkr import fit
from deeprg.cli import main
from deeprg.networks import backprop_readout, forward, init_params, network, potential_and_grad
from deeprg.sampling import make_sampler, run_chains


def teacher(P, N0, n_test=50, seed=0, noise=0.3):
    rng = np.random.default_rng(seed)
    w0 = rng.standard_normal(N0)
    X, Xt = rng.standard_normal((P, N0)), rng.standard_normal((n_test, N0))
    return X, X @ w0 / np.sqrt(N0) + noise * rng.standard_normal(P), Xt, Xt @ w0 / np.sqrt(N0)


@pytest.mark.parametrize("activation", ["linear", "relu"])
def test_gradient_matches_finite_differences(activation):
    rng = np.random.default_rng(0)
    X, y, _, _ = teacher(7, 5)
    net = network(5, [4, 3], [0.8, 1.3, 0.7], activation)
    p = init_params(net, 2, rng)
    pot, g, _ = potential_and_grad(net, p, X, y, 0.3)
    eps = 1e-6
    for k in range(len(p)):
        for idx in [
            (0, *tuple(0 for _ in p[k].shape[1:])),
            (1, *tuple(s - 1 for s in p[k].shape[1:])),
        ]:
            pp, pm = [q.copy() for q in p], [q.copy() for q in p]
            pp[k][idx] += eps
            pm[k][idx] -= eps
            fd = (
                potential_and_grad(net, tuple(pp), X, y, 0.3)[0]
                - potential_and_grad(net, tuple(pm), X, y, 0.3)[0]
            ) / (2 * eps)
            assert fd[idx[0]] == pytest.approx(g[k][idx], rel=1e-6, abs=1e-7)


def test_forward_matches_per_chain_loop_and_backprop_readout():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((6, 5))
    net = network(5, [4, 3], 1.0)
    p = init_params(net, 3, rng)
    f, _ = forward(net, p, X)
    for c in range(3):
        h = X.T
        for l, W in enumerate(p[:-1]):
            h = W[c] @ h / np.sqrt(net.dims[l])
        np.testing.assert_allclose(f[c], p[-1][c] @ h / np.sqrt(3), atol=1e-12)
    r = backprop_readout(net, p)
    np.testing.assert_allclose(f, np.einsum("cj,pj->cp", r[0], X), atol=1e-12)


@pytest.mark.parametrize(
    "name,eta,steps", [("gibbs", 0.0, 600), ("mala", 0.05, 3000), ("langevin", 0.005, 6000)]
)
def test_samplers_recover_bayesian_linear_regression(name, eta, steps):
    """L = 0 (f = a·x/√N0): posterior of f at test inputs is Gaussian in closed form."""
    N0, P, T, s2 = 4, 10, 0.5, 1.5
    X, y, Xt, _ = teacher(P, N0, n_test=3, seed=2)
    Phi = X / np.sqrt(N0)
    S = np.linalg.inv(np.eye(N0) / s2 + Phi.T @ Phi / T)
    mu = S @ Phi.T @ y / T
    m_true = Xt @ mu / np.sqrt(N0)
    v_true = np.einsum("ti,ij,tj->t", Xt, S, Xt) / N0
    net = network(N0, [], s2)
    smp = make_sampler(name, net, X, y, T, eta=eta)
    res = run_chains(
        smp,
        net,
        init_params(net, 32, np.random.default_rng(3)),
        X_test=Xt,
        y_test=m_true,
        steps=steps,
        warmup=steps // 5,
        thin=2,
        seed=4,
    )
    n_eff = min(res.ess.values())
    se_mean = np.sqrt(v_true / n_eff)
    assert np.all(np.abs(res.f_mean - m_true) < 4 * se_mean)
    se_var = v_true * np.sqrt(2 / n_eff)
    # Langevin's O(eta) discretization bias is far below the MC error at this step size.
    assert np.all(np.abs(res.f_var - v_true) < 4 * se_var)


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


def test_checkpoint_resume_is_bit_identical(tmp_path):
    N0, P, T = 6, 5, 0.2
    X, y, Xt, yt = teacher(P, N0, n_test=4, seed=8)
    net = network(N0, [4], 1.0)

    def go(ck=None, stop=None):
        smp = make_sampler("mala", net, X, y, T, eta=0.01)
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
            stop_after=stop,
        )

    full = go()
    ck = tmp_path / "run.ckpt"
    with pytest.raises(KeyboardInterrupt):
        go(ck, stop=170)
    resumed = go(ck)
    np.testing.assert_array_equal(full.f_mean, resumed.f_mean)
    assert full.eps_g == resumed.eps_g
    np.testing.assert_array_equal(full.traces["sq_err"], resumed.traces["sq_err"])


def test_compare_cli_json(capsys):
    with pytest.raises(SystemExit) as exc:
        main(
            [
                "compare",
                "--json",
                "--widths",
                "8,8",
                "--P",
                "10",
                "--N0",
                "16",
                "--P-test",
                "30",
                "--steps",
                "300",
                "--chains",
                "8",
                "--temperature",
                "0.1",
            ]
        )
    assert exc.value.code == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out["theory"]) == {"saddle", "exact", "gp"}
    for k in ("eps_g", "eps_g_se", "bias2", "variance", "a2_over_N", "rhat_max", "ess_min"):
        assert k in out["sampler"]
    assert out["theory"]["exact"]["mode"] == "exact"


@pytest.mark.parametrize(
    "args", [["--sampler", "hmc"], ["--chains", "1"], ["--temperature", "0"], ["--steps", "0"]]
)
def test_compare_bad_input(args, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["compare", "--widths", "4", "--P", "5", "--N0", "6", *args])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


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
