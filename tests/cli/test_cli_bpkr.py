"""CLI contract of `deeprg bpkr` and `deeprg demo` (issue 2), run in-process."""

import json

import numpy as np
import pytest

from deeprg.cli import main
from deeprg.results import read_dataset


def run(args, capsys):
    with pytest.raises(SystemExit) as exc:
        main(args)
    out = capsys.readouterr()
    return exc.value.code, out.out, out.err


@pytest.mark.parametrize("mode", ["saddle", "exact", "gp"])
def test_json_keys(mode, capsys, tmp_path):
    code, out, err = run(
        [
            "bpkr",
            "--json",
            "--mode",
            mode,
            "--widths",
            "40,30",
            "--P",
            "30",
            "--P-test",
            "50",
            "--out",
            str(tmp_path / "r.nc"),
        ],
        capsys,
    )
    assert code == 0, err
    rep = json.loads(out)
    for key in (
        "mode",
        "u",
        "U",
        "converged",
        "eps_g",
        "bias2",
        "variance",
        "train_error",
        "log_evidence",
    ):
        assert key in rep
    assert rep["mode"] == mode and len(rep["u"]) == 2 and rep["converged"]
    if mode == "gp":  # independent reference: closed-form GP regression on the same data
        from deeprg.data import make_dataset

        d = make_dataset("teacher", P=30, P_test=50, seed=0)
        k = lambda A, B: A @ B.T / d.X.shape[1]  # noqa: E731  (σ² = 1 per layer, linear)
        A = k(d.X, d.X) + 0.05 * np.eye(30)
        mean = k(d.X_test, d.X) @ np.linalg.solve(A, d.y)
        var = np.diag(
            k(d.X_test, d.X_test) - k(d.X_test, d.X) @ np.linalg.solve(A, k(d.X, d.X_test))
        )
        assert rep["bias2"] == pytest.approx(np.mean((mean - d.y_test) ** 2), rel=1e-9)
        assert rep["variance"] == pytest.approx(np.mean(var), rel=1e-9)
    ds = read_dataset(tmp_path / "r.nc")
    assert ds.attrs["seed"] == "0" and "deeprg_version" in ds.attrs
    np.testing.assert_allclose(ds["u"].values, rep["u"])


def test_npz_inputs(capsys, tmp_path):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20, 8))
    np.savez(tmp_path / "tr.npz", X=X, y=X[:, 0])
    np.savez(tmp_path / "te.npz", X=X[:5], y=X[:5, 0])
    code, out, _ = run(
        ["bpkr", "--train", str(tmp_path / "tr.npz"), "--test", str(tmp_path / "te.npz"), "--json"],
        capsys,
    )
    assert code == 0 and json.loads(out)["P"] == 20


@pytest.mark.parametrize(
    "args,word",
    [
        (["--sigma2", "0"], "sigma2"),
        (["--sigma2", "1,2,3,4"], "sigma2"),
        (["--widths", "0"], "widths"),
        (["--widths", "a"], "widths"),
        (["--temperature", "-1"], "temperature"),
        (["--mode", "nope"], "mode"),
        (["--data", "nope"], "data"),
        (["--train", "/no/such.npz", "--test", "/no/such.npz"], "file not found"),
        (["--train", "/no/such.npz"], "train and test"),
        (["--P", "0"], "P must be"),
    ],
)
def test_bad_input_one_line_exit_2(args, word, capsys):
    code, out, err = run(["bpkr", *args], capsys)
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1 and word in err and "Traceback" not in err


def test_nan_in_npz(capsys, tmp_path):
    X = np.ones((4, 3))
    X[1, 1] = np.nan
    np.savez(tmp_path / "tr.npz", X=X, y=np.ones(4))
    code, _, err = run(
        ["bpkr", "--train", str(tmp_path / "tr.npz"), "--test", str(tmp_path / "tr.npz")], capsys
    )
    assert code == 2 and "NaN" in err


def test_demo_writes_outputs(capsys, tmp_path):
    code, out, err = run(["demo", "--out", str(tmp_path)], capsys)
    assert code == 0, err
    assert (tmp_path / "demo.nc").exists() and (tmp_path / "demo.png").exists()
    ds = read_dataset(tmp_path / "demo.nc")
    assert set(ds["mode"].values) == {"saddle", "exact", "gp"}
    assert bool(ds["converged"].all())
    # GP limit is width-independent; saddle and exact approach it at the largest width
    gp = ds["eps_g"].sel(mode="gp").values
    assert np.ptp(gp) < 1e-12
    assert abs(ds["eps_g"].sel(mode="saddle").values[-1] - gp[-1]) < abs(
        ds["eps_g"].sel(mode="saddle").values[0] - gp[0]
    )
