"""``deeprg sweep run|status|collect``: parameter grids, locally or on a cluster."""

from __future__ import annotations

from pathlib import Path

import typer

from deeprg.cli.app import app

sweep_app = typer.Typer(
    help="Parameter sweeps from a TOML spec (resumable, local or Dask).", no_args_is_help=True
)
app.add_typer(sweep_app, name="sweep")


def _spec_for(path: Path):
    """A spec from SPEC.toml, or from the store of a FILE.nc written by a sweep."""
    from deeprg.sweep import load_spec, store_dir, validate_spec

    if path.suffix == ".toml":
        return load_spec(path), None
    sj = store_dir(path) / "spec.json"
    if not sj.exists():
        raise FileNotFoundError(
            f"file not found: {sj} (give the sweep's output .nc or its .toml spec)"
        )
    import json

    return validate_spec(json.loads(sj.read_text())), path


@sweep_app.command("run")
def run(
    spec: Path = typer.Argument(..., help="Sweep spec (TOML)."),
    out: Path | None = typer.Option(None, "--out", help="Output netCDF (default: SPEC with .nc)."),
    workers: int = typer.Option(2, "--workers", help="Local worker processes."),
    scheduler: str | None = typer.Option(
        None, "--scheduler", help="Existing Dask scheduler, tcp://host:port."
    ),
    cluster: str | None = typer.Option(
        None, "--cluster", help="slurm|pbs via dask-jobqueue (resources from the spec)."
    ),
    dask: bool = typer.Option(
        False, "--dask", help="Use a Dask LocalCluster with WORKERS workers."
    ),
    retry_failed: bool = typer.Option(
        False, "--retry-failed", help="Rerun points that failed before."
    ),
    recompute_stale: bool = typer.Option(
        False,
        "--recompute-stale",
        help="Recompute points written by another deeprg version (kept, marked stale, otherwise).",
    ),
) -> None:
    """Run every unfinished point; finished points are skipped, so a rerun resumes."""
    from deeprg.errors import check_int
    from deeprg.results import check_writable
    from deeprg.sweep import load_spec, run_sweep
    from deeprg.sweep.runner import WorkerDied

    check_int("--workers", workers)
    sp = load_spec(spec)
    out = out or spec.with_suffix(".nc")
    check_writable(out, what="--out")
    try:
        st = run_sweep(
            sp,
            out,
            kind="dask" if dask else "local",
            workers=workers,
            scheduler=scheduler,
            cluster=cluster,
            retry_failed=retry_failed,
            recompute_stale=recompute_stale,
        )
    except WorkerDied as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"{st.line()} -> {out}")
    if st.failed:
        typer.echo(f"failures are recorded in {out!s}.d/failed/ (rerun with --retry-failed)")
    if st.stale:
        typer.echo(
            f"{st.stale} points were written by another deeprg version (stale): "
            "rerun with --recompute-stale"
        )


def _out_opt():
    return typer.Option(None, "--out", help="Output netCDF when PATH is a .toml spec.")


@sweep_app.command("status")
def status_cmd(
    path: Path = typer.Argument(..., help="The sweep's output .nc, or its spec .toml."),
    out: Path | None = _out_opt(),
) -> None:
    """Points done, failed and missing."""
    from deeprg.sweep import status

    sp, found = _spec_for(path)
    out = found or out or path.with_suffix(".nc")
    st = status(sp, out)
    typer.echo(st.line())


@sweep_app.command("collect")
def collect_cmd(
    path: Path = typer.Argument(..., help="The sweep's output .nc, or its spec .toml."),
    out: Path | None = _out_opt(),
) -> None:
    """Combine finished points into the netCDF file (also works on a partial sweep)."""
    from deeprg.results import check_writable
    from deeprg.sweep import collect

    sp, found = _spec_for(path)
    out = found or out or path.with_suffix(".nc")
    check_writable(out, what="--out")
    ds = collect(sp, out)
    typer.echo(f"wrote {out}: dims {dict(ds.sizes)}, {int((ds['status'] == 1).sum())} points")


@sweep_app.command("list")
def list_cmd() -> None:
    """Registered point experiments and their parameters (type, default, allowed values)."""
    from deeprg.sweep import experiments
    from deeprg.sweep.registry import REQUIRED

    for name, exp in experiments().items():
        typer.echo(f"{name}: {exp.description}")
        for k, p in exp.params.items():
            d = "required" if p.default is REQUIRED else f"default {p.default!r}"
            if p.rule is None:
                rule = ""
            elif isinstance(p.rule, str):
                rule = f", {p.rule}"
            else:
                rule = f", one of {'|'.join(map(str, p.rule))}"
            sym = {"ge": ">=", "gt": ">", "le": "<=", "lt": "<"}
            rule += "".join(f", {sym[key]}{b:g}" for key, b in p.bounds)
            typer.echo(f"    {k} ({p.type.__name__}, {d}{rule})")
