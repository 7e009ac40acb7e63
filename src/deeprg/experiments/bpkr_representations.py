"""BPKR reproduction R5 (docs/theory/bpkr.md §4): mean layer kernels ⟨K_l⟩ on two-class MNIST
from the exact finite-width theory, the GP limit and blocked-Gibbs samples, with the
kernel–target alignment growing towards the output. The figure is drawn from the saved
Dataset."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from deeprg.experiments.registry import ReproductionResult, register
from deeprg.plotting import register_plot, save_figure, subplots
from deeprg.schema import annotate, var

_K = "mean layer kernel <K_l>(z, z') on the test inputs sorted by label"
_ATTRS = {
    "K_theory": var("theory layer kernel", _K + "; exact finite-width theory"),
    "K_samples": var("sampled layer kernel", _K + "; blocked Gibbs"),
    "K_gp": var("GP-limit layer kernel", _K + "; N -> inf"),
    "alignment_theory": var("kernel-target alignment (theory)", "y^T K y / (|K|_F |y|^2)"),
    "alignment_samples": var("kernel-target alignment (Gibbs)", "y^T K y / (|K|_F |y|^2)"),
    "alignment_gp": var("kernel-target alignment (GP)", "y^T K y / (|K|_F |y|^2)"),
    "rel_frobenius_error": var("relative Frobenius error, theory", "|K_th - K_mc|_F / |K_mc|_F"),
    "rel_frobenius_error_gp": var("relative Frobenius error, GP", "|K_gp - K_mc|_F / |K_mc|_F"),
    "label": var("test label", "+1 / -1 (digit 0 / 1), sorted"),
    "layer": var("layer", "l = 0 the input kernel, l = 1..L hidden layers"),
}


def _rel(K, ref):
    return np.linalg.norm(K - ref, axis=(1, 2)) / np.linalg.norm(ref, axis=(1, 2))


@register(
    "bpkr-representations",
    "BPKR R5: mean layer kernels on two-class MNIST, theory vs Gibbs samples",
)
def run_representations(size: str, seed: int, out_dir: Path) -> ReproductionResult:
    import xarray as xr

    from deeprg.bpkr import fit
    from deeprg.bpkr.predict import alignment
    from deeprg.data import make_dataset
    from deeprg.sampling import sample_posterior

    P, L, N, T, chains, steps = {
        "tiny": (20, 2, 10, 0.05, 4, 40),
        "quick": (100, 3, 40, 0.05, 16, 600),
        "full": (300, 4, 100, 0.05, 32, 4000),
    }[size]
    split = make_dataset("mnist", P=P, P_test=40, seed=seed, classes=(0, 1))
    order = np.argsort(-split.y_test)
    Z, yz = split.X_test[order], split.y_test[order]
    K_th = fit(split.X, split.y, [N] * L, 1.0, T, mode="exact").layer_kernels(Z)
    res = sample_posterior(
        split, [N] * L, 1.0, T, chains=chains, steps=steps, thin=2, seed=seed, Z=Z, progress=False
    )
    K_mc = res.layer_kernels
    assert K_mc is not None  # Z was given
    gp = fit(split.X, split.y, [N] * L, 1.0, T, mode="gp").layer_kernels(Z)
    rel, rel_gp = _rel(K_th, K_mc), _rel(gp, K_mc)
    ds = xr.Dataset(
        {
            "K_theory": (("layer", "i", "j"), K_th),
            "K_samples": (("layer", "i", "j"), K_mc),
            "K_gp": (("layer", "i", "j"), gp),
            "alignment_theory": ("layer", alignment(K_th, yz)),
            "alignment_samples": ("layer", alignment(K_mc, yz)),
            "alignment_gp": ("layer", alignment(gp, yz)),
            "rel_frobenius_error": ("layer", rel),
            "rel_frobenius_error_gp": ("layer", rel_gp),
            "label": ("i", yz),
        },
        coords={"layer": np.arange(L + 1)},
    )
    ds = annotate(ds, _ATTRS)
    ds.attrs.update(P=P, N=N, T=T)
    msg = (
        f"relative Frobenius error of <K_l> (l=1..{L}) theory vs Gibbs: {', '.join(f'{v:.3f}' for v in rel[1:])}; "
        f"GP limit: {', '.join(f'{v:.3f}' for v in rel_gp[1:])}; alignment grows with depth: "
        f"{', '.join(f'{v:.3f}' for v in ds['alignment_theory'].values)}"
    )
    config = {"size": size, "P": P, "L": L, "N": N, "T": T, "chains": chains, "steps": steps}
    return ReproductionResult(ds, [], msg, config)


@register_plot("bpkr-representations")
def plot_representations(ds: Any, path: Path) -> Path:
    """Kernel images per layer (theory row, Gibbs row), alignment and errors against layer."""
    L = ds.sizes["layer"] - 1
    fig, axes = subplots(2, L + 2, figsize=(3 * (L + 2), 6))
    for l in range(L + 1):
        for r, (key, name) in enumerate((("K_theory", "theory"), ("K_samples", "Gibbs"))):
            axes[r, l].imshow(ds[key].values[l], cmap="viridis")
            axes[r, l].set_title(f"⟨K_{l}⟩ {name}", fontsize=8)
            axes[r, l].axis("off")
    ax = axes[0, L + 1]
    ax.plot(ds["layer"], ds["alignment_theory"], "k-o", label="theory (exact)")
    ax.plot(ds["layer"], ds["alignment_samples"], "C3s", label="Gibbs")
    ax.plot(ds["layer"], ds["alignment_gp"], "C0:", label="GP")
    ax.set_xlabel("layer")
    ax.set_title("kernel–target alignment", fontsize=8)
    ax.legend(fontsize=7)
    ax = axes[1, L + 1]
    ax.plot(ds["layer"][1:], ds["rel_frobenius_error"][1:], "k-o", label="theory")
    ax.plot(ds["layer"][1:], ds["rel_frobenius_error_gp"][1:], "C0:o", label="GP")
    ax.set_title("rel. Frobenius error vs Gibbs", fontsize=8)
    ax.legend(fontsize=7)
    fig.suptitle(
        f"MNIST 0 vs 1, P={ds.attrs['P']}, L={L}, N={ds.attrs['N']}, T={ds.attrs['T']}: "
        "test inputs sorted by label",
        fontsize=10,
    )
    fig.tight_layout()
    return save_figure(fig, path)
