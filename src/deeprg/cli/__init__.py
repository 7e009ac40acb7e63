"""Command-line interface: ``deeprg <command>``. Mirrors the Python API one to one.

Every command module registers itself on :data:`deeprg.cli.app.app`. :func:`main` turns bad
input into one readable line on stderr and exit code 2 (never a traceback).
"""

from __future__ import annotations

import importlib
import sys

import typer

from deeprg.cli.app import app


def _usage_errors() -> tuple[type[BaseException], ...]:
    """Usage-error classes of typer (>= 0.26 vendors click) and of click itself."""
    classes: list[type[BaseException]] = []
    exc_mod = getattr(typer, "exceptions", None)
    if exc_mod is not None and hasattr(exc_mod, "TyperException"):
        classes.append(exc_mod.TyperException)
    try:
        import click

        classes.append(click.ClickException)
    except ImportError:  # pragma: no cover
        pass
    return tuple(classes)


# Command modules (each registers its commands on ``app`` when imported).
_COMMAND_MODULES = ("bpkr", "compare", "demo", "mc", "replica", "reproduce", "sweep")


def _load_commands() -> None:
    for name in _COMMAND_MODULES:
        importlib.import_module(f"deeprg.cli.{name}")


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    from deeprg.errors import InputError

    _load_commands()
    try:
        rv = app(args=argv, standalone_mode=False)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        print("deeprg: aborted", file=sys.stderr)
        sys.exit(130)
    except _usage_errors() as exc:  # usage errors: unknown option, bad type, ...
        msg = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        print(f"deeprg: error: {msg.splitlines()[0] if msg else 'bad usage'}", file=sys.stderr)
        sys.exit(2)
    except (InputError, FileNotFoundError, IsADirectoryError) as exc:
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"deeprg: error: {msg}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("deeprg: interrupted (completed work is saved)", file=sys.stderr)
        sys.exit(130)
    sys.exit(rv if isinstance(rv, int) else 0)
