"""``deeprg bpkr``: BPKR theory for a deep network on a data set (docs/theory/bpkr.md §2–4);
the options are the fields of :class:`deeprg.bpkr.config.BPKRConfig`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from deeprg.bpkr.config import BPKRConfig
from deeprg.cli.app import app
from deeprg.cli.models import model_command


@app.command()
@model_command(BPKRConfig, flags={"T": ("--temperature", "-T")})
def bpkr(
    config: BPKRConfig,
    out: Path | None = typer.Option(None, "--out", help="Write results to this netCDF file."),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object to stdout."),
) -> None:
    """Solve the kernel-renormalization theory and report u_l, U, ε_g = bias² + variance."""
    from deeprg.bpkr.config import bpkr_report
    from deeprg.bpkr.io import report_dataset
    from deeprg.cli.app import stderr_progress
    from deeprg.results import check_writable, to_json, write_dataset

    if out is not None:
        check_writable(out, what="--out")
    # exact mode reports its per-layer steps: an estimate and a progress bar on stderr when long
    with stderr_progress(f"exact mode, L = {len(config.widths)}") as progress:
        rep = bpkr_report(config, progress)
    if out is not None:
        write_dataset(report_dataset(rep), out, config=rep, seed=config.seed)
    if json_out:
        typer.echo(to_json(rep))
        return
    for line in _summary(config.mode, rep):
        typer.echo(line)


def _summary(mode: str, rep: dict[str, Any]) -> list[str]:
    """Two lines: the order parameters with the solver status, then the test observables."""
    status = f"converged = {rep['converged']} ({rep['status']}, residual {rep['residual']:.2g})"
    if "D" in rep:  # multi-output
        diag = "; ".join(", ".join(f"{q[i][i]:.4g}" for i in range(rep["D"])) for q in rep["Q"])
        head = f"{mode}: D = {rep['D']} outputs, Q (D×D per layer) diagonal = {diag}  {status}"
        extra = f"  accuracy = {rep['accuracy']:.4g}"
    else:
        head = (
            f"{mode}: u = {', '.join(f'{v:.5g}' for v in rep['u'])}  U = {rep['U']:.5g}  {status}"
        )
        extra = ""
    tail = (
        f"eps_g = {rep['eps_g']:.5g}  bias2 = {rep['bias2']:.5g}  variance = {rep['variance']:.5g}"
        f"{extra}  train_error = {rep['train_error']:.5g}  log_evidence = {rep['log_evidence']:.6g}"
    )
    return [head, tail]
