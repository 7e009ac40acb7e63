"""``deeprg bpkr``: BPKR theory for a deep linear network on a data set (docs/theory/bpkr.md §2–4)."""

from __future__ import annotations

from pathlib import Path

import typer

from deeprg.cli import _options as o
from deeprg.cli.app import app


@app.command()
def bpkr(
    data: str = o.DATA,
    data_path: Path | None = o.DATA_PATH,
    train: Path | None = o.TRAIN,
    test: Path | None = o.TEST,
    P: int | None = o.P,
    P_test: int | None = o.P_TEST,
    N0: int | None = o.N0,
    seed: int = o.SEED,
    classes: str = o.CLASSES,
    noise: float | None = o.NOISE,
    widths: str = o.WIDTHS,
    sigma2: str = o.SIGMA2,
    temperature: float = o.TEMPERATURE,
    mode: str = typer.Option("saddle", "--mode", help="saddle|exact|gp."),
    activation: str = typer.Option(
        "linear",
        "--activation",
        help="linear|relu|erf|tanh (nonlinear: kernel-renormalization heuristics, saddle/gp).",
    ),
    renormalization: str = typer.Option(
        "layerwise",
        "--renormalization",
        help="layerwise|scalar: one order parameter per layer before the next nonlinearity, "
        "or one scalar on the output NNGP kernel (identical for linear, relu and L = 1).",
    ),
    path: str = typer.Option(
        "auto",
        "--path",
        help="auto|kernel|feature: how the spectrum is computed (auto: feature space "
        "N0×N0 for linear networks with N0 < P, else the P×P kernel).",
    ),
    out: Path | None = o.OUT,
    json_out: bool = o.JSON,
) -> None:
    """Solve the kernel-renormalization theory and report u_l, U, ε_g = bias² + variance."""
    from deeprg.bpkr import MODES, fit
    from deeprg.bpkr.api import ACTIVATIONS, RENORMALIZATIONS, report
    from deeprg.bpkr.base import PATHS
    from deeprg.bpkr.io import report_dataset
    from deeprg.cli.app import stderr_progress
    from deeprg.errors import check_choice
    from deeprg.results import check_writable, to_json, write_dataset

    check_choice("--mode", mode, MODES)
    check_choice("--path", path, PATHS)
    check_choice("--activation", activation, ACTIVATIONS)
    check_choice("--renormalization", renormalization, RENORMALIZATIONS)
    split = _load(data, train, test, P, P_test, N0, seed, classes, noise, data_path)
    w, s2 = o.network(widths, sigma2)
    if out is not None:
        check_writable(out, what="--out")
    # exact mode reports its per-layer steps: an estimate and a progress bar on stderr when long
    with stderr_progress(f"exact mode, L = {len(w)}") as progress:
        f = fit(
            split.X,
            split.y,
            w,
            s2 if len(s2) > 1 else s2[0],
            temperature,
            mode,
            activation=activation,
            renormalization=renormalization,
            path=path,
            progress=progress if mode == "exact" else None,
        )
    rep = report(f, split.X_test, split.y_test)
    rep["data"] = split.info
    if out is not None:
        write_dataset(report_dataset(rep), out, config=rep, seed=seed)
    if json_out:
        typer.echo(to_json(rep))
        return
    if "D" in rep:  # multi-output
        typer.echo(
            f"{mode}: D = {rep['D']} outputs, Q (D×D per layer) diagonal = "
            + "; ".join(", ".join(f"{q[i][i]:.4g}" for i in range(rep["D"])) for q in rep["Q"])
            + f"  converged = {rep['converged']} ({rep['status']}, residual {rep['residual']:.2g})"
        )
        typer.echo(
            f"eps_g = {rep['eps_g']:.5g}  bias2 = {rep['bias2']:.5g}  variance = "
            f"{rep['variance']:.5g}  accuracy = {rep['accuracy']:.4g}  train_error = "
            f"{rep['train_error']:.5g}  log_evidence = {rep['log_evidence']:.6g}"
        )
        return
    typer.echo(
        f"{mode}: u = {', '.join(f'{v:.5g}' for v in rep['u'])}  U = {rep['U']:.5g}  "
        f"converged = {rep['converged']} ({rep['status']}, residual {rep['residual']:.2g})"
    )
    typer.echo(
        f"eps_g = {rep['eps_g']:.5g}  bias2 = {rep['bias2']:.5g}  variance = {rep['variance']:.5g}  "
        f"train_error = {rep['train_error']:.5g}  log_evidence = {rep['log_evidence']:.6g}"
    )


def _load(data, train, test, P, P_test, N0, seed, classes, noise, data_path):
    """The data split; multi-output targets for ``--classes all`` (10-class one-hot MNIST) or
    an ``.npz`` whose y has D > 1 columns."""
    from deeprg.bpkr.multidata import load_npz_multi, mnist_all_classes, npz_targets_2d
    from deeprg.errors import InputError

    if classes.strip() == "all":
        if data != "mnist" or train is not None:
            raise InputError("--classes all applies to --data mnist (10-class one-hot targets)")
        return mnist_all_classes(
            o.P_DEFAULT if P is None else P,
            o.P_TEST_DEFAULT if P_test is None else P_test,
            seed=seed,
            path=data_path,
        )
    if train is not None and test is not None and npz_targets_2d(train):
        return load_npz_multi(train, test, P=P, P_test=P_test)
    return o.load_split(data, train, test, P, P_test, N0, seed, classes, noise, data_path)
