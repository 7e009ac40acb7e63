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
_COMMAND_MODULES = (
    "anneal",
    "bpkr",
    "compare",
    "demo",
    "info",
    "mc",
    "mp",
    "plot",
    "replica",
    "reproduce",
    "sweep",
)


def _load_commands() -> None:
    for name in _COMMAND_MODULES:
        importlib.import_module(f"deeprg.cli.{name}")


def _directory_message(msg: str) -> str:
    """``file not found: X`` where X is a directory reads better as ``X is a directory``."""
    from pathlib import Path

    prefix = "file not found: "
    if msg.startswith(prefix):
        name = msg[len(prefix) :].split(" (")[0]
        if name and Path(name).is_dir():
            return f"{name} is a directory, not a file"
    return msg


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    from deeprg.errors import InputError

    _load_commands()
    try:
        rv = app(args=argv, prog_name="deeprg", standalone_mode=False)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        print("deeprg: aborted", file=sys.stderr)
        sys.exit(130)
    except _usage_errors() as exc:  # usage errors: unknown option, bad type, ...
        msg = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        print(f"deeprg: error: {msg.splitlines()[0] if msg else 'bad usage'}", file=sys.stderr)
        sys.exit(2)
    except IsADirectoryError as exc:  # a directory where a file was expected
        print(f"deeprg: error: {exc.filename or exc} is a directory, not a file", file=sys.stderr)
        sys.exit(2)
    except (InputError, FileNotFoundError) as exc:
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"deeprg: error: {_directory_message(msg)}", file=sys.stderr)
        sys.exit(2)
    except UnicodeDecodeError as exc:  # a binary file where a text file (TOML, JSON) belongs
        print(
            f"deeprg: error: a file given is not valid UTF-8 text ({exc.reason} at byte "
            f"{exc.start}); pass the text file the command expects",
            file=sys.stderr,
        )
        sys.exit(2)
    except MemoryError:
        print(
            "deeprg: error: out of memory (the sizes asked for need more memory than is free)",
            file=sys.stderr,
        )
        sys.exit(2)
    except KeyboardInterrupt:
        print("deeprg: interrupted (completed work is saved)", file=sys.stderr)
        sys.exit(130)
    sys.exit(rv if isinstance(rv, int) else 0)
