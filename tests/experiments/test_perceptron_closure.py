"""perceptron-closure: its pieces (default suite) and the quick size (slow)."""

import numpy as np
import pytest

from deeprg.experiments import registry
from deeprg.experiments.perceptron_closure import extrapolate, theory_lines


def test_extrapolation_in_one_over_c_recovers_a_line():
    cs = np.array([4.0, 8.0, 16.0])
    a, se = extrapolate(cs, 0.7 + 0.8 / cs, np.full(3, 0.01))
    assert a == pytest.approx(0.7, abs=1e-12) and 0 < se < 0.05
    assert np.isnan(extrapolate(cs[:1], np.array([0.5]), np.array([0.01]))[0])


def test_theory_lines_closure_a_symmetric_closure_b_liquid_input():
    """At L = 3, α = 5: A is reflection symmetric (ρ = 1); B has a liquid input side (ρ = 0)."""
    grid = np.array([3.0, 5.0])
    A, B = theory_lines(3, grid, "A"), theory_lines(3, grid, "B")
    assert A["converged"].all() and B["converged"].all()
    assert A["Q"][-1, 0] == pytest.approx(A["Q"][-1, 2], abs=1e-10) and A["Q"][-1, 0] > 0.4
    assert B["Q"][-1, 0] < 1e-8 and B["Q"][-1, 2] > 0.4


@pytest.mark.slow
def test_tiny_size_runs(tmp_path):
    res = registry.get("perceptron-closure").run(size="test", seed=0, out_dir=tmp_path)
    ds = res.dataset
    assert res.summary and {"Q_mc", "Q_cc", "Q_A", "Q_B", "rho_inf", "pa_status"} <= set(ds)


@pytest.mark.slow
def test_quick_size(tmp_path):
    path, res = registry.run_reproduction("perceptron-closure", size="quick", out_dir=tmp_path)
    ds = res.dataset
    assert path.exists() and all(f.exists() for f in res.figures)
    # the planted chains stay in the solution space near the teacher: overlaps in (0, 1]
    Q = ds["Q_mc"].values
    assert np.all((Q[np.isfinite(Q)] > 0) & (Q[np.isfinite(Q)] <= 1))
    assert set(np.unique(ds["pa_status"].values)) <= {"ok", "extinct", "not run"}
