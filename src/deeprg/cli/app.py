"""The typer application object and shared CLI helpers (no command logic lives here)."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="deeprg",
    help="Statistical mechanics of deep neural networks: theory, simulation, reproduction.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """Statistical mechanics of deep neural networks: theory, simulation, reproduction."""


def parse_floats(name: str, text: str) -> list[float]:
    """Parse a comma-separated list of floats, naming ``name`` in the error."""
    from deeprg.errors import InputError

    try:
        return [float(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise InputError(f"{name} must be comma-separated numbers, got {text!r}") from None


def parse_ints(name: str, text: str) -> list[int]:
    """Parse a comma-separated list of integers, naming ``name`` in the error."""
    from deeprg.errors import InputError

    vals = parse_floats(name, text)
    if not vals or any(not v.is_integer() for v in vals):
        raise InputError(f"{name} must be comma-separated integers, got {text!r}")
    return [int(v) for v in vals]
