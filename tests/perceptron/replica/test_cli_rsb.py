"""``deeprg replica --rsb 1|2`` and ``--field``: JSON contract and one-line errors."""

import json

import pytest

from deeprg.cli import main


def test_replica_cli_rsb_json(capsys, tmp_path):
    out = tmp_path / "r.nc"
    with pytest.raises(SystemExit) as exc:
        main(["replica", "--L", "3", "--alpha", "2,4", "--rsb", "1", "--out", str(out), "--json"])
    assert exc.value.code == 0
    obj = json.loads(capsys.readouterr().out)
    assert obj["alpha"] == [2.0, 4.0] and all(obj["converged"])
    assert len(obj["q"][0]) == 4 and len(obj["Q"][0]) == 3  # top Parisi level per layer
    assert len(obj["q_levels"][1][1]) == 2 and len(obj["x"][1]) == 1
    assert obj["levels"][0] == [1, 0, 0, 1] and obj["levels"][1][1] >= 1
    from deeprg.results import read_dataset

    ds = read_dataset(out)
    assert set(ds["q"].dims) == {"alpha", "layer", "level"} and ds.attrs["rsb"] == 1


def test_replica_cli_teacher_field(capsys):
    with pytest.raises(SystemExit) as exc:
        main(
            [
                "replica",
                "--L",
                "4",
                "--alpha",
                "1:10:log5",
                "--scenario",
                "teacher",
                "--field",
                "0.05",
                "--json",
            ]
        )
    assert exc.value.code == 0
    obj = json.loads(capsys.readouterr().out)
    assert len(obj["eps_g"]) == 5 and obj["eps_g"][-1] < 0.5


@pytest.mark.parametrize(
    "args",
    [
        ["--rsb", "3"],
        ["--rsb", "1", "--scenario", "teacher", "--alpha", "3"],
        ["--rsb", "1", "--closure", "B", "--alpha", "3"],
        ["--rsb", "1", "--alpha", "1:2000:log5"],
        ["--field", "0.1", "--alpha", "3"],
        ["--closure", "B", "--scenario", "random", "--field", "0.1", "--alpha", "3"],
        ["--alpha", "1:2:log"],
        ["--alpha", "5:1:lin4"],
        ["--margin", "-1", "--alpha", "3"],
    ],
)
def test_replica_cli_errors_are_one_line(args, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["replica", *args])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("deeprg: error:")
