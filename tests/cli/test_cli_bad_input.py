"""Bad input on the command line (issue 11 §3): exit code 2, one line on stderr, no traceback."""

from __future__ import annotations

import numpy as np
import pytest

from deeprg.cli import main
from deeprg.errors import InputError, check_memory


def _fails(capsys, argv: list[str]) -> str:
    """Run ``deeprg argv`` in-process; assert exit 2 and one stderr line; return that line."""
    with pytest.raises(SystemExit) as exc:
        main(argv)
    err = capsys.readouterr().err
    assert exc.value.code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def _ok(capsys, argv: list[str]) -> str:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    out = capsys.readouterr()
    assert exc.value.code == 0, out.err
    return out.out


@pytest.mark.parametrize(
    "argv",
    [
        ["bpkr", "--seed", "-1"],
        ["bpkr", "--seed", "-1", "--train", "a.npz", "--test", "b.npz"],
        ["compare", "--seed", "-1", "--steps", "10"],
        ["mc", "--seed", "-1"],
    ],
)
def test_negative_seed(capsys, argv):
    line = _fails(capsys, argv)
    assert "seed" in line and ">= 0" in line


def test_negative_seed_in_the_python_api():
    from deeprg.data import make_dataset, split_from_npz  # noqa: F401
    from deeprg.perceptron.montecarlo import MCConfig

    with pytest.raises(InputError, match="seed"):
        make_dataset("teacher", P=4, P_test=4, seed=-1)
    with pytest.raises(InputError, match="seed"):
        MCConfig(seed=-3).validate()


@pytest.mark.parametrize(
    "argv",
    [
        ["bpkr", "--widths", "50,,30"],
        ["bpkr", "--widths", "50,30,"],
        ["bpkr", "--sigma2", "1,,1"],
        ["bpkr", "--data", "digits", "--classes", "3,,8"],
        ["replica", "--alpha", "1,,2"],
    ],
)
def test_empty_list_items(capsys, argv):
    line = _fails(capsys, argv)
    assert argv[-2].lstrip("-") in line and "empty" in line


def test_parse_helpers_reject_empty_items():
    from deeprg.cli.app import parse_floats, parse_ints

    assert parse_ints("--widths", "50, 30") == [50, 30]
    with pytest.raises(InputError, match="--widths"):
        parse_ints("--widths", "50,,30")
    with pytest.raises(InputError, match="--x"):
        parse_floats("--x", "")


@pytest.fixture
def npz_files(tmp_path):
    rng = np.random.default_rng(0)
    tr, te = tmp_path / "train.npz", tmp_path / "test.npz"
    np.savez(tr, X=rng.standard_normal((30, 5)), y=rng.standard_normal(30))
    np.savez(te, X=rng.standard_normal((20, 5)), y=rng.standard_normal(20))
    return tr, te


def _bpkr_json(capsys, argv):
    import json

    return json.loads(_ok(capsys, ["bpkr", "--widths", "10", "--json", *argv]))


def test_P_takes_the_first_rows_of_the_files(capsys, npz_files):
    tr, te = npz_files
    files = ["--train", str(tr), "--test", str(te)]
    full = _bpkr_json(capsys, files)
    assert full["P"] == 30 and full["data"]["P_test"] == 20
    part = _bpkr_json(capsys, [*files, "--P", "12", "--P-test", "7"])
    assert part["P"] == 12 and part["data"]["P_test"] == 7

    from deeprg.bpkr import fit
    from deeprg.bpkr.api import report

    with np.load(tr) as a, np.load(te) as b:
        ref = report(fit(a["X"][:12], a["y"][:12], [10], 1.0, 0.05), b["X"][:7], b["y"][:7])
    assert part["eps_g"] == pytest.approx(ref["eps_g"], rel=1e-12)


@pytest.mark.parametrize(("opt", "n"), [("--P", "31"), ("--P-test", "21")])
def test_P_beyond_the_rows_of_the_file(capsys, npz_files, opt, n):
    tr, te = npz_files
    line = _fails(capsys, ["bpkr", "--train", str(tr), "--test", str(te), opt, n])
    assert n in line and "rows" in line


def test_builtin_defaults_unchanged(capsys):
    rep = _bpkr_json(capsys, [])
    assert rep["P"] == 60
    from deeprg.data.config import P_DEFAULT, P_TEST_DEFAULT

    assert (P_DEFAULT, P_TEST_DEFAULT) == (60, 1000)


def test_help_documents_P_with_files(capsys):
    out = _ok(capsys, ["bpkr", "--help"])
    assert "first P" in " ".join(out.split())


def test_text_file_named_npz(capsys, tmp_path, npz_files):
    bad = tmp_path / "bad.npz"
    bad.write_text("X,y\n1,2\n")
    line = _fails(capsys, ["bpkr", "--train", str(bad), "--test", str(npz_files[1])])
    assert f"{bad} is not a valid .npz file" in line and "pickle" not in line
    trunc = tmp_path / "trunc.npz"
    trunc.write_bytes(npz_files[0].read_bytes()[:100])
    line = _fails(capsys, ["bpkr", "--train", str(npz_files[0]), "--test", str(trunc)])
    assert f"{trunc} is not a valid .npz file" in line


def test_pickled_npz_is_never_unpickled(capsys, tmp_path, npz_files):
    evil = tmp_path / "evil.npz"
    np.save(evil.with_suffix(".npy"), np.array([{"a": 1}], dtype=object), allow_pickle=True)
    evil.with_suffix(".npy").rename(evil)
    line = _fails(capsys, ["bpkr", "--train", str(evil), "--test", str(npz_files[1])])
    assert "is not a valid .npz file" in line


@pytest.mark.parametrize(
    "argv",
    [
        ["bpkr", "--train", "{d}", "--test", "{d}"],
        ["compare", "--train", "{d}", "--test", "{d}", "--steps", "10"],
        ["sweep", "run", "{d}"],
        ["sweep", "status", "{d}"],
    ],
)
def test_directory_given_as_a_file(capsys, tmp_path, argv):
    d = tmp_path / "data.npz" if argv[0] != "sweep" else tmp_path / "spec.toml"
    d.mkdir()
    line = _fails(capsys, [a.format(d=d) for a in argv])
    assert f"{d} is a directory" in line


def test_binary_sweep_spec(capsys, tmp_path):
    spec = tmp_path / "spec.toml"
    spec.write_bytes(b"\xff\xfe\x00\x01binary")
    line = _fails(capsys, ["sweep", "run", str(spec)])
    assert "not valid UTF-8 text" in line


@pytest.mark.parametrize(
    ("argv", "what"),
    [
        (["bpkr", "--P", "1e9"], "teacher data"),
        (["bpkr", "--P", "1000000000"], "teacher data"),
        (
            ["bpkr", "--P", "300000", "--N0", "2", "--P-test", "2", "--path", "kernel"],
            "BPKR kernel",
        ),
        (["compare", "--P", "1e9"], "teacher data"),
        (["mc", "--N", "100000000"], "Monte Carlo state"),
    ],
)
def test_sizes_beyond_the_memory(capsys, argv, what):
    line = _fails(capsys, argv)
    assert what in line and "GB" in line and "available" in line


def test_check_memory(monkeypatch):
    import deeprg.errors as err

    monkeypatch.setattr(err, "available_memory", lambda: 2_000_000_000)
    assert check_memory("x", 1e9) == 1e9
    with pytest.raises(InputError, match=r"x needs about 3 GB of memory, more than the 2 GB"):
        check_memory("x", 3e9)
    monkeypatch.setattr(err, "available_memory", lambda: None)
    assert check_memory("x", 1e30) == 1e30  # no way to know: no check
    monkeypatch.undo()
    avail = err.available_memory()
    assert avail is None or avail > 0


def test_float_notation_counts(capsys):
    assert _bpkr_json(capsys, ["--P", "2e1", "--P-test", "1e2"])["P"] == 20
    line = _fails(capsys, ["bpkr", "--P", "2.5"])
    assert "--P" in line


def test_version(capsys):
    from deeprg import __version__

    assert _ok(capsys, ["--version"]).strip() == f"deeprg {__version__}"


def test_completion_options(capsys):
    out = _ok(capsys, ["--help"])
    assert "--install-completion" in out and "--show-completion" in out
    assert "_deeprg_completion" in _ok(capsys, ["--show-completion", "bash"])
    # main still dispatches commands and usage errors with completion enabled
    _fails(capsys, ["--no-such-option"])
    assert "deeprg" in _ok(capsys, ["--version"])


# ------------------------------------------------ long computations say what they do (§4)


def test_exact_mode_reports_its_layer_steps():
    from deeprg.bpkr import fit
    from deeprg.data import make_dataset

    d = make_dataset("teacher", P=20, P_test=10, N0=10, seed=0)
    calls: list[tuple[int, int]] = []
    fit(d.X, d.y, [20] * 4, 1.0, 0.1, "exact", progress=lambda a, b: calls.append((a, b)))
    assert calls == [(i, 4) for i in range(1, 5)]


def test_stderr_progress_only_on_stderr_and_only_when_long(capsys):
    from deeprg.cli.app import stderr_progress

    with stderr_progress("quick job") as cb:
        for i in range(1, 4):
            cb(i, 3)
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""  # short: silent
    with stderr_progress("long job", threshold_s=-1.0) as cb:
        for i in range(1, 4):
            cb(i, 3)
    out = capsys.readouterr()
    assert out.out == "" and "long job" in out.err and "to go" in out.err


def test_bpkr_exact_json_stdout_stays_clean(capsys):
    import json

    out = _ok(capsys, ["bpkr", "--mode", "exact", "--widths", "20,20,20", "--P", "20", "--json"])
    assert json.loads(out)["mode"] == "exact"


def test_demo_prints_its_stages(tmp_path):
    from deeprg.experiments.demo import run_demo

    stages: list[str] = []
    cfg = {"P": 30, "P_test": 20, "widths": [4, 8], "sim_widths": [4]}
    cfg |= {"sim_chains": 2, "sim_steps": 8}
    run_demo(tmp_path, seed=1, config=cfg, stage=stages.append)
    kinds = [s.split()[0] for s in stages]
    assert kinds.index("theory:") < kinds.index("sampling:") < kinds.index("writing")


def test_say_stage_goes_to_stderr(capsys):
    from deeprg.cli.app import say_stage

    say_stage("theory: saddle")
    out = capsys.readouterr()
    assert out.out == "" and out.err.strip() == "deeprg: theory: saddle ..."


def test_demo_bad_seed(capsys):
    assert "--seed" in _fails(capsys, ["demo", "--seed", "-2"])
