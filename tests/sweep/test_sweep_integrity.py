"""Sweep stores never reuse a wrong point: keys with defaults, stale versions, corrupt files,
shared work between two runs, outputs checked before work."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from deeprg.results import OutputError
from deeprg.sweep import collect, run_sweep, status, validate_spec
from deeprg.sweep.registry import Param, get_experiment


def _spec(marker, xs=(0.0, 1.0, 2.0), **fixed):
    return {
        "experiment": "probe",
        "fixed": {"marker": str(marker), **fixed},
        "grid": {"x": list(xs)},
    }


def _calls(marker):
    return [float(line.split()[0]) for line in Path(marker).read_text().splitlines()]


def _ok(out):
    return sorted((Path(str(out) + ".d") / "ok").glob("*.json"))


def test_point_key_includes_defaults(tmp_path, monkeypatch):
    m = tmp_path / "calls"
    implicit = validate_spec(_spec(m)).points()
    explicit = validate_spec(_spec(m, y=0.0, seed=0)).points()
    assert [p["key"] for p in implicit] == [p["key"] for p in explicit]
    assert implicit[0]["params"]["y"] == 0.0  # the full configuration is recorded
    out = tmp_path / "d.nc"
    run_sweep(_spec(m), out, workers=1, progress=False)
    assert len(_calls(m)) == 3
    exp = get_experiment("probe")  # a changed default is a different point: recomputed
    monkeypatch.setitem(exp.params, "y", Param(float, 0.5))
    st = run_sweep(_spec(m), out, workers=1, progress=False)
    assert st.done == 3 and len(_calls(m)) == 6
    rec = json.loads(_ok(out)[0].read_text())
    assert {"deeprg_version", "config_hash", "params"} <= set(rec)


def test_stale_points_are_counted_kept_and_recomputed_on_request(tmp_path, capsys):
    m, out = tmp_path / "calls", tmp_path / "s.nc"
    spec = validate_spec(_spec(m))
    run_sweep(spec, out, workers=1, progress=False)
    f = _ok(out)[0]
    rec = json.loads(f.read_text())
    rec["deeprg_version"] = "0.0.1"
    f.write_text(json.dumps(rec))
    st = status(spec, out)
    assert (st.done, st.stale, st.missing) == (2, 1, 0)
    run_sweep(spec, out, workers=1, progress=False)
    assert len(_calls(m)) == 3  # not recomputed without the flag
    ds = collect(spec, out, write=False)
    assert sorted(ds["status"].values.tolist()) == [1, 1, 2]
    from deeprg.cli import main

    toml = tmp_path / "s.toml"
    toml.write_text(f'experiment = "probe"\n[fixed]\nmarker = "{m}"\n[grid]\nx = [0.0, 1.0, 2.0]\n')
    with pytest.raises(SystemExit):
        main(["sweep", "status", str(out)])
    assert "2/3 points done, 1 stale" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exc:
        main(["sweep", "run", str(toml), "--out", str(out), "--workers", "1"])
    assert exc.value.code == 0 and "--recompute-stale" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exc:
        main(["sweep", "run", str(toml), "--out", str(out), "--workers", "1", "--recompute-stale"])
    assert exc.value.code == 0 and len(_calls(m)) == 4
    assert status(spec, out).done == 3


def test_corrupt_point_file_is_moved_reported_and_recomputed(tmp_path):
    m, out = tmp_path / "calls", tmp_path / "c.nc"
    spec = validate_spec(_spec(m))
    run_sweep(spec, out, workers=1, progress=False)
    f = _ok(out)[1]
    f.write_text(f.read_text()[:25])  # truncated
    st = status(spec, out)
    assert (st.done, st.missing, st.corrupt) == (2, 1, 1)
    assert "1 corrupt, moved to corrupt/" in st.line()
    assert not f.exists() and len(list((Path(str(out) + ".d") / "corrupt").iterdir())) == 1
    ds = collect(spec, out, write=False)  # never crashes on a bad point
    assert sorted(ds["status"].values.tolist()) == [0, 1, 1]
    (Path(str(out) + ".d") / "ok" / "junk.json").write_text("{")  # not a point of the spec
    _ok(out)[0].write_bytes(b"\x00\xff")  # binary junk
    st = run_sweep(spec, out, workers=1, progress=False)
    assert st.done == 3 and len(_calls(m)) == 5  # the two bad points recomputed, once each


DRIVER = """
import sys
sys.path.insert(0, sys.argv[3])
import probe
from deeprg.sweep import run_sweep
spec = {"experiment": "probe", "fixed": {"sleep": 0.15, "marker": sys.argv[2]},
        "grid": {"x": [float(i) for i in range(16)]}}
run_sweep(spec, sys.argv[1], workers=1, progress=False)
"""


def test_two_runs_on_one_store_compute_each_point_once(tmp_path):
    out, marker = tmp_path / "two.nc", tmp_path / "calls"
    env = os.environ | {"OMP_NUM_THREADS": "1"}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", DRIVER, str(out), str(marker), str(Path(__file__).parent)],
            env=env,
        )
        for _ in range(2)
    ]
    assert all(p.wait(timeout=120) == 0 for p in procs)
    calls = _calls(marker)
    assert sorted(calls) == [float(i) for i in range(16)]  # each point exactly once
    assert len(_ok(out)) == 16


def test_unwritable_sweep_output_fails_before_any_point(tmp_path, capsys):
    m = tmp_path / "calls"
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(OutputError, match="is not a directory"):
        run_sweep(_spec(m), f / "out.nc", workers=1, progress=False)
    assert not m.exists()
    from deeprg.cli import main

    toml = tmp_path / "s.toml"
    toml.write_text('experiment = "toy"\n[grid]\nx = [1.0]\n')
    with pytest.raises(SystemExit) as exc:
        main(["sweep", "run", str(toml), "--out", str(f / "o.nc")])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and len(err.strip().splitlines()) == 1
