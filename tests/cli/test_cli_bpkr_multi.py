"""`deeprg bpkr` with nonlinear activations, --renormalization and multi-output targets."""

import json

import numpy as np
import pytest

from deeprg.bpkr import fit
from deeprg.cli import main
from deeprg.results import read_dataset
from deeprg.schema import missing_attrs


def run(args, capsys):
    with pytest.raises(SystemExit) as exc:
        main(args)
    out = capsys.readouterr()
    return exc.value.code, out.out, out.err


def test_erf_layerwise_and_scalar_from_the_cli(capsys):
    base = ["bpkr", "--json", "--widths", "40,30", "--P", "30", "--P-test", "40"]
    reps = {}
    for ren in ("layerwise", "scalar"):
        code, out, err = run([*base, "--activation", "erf", "--renormalization", ren], capsys)
        assert code == 0, err
        reps[ren] = json.loads(out)
        assert reps[ren]["renormalization"] == ren and reps[ren]["activation"] == "erf"
    assert reps["layerwise"]["u"] != reps["scalar"]["u"]


def test_npz_with_d_columns_gives_q_matrices(capsys, tmp_path):
    rng = np.random.default_rng(0)
    X, Xt = rng.standard_normal((30, 10)), rng.standard_normal((20, 10))
    W = rng.standard_normal((10, 3))
    np.savez(tmp_path / "tr.npz", X=X, y=np.tanh(X @ W / 3))
    np.savez(tmp_path / "te.npz", X=Xt, y=np.tanh(Xt @ W / 3))
    args = [
        "bpkr",
        "--json",
        "--train",
        str(tmp_path / "tr.npz"),
        "--test",
        str(tmp_path / "te.npz"),
    ]
    args += ["--widths", "20", "--temperature", "0.05", "--activation", "erf"]
    code, out, err = run([*args, "--out", str(tmp_path / "r.nc")], capsys)
    assert code == 0, err
    rep = json.loads(out)
    assert rep["D"] == 3 and np.shape(rep["Q"]) == (1, 3, 3)
    ref = fit(X, np.tanh(X @ W / 3), [20], 1.0, 0.05, activation="erf")
    np.testing.assert_allclose(rep["Q"][0], ref.Q[0], rtol=1e-10)
    ds = read_dataset(tmp_path / "r.nc")
    assert ds["Q"].dims == ("layer", "output", "output_2") and not missing_attrs(ds)


def test_mnist_all_classes_and_undefined_combination(capsys):
    code, out, err = run(
        [
            "bpkr",
            "--json",
            "--data",
            "mnist",
            "--classes",
            "all",
            "--P",
            "80",
            "--P-test",
            "40",
            "--widths",
            "30,30",
            "--temperature",
            "0.05",
        ],
        capsys,
    )
    assert code == 0, err
    rep = json.loads(out)
    assert rep["D"] == 10 and len(rep["Q"]) == 2 and 0.0 <= rep["accuracy"] <= 1.0
    code, out, err = run(
        [
            "bpkr",
            "--data",
            "mnist",
            "--classes",
            "all",
            "--P",
            "50",
            "--widths",
            "30,30",
            "--activation",
            "relu",
        ],
        capsys,
    )
    assert code != 0 and "one hidden layer" in err and err.count("\n") <= 1
