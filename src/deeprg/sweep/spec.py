"""Sweep specifications in TOML, validated with pydantic (unknown keys rejected with their path).

```toml
experiment = "bpkr"                  # any registered point experiment (deeprg.sweep.registry)
[fixed]                              # parameters shared by every point
data = "teacher"
P = 60
[grid]                               # axes: a list, or a range table
sigma2 = [0.5, 1.0, 2.0]
T = { start = 0.001, stop = 1.0, num = 4, log = true }
widths = [[30], [60], [120]]
[zip]                                # optional: axes that vary together (one shared dim)
axes = []
[seeds]                              # optional: replicate every point over seeds
values = [0, 1, 2]                   # or: replicates = 3 (seeds 0..2)
[resources]                          # optional: per-worker resources for --cluster slurm|pbs
cores = 1
memory = "2GB"
walltime = "01:00:00"
```
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from itertools import product
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from deeprg.errors import InputError
from deeprg.sweep.registry import REQUIRED, get_experiment


class RangeAxis(BaseModel):
    model_config = ConfigDict(extra="forbid")
    start: float
    stop: float
    num: int
    log: bool = False

    @model_validator(mode="after")
    def _check(self) -> RangeAxis:
        if self.num < 1:
            raise ValueError("num must be >= 1")
        if self.log and (self.start <= 0 or self.stop <= 0):
            raise ValueError("log ranges need start > 0 and stop > 0")
        return self

    def values(self) -> list[float]:
        f = np.geomspace if self.log else np.linspace
        return [float(v) for v in f(self.start, self.stop, self.num)]


class Seeds(BaseModel):
    model_config = ConfigDict(extra="forbid")
    values: list[int] | None = None
    replicates: int | None = None

    @model_validator(mode="after")
    def _check(self) -> Seeds:
        if self.replicates is not None and self.replicates < 1:
            raise ValueError("replicates must be >= 1")
        return self

    def seed_list(self) -> list[int]:
        if self.values is not None:
            return list(self.values)
        return list(range(self.replicates or 1))


class Zip(BaseModel):
    model_config = ConfigDict(extra="forbid")
    axes: list[str] = []


class Resources(BaseModel):
    model_config = ConfigDict(extra="forbid")
    cores: int = 1
    processes: int = 1
    memory: str = "2GB"
    walltime: str = "01:00:00"
    queue: str | None = None
    jobs: int = 1

    @field_validator("cores", "processes", "jobs")
    @classmethod
    def _pos(cls, v: int) -> int:
        if v < 1:
            raise ValueError("must be >= 1")
        return v


class SweepSpec(BaseModel):
    """A validated sweep: experiment, fixed parameters, grid axes, zipped axes, seeds."""

    model_config = ConfigDict(extra="forbid")
    experiment: str
    fixed: dict[str, Any] = {}
    grid: dict[str, list[Any] | RangeAxis] = {}
    zip: Zip = Zip()
    seeds: Seeds | None = None
    resources: Resources = Resources()

    @field_validator("grid")
    @classmethod
    def _nonempty(cls, g: dict[str, Any]) -> dict[str, Any]:
        for k, v in g.items():
            if isinstance(v, list) and len(v) == 0:
                raise ValueError(f"axis {k!r} is empty")
        return g

    def axes(self) -> dict[str, list[Any]]:
        return {
            k: (v.values() if isinstance(v, RangeAxis) else list(v)) for k, v in self.grid.items()
        }

    def dims(self) -> list[tuple[str, list[str]]]:
        """Output dims: each free axis alone, zipped axes together under one dim ``zip``."""
        out: list[tuple[str, list[str]]] = []
        zipped = list(self.zip.axes)
        for k in self.axes():
            if k in zipped:
                if not any(d == "zip" for d, _ in out):
                    out.append(("zip", zipped))
            else:
                out.append((k, [k]))
        if self.seeds is not None:
            out.append(("seed", ["seed"]))
        return out

    def points(self) -> list[dict[str, Any]]:
        """All grid points: {"index": {dim: i}, "params": {...}} in a deterministic order."""
        axes = self.axes()
        levels: list[list[tuple[dict[str, int], dict[str, Any]]]] = []
        for dim, names in self.dims():
            if dim == "seed" and self.seeds is not None:
                levels.append(
                    [({"seed": i}, {"seed": s}) for i, s in enumerate(self.seeds.seed_list())]
                )
            elif dim == "zip":
                n = len(axes[names[0]])
                levels.append([({"zip": i}, {nm: axes[nm][i] for nm in names}) for i in range(n)])
            else:
                levels.append([({dim: i}, {dim: v}) for i, v in enumerate(axes[dim])])
        defaults = {
            k: p.default
            for k, p in get_experiment(self.experiment).params.items()
            if p.default is not REQUIRED
        }
        pts = []
        for combo in product(*levels):
            idx: dict[str, int] = {}
            params = defaults | dict(self.fixed)
            for i_d, p_d in combo:
                idx |= i_d
                params |= p_d
            pts.append({"index": idx, "params": params, "key": point_key(self.experiment, params)})
        return pts


def point_key(experiment: str, params: dict[str, Any]) -> str:
    """Stable identity of a point: its experiment and *full* parameter set (defaults included,
    so a changed default is a new point). The package version is recorded in every point file
    and compared separately (a point written by another version is *stale*)."""
    blob = json.dumps({"experiment": experiment, "params": params}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:20]


def _loc(err: Any) -> str:
    parts: list[str] = []
    for p in err["loc"]:
        if isinstance(p, int):
            parts[-1] = f"{parts[-1]}[{p}]" if parts else f"[{p}]"
        elif p in ("list[any]", "RangeAxis", "function-after[_check(), RangeAxis]"):
            continue
        else:
            parts.append(str(p))
    return ".".join(parts)


def validate_spec(data: dict[str, Any]) -> SweepSpec:
    """Validate a spec dict: structure (pydantic), then the experiment's parameter schema, then
    (for experiments with a configuration model) every point through the model."""
    spec = _structure(data)
    exp = get_experiment(spec.experiment)
    for k, v in spec.grid.items():  # ranges of int parameters: rounded, duplicates dropped
        if isinstance(v, RangeAxis) and k in exp.params and exp.params[k].type is int:
            spec.grid[k] = list(dict.fromkeys(round(x) for x in v.values()))
    _check_names(spec, exp)
    _check_values(spec, exp)
    _coerce_floats(spec, exp)
    if exp.model is not None:
        _check_points(spec, exp)
    return spec


def _fail(where: str, why: str) -> InputError:
    return InputError(f"sweep spec: {where}: {why}")


def _structure(data: dict[str, Any]) -> SweepSpec:
    try:
        return SweepSpec.model_validate(data)
    except ValidationError as exc:
        errs = exc.errors()
        # for list-or-range axes, report the branch that matches the given value's type
        e = next((x for x in errs if x["type"] not in ("list_type", "model_type")), errs[0])
        raise _fail(_loc(e), e["msg"]) from None


def _check_names(spec: SweepSpec, exp: Any) -> None:
    """Known, required, non-overlapping parameter names and consistent zipped axes."""
    axes = spec.axes()
    names = set(spec.fixed) | set(axes) | ({"seed"} if spec.seeds is not None else set())
    allowed = ", ".join(exp.params)
    for k in sorted(names - set(exp.params)):
        raise _fail(k, f"unknown parameter of experiment {spec.experiment!r} (allowed: {allowed})")
    for k, par in exp.params.items():
        if par.default is REQUIRED and k not in names:
            raise _fail(k, f"required by experiment {spec.experiment!r}")
    if spec.seeds is not None and "seed" in set(spec.fixed) | set(axes):
        raise _fail("seeds", "seed is also a fixed parameter or grid axis")
    for k in sorted(set(spec.fixed) & set(axes)):
        raise _fail(f"fixed.{k}", "also a grid axis")
    for z in spec.zip.axes:
        if z not in axes:
            raise _fail("zip.axes", f"{z!r} is not a grid axis")
    if spec.zip.axes and len({len(axes[z]) for z in spec.zip.axes}) != 1:
        raise _fail("zip.axes", "zipped axes must have equal lengths")


def _check_values(spec: SweepSpec, exp: Any) -> None:
    """Every fixed value, axis value and seed against its parameter's type and range."""
    located = [(f"fixed.{k}", k, v) for k, v in spec.fixed.items()]
    located += [(f"grid.{k}[{i}]", k, v) for k, vs in spec.axes().items() for i, v in enumerate(vs)]
    if spec.seeds is not None:
        located += [("seeds.values", "seed", s) for s in spec.seeds.seed_list()]
    for where, name, v in located:
        why = exp.params[name].check(v)
        if why is not None:
            raise _fail(where, why)


def _coerce_floats(spec: SweepSpec, exp: Any) -> None:
    """Ints given for float parameters become floats, so that x = 1 and x = 1.0 are one point."""

    def coerce(name: str, v: Any) -> Any:
        return float(v) if exp.params[name].type is float else v

    spec.fixed = {k: coerce(k, v) for k, v in spec.fixed.items()}
    spec.grid = {
        k: v if isinstance(v, RangeAxis) else [coerce(k, x) for x in v]
        for k, v in spec.grid.items()
    }


def _check_points(spec: SweepSpec, exp: Any) -> None:
    """Every point through the experiment's configuration model (cross-field rules)."""
    for p in spec.points():
        try:
            exp.model(**p["params"])
        except InputError as exc:
            where = ", ".join(f"{k}[{i}]" for k, i in p["index"].items())
            raise _fail(f"point {where}", str(exc)) from None


def load_spec(path: str | Path) -> SweepSpec:
    """Read and validate a TOML sweep spec."""
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"file not found: {p}")
    try:
        data = tomllib.loads(p.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"sweep spec: {p}: invalid TOML ({exc})") from None
    return validate_spec(data)
