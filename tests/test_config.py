"""Configuration models: one source for defaults, validation, CLI options and sweep schemas."""

import pytest

from deeprg.config import field_specs
from deeprg.errors import InputError
from deeprg.perceptron.montecarlo.config import MCConfig
from deeprg.sweep import validate_spec
from deeprg.sweep.registry import REQUIRED, get_experiment


def test_violations_are_one_line_naming_the_field_and_range():
    cases = [
        ({"L": 0}, "L must be >= 1, got 0"),
        ({"clones": 17}, "clones must be <= 16, got 17"),
        ({"scenario": "x"}, "scenario must be one of random or teacher, got 'x'"),
        ({"alpha": float("nan")}, "alpha must be a finite number"),
        ({"N": 2.5}, "N must be an integer"),
        ({"bogus": 1}, "bogus: unknown parameter"),
        ({"pt_n": 4}, "parallel tempering (pt_n > 1) needs T > 0"),  # cross-field rule
        ({"N": 10, "c": 11}, "c must be an integer >= 2 and <= 10"),
    ]
    for kw, msg in cases:
        with pytest.raises(InputError) as exc:
            MCConfig(**kw)
        assert msg in str(exc.value) and "\n" not in str(exc.value)


def test_models_are_frozen_and_replace_validates():
    cfg = MCConfig(L=3)
    with pytest.raises(Exception):  # noqa: B017  (pydantic's frozen-instance error)
        cfg.L = 5  # type: ignore[misc]
    assert cfg.replace(T=0.5).T == 0.5 and cfg.T == 0.0
    with pytest.raises(InputError, match="T must be >= 0"):
        cfg.replace(T=-1.0)
    assert cfg.to_dict()["L"] == 3 and cfg.hash() != cfg.replace(T=0.5).hash()


def test_cli_options_are_the_model_fields(capsys):
    from deeprg.cli import main

    with pytest.raises(SystemExit):
        main(["mc", "--help"])
    text = capsys.readouterr().out
    for name in field_specs(MCConfig):
        flag = "--tw" if name == "t_w" else "--" + name.replace("_", "-")
        assert flag in text, flag


def test_cli_defaults_equal_the_model_defaults(monkeypatch):
    """The command builds its configuration from the model's defaults, nothing else."""
    import deeprg.perceptron.montecarlo as mc_mod
    from deeprg.cli import main

    seen = {}

    def fake_run_mc(cfg, **kw):
        seen["cfg"] = cfg
        raise SystemExit(0)

    monkeypatch.setattr(mc_mod, "run_mc", fake_run_mc, raising=False)
    with pytest.raises(SystemExit):
        main(["mc"])
    assert seen["cfg"] == MCConfig()


def test_sweep_schema_is_the_model():
    exp = get_experiment("mc")
    specs = field_specs(MCConfig)
    assert set(exp.params) == set(specs)
    for k, p in exp.params.items():
        assert (p.default is REQUIRED) == specs[k].required
        if p.default is not REQUIRED:
            assert p.default == specs[k].default
    # cross-field rules of the model apply to every point of a spec
    with pytest.raises(InputError, match=r"point .*needs T > 0"):
        validate_spec({"experiment": "mc", "fixed": {"pt_n": 4}, "grid": {"T": [0.0, 0.1]}})
    with pytest.raises(InputError, match=r"grid.L\[0\]: must be >= 1"):
        validate_spec({"experiment": "mc", "grid": {"L": [0, 2]}})


def test_compare_cli_and_sweep_schema_come_from_compare_config(monkeypatch):
    import deeprg.experiments.compare as cmp_mod
    from deeprg.cli import main
    from deeprg.experiments.configs import CompareConfig

    seen = {}

    def fake(cfg, **kw):
        seen["cfg"] = cfg
        raise SystemExit(0)

    monkeypatch.setattr(cmp_mod, "run_compare", fake)
    with pytest.raises(SystemExit):
        main(["compare"])
    assert seen["cfg"] == CompareConfig()
    with pytest.raises(SystemExit):
        main(["compare", "--widths", "30,20", "--sigma2", "2", "-T", "0.1", "--P", "1e2"])
    assert seen["cfg"] == CompareConfig(widths=[30, 20], sigma2=2.0, T=0.1, P=100)
    exp = get_experiment("compare")
    assert {k: p.default for k, p in exp.params.items()} == {
        k: s.default for k, s in field_specs(CompareConfig).items()
    }
    assert exp.model is CompareConfig
    with pytest.raises(InputError, match="gibbs needs activation linear"):
        validate_spec(
            {"experiment": "compare", "fixed": {"activation": "relu"}, "grid": {"T": [1.0]}}
        )


def test_anneal_cli_defaults_are_the_model(monkeypatch):
    import deeprg.perceptron.montecarlo.anneal as an
    from deeprg.cli import main
    from deeprg.perceptron.montecarlo.anneal import AnnealConfig

    seen = {}

    def fake(cfg, **kw):
        seen["cfg"] = cfg
        raise SystemExit(0)

    monkeypatch.setattr(an, "anneal", fake)
    with pytest.raises(SystemExit):
        main(["anneal"])
    assert seen["cfg"] == AnnealConfig()


def test_replica_cli_and_sweep_come_from_the_replica_models(monkeypatch):
    from deeprg.cli import main
    from deeprg.perceptron.replica.config import ReplicaConfig, ReplicaPointConfig

    with pytest.raises(InputError, match=r"rsb 1\|2 is implemented for scenario random"):
        ReplicaConfig(rsb=1, scenario="teacher")
    with pytest.raises(InputError, match="alpha must be <= 400"):
        ReplicaConfig(rsb=1, alpha="1:1000:log3")
    assert ReplicaConfig(alpha="1,2.5").alphas == [1.0, 2.5]
    with pytest.raises(SystemExit) as exc:
        main(["replica", "--closure", "B", "--rsb", "1"])
    assert exc.value.code == 2
    exp = get_experiment("replica")
    assert exp.model is ReplicaPointConfig and exp.params["alpha"].default is REQUIRED
    shared = set(field_specs(ReplicaConfig)) & set(field_specs(ReplicaPointConfig)) - {"alpha"}
    for k in shared:  # one source of defaults for the CLI and the sweep
        assert field_specs(ReplicaConfig)[k].default == exp.params[k].default


def test_bpkr_sweep_comes_from_the_bpkr_model_and_fits_like_the_direct_call():
    from deeprg.bpkr import fit
    from deeprg.bpkr.config import BPKRConfig
    from deeprg.experiments.configs import SamplingConfig

    exp = get_experiment("bpkr")
    assert exp.model is BPKRConfig and exp.params["T"].default == BPKRConfig().T
    assert BPKRConfig(T=0).T == 0  # the theory has a T -> 0 limit; sampling does not
    with pytest.raises(InputError, match="T must be > 0"):
        SamplingConfig(T=0)
    with pytest.raises(InputError, match="sigma2 must be one value or 3 values"):
        BPKRConfig(widths=[10, 10], sigma2=[1.0, 1.0])
    cfg = BPKRConfig(P=20, P_test=30, widths=[15, 15], sigma2=[1.0, 0.8, 1.2], T=0.1)
    split = cfg.load()
    a = cfg.fit(split)
    b = fit(split.X, split.y, [15, 15], [1.0, 0.8, 1.2], 0.1, "saddle")
    assert a.u == pytest.approx(b.u, rel=1e-12)


def test_run_bpkr_gives_a_labelled_dataset_with_provenance():
    from deeprg.bpkr.config import BPKRConfig, bpkr_report, run_bpkr
    from deeprg.schema import missing_attrs

    cfg = BPKRConfig(P=20, P_test=30, widths=[15, 15], T=0.1)
    ds = run_bpkr(cfg)
    assert list(ds["layer"].values) == [1, 2] and not missing_attrs(ds)
    assert ds.attrs["config_hash"] == cfg.hash()
    assert float(ds["eps_g"]) == pytest.approx(bpkr_report(cfg)["eps_g"], rel=1e-12)
