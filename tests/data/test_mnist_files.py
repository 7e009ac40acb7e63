"""The user's full MNIST (issue 13 item 6): IDX files (plain, gzipped, dotted names) and
mnist.npz, written small by the tests; split rules; one-line errors; the CLI --data-path."""

from __future__ import annotations

import gzip
import json

import numpy as np
import pytest

from deeprg.cli import main
from deeprg.data import load_mnist, make_dataset
from deeprg.errors import InputError

NAMES = {
    "train-images": "train-images-idx3-ubyte",
    "train-labels": "train-labels-idx1-ubyte",
    "t10k-images": "t10k-images-idx3-ubyte",
    "t10k-labels": "t10k-labels-idx1-ubyte",
}


def idx_bytes(a: np.ndarray) -> bytes:
    """The IDX encoding: 0, 0, 0x08 (unsigned byte), ndim, big-endian uint32 dims, data."""
    a = np.asarray(a, dtype=np.uint8)
    head = bytes([0, 0, 8, a.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in a.shape)
    return head + a.tobytes()


def fake_mnist(n_train=120, n_test=40, rows=28, cols=28, seed=0):
    rng = np.random.default_rng(seed)
    xtr = rng.integers(0, 256, (n_train, rows, cols), dtype=np.uint8)
    xte = rng.integers(0, 256, (n_test, rows, cols), dtype=np.uint8)
    ytr = np.arange(n_train, dtype=np.uint8) % 10
    yte = (np.arange(n_test, dtype=np.uint8) * 3) % 10
    return xtr, ytr, xte, yte


def write_idx(d, arrays, *, gz=False, dotted=False):
    d.mkdir(parents=True, exist_ok=True)
    for name, a in zip(NAMES.values(), arrays, strict=True):
        fname = name.replace("-idx", ".idx") if dotted else name
        data = idx_bytes(a)
        if gz:
            (d / f"{fname}.gz").write_bytes(gzip.compress(data))
        else:
            (d / fname).write_bytes(data)
    return d


@pytest.mark.parametrize("gz,dotted", [(False, False), (True, False), (False, True)])
def test_idx_files_round_trip(tmp_path, gz, dotted):
    arrays = fake_mnist(rows=6, cols=5)
    d = write_idx(tmp_path / "m", arrays, gz=gz, dotted=dotted)
    got = load_mnist(d)
    for a, b in zip(arrays, got, strict=True):
        np.testing.assert_array_equal(b, a)
    assert got[1].dtype == np.int64 and not got[0].flags.writeable


def test_npz_file_and_directory(tmp_path):
    xtr, ytr, xte, yte = fake_mnist()
    f = tmp_path / "mnist.npz"
    np.savez(f, x_train=xtr, y_train=ytr, x_test=xte, y_test=yte)
    for p in (f, tmp_path):
        got = load_mnist(p)
        np.testing.assert_array_equal(got[0], xtr)
        np.testing.assert_array_equal(got[3], yte)


def test_split_draws_train_from_train_file_and_test_from_test_file(tmp_path):
    xtr, ytr, xte, yte = fake_mnist()
    d = write_idx(tmp_path / "m", (xtr, ytr, xte, yte))
    s = make_dataset("mnist", P=20, P_test=7, seed=1, classes=(3, 8), path=d)
    assert s.X.shape == (20, 784) and s.X_test.shape == (7, 784) and s.N0 == 784
    np.testing.assert_allclose((s.X**2).sum(1), 784)
    assert set(s.y) <= {1.0, -1.0} and set(s.y_test) <= {1.0, -1.0}
    pool_te = xte[(yte == 3) | (yte == 8)]
    assert s.info["path"] == str(d) and s.info["classes"] == [3, 8]
    n_te = pool_te.shape[0]
    with pytest.raises(
        InputError, match=f"P_test must be <= {n_te} \\(test examples of classes 3,8\\)"
    ):
        make_dataset("mnist", P=5, P_test=n_te + 1, path=d, classes=(3, 8))
    with pytest.raises(InputError, match="P must be <= 24 \\(training examples of classes 3,8\\)"):
        make_dataset("mnist", P=25, P_test=2, path=d, classes=(3, 8))
    par = make_dataset("mnist", P=120, P_test=40, path=d, classes="parity")  # every digit
    assert par.P == 120 and par.info["classes"] == "parity"
    assert (par.y == 1).sum() == 60  # labels 0..9 cycle: half even


def test_training_rows_are_the_selected_training_images(tmp_path):
    xtr, ytr, xte, yte = fake_mnist()
    d = write_idx(tmp_path / "m", (xtr, ytr, xte, yte))
    s = make_dataset("mnist", P=24, P_test=8, seed=2, classes=(3, 8), path=d, center=False)
    raw = xtr[(ytr == 3) | (ytr == 8)].reshape(-1, 784).astype(float)
    unit = raw / np.linalg.norm(raw, axis=1, keepdims=True)
    rows = s.X / np.sqrt(784)
    # every training row is one of the 24 class-3/8 training images, each used once
    match = np.argmax(rows @ unit.T, axis=1)
    np.testing.assert_allclose(rows, unit[match], atol=1e-12)
    assert len(set(match)) == 24
    labels = np.where(ytr[(ytr == 3) | (ytr == 8)][match] == 3, 1.0, -1.0)
    np.testing.assert_array_equal(s.y, labels)
    raw_te = xte[(yte == 3) | (yte == 8)].reshape(-1, 784).astype(float)
    unit_te = raw_te / np.linalg.norm(raw_te, axis=1, keepdims=True)
    assert np.allclose(np.max(s.X_test / np.sqrt(784) @ unit_te.T, axis=1), 1.0)


def _break(d, name, data):
    (d / NAMES[name]).write_bytes(data)


@pytest.mark.parametrize(
    "damage,message",
    [
        (lambda d: (d / NAMES["t10k-labels"]).unlink(), "MNIST file\\(s\\) missing: t10k-labels"),
        (lambda d: _break(d, "train-images", b"\x00\x00\x09\x03" + bytes(20)), "bad magic"),
        (lambda d: _break(d, "train-images", idx_bytes(np.zeros((4, 28, 28)))[:-5]), "truncated"),
        (lambda d: _break(d, "train-labels", idx_bytes(np.zeros(7))), "7 training labels for 120"),
        (lambda d: _break(d, "t10k-labels", idx_bytes(np.full(40, 12))), "labels must be digits"),
        (lambda d: _break(d, "t10k-images", idx_bytes(np.zeros((40, 6, 5)))), "are \\(28, 28\\)"),
        (lambda d: _break(d, "train-labels", idx_bytes(np.zeros((120, 2)))), "has 2 dimensions"),
        (lambda d: _break(d, "train-labels", b"\x00\x00"), "bad magic"),
    ],
)
def test_malformed_files_one_line_errors(tmp_path, damage, message):
    d = write_idx(tmp_path / "m", fake_mnist())
    damage(d)
    with pytest.raises(InputError, match=message) as exc:
        load_mnist(d)
    assert "\n" not in str(exc.value)


def test_missing_and_bad_paths(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        load_mnist(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="missing: train-images-idx3-ubyte, train-labels"):
        load_mnist(tmp_path / "empty")
    text = tmp_path / "mnist.npz"
    text.write_text("not an archive")
    with pytest.raises(InputError, match=r"not a valid \.npz"):
        load_mnist(text)
    np.savez(tmp_path / "partial.npz", x_train=np.zeros((2, 28, 28)), y_train=np.zeros(2, int))
    with pytest.raises(InputError, match="missing array\\(s\\) x_test, y_test"):
        load_mnist(tmp_path / "partial.npz")
    gzd = tmp_path / "gz"
    write_idx(gzd, fake_mnist(), gz=True)
    (gzd / "train-images-idx3-ubyte.gz").write_bytes(b"\x1f\x8b\x08garbage")
    with pytest.raises(InputError, match="cannot be read as an IDX file"):
        load_mnist(gzd)
    with pytest.raises(InputError, match="path applies to data 'mnist' only"):
        make_dataset("digits", P=5, P_test=5, path=gzd)


def test_cli_data_path(tmp_path, capsys):
    d = write_idx(tmp_path / "m", fake_mnist())
    argv = ["bpkr", "--data", "mnist", "--data-path", str(d), "--P", "20", "--P-test", "8"]
    with pytest.raises(SystemExit) as exc:
        main([*argv, "--classes", "3,8", "--widths", "30", "--json"])
    out = capsys.readouterr()
    assert exc.value.code == 0, out.err
    rep = json.loads(out.out)
    assert rep["P"] == 20 and rep["N0"] == 784 and rep["data"]["path"] == str(d)
    for bad, msg in (
        (
            ["bpkr", "--data", "teacher", "--data-path", str(d)],
            "--data-path applies to data mnist",
        ),
        (["bpkr", "--data", "mnist", "--data-path", str(tmp_path / "x")], "does not exist"),
    ):
        with pytest.raises(SystemExit) as exc:
            main(bad)
        err = capsys.readouterr().err.strip().splitlines()
        assert exc.value.code == 2 and len(err) == 1 and msg in err[0], err
