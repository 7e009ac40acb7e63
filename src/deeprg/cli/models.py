"""CLI options derived from configuration models (one source for defaults and help texts).

:func:`model_command` turns a command function ``fn(config, **own_options)`` into a typer
command whose options are the model's fields (``--name``, help = the field's description,
default = the field's default) followed by the function's own options (output paths, --json,
workers, ...). The command builds the model from the parsed options, so validation and its
one-line messages are the model's.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

import typer

from deeprg.config import Config, field_specs


def _cli_type(spec: Any) -> Any:
    """The annotation typer sees: Literal choices become str (the model checks them)."""
    base = spec.type
    return base | None if spec.optional else base


def model_params(
    model: type[Config], flags: dict[str, str] | None = None, exclude: tuple[str, ...] = ()
) -> list[inspect.Parameter]:
    """One keyword-only typer option per model field (``flags`` renames, e.g. t_w -> --tw)."""
    flags = flags or {}
    out = []
    for name, spec in field_specs(model).items():
        if name in exclude:
            continue
        flag = flags.get(name, "--" + name.replace("_", "-"))
        help_ = spec.help + (
            f" One of: {'|'.join(map(str, spec.choices))}." if spec.choices else ""
        )
        opt = typer.Option(spec.default, flag, help=help_)
        out.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=opt,
                                     annotation=_cli_type(spec)))  # fmt: skip
    return out


def model_command(
    model: type[Config], flags: dict[str, str] | None = None, exclude: tuple[str, ...] = ()
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator: ``fn(config: model, **own)`` becomes ``cmd(**model_fields, **own)``."""
    fields = [n for n in model.model_fields if n not in exclude]

    def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
        own = [
            p.replace(kind=inspect.Parameter.KEYWORD_ONLY)
            for p in inspect.signature(fn, eval_str=True).parameters.values()
            if p.name != "config"
        ]
        params = model_params(model, flags, exclude) + own

        @functools.wraps(fn)
        def cmd(**kw: Any) -> Any:
            cfg = model(**{k: kw.pop(k) for k in fields})
            return fn(cfg, **kw)

        cmd.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
        cmd.__annotations__ = {p.name: p.annotation for p in params}
        del cmd.__wrapped__  # type: ignore[attr-defined]  # typer must read the new signature
        return cmd

    return deco


__all__ = ["model_command", "model_params"]
