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
