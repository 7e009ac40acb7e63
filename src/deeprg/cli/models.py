"""CLI options derived from configuration models (one source for defaults and help texts).

:func:`model_command` turns a command function ``fn(config, **own_options)`` into a typer
command whose options are the model's fields (``--name``, help = the field's description,
default = the field's default) followed by the function's own options (output paths, --json,
workers, ...). The command builds the model from the parsed options, so validation and its
one-line messages are the model's. List fields are comma-separated text on the command line;
count fields (``json_schema_extra={"cli_count": True}``) accept float notation (``1e9``).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

import typer

from deeprg.config import Config, field_specs


def _cli_type(spec: Any) -> Any:
    """The annotation typer sees: Literal choices become str (the model checks them); lists are
    comma-separated text (parsed in :func:`model_command`)."""
    base = str if spec.type is list else spec.type
    return base | None if spec.optional else base


def _count(value: Any) -> Any:
    """An integer count that may be written in float notation (``1e9``): the model checks it."""
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise typer.BadParameter(f"{value!r} is not an integer") from None
    if not v.is_integer():
        raise typer.BadParameter(f"{value!r} is not an integer")
    return int(v)


def model_params(
    model: type[Config],
    flags: dict[str, str | tuple[str, ...]] | None = None,
    exclude: tuple[str, ...] = (),
) -> list[inspect.Parameter]:
    """One keyword-only typer option per model field (``flags`` renames, e.g. t_w -> --tw, or
    gives several names, e.g. T -> ("--temperature", "-T"))."""
    flags = flags or {}
    out = []
    for name, spec in field_specs(model).items():
        if name in exclude:
            continue
        names = flags.get(name, "--" + name.replace("_", "-"))
        decls = (names,) if isinstance(names, str) else names
        help_ = spec.help + (
            f" One of: {'|'.join(map(str, spec.choices))}." if spec.choices else ""
        )
        default = spec.default
        if spec.type is list:
            help_ += " Comma-separated."
            default = None if default is None else ",".join(map(str, default))
        kw: dict[str, Any] = {"parser": _count} if (spec.extra or {}).get("cli_count") else {}
        opt = typer.Option(default, *decls, help=help_, **kw)
        out.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=opt,
                                     annotation=_cli_type(spec)))  # fmt: skip
    return out


def _parse_list(name: str, text: Any, item: type | None) -> Any:
    """'60,60' -> [60, 60] (one line naming the option if an item is empty or malformed)."""
    from deeprg.cli.app import parse_floats, parse_ints

    if not isinstance(text, str):
        return text
    return parse_ints(name, text) if item is int else parse_floats(name, text)


def _build(model: type[Config], values: dict[str, Any], flags: dict[str, Any]) -> Config:
    """The model from the parsed options; a message that starts with a field name names the
    option instead (``T must be >= 0`` -> ``--temperature must be >= 0``)."""
    from deeprg.errors import InputError

    try:
        return model(**values)
    except InputError as exc:
        name, _, rest = str(exc).partition(" ")
        if name not in values or not rest:
            raise
        names = flags.get(name, "--" + name.replace("_", "-"))
        raise InputError(f"{names if isinstance(names, str) else names[0]} {rest}") from None


def model_command(
    model: type[Config],
    flags: dict[str, str | tuple[str, ...]] | None = None,
    exclude: tuple[str, ...] = (),
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator: ``fn(config: model, **own)`` becomes ``cmd(**model_fields, **own)``."""
    fields = [n for n in model.model_fields if n not in exclude]
    specs = field_specs(model)

    def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
        own = [
            p.replace(kind=inspect.Parameter.KEYWORD_ONLY)
            for p in inspect.signature(fn, eval_str=True).parameters.values()
            if p.name != "config"
        ]
        params = model_params(model, flags, exclude) + own

        @functools.wraps(fn)
        def cmd(**kw: Any) -> Any:
            values = {k: kw.pop(k) for k in fields}
            for k in fields:
                if specs[k].type is list:
                    values[k] = _parse_list(k, values[k], specs[k].item_type)
            return fn(_build(model, values, flags or {}), **kw)

        cmd.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
        cmd.__annotations__ = {p.name: p.annotation for p in params}
        del cmd.__wrapped__  # type: ignore[attr-defined]  # typer must read the new signature
        return cmd

    return deco


__all__ = ["model_command", "model_params"]
