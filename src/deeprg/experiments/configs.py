"""Configuration models of the sampling experiments (``deeprg compare``, the sweep experiments
``compare`` and ``sampling``): the single source of their defaults and checks."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from deeprg.data.config import DataConfig
from deeprg.errors import InputError


class SamplingConfig(DataConfig):
    """Posterior sampling of the finite network N0 → widths → 1 on a data set."""

    widths: list[int] = Field(
        [60], min_length=1, description="Hidden widths N_1,..,N_L (input side first)."
    )
    sigma2: list[float] = Field(
        [1.0],
        min_length=1,
        description="Prior variance: one value or L+1 values.",
        json_schema_extra={"scalar_ok": True},
    )
    T: float = Field(0.05, gt=0, description="Temperature T > 0.")
    activation: Literal["linear", "relu"] = Field(
        "linear", description="Activation (relu: BPKR heuristic, saddle and gp modes)."
    )
    sampler: Literal["gibbs", "mala", "langevin"] = Field("gibbs", description="Sampler.")
    chains: int = Field(16, ge=2, description="Independent chains.")
    steps: int = Field(2000, ge=1, description="Steps per chain after warm-up.")
    warmup: int | None = Field(None, ge=0, description="Warm-up steps (default steps/4).")
    thin: int = Field(5, ge=1, description="Keep every THIN-th draw.")
    eta: float = Field(1e-3, gt=0, description="Step size (paper units) for langevin/mala.")

    @field_validator("sigma2", mode="before")
    @classmethod
    def _one_or_many(cls, v: object) -> object:
        return [v] if isinstance(v, (int, float)) and not isinstance(v, bool) else v

    @model_validator(mode="after")
    def _sampling_rules(self) -> SamplingConfig:
        if any(n < 1 for n in self.widths):
            raise InputError(f"widths must be integers >= 1, got {self.widths}")
        L = len(self.widths)
        if len(self.sigma2) not in (1, L + 1) or any(not s > 0 for s in self.sigma2):
            raise InputError(f"sigma2 must be one value or {L + 1} values > 0, got {self.sigma2}")
        if self.sampler == "gibbs" and self.activation != "linear":
            raise InputError("sampler gibbs needs activation linear (use mala or langevin)")
        if (self.steps + self.thin - 1) // self.thin < 2:
            raise InputError(
                f"steps/thin must keep at least 2 draws per chain, got steps={self.steps}, "
                f"thin={self.thin}"
            )
        return self

    def sampling_kwargs(self) -> dict[str, object]:
        """The keyword arguments of :func:`deeprg.sampling.sample_posterior` / ``compare``."""
        keys = ("activation", "sampler", "chains", "steps", "warmup", "thin", "eta", "seed")
        return {k: getattr(self, k) for k in keys}

    @property
    def sigma2_value(self) -> float | list[float]:
        """sigma2 as the theory functions take it (one float, or one per layer)."""
        return self.sigma2[0] if len(self.sigma2) == 1 else list(self.sigma2)


class CompareConfig(SamplingConfig):
    """Theory (saddle, exact, GP) against posterior samples of the finite network."""

    kernel_inputs: int = Field(
        20, ge=0, description="Training inputs on which the mean layer kernels are compared."
    )
