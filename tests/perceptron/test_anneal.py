"""Population annealing: the log Gardner volume of one instance against its exact value (direct
sampling of the prior on a small perceptron), with negative controls; dims and diagnostics."""

import numpy as np
import pytest

from deeprg.errors import InputError
from deeprg.perceptron.montecarlo.anneal import AnnealConfig, anneal, instance
from deeprg.perceptron.montecarlo.slaved import random_weights
from deeprg.schema import missing_attrs

BASE = dict(L=1, N=1, N_in=8, N_out=1, c=None, population=400, n_alpha=1, sweeps=5, seed=3)


def _exact_log_volume(cfg, n=2_000_000, seed=9):
    """ln(fraction of weight space solving the first m patterns) per weight for m = 1..M, and
    its se, by sampling the prior directly (independent of the sampler and of the resampling).
    At L = 1 the output units are independent perceptrons: the log volume is the sum of theirs.
    The tolerance of the comparison comes from the spread of independent annealing runs on
    the same instance (their mean carries an O(1/R) downward bias, ~2 se here)."""
    wr, S0, SL, _ = instance(cfg)
    rng = np.random.default_rng(seed)
    n_out = SL.shape[1]
    hits = np.zeros((n_out, cfg.M))
    for _ in range(n // 200_000):
        J = random_weights(wr, rng, 200_000)[:, 0, :n_out, : cfg.fan]  # (samples, units, c)
        ok = np.einsum("mc,suc->usm", S0.astype(float), J) * SL.T[:, None, :] >= cfg.kappa
        hits += np.cumprod(ok, axis=2).sum(1)
    p = hits / n
    per_weight = n_out * cfg.fan
    var = ((1 - p) / (p * n)).sum(0)
    return np.log(p).sum(0) / per_weight, np.sqrt(var) / per_weight


def _runs(cfg, n=12):
    v = np.array([anneal(cfg.replace(run=r)).log_volume.values for r in range(n)])
    return v.mean(0), v.std(0, ddof=1) / np.sqrt(n)


@pytest.mark.statistical
@pytest.mark.parametrize(
    ("scenario", "alpha_max", "n_out"),
    [("random", 1.0, 1), ("teacher", 2.0, 1), ("random", 0.75, 3)],
)
def test_log_volume_equals_the_exact_volume_of_the_instance(scenario, alpha_max, n_out):
    """n_out = 3: every pattern brings three constraints, added by annealing in beta."""
    cfg = AnnealConfig(**(BASE | {"N_out": n_out}), scenario=scenario, alpha_max=alpha_max)
    exact, ex_se = _exact_log_volume(cfg)
    mean, se = _runs(cfg)
    z = (mean - exact) / np.sqrt(se**2 + ex_se**2)
    assert np.all(np.abs(z) < 4), z
    assert exact[-1] < -0.4  # a non-trivial volume (far from the first patterns' -m ln2 / c)
    # negative control: population annealing at a wrong margin fails the same comparison
    # (either its volume is off by many standard errors or the population dies out)
    try:
        wrong, wse = _runs(cfg.replace(kappa=0.1))
    except InputError as exc:
        assert "extinct" in str(exc)
    else:
        assert np.max(np.abs((wrong - exact) / np.sqrt(wse**2 + ex_se**2))) > 6


def test_without_moves_the_population_collapses():
    """Negative control: kill-and-resample with no Monte Carlo between the patterns."""
    cfg = AnnealConfig(**BASE, scenario="random", alpha_max=1.0)
    with pytest.raises(InputError, match="population extinct"):
        anneal(cfg.replace(sweeps=0))


def test_dataset_schema_and_diagnostics():
    cfg = AnnealConfig(
        L=2, N=8, N_out=2, c=4, alpha_max=1.0, population=200, n_alpha=2, scenario="teacher"
    )
    ds = anneal(cfg)
    assert missing_attrs(ds) == []
    assert ds["q"].dims == ("alpha", "layer") and ds["Q"].dims == ("alpha", "wlayer")
    assert list(ds["layer"].values) == [0, 1, 2] and list(ds["wlayer"].values) == [1, 2]
    assert ds.sizes["alpha"] == cfg.M and np.all(np.diff(ds["log_volume"].values) <= 0)
    assert np.all(ds["families"].values >= 1) and np.all(ds["R_eff"].values <= cfg.population)
    measured = ds["Q"].dropna("alpha", how="all")
    assert measured.sizes["alpha"] == 2 and np.all(measured.values <= 1 + 1e-12)
    assert ds.attrs["config_hash"] == cfg.hash()


def _exact_overlap(cfg, n=2_000_000, seed=9):
    """Teacher scenario, L = 1, one output: the posterior mean of cos(J, teacher) after all M
    patterns and its se, by rejection sampling of the prior (independent of the annealing)."""
    wr, S0, SL, teacher = instance(cfg)
    rng = np.random.default_rng(seed)
    t = teacher[0, 0, : cfg.fan] / np.linalg.norm(teacher[0, 0, : cfg.fan])
    cos = []
    for _ in range(n // 200_000):
        J = random_weights(wr, rng, 200_000)[:, 0, 0, : cfg.fan]
        ok = np.all((J @ S0.T.astype(float)) * SL[:, 0] >= cfg.kappa, axis=1)
        cos.append(J[ok] @ t / np.sqrt(cfg.fan))
    c = np.concatenate(cos)
    return c.mean(), c.std() / np.sqrt(c.size)


@pytest.mark.statistical
def test_adaptive_moves_and_weighted_runs_reproduce_the_exact_posterior():
    """Adapted angles, a solved-fraction floor, sweeps until decorrelated and Machta's weighted
    average of independent populations: the combined log volume and teacher overlap equal the
    instance's exact values (direct sampling of the prior), within the run-to-run se; negative
    control: the same machinery at a wrong margin misses them (or dies out)."""
    opts = dict(
        target_acceptance=0.4,
        solved_floor=0.8,
        decorrelation=0.5,
        max_sweeps=10,
        n_alpha=2,
        population=200,
    )
    cfg = AnnealConfig(**(BASE | opts), scenario="teacher", alpha_max=2.0, runs=4)
    exact, ex_se = _exact_log_volume(cfg, n=1_000_000)
    q_exact, q_se = _exact_overlap(cfg, n=600_000)
    ds = anneal(cfg)
    last = ds.isel(alpha=-1)
    z_v = (float(last.log_volume) - exact[-1]) / np.hypot(float(last.log_volume_se), ex_se[-1])
    z_q = (float(last.Q[0]) - q_exact) / np.hypot(float(last.Q_se[0]), q_se)
    assert abs(z_v) < 4 and abs(z_q) < 4, (z_v, z_q)
    assert 0.3 < q_exact < 0.95  # a non-trivial overlap
    assert np.all(ds.theta.values[-1] != cfg.theta_max)  # the angles did adapt
    assert int(last.families) > cfg.runs  # several families survive in every run
    try:
        wrong = anneal(cfg.replace(kappa=0.5, max_steps=40)).isel(alpha=-1)
    except InputError as exc:
        assert "extinct" in str(exc)
    else:
        zw = (float(wrong.Q[0]) - q_exact) / np.hypot(float(wrong.Q_se[0]), q_se)
        zv = (float(wrong.log_volume) - exact[-1]) / np.hypot(float(wrong.log_volume_se), ex_se[-1])
        assert max(abs(zw), abs(zv)) > 6, (zw, zv)


def test_weighted_runs_combine_the_single_runs():
    """runs = k is the weighted combination of the k single runs (seeds run, run+1, ...):
    log V = log mean_k V_k per weight, overlaps weighted by V_k."""
    cfg = AnnealConfig(L=2, N=8, N_out=2, c=4, alpha_max=1.0, population=100, n_alpha=1)
    single = [anneal(cfg.replace(run=5 + k)) for k in range(3)]
    both = anneal(cfg.replace(run=5, runs=3))
    n_w = instance(cfg)[0].n_weights
    v = np.array([d.log_volume.values for d in single]) * n_w
    ref = (np.log(np.mean(np.exp(v - v.max(0)), 0)) + v.max(0)) / n_w
    np.testing.assert_allclose(both.log_volume.values, ref, rtol=1e-12)
    w = np.exp(v[:, -1] - v[:, -1].max())
    Q = np.array([d.Q.values[-1] for d in single])
    np.testing.assert_allclose(both.Q.values[-1], w @ Q / w.sum(), rtol=1e-12)
    assert both.sizes["run"] == 3 and missing_attrs(both) == []
