"""Configuration models of the sampling experiments (``deeprg compare``, the sweep experiments
``compare`` and ``sampling``): the single source of their defaults and checks."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from deeprg.data.config import NetworkConfig
from deeprg.errors import InputError


class SamplingConfig(NetworkConfig):
    """Posterior sampling of the finite network N0 → widths → 1 on a data set."""

    activation: Literal["linear", "relu"] = Field(
        "linear", description="Activation (relu: BPKR heuristic, saddle and gp modes)."
    )
    sampler: Literal["gibbs", "mala", "langevin"] = Field("gibbs", description="Sampler.")
    chains: int = Field(16, ge=2, description="Independent chains.")
    steps: int = Field(2000, ge=1, description="Steps per chain after warm-up.")
    warmup: int | None = Field(None, ge=0, description="Warm-up steps (default steps/4).")
    thin: int = Field(5, ge=1, description="Keep every THIN-th draw.")
    eta: float = Field(1e-3, gt=0, description="Step size (paper units) for langevin/mala.")

    @model_validator(mode="after")
    def _sampling_rules(self) -> SamplingConfig:
        if self.sampler == "gibbs" and self.activation != "linear":
            raise InputError("sampler gibbs needs activation linear (use mala or langevin)")
        if (self.steps + self.thin - 1) // self.thin < 2:
            raise InputError(
                f"steps/thin must keep at least 2 draws per chain, got steps={self.steps}, "
                f"thin={self.thin}"
            )
        return self

    def sampling_kwargs(self) -> dict[str, Any]:
        """The keyword arguments of :func:`deeprg.sampling.sample_posterior` / ``compare``."""
        keys = ("activation", "sampler", "chains", "steps", "warmup", "thin", "eta", "seed")
        return {k: getattr(self, k) for k in keys}


def run_sampling(config: SamplingConfig) -> Any:
    """Sample the posterior the configuration describes (:func:`deeprg.sampling.sample_posterior`
    on its data split, no progress bar): a :class:`~deeprg.sampling.run.RunResult`."""
    from deeprg.sampling import sample_posterior

    return sample_posterior(
        config.load(),
        list(config.widths),
        config.sigma2_value,
        config.T,
        progress=False,
        **config.sampling_kwargs(),
    )


class CompareConfig(SamplingConfig):
    """Theory (saddle, exact, GP) against posterior samples of the finite network."""

    kernel_inputs: int = Field(
        20, ge=0, description="Training inputs on which the mean layer kernels are compared."
    )
