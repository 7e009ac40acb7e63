"""``deeprg.experiments.runner.run(config) -> Dataset``: one entry point for every experiment,
every result labelled with the configuration it came from."""

import pytest

from deeprg.experiments.runner import RUNNERS, run


def _tiny():
    from deeprg.bpkr.config import BPKRConfig
    from deeprg.experiments.configs import CompareConfig, SamplingConfig
    from deeprg.perceptron.montecarlo.config import AnnealConfig, MCConfig
    from deeprg.perceptron.mp.config import MPConfig
    from deeprg.perceptron.replica.config import ReplicaConfig

    small = {"P": 20, "P_test": 20, "N0": 10, "widths": [8], "chains": 2, "steps": 10, "thin": 1}
    return [
        BPKRConfig(P=20, P_test=30, widths=[15, 15], T=0.1),
        CompareConfig(**small),
        SamplingConfig(**small),
        MCConfig(L=2, N=6, alpha=1.0, t_w=2, steps=4, n_times=2, samples=2),
        AnnealConfig(L=1, N=1, N_in=8, c=8, alpha_max=0.25, population=50),
        ReplicaConfig(L=3, alpha="1,2"),
        MPConfig(L=1, N=2, N_in=20, c=20, alpha=1.0),
    ]


@pytest.mark.parametrize("cfg", _tiny(), ids=lambda c: type(c).__name__)
def test_every_model_runs_to_a_labelled_dataset(cfg):
    from deeprg.identity import config_hash

    ds = run(cfg)
    assert ds.sizes and ds.attrs["config_hash"] == config_hash(cfg.to_dict())
    assert type(cfg).__name__ in RUNNERS


def test_a_model_without_runner_is_refused_in_one_line():
    from deeprg.errors import InputError
    from deeprg.experiments.demo import DemoConfig

    with pytest.raises(InputError, match="no runner for DemoConfig"):
        run(DemoConfig())
