"""Foundation: input checks, atomic result writes, CLI error contract."""

import subprocess
import sys

import numpy as np
import pytest
import xarray as xr

from deeprg.errors import InputError, check_positive, check_xy, per_layer
from deeprg.results import load_checkpoint, read_dataset, save_checkpoint, write_dataset


def test_check_xy_rejects_nan_mismatch_and_empty():
    X = np.ones((3, 2))
    with pytest.raises(InputError, match="NaN"):
        check_xy(np.array([[np.nan, 1.0]]), [1.0])
    with pytest.raises(InputError, match="mismatched"):
        check_xy(X, [1.0, 2.0])
    with pytest.raises(InputError, match="empty"):
        check_xy(np.zeros((0, 2)), np.zeros(0))
    Xa, ya = check_xy(X, np.ones((3, 1)))
    assert Xa.dtype == np.float64 and ya.shape == (3,)


def test_check_positive_and_per_layer():
    with pytest.raises(InputError, match="sigma2 must be finite and > 0"):
        check_positive("sigma2", 0.0)
    assert check_positive("T", 0.0, allow_zero=True) == 0.0
    np.testing.assert_array_equal(per_layer("sigma2", 2.0, 3), [2.0, 2.0, 2.0])
    with pytest.raises(InputError, match="one value or 3 values"):
        per_layer("sigma2", [1.0, 2.0], 3)


def test_write_dataset_roundtrip_records_provenance(tmp_path):
    ds = xr.Dataset({"a": ("x", np.arange(3.0))}, coords={"x": [0, 1, 2]})
    path = write_dataset(ds, tmp_path / "r.nc", config={"P": 3}, seed=7)
    back = read_dataset(path)
    np.testing.assert_array_equal(back["a"].values, ds["a"].values)
    assert back.attrs["seed"] == "7" and '"P": 3' in back.attrs["config"]
    assert "deeprg_version" in back.attrs
    assert not list(tmp_path.glob("*.tmp"))


def test_checkpoint_roundtrip(tmp_path):
    assert load_checkpoint(tmp_path / "none.pkl") is None
    save_checkpoint(tmp_path / "c.pkl", {"step": 3, "x": np.ones(2)})
    st = load_checkpoint(tmp_path / "c.pkl")
    assert st["step"] == 3


def test_cli_unknown_command_is_one_line_exit_2():
    r = subprocess.run(
        [sys.executable, "-m", "deeprg", "no-such-command"], capture_output=True, text=True
    )
    assert r.returncode == 2
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
