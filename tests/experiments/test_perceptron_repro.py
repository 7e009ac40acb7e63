"""Perceptron reproductions: plumbing at a tiny size (default), quick size (slow)."""

import numpy as np
import pytest

from deeprg.experiments import registry

NAMES = ["perceptron-phase", "perceptron-profiles", "perceptron-thresholds", "perceptron-dynamics"]


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
