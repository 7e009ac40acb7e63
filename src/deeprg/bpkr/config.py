"""The BPKR configuration (``deeprg bpkr`` and the sweep experiment ``bpkr``): one pydantic
model, the single source of the defaults and checks of a theory point (docs/theory/bpkr.md)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from deeprg.data.config import P_DEFAULT, P_TEST_DEFAULT, NetworkConfig
from deeprg.errors import InputError


class BPKRConfig(NetworkConfig):
    """The theory of one network on one data set (L = len(widths) hidden layers)."""

    classes: str = Field(
        "0,1",
        description="Two digit classes for digits/mnist, e.g. 3,8, 'parity', or 'all' (mnist: "
        "10-class one-hot targets, D = 10 outputs).",
    )
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

    @model_validator(mode="after")
    def _all_classes(self) -> BPKRConfig:
        if self.classes.strip() == "all" and (self.data != "mnist" or self.train is not None):
            raise InputError("classes all applies to data mnist (10-class one-hot targets)")
        return self

    def class_pair(self) -> tuple[int, int] | str:
        """Two digits, ``"parity"``, or ``"all"`` (10-class one-hot MNIST targets)."""
        return "all" if self.classes.strip() == "all" else super().class_pair()

    def load(self) -> Any:
        """The data split; multi-output targets for classes ``all`` or an ``.npz`` whose y has
        D > 1 columns (docs/theory/nonlinear-renormalization.md)."""
        from deeprg.bpkr.multidata import load_npz_multi, mnist_all_classes, npz_targets_2d

        if self.classes.strip() == "all":
            P = P_DEFAULT if self.P is None else self.P
            P_test = P_TEST_DEFAULT if self.P_test is None else self.P_test
            return mnist_all_classes(P, P_test, seed=self.seed, path=self.data_path)
        if self.train is not None and self.test is not None and npz_targets_2d(self.train):
            return load_npz_multi(self.train, self.test, P=self.P, P_test=self.P_test)
        return super().load()

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


def bpkr_report(config: BPKRConfig, progress: Any = None) -> dict[str, Any]:
    """The report dict (:func:`deeprg.bpkr.report`) of ``config`` on its test split, with the
    data description under ``"data"``."""
    from deeprg.bpkr.api import report

    split = config.load()
    rep = report(config.fit(split, progress), split.X_test, split.y_test)
    return rep | {"data": split.info}


def run_bpkr(config: BPKRConfig, progress: Any = None) -> Any:
    """The theory of ``config`` as a labelled :class:`xarray.Dataset` (``layer`` = hidden layers
    1..L; attrs carry the configuration, its hash and the package version)."""
    from deeprg.bpkr.io import report_dataset
    from deeprg.results import provenance

    ds = report_dataset(bpkr_report(config, progress))
    ds.attrs.update(provenance(config.to_dict(), config.seed))
    return ds
