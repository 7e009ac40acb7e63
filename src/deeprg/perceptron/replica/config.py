"""Configuration models of the layered replica theory (``deeprg replica`` and the sweep
experiment ``replica``): the single source of their defaults and checks."""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field, model_validator

from deeprg.config import Config
from deeprg.errors import InputError

RSB_ALPHA_MAX = 400.0  # k-RSB validated range (docs/replica.md)


def parse_alpha(text: str) -> list[float]:
    """'a:b:logN' / 'a:b:linN' grids, a comma list, or one value."""
    if ":" in text:
        parts = text.split(":")
        if len(parts) != 3 or not (parts[2].startswith("log") or parts[2].startswith("lin")):
            raise InputError(f"alpha grid must look like 1:2000:log200 or 1:10:lin10, got {text!r}")
        try:
            a, b, n = float(parts[0]), float(parts[1]), int(parts[2][3:])
        except ValueError:
            raise InputError(f"alpha grid must look like 1:2000:log200, got {text!r}") from None
        if not (0 < a < b) or n < 2:
            raise InputError(f"alpha grid needs 0 < start < stop and >= 2 points, got {text!r}")
        grid = np.geomspace(a, b, n) if parts[2].startswith("log") else np.linspace(a, b, n)
        return [float(v) for v in grid]
    items = text.split(",")
    if any(not t.strip() for t in items):
        raise InputError(f"alpha has an empty item: {text!r}")
    try:
        vals = [float(t) for t in items]
    except ValueError:
        raise InputError(f"alpha must be numbers or a grid a:b:logN, got {text!r}") from None
    if any(not (v > 0 and np.isfinite(v)) for v in vals):
        raise InputError(f"alpha values must be finite and > 0, got {text!r}")
    return vals


class ReplicaTheoryConfig(Config):
    """Which replica theory: depth, scenario, closure, RSB level, margin, side channel."""

    L: int = Field(10, ge=1, description="Number of weight layers (neuron layers 0..L).")
    scenario: Literal["random", "teacher"] = Field(
        "random", description="Random I/O or teacher-student (Nishimori)."
    )
    closure: Literal["A", "B"] = Field("A", description="A (triple product) or B (cavity).")
    rsb: int = Field(0, ge=0, le=2, description="RSB steps: 0 (RS), 1 or 2 (random, closure A).")
    margin: float = Field(0.0, ge=0, description="Gap margin κ >= 0.")
    field: float = Field(
        0.0, ge=0, description="Teacher only: symmetry-breaking side channel on hidden layers."
    )

    @model_validator(mode="after")
    def _combination(self) -> ReplicaTheoryConfig:
        if self.rsb and (self.scenario != "random" or self.closure != "A"):
            raise InputError(
                "rsb 1|2 is implemented for scenario random, closure A (teacher-student is RS "
                "by the Nishimori symmetry)"
            )
        if self.field and self.scenario != "teacher":
            raise InputError("field is for scenario teacher only")
        return self


class ReplicaConfig(ReplicaTheoryConfig):
    """The theory along an α grid (continuation): what ``deeprg replica`` solves."""

    alpha: str = Field("1:2000:log200", description="α = M/c: a value, a list or a:b:logN.")

    @model_validator(mode="after")
    def _grid(self) -> ReplicaConfig:
        alphas = self.alphas
        if self.rsb and max(alphas) > RSB_ALPHA_MAX:
            raise InputError(
                f"rsb 1|2: alpha must be <= {RSB_ALPHA_MAX:g} (beyond, the breakpoint equation "
                f"drives the boundary layers to q = 1, see docs/replica.md); got max "
                f"{max(alphas):g}"
            )
        return self

    @property
    def alphas(self) -> list[float]:
        return parse_alpha(self.alpha)


class ReplicaPointConfig(ReplicaTheoryConfig):
    """One α, reached by continuation over ``path_points`` log-spaced α from
    min(``path_from``, α): the sweep experiment ``replica``."""

    alpha: float = Field(..., gt=0, description="The load α = M/c.")
    path_from: float = Field(1.0, gt=0, description="First α of the continuation path.")
    path_points: int = Field(12, ge=1, description="Points on the continuation path.")

    @property
    def path(self) -> np.ndarray:
        return np.geomspace(min(self.path_from, self.alpha), self.alpha, self.path_points)


def run_replica(cfg: ReplicaConfig) -> tuple[list, object]:
    """Solve ``cfg`` along its α grid: (the solutions, their Dataset with dims alpha, layer
    0..L, wlayer 1..L and, for k-RSB, level). RS by continuation (:func:`solve_path`), k-RSB
    by :func:`rsb_path`; the Dataset records ``cfg`` and its identity."""
    from deeprg.identity import identity
    from deeprg.perceptron.replica.datasets import path_dataset, rsb_dataset

    if cfg.rsb:
        from deeprg.perceptron.replica.rsb import rsb_path

        sols: list = list(rsb_path(cfg.L, cfg.alphas, cfg.rsb, margin=cfg.margin))
        ds = rsb_dataset(sols)
    else:
        from deeprg.perceptron.replica.rs import solve_path

        kw = {"field": cfg.field} if cfg.field else {}
        sols = list(
            solve_path(
                cfg.L,
                cfg.alphas,
                scenario=cfg.scenario,
                closure=cfg.closure,
                margin=cfg.margin,
                **kw,
            )
        )
        ds = path_dataset(sols)
    ds.attrs.update(identity(cfg.to_dict()))
    return sols, ds
