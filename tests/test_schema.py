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
