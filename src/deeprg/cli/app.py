"""The typer application object and shared CLI helpers (no command logic lives here)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import typer

app = typer.Typer(
    name="deeprg",
    help="Statistical mechanics of deep neural networks: theory, simulation, reproduction.",
    no_args_is_help=True,
    rich_markup_mode=None,  # help text is plain: no markup or emoji codes (a:b:logN)
    add_completion=True,
    pretty_exceptions_enable=False,
)


def _print_version(value: bool) -> None:
    if value:
        from deeprg import __version__

        typer.echo(f"deeprg {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: bool = typer.Option(
        False,
        "--version",
        help="Print the package version and exit.",
        callback=_print_version,
        is_eager=True,
    ),
) -> None:
    """Statistical mechanics of deep neural networks: theory, simulation, reproduction."""


def _items(name: str, text: str, what: str) -> list[str]:
    """The comma-separated items of ``text``; an empty item (``50,,30``) is an error."""
    from deeprg.errors import InputError

    items = [t.strip() for t in text.split(",")]
    if any(not t for t in items):
        raise InputError(f"{name} must be comma-separated {what} without empty items, got {text!r}")
    return items


def parse_floats(name: str, text: str) -> list[float]:
    """Parse a comma-separated list of floats, naming ``name`` in the error."""
    from deeprg.errors import InputError

    items = _items(name, text, "numbers")
    try:
        return [float(t) for t in items]
    except ValueError:
        raise InputError(f"{name} must be comma-separated numbers, got {text!r}") from None


def parse_ints(name: str, text: str) -> list[int]:
    """Parse a comma-separated list of integers, naming ``name`` in the error."""
    from deeprg.errors import InputError

    vals = parse_floats(name, text)
    if not vals or any(not v.is_integer() for v in vals):
        raise InputError(f"{name} must be comma-separated integers, got {text!r}")
    return [int(v) for v in vals]


def say_stage(text: str) -> None:
    """Print a stage of a long computation on stderr (stdout stays for results and --json)."""
    typer.echo(f"deeprg: {text} ...", err=True)


@contextlib.contextmanager
def stderr_progress(
    label: str, *, threshold_s: float = 5.0
) -> Iterator[Callable[[int, int], None]]:
    """A ``progress(done, total)`` callback for long loops, drawing on stderr only.

    From the time between the first two steps it estimates the remaining time; when that
    exceeds ``threshold_s`` it prints the estimate up front and shows a rich progress bar
    (on stderr, never on stdout). Short computations print nothing.
    """
    import time

    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    state: dict = {"t1": None, "bar": None, "task": None}

    def update(done: int, total: int) -> None:
        now = time.perf_counter()
        if state["bar"] is not None:
            state["bar"].update(state["task"], completed=done)
            return
        if state["t1"] is None:
            state["t1"] = (now, done)
            return
        t1, d1 = state["t1"]
        remaining = (now - t1) / max(done - d1, 1) * (total - done)
        if remaining <= threshold_s:
            return
        console = Console(stderr=True)
        console.print(f"deeprg: {label}: about {remaining:.0f} s to go ({done}/{total} steps done)")
        bar = Progress(
            TextColumn(label),
            BarColumn(),
            TextColumn("{task.completed}/{task.total}"),
            TimeRemainingColumn(),
            console=console,
        )
        bar.start()
        state["bar"], state["task"] = bar, bar.add_task(label, total=total, completed=done)

    try:
        yield update
    finally:
        if state["bar"] is not None:
            state["bar"].stop()
