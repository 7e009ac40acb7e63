"""Configuration models: one pydantic model per experiment, the single source of its defaults,
validation messages, JSON provenance and configuration hash.

Every experiment's configuration derives from :class:`Config`:

- construction validates (field bounds, choices, cross-field rules) and turns any violation
  into one :class:`~deeprg.errors.InputError` line naming the parameter and the allowed range
  (the CLI's exit code 2);
- models are frozen; :meth:`Config.replace` returns a validated copy with some fields changed;
- :meth:`Config.to_dict` is the canonical JSON-able form written into every output file, and
  :meth:`Config.hash` its hash together with the package version (:mod:`deeprg.identity`);
- :func:`field_specs` lists the fields (name, type, default, bounds, choices, help), from which
  the sweep registry derives its parameter schema and against which the CLI options are tested.
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, ValidationError

from deeprg.errors import InputError

_BOUNDS = {
    "greater_than_equal": ("ge", ">="),
    "greater_than": ("gt", ">"),
    "less_than_equal": ("le", "<="),
    "less_than": ("lt", "<"),
}


def _one_line(exc: ValidationError, prefix: str = "") -> str:
    """The first validation error as '<field> must ..., got <value>'."""
    e = exc.errors()[0]
    name = prefix + ".".join(str(p) for p in e["loc"]) if e["loc"] else prefix.rstrip(".")
    got = e.get("input")
    typ, ctx = e["type"], e.get("ctx") or {}
    if typ in _BOUNDS:
        key, op = _BOUNDS[typ]
        what = f"must be {op} {ctx[key]}"
    elif typ in ("int_type", "int_from_float", "int_parsing"):
        what = "must be an integer"
    elif typ in ("float_type", "float_parsing", "finite_number"):
        what = "must be a finite number"
    elif typ == "literal_error":
        what = f"must be one of {ctx.get('expected', '')}".replace("'", "")
    elif typ == "extra_forbidden":
        return f"{name}: unknown parameter"
    elif typ == "missing":
        return f"{name} is required"
    elif typ == "value_error":
        msg = str(ctx.get("error", e["msg"]))
        return msg if msg else e["msg"]
    else:
        what = e["msg"][0].lower() + e["msg"][1:]
    return f"{name} {what}, got {got!r}"


class Config(BaseModel):
    """Base of every experiment configuration (frozen, unknown keys refused)."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise InputError(_one_line(exc)) from None

    def validate(self) -> Self:  # type: ignore[override]
        """Already validated at construction; kept so ``Config(...).validate()`` reads well."""
        return self

    def replace(self, **changes: Any) -> Self:
        """A validated copy with ``changes`` applied."""
        return type(self)(**(self.model_dump() | changes))

    def to_dict(self) -> dict[str, Any]:
        """Canonical JSON-able form (defaults included): what outputs record as ``config``."""
        return self.model_dump(mode="json")

    def hash(self) -> str:
        """Hash of :meth:`to_dict` and the package version."""
        from deeprg.identity import config_hash

        return config_hash(self.to_dict())


@dataclass(frozen=True)
class FieldSpec:
    """One configuration field as the sweep registry and the CLI see it."""

    name: str
    type: type  # int, float, str, bool or list
    default: Any  # None when required or when None means "derived from other fields"
    required: bool
    optional: bool  # None allowed (the annotation admits None)
    bounds: dict[str, float]  # ge / gt / le / lt
    choices: tuple[Any, ...] | None
    help: str
    item_type: Any = None  # element type of list fields (a type)
    extra: dict[str, Any] | None = None  # json_schema_extra (e.g. {"cli_count": True})


def _base_type(ann: Any) -> tuple[type, bool, tuple[Any, ...] | None, type | None]:
    """(python type, None allowed, Literal choices, list element type) of an annotation."""
    optional = False
    args = typing.get_args(ann)
    if typing.get_origin(ann) in (typing.Union, types.UnionType):
        optional = type(None) in args
        ann = next(a for a in args if a is not type(None))
        args = typing.get_args(ann)
    if typing.get_origin(ann) is typing.Literal:
        return type(args[0]), optional, tuple(args), None
    if typing.get_origin(ann) in (list, tuple):
        return list, optional, None, (args[0] if args else None)
    return ann, optional, None, None


def field_specs(model: type[Config]) -> dict[str, FieldSpec]:
    """The fields of a configuration model with their types, defaults, bounds and choices."""
    out = {}
    for name, f in model.model_fields.items():
        typ, optional, choices, item = _base_type(f.annotation)
        bounds: dict[str, float] = {}
        for m in f.metadata:
            for key in ("ge", "gt", "le", "lt"):
                v = getattr(m, key, None)
                if v is not None:
                    bounds[key] = v
        req = f.is_required()
        default = None if req else f.default
        extra = f.json_schema_extra if isinstance(f.json_schema_extra, dict) else None
        out[name] = FieldSpec(
            name, typ, default, req, optional, bounds, choices, f.description or "", item, extra
        )
    return out
