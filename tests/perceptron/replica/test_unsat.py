"""Beyond capacity the RS solver says so (issue 11 §4): status "unsat", converged False."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import integrate, stats

from deeprg.cli import main
from deeprg.perceptron.replica import gardner_capacity, path_dataset, solve_path, solve_rs


def _alpha_c_quadrature(kappa: float) -> float:
    """Gardner's α_c(κ)⁻¹ = ∫_{−κ}^{∞} Dt (t + κ)², by numerical quadrature (independent)."""
    val, _ = integrate.quad(lambda t: stats.norm.pdf(t) * (t + kappa) ** 2, -kappa, np.inf)
    return 1.0 / val


@pytest.mark.parametrize("kappa", [0.0, 0.5, 1.0])
def test_gardner_capacity_closed_form(kappa):
    assert gardner_capacity(kappa) == pytest.approx(_alpha_c_quadrature(kappa), rel=1e-10)


def test_L1_beyond_capacity_is_unsat():
    s = solve_rs(1, 2.05)
    assert s.status == "unsat" and not s.converged
    ok = solve_rs(1, 1.5)
    assert ok.status == "converged" and ok.converged and ok.residual < 1e-9


@pytest.mark.parametrize("closure", ["A", "B"])
def test_switch_is_bracketed_by_gardner_alpha_c(closure):
    ac = _alpha_c_quadrature(0.5)
    below = solve_rs(1, 0.995 * ac, margin=0.5, closure=closure)
    above = solve_rs(1, 1.005 * ac, margin=0.5, closure=closure)
    assert below.status == "converged" and below.converged
    assert above.status == "unsat" and not above.converged


def test_teacher_at_Q_one_is_not_unsat():
    """Perfect learning (Q → 1) in the teacher scenario is not an empty solution space."""
    s = solve_rs(2, 2000.0, scenario="teacher")
    assert s.status != "unsat"


def test_dataset_carries_status():
    ds = path_dataset(solve_path(1, [1.0, 2.05]))
    assert ds["status"].values.tolist() == ["converged", "unsat"]
    assert ds["converged"].values.tolist() == [True, False]
    assert "residual" in ds


def test_rsb_L1_beyond_capacity():
    from deeprg.perceptron.replica import solve_rsb

    r = solve_rsb(1, 2.05, 1)
    assert r.status == "unsat" and not r.converged


def _run(capsys, argv):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 0
    return capsys.readouterr().out


def test_cli_json_reports_unsat(capsys):
    obj = json.loads(_run(capsys, ["replica", "--L", "1", "--alpha", "1.5,2.05", "--json"]))
    assert obj["status"] == ["converged", "unsat"]
    assert obj["converged"] == [True, False]
    assert obj["f"][1] is None and obj["f"][0] == pytest.approx(-1.58921, abs=1e-4)
    assert len(obj["residual"]) == 2


def test_cli_summary_line(capsys):
    out = _run(capsys, ["replica", "--L", "1", "--alpha", "1.5,2.05"])
    last = out.strip().splitlines()[-1]
    assert "1 of 2" in last and "UNSAT" in last and "alpha_c" in last


def test_bpkr_results_carry_status():
    from deeprg.bpkr import fit
    from deeprg.bpkr.api import report
    from deeprg.data import make_dataset

    d = make_dataset("teacher", P=20, P_test=10, N0=10, seed=0)
    for mode in ("saddle", "exact", "gp"):
        rep = report(fit(d.X, d.y, [15, 15], 1.0, 0.1, mode), d.X_test, d.y_test)
        assert rep["status"] == "converged" and rep["converged"] and "residual" in rep
