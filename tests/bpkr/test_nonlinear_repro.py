"""Reproductions bpkr-nonlinear and bpkr-multiclass (issue 16): plumbing at the tiny size, the
figure drawn from the saved file."""

import pytest

from deeprg.experiments import registry
from deeprg.schema import missing_attrs


@pytest.mark.parametrize(
    "name", ["bpkr-nonlinear", pytest.param("bpkr-multiclass", marks=pytest.mark.slow)]
)
def test_reproduction_plumbing_tiny(name, tmp_path, monkeypatch):
    from deeprg.experiments.figures import plot_file

    monkeypatch.setattr(registry, "SIZES", (*registry.SIZES, "tiny"))
    path, res = registry.run_reproduction(name, size="tiny", seed=0, out_dir=tmp_path)
    assert res.summary and res.dataset.sizes and res.config["size"] == "tiny"
    assert missing_attrs(res.dataset) == []
    assert {f.suffix for f in res.figures} == {".png", ".pdf"}
    for fig in res.figures:
        assert fig.exists() and fig.stat().st_size > 1000
    again = plot_file(path, tmp_path / "again.png")  # from the file alone
    assert again.stat().st_size > 1000
