"""Figures from files (issue 12, item 5): every converted reproduction's figure is drawn from
its saved ``NAME.nc`` by ``run_reproduction`` and again by ``deeprg plot NAME.nc`` alone."""

import pytest

from deeprg.experiments import registry

NAMES = [
    "perceptron-phase",
    "perceptron-profiles",
    "perceptron-thresholds",
    "perceptron-dynamics",
    "perceptron-teacher",
    "perceptron-dense-limit",
    "perceptron-aging",
    "perceptron-rsb",
    "bpkr-sampling",
    "bpkr-width",
    "bpkr-depth",
    "bpkr-phase",
    "bpkr-learning-curve",
    "bpkr-representations",
    "bpkr-relu",
]


@pytest.mark.parametrize("name", NAMES)
def test_figure_is_regenerated_from_the_saved_file(name, tmp_path, monkeypatch):
    from deeprg.cli import main
    from deeprg.schema import missing_attrs

    # the tiny sizes are plumbing sizes that `deeprg reproduce` does not offer
    monkeypatch.setattr(registry, "SIZES", (*registry.SIZES, "tiny"))
    path, res = registry.run_reproduction(name, size="tiny", seed=0, out_dir=tmp_path)
    png, pdf = tmp_path / f"{name}.png", tmp_path / f"{name}.pdf"
    assert set(res.figures) == {png, pdf} and pdf.stat().st_size > 1000
    assert not missing_attrs(res.dataset)
    png.unlink()
    with pytest.raises(SystemExit) as exc:
        main(["plot", str(path)])
    assert exc.value.code == 0
    assert png.exists() and png.stat().st_size > 1000
