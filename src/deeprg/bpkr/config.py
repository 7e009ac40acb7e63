"""The BPKR configuration (the sweep experiment ``bpkr``): one pydantic model, the single
source of the defaults and checks of a theory point (docs/theory/bpkr.md)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from deeprg.data.config import NetworkConfig


class BPKRConfig(NetworkConfig):
    """The theory of one network on one data set (L = len(widths) hidden layers)."""

    T: float = Field(0.05, ge=0, description="Temperature T >= 0.")
    mode: Literal["saddle", "exact", "gp"] = Field(
        "saddle", description="Saddle point, exact finite width, or the GP limit."
    )
    activation: Literal["linear", "relu", "erf", "tanh"] = Field(
        "linear", description="Activation (nonlinear: kernel-renormalization theories)."
    )
    renormalization: Literal["layerwise", "scalar"] = Field(
        "layerwise",
        description="One order parameter per layer before the next nonlinearity, or one scalar on "
        "the output NNGP kernel (identical for linear, relu and L = 1).",
    )
    path: Literal["auto", "kernel", "feature"] = Field(
        "auto",
        description="How the spectrum is computed (auto: feature space N0 x N0 for linear "
        "networks with N0 < P, else the P x P kernel).",
    )

    def fit(self, split: Any, progress: Any = None) -> Any:
        """:func:`deeprg.bpkr.fit` of this configuration on ``split``."""
        from deeprg.bpkr import fit

        return fit(
            split.X,
            split.y,
            list(self.widths),
            self.sigma2_value,
            self.T,
            self.mode,
            activation=self.activation,
            renormalization=self.renormalization,
            path=self.path,
            progress=progress if self.mode == "exact" else None,
        )


__all__ = ["BPKRConfig"]
