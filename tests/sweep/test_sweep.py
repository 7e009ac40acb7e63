"""Sweeps: equality with direct computation, crash/resume, failures, Dask, spec validation."""

import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from deeprg.errors import InputError
from deeprg.sweep import collect, run_sweep, status, validate_spec
from deeprg.sweep.registry import bpkr_point, toy

HERE = str(Path(__file__).parent)
TOY = {
    "experiment": "toy",
    "fixed": {"y": 0.5},
    "grid": {"x": [0.0, 1.0, 2.0, 3.0], "sleep": [0.0]},
    "seeds": {"replicates": 3},
}


def toy_spec(**over):
    spec = {k: (dict(v) if isinstance(v, dict) else v) for k, v in TOY.items()}
    for k, v in over.items():
        spec[k] = v
    return spec


def test_sweep_equals_direct_computation(tmp_path):
    spec = toy_spec(fixed={}, grid={"x": {"start": 0.0, "stop": 3.0, "num": 8}, "y": [0.0, 1.0]})
    st = run_sweep(spec, tmp_path / "s.nc", workers=2, progress=False)
    assert st.done == st.total == 8 * 2 * 3
    from deeprg.results import read_dataset

    ds = read_dataset(tmp_path / "s.nc")
    assert dict(ds["value"].sizes) == {"x": 8, "y": 2, "seed": 3}
    for x in ds["x"].values:
        for y in ds["y"].values:
            for s in ds["seed"].values:
                direct = toy(float(x), float(y), int(s))["value"]
                assert float(ds["value"].sel(x=x, y=y, seed=s)) == direct
    assert ds["pair"].sizes["pair_index"] == 2
    assert "experiment" in ds.attrs["config"]


def test_zipped_axes_share_a_dim(tmp_path):
    spec = {
        "experiment": "toy",
        "grid": {"x": [1.0, 2.0, 3.0], "y": [10.0, 20.0, 30.0]},
        "zip": {"axes": ["x", "y"]},
    }
    run_sweep(spec, tmp_path / "z.nc", workers=1, progress=False)
    ds = collect(validate_spec(spec), tmp_path / "z.nc", write=False)
    assert dict(ds["value"].sizes) == {"zip": 3}
    np.testing.assert_allclose(ds["value"].values, [11.0, 24.0, 39.0])


def test_failing_point_is_recorded_and_others_complete(tmp_path):
    spec = toy_spec(experiment="probe", fixed={"fail_if_x": 2.0})
    st = run_sweep(spec, tmp_path / "f.nc", workers=2, progress=False)
    assert st.failed == 3 and st.done == st.total - 3
    rec = list((tmp_path / "f.nc.d" / "failed").glob("*.json"))
    assert len(rec) == 3 and "failed on purpose" in rec[0].read_text()
    ds = collect(validate_spec(spec), tmp_path / "f.nc", write=False)
    assert int((ds["status"] == -1).sum()) == 3 and np.isnan(ds["value"].sel(x=2.0)).all()


DRIVER = """
import sys
sys.path.insert(0, sys.argv[3])
import probe
from deeprg.sweep import run_sweep
spec = {"experiment": "probe", "fixed": {"sleep": 0.25, "marker": sys.argv[2]},
        "grid": {"x": [float(i) for i in range(24)]}}
run_sweep(spec, sys.argv[1], workers=2, progress=False)
"""


def test_killed_driver_resumes_with_only_missing_points(tmp_path):
    out, marker = tmp_path / "k.nc", tmp_path / "calls.txt"
    env = os.environ | {"OMP_NUM_THREADS": "1"}
    # own session, so that SIGKILL takes the driver and its worker processes (a crashed node)
    proc = subprocess.Popen(
        [sys.executable, "-c", DRIVER, str(out), str(marker), HERE], env=env, start_new_session=True
    )
    okdir = Path(str(out) + ".d") / "ok"
    t0 = time.time()
    while time.time() - t0 < 60:
        if okdir.exists() and len(list(okdir.glob("*.json"))) >= 6:
            break
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    before = {p.name: p.stat().st_ino for p in okdir.glob("*.json")}
    assert 6 <= len(before) < 24
    calls_before = marker.read_text().splitlines()
    subprocess.run([sys.executable, "-c", DRIVER, str(out), str(marker), HERE], env=env, check=True)
    after = {p.name: p.stat().st_ino for p in okdir.glob("*.json")}
    assert len(after) == 24
    assert all(after[k] == ino for k, ino in before.items())  # finished points untouched
    import json

    recorded_x = {json.loads((okdir / k).read_text())["params"]["x"] for k in before}
    new_calls = marker.read_text().splitlines()[len(calls_before) :]
    new_x = [float(line.split()[0]) for line in new_calls]
    # exactly the missing points were computed after the restart, each once
    assert sorted(new_x) == sorted(set(range(24)) - recorded_x)


def test_dask_localcluster_gives_same_dataset(tmp_path):
    pytest.importorskip("distributed")
    spec = toy_spec()
    run_sweep(spec, tmp_path / "a.nc", workers=2, progress=False)
    run_sweep(spec, tmp_path / "b.nc", kind="dask", workers=2, progress=False)
    from deeprg.results import read_dataset

    a, b = read_dataset(tmp_path / "a.nc"), read_dataset(tmp_path / "b.nc")
    np.testing.assert_array_equal(a["value"].values, b["value"].values)
    np.testing.assert_array_equal(a["status"].values, b["status"].values)
    # an existing scheduler (--scheduler tcp://...): here an in-process LocalCluster
    from distributed import LocalCluster

    with LocalCluster(n_workers=1, processes=False, dashboard_address=None) as cl:
        run_sweep(spec, tmp_path / "c.nc", scheduler=cl.scheduler_address, progress=False)
    c = read_dataset(tmp_path / "c.nc")
    np.testing.assert_array_equal(a["value"].values, c["value"].values)


def test_bpkr_adapter_equals_direct_call(tmp_path):
    spec = {
        "experiment": "bpkr",
        "fixed": {"P": 30, "P_test": 50, "T": 0.1},
        "grid": {"widths": [[20], [30, 30]], "sigma2": [0.7, 1.3]},
    }
    run_sweep(spec, tmp_path / "b.nc", workers=2, progress=False)
    ds = collect(validate_spec(spec), tmp_path / "b.nc", write=False)
    from deeprg.bpkr.config import BPKRConfig

    direct = bpkr_point(BPKRConfig(P=30, P_test=50, widths=[30, 30], sigma2=1.3, T=0.1))
    assert float(ds["eps_g"].sel(widths="[30, 30]", sigma2=1.3)) == pytest.approx(
        direct["eps_g"], rel=1e-12
    )
    assert status(validate_spec(spec), tmp_path / "b.nc").missing == 0


@pytest.mark.parametrize(
    "spec,msg",
    [
        ({"experiment": "nope"}, "experiment must be one of"),
        ({"experiment": "toy", "grid": {"x": [1.0]}, "bogus": 1}, "bogus"),
        ({"experiment": "toy", "grid": {"x": [1.0], "z": [1.0]}}, "z: unknown parameter"),
        ({"experiment": "toy", "grid": {"y": [1.0]}}, "x: required"),
        ({"experiment": "toy", "grid": {"x": []}}, "grid"),
        (
            {"experiment": "toy", "grid": {"x": {"start": 1, "stop": 2, "num": 0}}},
            "num must be >= 1",
        ),
        ({"experiment": "toy", "grid": {"x": ["a"]}}, "grid.x\\[0\\]: must be float"),
        (
            {"experiment": "bpkr", "grid": {"widths": [[10]], "sigma2": [1.0, -2.0]}},
            "sigma2\\[1\\]: sigma2 must be one value or 2 values > 0",
        ),
        (
            {
                "experiment": "toy",
                "grid": {"x": [1.0, 2.0], "y": [1.0]},
                "zip": {"axes": ["x", "y"]},
            },
            "equal lengths",
        ),
        ({"experiment": "toy", "fixed": {"x": 1.0}, "grid": {"x": [1.0]}}, "also a grid axis"),
        ({"experiment": "toy", "grid": {"x": [1.0]}, "seeds": {"replicates": 0}}, "replicates"),
        (
            {"experiment": "toy", "grid": {"x": [1.0], "sleep": [-1.0]}},
            "grid.sleep\\[0\\]: must be >= 0",
        ),
        (
            {"experiment": "bpkr", "fixed": {"mode": "fast"}, "grid": {"widths": [[10]]}},
            "fixed.mode: must be one of saddle, exact, gp",
        ),
        (
            {"experiment": "bpkr", "grid": {"widths": [[10, 0]]}},
            "point widths\\[0\\]: widths must be integers >= 1",
        ),
        (
            {"experiment": "replica", "fixed": {"L": 2}, "grid": {"alpha": [1.0, 0.0]}},
            "alpha\\[1\\]: must be > 0",
        ),
        (
            {"experiment": "mc", "fixed": {"move": "swap"}},
            "fixed.move: must be one of pcn, rotation",
        ),
        (
            {"experiment": "toy", "grid": {"x": [1.0]}, "seeds": {"values": [-1]}},
            "seeds.values: must be >= 0",
        ),
        (
            {"experiment": "toy", "grid": {"x": [1.0], "seed": [1]}, "seeds": {"replicates": 2}},
            "seeds: seed is also",
        ),
    ],
)
def test_invalid_specs_are_rejected_with_the_key_path(spec, msg):
    with pytest.raises(InputError, match=msg) as exc:
        validate_spec(spec)
    assert "\n" not in str(exc.value)


def test_cli_sweep_roundtrip_and_errors(tmp_path, capsys):
    from deeprg.cli import main

    toml = tmp_path / "s.toml"
    toml.write_text('experiment = "toy"\n[grid]\nx = [1.0, 2.0]\n')
    with pytest.raises(SystemExit) as exc:
        main(["sweep", "run", str(toml), "--workers", "1"])
    assert exc.value.code == 0 and "2/2 points done" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exc:
        main(["sweep", "status", str(tmp_path / "s.nc")])
    assert "2/2 points done" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exc:  # spec + --out, and collect
        main(["sweep", "status", str(toml), "--out", str(tmp_path / "s.nc")])
    assert "2/2 points done" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exc:
        main(["sweep", "collect", str(tmp_path / "s.nc")])
    assert "2 points" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exc:
        main(["sweep", "list"])
    listing = capsys.readouterr().out
    assert "sigma2 (list, default [1.0])" in listing and "T (float, default 0.05, >=0)" in listing
    bad = tmp_path / "bad.toml"
    bad.write_text('experiment = "toy"\n[grid]\nx = [1.0]\nq = [2]\n')
    with pytest.raises(SystemExit) as exc:
        main(["sweep", "run", str(bad)])
    assert exc.value.code == 2
    assert "q: unknown parameter" in capsys.readouterr().err


def test_sampling_adapter_equals_compare_sampler(tmp_path):
    """The sampling point reproduces deeprg compare's sampler run (same seeds, same draws)."""
    from deeprg.data import make_dataset
    from deeprg.experiments.compare import compare

    spec = {
        "experiment": "sampling",
        "fixed": {"P": 20, "P_test": 30, "widths": [8], "chains": 4, "steps": 40},
        "grid": {"T": [0.05, 0.2]},
    }
    run_sweep(spec, tmp_path / "s.nc", workers=2, progress=False)
    ds = collect(validate_spec(spec), tmp_path / "s.nc", write=False)
    split = make_dataset("teacher", P=20, P_test=30, seed=0)
    cr = compare(split, [8], 1.0, 0.2, chains=4, steps=40, kernel_inputs=0, progress=False)
    for k in ("eps_g", "eps_g_se", "a2_over_N", "rhat_max"):
        assert float(ds[k].sel(T=0.2)) == pytest.approx(cr.sampler[k], rel=1e-12)
    np.testing.assert_allclose(ds["w2"].sel(T=0.2).values, cr.sampler["w2"], rtol=1e-12)


def test_mc_adapter_equals_direct_run_through_any_executor(tmp_path):
    """Any concurrent.futures.Executor works; the mc point equals run_mc + summary."""
    from deeprg.perceptron.montecarlo import MCConfig, run_mc, summary

    small = {"L": 2, "N": 6, "t_w": 2, "steps": 4, "n_times": 3, "samples": 2}
    spec = {"experiment": "mc", "fixed": small, "grid": {"alpha": [0.5, 1.0]}}
    with ThreadPoolExecutor(1) as ex:
        run_sweep(spec, tmp_path / "m.nc", executor=ex, progress=False)
    ds = collect(validate_spec(spec), tmp_path / "m.nc", write=False)
    direct = summary(run_mc(MCConfig(alpha=1.0, **small), progress=False))
    assert float(ds["energy_final"].sel(alpha=1.0)) == direct["energy_final"]
    np.testing.assert_array_equal(ds["q"].sel(alpha=1.0).values, direct["q"])


def test_replica_adapter_equals_direct_continuation(tmp_path):
    from deeprg.perceptron.replica import solve_path

    spec = {
        "experiment": "replica",
        "fixed": {"L": 3, "scenario": "teacher", "path_points": 6},
        "grid": {"alpha": [0.5, 3.0]},
    }
    with ThreadPoolExecutor(1) as ex:
        run_sweep(spec, tmp_path / "r.nc", executor=ex, progress=False)
    ds = collect(validate_spec(spec), tmp_path / "r.nc", write=False)
    direct = solve_path(3, np.geomspace(1.0, 3.0, 6), scenario="teacher")[-1]
    assert float(ds["eps_g"].sel(alpha=3.0)) == direct.eps_g
    np.testing.assert_array_equal(ds["q"].sel(alpha=3.0).values, direct.q)
    assert float(ds["f"].sel(alpha=0.5)) == solve_path(3, [0.5], scenario="teacher")[-1].f


def test_dask_missing_gives_one_line_error(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(InputError, match=r"\[dist\] extra") as exc:
        run_sweep(toy_spec(), tmp_path / "d.nc", kind="dask", progress=False)
    assert "\n" not in str(exc.value)


def test_dead_worker_stops_cleanly_keeping_finished_points(tmp_path):
    from deeprg.sweep.runner import WorkerDied

    spec = {
        "experiment": "probe",
        "grid": {"x": [0.0, 1.0, 2.0, 3.0]},
        "fixed": {"crash_if_x": 2.0},
    }
    with pytest.raises(WorkerDied, match="rerun the same command to resume") as exc:
        run_sweep(spec, tmp_path / "c.nc", workers=1, progress=False)
    assert "\n" not in str(exc.value)
    # the crash is not blamed on any point: nothing is recorded as failed
    assert not list((tmp_path / "c.nc.d" / "failed").glob("*.json"))
    ok_before = len(list((tmp_path / "c.nc.d" / "ok").glob("*.json")))
    assert ok_before == 2  # x = 0, 1 ran before the crash in the single worker


def test_int_and_float_values_of_a_float_parameter_are_one_point():
    a = validate_spec({"experiment": "toy", "fixed": {"y": 1}, "grid": {"x": [1, 2]}})
    b = validate_spec({"experiment": "toy", "fixed": {"y": 1.0}, "grid": {"x": [1.0, 2.0]}})
    assert [p["key"] for p in a.points()] == [p["key"] for p in b.points()]


def test_log_range_of_an_int_parameter_is_rounded():
    spec = validate_spec(
        {
            "experiment": "bpkr",
            "fixed": {"widths": [10]},
            "grid": {"P": {"start": 10, "stop": 1000, "num": 3, "log": True}},
        }
    )
    assert spec.axes()["P"] == [10, 100, 1000]


@pytest.mark.parametrize("kind", ["SLURMCluster", "PBSCluster"])
def test_cluster_job_script_carries_the_spec_resources(kind):
    jq = pytest.importorskip("dask_jobqueue")
    from deeprg.sweep.runner import jobqueue_kwargs

    spec = validate_spec(
        {
            "experiment": "toy",
            "grid": {"x": [1.0]},
            "resources": {"cores": 4, "memory": "8GB", "walltime": "02:30:00", "queue": "short"},
        }
    )
    cluster = getattr(jq, kind)(**jobqueue_kwargs(spec))
    try:
        script = cluster.job_script()
    finally:
        cluster.close()
    for text in ("02:30:00", "short", "export OMP_NUM_THREADS=1", "--nthreads 4"):
        assert text in script


def test_collect_flattens_nested_results_and_keeps_text_labels():
    from deeprg.sweep.runner import _flatten, _is_text

    flat = _flatten({"q": [1.0, 0.2], "ultrametricity": {"delta": [0.1], "K": [0.3]}})
    assert flat == {"q": [1.0, 0.2], "ultrametricity_delta": [0.1], "ultrametricity_K": [0.3]}
    assert _is_text(["solid", "liquid"]) and _is_text("solid") and not _is_text([0.1])
