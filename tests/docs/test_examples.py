"""The shipped examples stay valid: sweep specs validate, the scripts run (small sizes)."""

import runpy
import subprocess
import sys
from pathlib import Path

import pytest

from deeprg.sweep import load_spec

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.mark.parametrize("spec", sorted(EXAMPLES.glob("*.toml")), ids=lambda p: p.name)
def test_sweep_specs_validate(spec):
    assert load_spec(spec).points()


def test_npz_example_feeds_the_cli(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    runpy.run_path(str(EXAMPLES / "make_npz.py"))
    from deeprg.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["bpkr", "--train", "train.npz", "--test", "test.npz", "--widths", "20", "--json"])
    assert exc.value.code == 0


def test_perceptron_script_runs(tmp_path):
    r = subprocess.run(
        [sys.executable, str(EXAMPLES / "perceptron_phase.py")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "replica-A.nc").exists()


def test_deeprg_info_json(capsys):
    import json

    from deeprg.cli import main

    with pytest.raises(SystemExit):
        main(["info", "--json"])
    d = json.loads(capsys.readouterr().out)
    assert d["deeprg"] and "numpy" in d["versions"]


def test_planted_gibbs_learning_example_runs(tmp_path):
    import json

    r = subprocess.run(
        [sys.executable, str(EXAMPLES / "l1_planted_gibbs_learning.py")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert 0 < out["R_mc"] <= 1 and out["R_theory"] == pytest.approx(0.9003, abs=1e-3)
