"""``deeprg reproduce perceptron-rsb``: the tiny size runs by default, quick is slow."""

import numpy as np
import pytest

from deeprg.experiments.registry import get


def test_perceptron_rsb_tiny(tmp_path):
    res = get("perceptron-rsb").run("tiny", 0, tmp_path)
    ds = res.dataset
    assert set(ds["q"].dims) == {"alpha", "layer", "level"}
    assert bool(ds["converged"].all())
    assert np.all(ds["rs_replicon"].values[ds["alpha"].values > 2.5] < 0)
    assert all(p.exists() for p in res.figures) and "1RSB L = 4" in res.summary


@pytest.mark.slow
def test_perceptron_rsb_quick(tmp_path):
    res = get("perceptron-rsb").run("quick", 0, tmp_path)
    assert "12 of 12 α converged" in res.summary
    assert "boundary layers carry the most levels: True" in res.summary
    lev = res.dataset["rsb2_levels"].values  # symmetric, thinning into the bulk (no golden list)
    np.testing.assert_array_equal(lev, lev[::-1])
    assert np.all(np.diff(lev[1 : len(lev) // 2 + 1]) <= 0)
