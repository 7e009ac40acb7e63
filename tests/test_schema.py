"""Result schema: every data variable of every result Dataset carries long_name, units and
description; perceptron theory and Monte Carlo share the layer/wlayer convention."""

import numpy as np

from deeprg.schema import missing_attrs


def test_monte_carlo_dataset_is_annotated_with_canonical_dims():
    from deeprg.perceptron.montecarlo import MCConfig, run_mc

    cfg = MCConfig(L=2, N=6, alpha=1.0, steps=8, t_w=2, samples=1, scenario="teacher")
    ds = run_mc(cfg.replace(pt_n=2, T=0.1), progress=False)
    assert missing_attrs(ds) == []
    assert list(ds["layer"].values) == [0, 1, 2] and list(ds["wlayer"].values) == [1, 2]
    assert ds["q"].dims[-1] == "layer" and ds["Q"].dims[-1] == "wlayer"
    assert {"deeprg_version", "config", "config_hash"} <= set(ds.attrs)


def test_compare_dataset_is_annotated():
    from deeprg.data import make_dataset
    from deeprg.experiments.compare import compare, compare_dataset

    d = make_dataset("teacher", P=12, P_test=20, N0=10, seed=0)
    cr = compare(d, [5], 1.0, 0.1, chains=2, steps=20, thin=1, kernel_inputs=0, progress=False)
    ds = compare_dataset(cr)
    assert missing_attrs(ds) == []
    assert np.isfinite(ds["value"].values).all()


def test_sweep_results_use_the_canonical_layer_dims(tmp_path):
    from deeprg.sweep import run_sweep

    spec = {
        "experiment": "mc",
        "fixed": {"N": 6, "alpha": 1.0, "steps": 4, "t_w": 1, "samples": 1, "n_times": 2},
        "grid": {"L": [2, 3]},
    }
    ds = run_sweep(spec, tmp_path / "m.nc", workers=1, progress=False, write=False)
    assert ds.done == 2
    from deeprg.sweep import collect, validate_spec

    out = collect(validate_spec(spec), tmp_path / "m.nc", write=False)
    assert out["q"].dims == ("L", "layer") and list(out["layer"].values) == [0, 1, 2, 3]
    assert out["Q"].dims == ("L", "wlayer") and list(out["wlayer"].values) == [1, 2, 3]
    assert np.isnan(out["q"].sel(L=2, layer=3)) and np.isfinite(out["q"].sel(L=3, layer=3))
    assert list(out["phase"].dims) == ["L", "layer"]


def test_mc_sweep_of_a_teacher_keeps_nishimori_diagnostics_on_layer_dims(tmp_path):
    from deeprg.sweep import collect, run_sweep, validate_spec

    spec = {
        "experiment": "mc",
        "fixed": {"L": 2, "N": 6, "alpha": 1.0, "steps": 4, "t_w": 1, "samples": 2},
        "grid": {"scenario": ["teacher"], "n_times": [2]},
    }
    run_sweep(spec, tmp_path / "n.nc", workers=1, progress=False, write=False)
    ds = collect(validate_spec(spec), tmp_path / "n.nc", write=False)
    assert ds["nishimori_q_clone"].dims[-1] == "layer"
    assert ds["nishimori_Q_ts"].dims[-1] == "wlayer"
    assert not [d for d in ds.dims if str(d).endswith("_index")]
