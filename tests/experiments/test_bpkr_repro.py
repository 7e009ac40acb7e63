"""BPKR reproductions (issue 4): the CLI path at a tiny size (default suite), quick size (slow)."""

import numpy as np
import pytest

from deeprg.experiments import registry

# the tiny (plumbing) sizes of every BPKR reproduction run in test_reproduction_figures.py


def test_cli_reproduce_writes_netcdf(tmp_path, monkeypatch):
    from deeprg.experiments import bpkr_common

    monkeypatch.setitem(
        bpkr_common.SIZES["bpkr-relu"], "quick", bpkr_common.SIZES["bpkr-relu"]["tiny"]
    )
    path, res = registry.run_reproduction("bpkr-relu", size="quick", seed=1, out_dir=tmp_path)
    from deeprg.results import read_dataset

    ds = read_dataset(path)
    assert ds.attrs["seed"] == "1" and "bpkr-relu" in ds.attrs["config"]


@pytest.mark.slow
@pytest.mark.parametrize("name", ["bpkr-width", "bpkr-depth"])
def test_quick_gibbs_agrees_with_exact_theory(name, tmp_path):
    res = registry.get(name).run(size="quick", seed=0, out_dir=tmp_path)
    assert res.dataset.attrs["max_dev_se"] < 4.0


@pytest.mark.slow
def test_quick_phase_diagram(tmp_path):
    ds = registry.get("bpkr-phase").run(size="quick", seed=0, out_dir=tmp_path).dataset
    # finite T (0.05) moves the boundary but keeps most of the T → 0 phase structure
    assert float((ds["sign_T0"] == ds["sign_T"]).mean()) > 0.6
    assert set(np.unique(ds["sign_T0"])) <= {-1.0, 0.0, 1.0}


@pytest.mark.slow
def test_quick_learning_curve_peak_at_interpolation_threshold(tmp_path):
    ds = registry.get("bpkr-learning-curve").run(size="quick", seed=0, out_dir=tmp_path).dataset
    curve = ds["eps_g"].sel(mode="saddle", L=1, T=ds["T"].values[0])
    P_peak = float(ds["P"][int(curve.argmax())])
    assert 0.7 < P_peak / 100 < 1.4  # double descent at P ≈ N0 for tiny T


@pytest.mark.slow
def test_quick_representations_beat_gp(tmp_path):
    ds = registry.get("bpkr-representations").run(size="quick", seed=0, out_dir=tmp_path).dataset
    assert np.all(ds["rel_frobenius_error"].values[1:] < ds["rel_frobenius_error_gp"].values[1:])
    assert np.all(
        np.diff(ds["alignment_theory"].values) > 0
    )  # more task-aligned towards the output


@pytest.mark.slow
def test_quick_relu_runs(tmp_path):
    res = registry.get("bpkr-relu").run(size="quick", seed=0, out_dir=tmp_path)
    assert np.all(np.isfinite(res.dataset["sim_eps_g"].sel(data="template", L=1).values))
    assert np.isfinite(res.dataset["sim_eps_g"].sel(data="mnist", L=1).values).any()
