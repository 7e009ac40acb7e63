"""Perceptron reproductions: plumbing at a tiny size (default), quick size (slow)."""

import numpy as np
import pytest

from deeprg.experiments import registry

NAMES = [
    "perceptron-phase",
    "perceptron-profiles",
    "perceptron-thresholds",
    "perceptron-dynamics",
    "perceptron-teacher",
    "perceptron-dense-limit",
    "perceptron-aging",
]


@pytest.mark.parametrize("name", NAMES)
def test_plumbing_tiny(name, tmp_path):
    res = registry.get(name).run(size="tiny", seed=0, out_dir=tmp_path)
    assert res.summary and res.dataset.sizes
    assert all(f.exists() for f in res.figures)


def test_tiny_thresholds_match_the_front_criterion_values(tmp_path):
    ds = registry.get("perceptron-thresholds").run(size="tiny", seed=0, out_dir=tmp_path).dataset
    np.testing.assert_allclose(
        ds["alpha_threshold"].sel(scenario="random").values[:2], [np.pi**2 / 4, 20.99], rtol=3e-3
    )


@pytest.mark.slow
def test_quick_phase_is_reflection_symmetric_and_converged(tmp_path):
    ds = registry.get("perceptron-phase").run(size="quick", seed=0, out_dir=tmp_path).dataset
    assert bool(ds["converged"].all())
    np.testing.assert_allclose(ds["q"].values, ds["q"].values[..., ::-1], atol=1e-12)


@pytest.mark.slow
def test_quick_thresholds_grow_with_depth(tmp_path):
    ds = registry.get("perceptron-thresholds").run(size="quick", seed=0, out_dir=tmp_path).dataset
    a = ds["alpha_threshold"].sel(scenario="random").values
    a = a[np.isfinite(a)]
    assert len(a) >= 4 and np.all(np.diff(a) > 0)
    np.testing.assert_allclose(a[:4], [np.pi**2 / 4, 20.99, 85.97, 282.3], rtol=6e-3)


def test_tiny_teacher_and_dense_limit_carry_the_theory_lines(tmp_path):
    """The theory columns of the MC reproductions are the replica solvers' values (Gibbs
    learning at L = 1; the closure profiles of the dense-limit test)."""
    from theory_references import gibbs_learning_eps_g

    ds = registry.get("perceptron-teacher").run(size="tiny", seed=0, out_dir=tmp_path).dataset
    # independent reference: the textbook Gibbs-learning equation (not the solver it calls)
    for a in (1.0, 3.0):
        ref = gibbs_learning_eps_g(a)
        assert float(ds["eps_g_rs"].sel(L=1, alpha=a)) == pytest.approx(ref, abs=1e-9)
    assert np.all((ds["eps_g_mc"] >= 0) & (ds["eps_g_mc"] <= 0.5 + 4 * ds["eps_g_mc_se"]))
    dl = registry.get("perceptron-dense-limit").run(size="tiny", seed=0, out_dir=tmp_path).dataset
    # closure B leaves the input side liquid, closure A is reflection symmetric
    assert float(dl["Q_rs_B"][0]) == pytest.approx(0.0, abs=1e-8)
    assert float(dl["Q_rs_A"][0]) == pytest.approx(float(dl["Q_rs_A"][-1]), rel=1e-10)
    assert dl["q"].sizes["size"] == 2 and np.all(np.isfinite(dl["rms_z_A"]))


@pytest.mark.slow
def test_quick_teacher_L1_is_gibbs_learning(tmp_path):
    """L = 1 teacher–student MC (N = 16, T = 0.01) against the replica Gibbs-learning ε_g at
    α ≤ 3; the bound is 4 standard errors over 6 samples (t distribution with 5 degrees of
    freedom: 99 % two-sided)."""
    ds = registry.get("perceptron-teacher").run(size="quick", seed=0, out_dir=tmp_path).dataset
    sel = ds.sel(L=1, alpha=[0.5, 1.0, 2.0, 3.0])
    z = (sel["eps_g_mc"] - sel["eps_g_rs"]) / sel["eps_g_mc_se"]
    assert np.all(np.abs(z.values) < 4.0)
    # deeper students generalize worse at equal alpha (both in MC and in the theory)
    assert np.all(ds["eps_g_mc"].sel(L=3) > ds["eps_g_mc"].sel(L=1))


@pytest.mark.slow
def test_quick_aging_older_hosts_relax_slower(tmp_path):
    """Aging: at the oldest waiting time the boundary layer keeps a larger overlap at the end
    of the run than at the youngest (difference beyond 3 standard errors of 16 samples)."""
    ds = registry.get("perceptron-aging").run(size="quick", seed=0, out_dir=tmp_path).dataset
    last = ds.sel(layer=1).isel(time=-1)
    q, se = last["q"], last["q_se"]
    diff = float(q.isel(t_w=-1) - q.isel(t_w=0))
    assert diff > 3 * float(np.sqrt(se.isel(t_w=-1) ** 2 + se.isel(t_w=0) ** 2))
    um = ds["ultra_delta"].values[1:-1]
    assert np.all(um < ds["ultra_delta_null"].values[1:-1])


@pytest.mark.slow
def test_quick_dense_limit_centre_is_the_least_frozen(tmp_path):
    """Both closures and the MC agree on a liquid-like centre: in the most tree-like network
    (N = 48, c = 12) the centre weight layer has a smaller overlap than the output layer,
    beyond 3 standard errors."""
    ds = registry.get("perceptron-dense-limit").run(size="quick", seed=0, out_dir=tmp_path).dataset
    m = ds.sel(size="N=48, c=12")
    gap = m["Q"].sel(wlayer=4) - m["Q"].sel(wlayer=2)
    se = np.sqrt(m["Q_se"].sel(wlayer=4) ** 2 + m["Q_se"].sel(wlayer=2) ** 2)
    assert float(gap) > 3 * float(se)
