"""``deeprg compare`` and its Python function (issue 3)."""

import json

import numpy as np
import pytest

from deeprg.cli import main
from deeprg.data import make_dataset
from deeprg.experiments.compare import compare
from deeprg.results import read_dataset

SMALL = ["--widths", "8,8", "--P", "10", "--N0", "16", "--P-test", "30", "--temperature", "0.1"]


def test_compare_cli_json_and_outputs(capsys, tmp_path):
    out_nc = tmp_path / "cmp.nc"
    with pytest.raises(SystemExit) as exc:
        main(["compare", "--json", *SMALL, "--steps", "300", "--chains", "8", "--out", str(out_nc)])
    assert exc.value.code == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out["theory"]) == {"saddle", "exact", "gp"}
    for mode, rep in out["theory"].items():
        assert rep["mode"] == mode
        for k in ("eps_g", "bias2", "variance", "u", "U", "converged"):
            assert k in rep
    for k in ("eps_g", "eps_g_se", "bias2", "variance", "a2_over_N", "rhat_max", "ess_min"):
        assert np.isfinite(out["sampler"][k])
    assert out["sampler"]["sampler"] == "gibbs"
    assert set(out["deviations"]) == {"saddle", "exact", "gp"}
    assert len(out["kernels"]["exact"]["rel_err"]) == 2
    ds = read_dataset(out_nc)
    assert list(ds["source"].values) == ["saddle", "exact", "gp", "sampler"]
    assert (tmp_path / "cmp.png").exists()


def test_compare_function_exact_agreement():
    """Small net: blocked Gibbs agrees with the exact mode within 3 MC standard errors."""
    split = make_dataset("teacher", P=12, P_test=40, N0=10, seed=3)
    cr = compare(split, [6, 6], 1.0, 0.1, chains=16, steps=800, seed=4, progress=False)
    assert abs(cr.deviations["exact"]["eps_g"]) < 3
    assert abs(cr.deviations["exact"]["a2_over_N"]) < 3
    for l in (1, 2):  # Frobenius distance of ⟨K_l⟩ in units of its MC error (§4.2)
        assert cr.deviations["exact"][f"K_{l}"] < 3
        assert cr.kernels["exact"]["rel_err"][l - 1] < cr.kernels["gp"]["rel_err"][l - 1]
    assert cr.sampler["seed"] == 4 and cr.sampler["chains"] == 16


@pytest.mark.parametrize(
    "args",
    [
        ["--sampler", "hmc"],
        ["--chains", "1"],
        ["--temperature", "0"],
        ["--steps", "0"],
        ["--thin", "0"],
        ["--eta", "-1"],
        ["--widths", "4,x"],
        ["--activation", "relu"],
    ],
)
def test_compare_bad_input(args, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["compare", "--widths", "4", "--P", "5", "--N0", "6", *args])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


RUN = ["--steps", "200", "--chains", "4", "--eta", "0.01"]


def test_compare_relu_uses_the_heuristic_theory(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["compare", "--json", *SMALL, "--activation", "relu", "--sampler", "mala", *RUN])
    assert exc.value.code == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out["theory"]) == {"saddle", "gp"} and np.isfinite(out["sampler"]["eps_g"])
    assert out["theory"]["saddle"]["activation"] == "relu"


@pytest.mark.slow
def test_reproduction_bpkr_sampling_quick(tmp_path):
    """bpkr.md §7.2 rows: Gibbs agrees with the exact finite-width theory (quick size)."""
    from deeprg.experiments.registry import get

    res = get("bpkr-sampling").run("quick", 0, tmp_path)
    ds = res.dataset
    dev_e = (ds["eps_g"].sel(source="gibbs") - ds["eps_g"].sel(source="exact")) / ds["eps_g_se"]
    dev_a = (ds["a2_over_N"].sel(source="gibbs") - ds["a2_over_N"].sel(source="exact")) / ds[
        "a2_over_N_se"
    ]
    # 14 comparisons: allow 4 se (a 3-se band would fail by chance ~4% of the time)
    assert float(np.abs(dev_e).max()) < 4 and float(np.abs(dev_a).max()) < 4
    assert float(ds["rhat_max"].max()) < 1.05
    assert "standard errors" in res.summary  # figure: test_reproduction_figures.py


def test_trace_is_arviz_inference_data_and_equilibrium_is_reported(tmp_path, capsys):
    import arviz as az

    from deeprg.cli import main

    tr = tmp_path / "trace.nc"
    argv = ["compare", "--P", "20", "--N0", "12", "--widths", "6,4", "--chains", "4"]
    with pytest.raises(SystemExit) as exc:
        main([*argv, "--steps", "400", "--thin", "2", "--trace", str(tr), "--json"])
    assert exc.value.code == 0
    out = json.loads(capsys.readouterr().out)
    idata = az.from_netcdf(tr)
    post = idata.posterior
    assert post.sizes["chain"] == 4 and post.sizes["draw"] == 200
    assert list(post["wlayer"].values) == [1, 2, 3] and list(post["layer"].values) == [1, 2]
    # the file holds the same draws the summary was computed from
    assert float(post["sq_err"].mean()) == pytest.approx(out["sampler"]["eps_g"], rel=1e-12)
    assert "acceptance_rate" in idata.sample_stats and post.attrs["config_hash"]
    assert all("long_name" in post[v].attrs and "units" in post[v].attrs for v in post.data_vars)
    assert float(az.summary(idata, var_names=["sq_err"])["r_hat"].iloc[0]) > 0
    assert out["sampler"]["equilibrated"] is True  # Gibbs mixes fast on this tiny net
    with pytest.raises(SystemExit) as exc:  # a run too short to show equilibrium says so
        main([*argv, "--sampler", "mala", "--steps", "8", "--thin", "1", "--json"])
    cap = capsys.readouterr()
    assert exc.value.code == 0 and json.loads(cap.out)["sampler"]["equilibrated"] is False
    assert "not shown to be in equilibrium" in cap.err
