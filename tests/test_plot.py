"""Figures from files (``deeprg plot``) and the user's matplotlib backend left alone."""

import pytest

from deeprg.cli import main


def _run(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    cap = capsys.readouterr()
    return exc.value.code, cap.out, cap.err


def test_figures_are_regenerated_from_the_files_alone(tmp_path, capsys):
    r, a, c = tmp_path / "r.nc", tmp_path / "a.nc", tmp_path / "c.nc"
    assert _run(["replica", "--L", "3", "--alpha", "1:20:log5", "--out", str(r)], capsys)[0] == 0
    argv = ["anneal", "--L", "1", "--N", "1", "--N-in", "8", "--c", "8", "--alpha-max", "0.5"]
    assert _run([*argv, "--population", "50", "--out", str(a)], capsys)[0] == 0
    argv = ["compare", "--P", "20", "--N0", "10", "--widths", "5", "--chains", "2", "--steps", "20"]
    assert _run([*argv, "--out", str(c)], capsys)[0] == 0
    for f in (r, a, c):
        code, out, _ = _run(["plot", str(f), "--out", str(f.with_suffix(".svg"))], capsys)
        assert code == 0 and f.with_suffix(".svg").stat().st_size > 1000, out


def test_a_file_without_a_figure_kind_is_one_line_exit_2(tmp_path, capsys):
    import xarray as xr

    from deeprg.results import write_dataset

    p = write_dataset(xr.Dataset({"a": ("x", [1.0, 2.0])}), tmp_path / "x.nc", config={})
    code, _, err = _run(["plot", str(p)], capsys)
    assert code == 2 and "records no figure kind" in err and len(err.strip().splitlines()) == 1


def test_library_figures_leave_the_backend_alone(tmp_path):
    import matplotlib

    from deeprg.plotting import save_figure, subplots

    before = matplotlib.get_backend()
    fig, ax = subplots(1, 2)
    ax[0].plot([0, 1], [1, 0])
    save_figure(fig, tmp_path / "f.png")
    assert matplotlib.get_backend() == before
    import matplotlib.pyplot as plt

    assert plt.get_fignums() == []  # nothing left on pyplot's figure list
