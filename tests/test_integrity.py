"""Nothing wrong passes silently: configuration identity of checkpoints and stores, pickle-free
and corruption-proof reading, outputs checked before work, umask, fallback on a failed write."""

import json
import os
import pickle
from dataclasses import dataclass

import numpy as np
import pytest
import xarray as xr

import deeprg.identity as identity_mod
from deeprg.cli import main
from deeprg.errors import InputError
from deeprg.identity import check_identity, config_hash, differences, identity
from deeprg.results import (
    OutputError,
    check_writable,
    load_checkpoint,
    read_dataset,
    save_checkpoint,
    write_dataset,
)


@dataclass
class _Box:
    a: np.ndarray
    n: int
    more: dict


def _run_cli(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    cap = capsys.readouterr()
    return exc.value.code, cap.out, cap.err


# -- identity ------------------------------------------------------------------------------


def test_hash_covers_defaults_types_and_version(monkeypatch):
    assert config_hash({"a": 1, "b": [1, 2]}) == config_hash({"b": (1, 2), "a": 1})
    assert config_hash({"a": 1}) != config_hash({"a": 1, "b": None})  # a key added
    assert config_hash({"a": 1}) != config_hash({"a": 2})
    assert config_hash({"a": 1}) != config_hash({"a": 1}, version="0.0.0")
    assert [k for k, *_ in differences({"x": {"y": 1}, "z": 2}, {"x": {"y": 2}, "z": 2})] == ["x.y"]


def test_mismatch_names_keys_and_version(monkeypatch):
    stored = identity({"sigma2": 1.0, "seed": 0})
    check_identity("checkpoint c", stored, {"sigma2": 1.0, "seed": 0}, "hint")  # same: passes
    with pytest.raises(InputError, match=r"written with sigma2=1.0; this run has sigma2=2.0"):
        check_identity("checkpoint c", stored, {"sigma2": 2.0, "seed": 0}, "hint")
    monkeypatch.setattr(identity_mod, "__version__", "99.0")
    with pytest.raises(InputError, match=r"written by deeprg .*; this is deeprg 99.0"):
        check_identity("checkpoint c", stored, {"sigma2": 1.0, "seed": 0}, "hint")


# -- checkpoints -------------------------------------------------------------------------------


def test_checkpoint_tree_roundtrip_without_pickle(tmp_path):
    g = np.random.default_rng(5)
    g.standard_normal(3)
    state = {
        "box": _Box(np.arange(3.0), 4, {"t": [np.ones(2), np.zeros(2)]}),
        "gens": [g, np.random.default_rng(1)],
        "tup": (np.ones((2, 2)), None, 1.5),
        "rates": [0.5, float("nan")],
    }
    ck = tmp_path / "c.npz"
    save_checkpoint(ck, state, {"p": 1})
    back = load_checkpoint(ck, {"p": 1}, types={"_Box": _Box})
    assert isinstance(back["box"], _Box) and back["box"].n == 4
    np.testing.assert_array_equal(back["box"].more["t"][1], np.zeros(2))
    assert back["gens"][0].standard_normal() == g.standard_normal()  # exact generator state
    assert back["tup"][1] is None and back["tup"][2] == 1.5 and np.isnan(back["rates"][1])
    with np.load(ck, allow_pickle=False) as f:  # readable with pickle switched off
        assert "__identity__" in f.files
    with pytest.raises(InputError, match=r"p=1; this run has p=2"):
        load_checkpoint(ck, {"p": 2}, types={"_Box": _Box})
    with pytest.raises(KeyError):  # a dataclass the caller did not name is never built
        from deeprg.results import _decode

        _decode({"__dataclass__": "_Box", "fields": {}}, {}, {})


class _Evil:
    def __reduce__(self):
        return (open, (os.environ["DEEPRG_EVIL_MARKER"], "w"))


def test_foreign_and_corrupt_checkpoints_are_refused_without_executing(tmp_path, monkeypatch):
    marker = tmp_path / "executed"
    monkeypatch.setenv("DEEPRG_EVIL_MARKER", str(marker))
    evil = tmp_path / "evil.npz"
    evil.write_bytes(pickle.dumps(_Evil()))
    with pytest.raises(InputError, match=r"not a valid .npz file"):
        load_checkpoint(evil, {})
    objarr = tmp_path / "obj.npz"
    np.savez(objarr, x=np.array([_Evil()], dtype=object))
    with pytest.raises(InputError, match=r"not a valid .npz file"):
        load_checkpoint(objarr, {})
    assert not marker.exists()  # nothing was unpickled
    text = tmp_path / "text.npz"
    text.write_text("hello\n")
    with pytest.raises(InputError, match=r"text.npz is not a valid .npz file \(not a zip"):
        load_checkpoint(text, {})
    good = tmp_path / "good.npz"
    save_checkpoint(good, {"x": np.ones(1000)}, {})
    trunc = tmp_path / "trunc.npz"
    trunc.write_bytes(good.read_bytes()[:400])
    with pytest.raises(InputError, match=r"trunc.npz is not a valid .npz file"):
        load_checkpoint(trunc, {})
    plain = tmp_path / "plain.npz"
    np.savez(plain, x=np.ones(2))
    with pytest.raises(InputError, match=r"not a deeprg checkpoint"):
        load_checkpoint(plain, {})
    (tmp_path / "dir.npz").mkdir()
    with pytest.raises(InputError, match=r"is a directory"):
        load_checkpoint(tmp_path / "dir.npz", {})


# -- outputs -----------------------------------------------------------------------------------


def test_unwritable_outputs_are_found_before_work(tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(OutputError, match=r"is not a directory"):
        check_writable(f / "sub" / "out.nc", what="--out")
    with pytest.raises(OutputError, match=r"it is a directory"):
        check_writable(tmp_path, what="--out")
    with pytest.raises(OutputError, match=r"not a directory"):
        check_writable(f, kind="dir", what="--store")
    with pytest.raises(OutputError):
        check_writable("/proc/deeprg-test/out.nc")  # a read-only place, even for root
    assert check_writable(tmp_path / "new" / "out.nc") == tmp_path / "new" / "out.nc"


@pytest.mark.parametrize("mask", [0o022, 0o077, 0o002])
def test_written_files_follow_the_umask(tmp_path, mask):
    old = os.umask(mask)
    try:
        ds = xr.Dataset({"a": ("x", np.arange(2.0))})
        p = write_dataset(ds, tmp_path / "r.nc", config={})
        save_checkpoint(tmp_path / "c.npz", {"x": 1}, {})
    finally:
        os.umask(old)
    for q in (p, tmp_path / "c.npz"):
        assert (q.stat().st_mode & 0o777) == 0o666 & ~mask


def test_failed_final_write_keeps_the_result_in_a_fallback(tmp_path, monkeypatch):
    import deeprg.results as res

    real = os.replace
    target = tmp_path / "out.nc"

    def failing(src, dst):
        if str(dst) == str(target):
            raise OSError(28, "No space left on device")
        return real(src, dst)

    monkeypatch.setattr(res.os, "replace", failing)
    ds = xr.Dataset({"a": ("x", np.arange(3.0))})
    with pytest.raises(OutputError, match=r"No space left on device.*saved to") as exc:
        write_dataset(ds, target, config={"k": 1})
    fb = str(exc.value).rsplit("saved to ", 1)[1]
    np.testing.assert_array_equal(read_dataset(fb)["a"].values, [0.0, 1.0, 2.0])
    assert not target.exists()
    os.remove(fb)


def test_read_dataset_refuses_foreign_files(tmp_path):
    bad = tmp_path / "x.nc"
    bad.write_text("not netcdf")
    with pytest.raises(InputError, match=r"not a readable netCDF"):
        read_dataset(bad)
    with pytest.raises(InputError, match=r"is a directory"):
        read_dataset(tmp_path)


def test_dataset_attrs_carry_config_hash(tmp_path):
    p = write_dataset(xr.Dataset(), tmp_path / "r.nc", config={"a": 1}, seed=3)
    at = read_dataset(p).attrs
    assert at["config_hash"] == config_hash({"a": 1}) and "created" in at


# -- sampling checkpoints (run_chains, deeprg compare --checkpoint) ------------------------------


def _chains(tmp_path, sigma2=1.0, seed=0, **kw):
    from deeprg.networks import init_params, network
    from deeprg.sampling import ChainRNG, make_sampler, run_chains

    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((10, 6)), rng.standard_normal(10)
    net = network(6, [4], sigma2)
    smp = make_sampler("gibbs", net, X, y, 0.1)
    p0 = init_params(net, 3, ChainRNG(seed, 3))
    return run_chains(
        smp,
        net,
        p0,
        X_test=X,
        y_test=y,
        steps=20,
        warmup=5,
        seed=seed,
        checkpoint=tmp_path / "c.npz",
        **kw,
    )


def test_run_chains_refuses_a_checkpoint_of_another_configuration(tmp_path):
    a = _chains(tmp_path)
    b = _chains(tmp_path)  # same configuration: resumes the finished run (identical)
    assert a.eps_g == b.eps_g
    with pytest.raises(InputError, match=r"sigma2=\[1.0, 1.0\]; this run has .*\[2.0, 2.0\]"):
        _chains(tmp_path, sigma2=2.0)
    with pytest.raises(InputError, match=r"checkpoint .*c.npz was written with"):
        _chains(tmp_path, seed=1)
    c = _chains(tmp_path, sigma2=2.0, overwrite=True)
    assert c.eps_g != a.eps_g
    with pytest.raises(InputError, match=r"at least 2 draws per chain"):
        _chains(tmp_path, thin=20, overwrite=True)


def test_cli_compare_checkpoint_mismatch_is_exit_2(tmp_path, capsys):
    ck = str(tmp_path / "ck.npz")
    base = ["compare", "--P", "20", "--N0", "12", "--widths", "6", "--chains", "2"]
    base += ["--steps", "40", "--checkpoint", ck, "--json"]
    code, out, _ = _run_cli(base, capsys)
    assert code == 0
    code, _, err = _run_cli([*base, "--sigma2", "2"], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "was written with sigma2=1.0; this run has sigma2=2.0" in err
    assert "choose a new path or pass --overwrite" in err
    code, _, err = _run_cli([*base, "--seed", "4"], capsys)
    assert code == 2 and "seed=0" in err and "seed=4" in err
    code, _, _ = _run_cli([*base, "--sigma2", "2", "--overwrite"], capsys)
    assert code == 0
    code, _, err = _run_cli([*base[:-3], "--steps", "1", "--json"], capsys)
    assert code == 2 and "at least 2 draws" in err


def test_cli_out_under_a_file_fails_before_work(tmp_path, capsys):
    f = tmp_path / "file"
    f.write_text("x")
    code, _, err = _run_cli(
        ["compare", "--P", "20", "--N0", "12", "--widths", "6", "--out", str(f / "o.nc")], capsys
    )
    assert code == 2 and "is not a directory" in err and len(err.strip().splitlines()) == 1
    code, _, err = _run_cli(["mc", "--L", "2", "--N", "4", "--out", str(f / "o.nc")], capsys)
    assert code == 2 and "is not a directory" in err


# -- Monte Carlo stores and checkpoints --------------------------------------------------------


def test_mc_store_refuses_another_configuration_and_extends_with_samples(tmp_path, capsys):
    st = str(tmp_path / "st")
    base = ["mc", "--L", "2", "--N", "6", "--alpha", "1", "--steps", "8", "--tw", "2"]
    base += ["--store", st, "--json"]
    code, out1, _ = _run_cli([*base, "--T", "0.05", "--samples", "2"], capsys)
    assert code == 0
    code, _, err = _run_cli([*base, "--T", "0.5", "--samples", "2"], capsys)
    assert code == 2 and "written with T=0.05; this run has T=0.5" in err
    assert len(err.strip().splitlines()) == 1
    from deeprg.perceptron.montecarlo import MCConfig, run_mc

    cfg = MCConfig(L=2, N=6, alpha=1.0, steps=8, t_w=2, T=0.05, samples=3)
    ds3 = run_mc(cfg, store=st, progress=False)  # two samples reused, one added
    fresh = run_mc(cfg, progress=False)
    np.testing.assert_array_equal(ds3["q"].values, fresh["q"].values)
    assert ds3.attrs["config_hash"] == config_hash(json.loads(ds3.attrs["config"]))
    code, _, _ = _run_cli([*base, "--T", "0.5", "--samples", "2", "--overwrite"], capsys)
    assert code == 0
    (tmp_path / "st" / "sample_00001.npz").write_text("garbage")
    code, _, err = _run_cli([*base, "--T", "0.5", "--samples", "2"], capsys)
    assert code == 2 and "sample_00001.npz is not a valid .npz file" in err


def test_mc_in_sample_checkpoint_refuses_another_configuration(tmp_path):
    from deeprg.perceptron.montecarlo import MCConfig
    from deeprg.perceptron.montecarlo.run import simulate_sample

    cfg = MCConfig(L=2, N=6, alpha=1.0, steps=32, t_w=2, T=0.1, n_times=4)
    ck = tmp_path / "s.ckpt.npz"
    simulate_sample(cfg, 7, checkpoint=ck, checkpoint_seconds=0.0)
    assert ck.exists()
    with pytest.raises(InputError, match=r"kappa=0.0; this run has kappa=0.2"):
        simulate_sample(cfg.replace(kappa=0.2), 7, checkpoint=ck)
    with pytest.raises(InputError, match=r"sample_seed=7; this run has sample_seed=8"):
        simulate_sample(cfg, 8, checkpoint=ck)


def test_reproduce_out_under_a_file_fails_before_work(tmp_path, capsys):
    f = tmp_path / "file"
    f.write_text("x")
    code, _, err = _run_cli(["reproduce", "bpkr-width", "--out", str(f / "r")], capsys)
    assert code == 2 and "is not a directory" in err and len(err.strip().splitlines()) == 1
