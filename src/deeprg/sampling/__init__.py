"""Posterior sampling of finite networks (docs/theory/bpkr.md §1.2, §6.1): samplers and chain runs."""

from deeprg.sampling.pipeline import sample_posterior
from deeprg.sampling.rng import ChainRNG, derive_seed
from deeprg.sampling.run import RunResult, run_chains
from deeprg.sampling.samplers import (
    SAMPLERS,
    Sampler,
    SamplerState,
    blocked_gibbs,
    langevin,
    make_sampler,
    mala,
)

__all__ = [
    "SAMPLERS",
    "ChainRNG",
    "RunResult",
    "Sampler",
    "SamplerState",
    "blocked_gibbs",
    "derive_seed",
    "langevin",
    "make_sampler",
    "mala",
    "run_chains",
    "sample_posterior",
]
