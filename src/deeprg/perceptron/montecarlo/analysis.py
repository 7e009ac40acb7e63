"""Overlap distributions and the ultrametricity test (deep-perceptron-networks.md §5.2).

Both read the pair overlaps ``q_pairs`` / ``Q_pairs`` that :func:`run_mc` records between all
clones of a sample (``MCConfig.clones`` ≥ 2; ≥ 3 for triangles).

Ultrametricity: for three replicas a, b, c of one sample and one layer, sort the overlaps
(q_ab, q_bc, q_ca) as q_min ≤ q_mid ≤ q_max. In an ultrametric space the two smallest are
equal (every triangle is isosceles with a short base), so the statistic
    Δ = ⟨q_mid − q_min⟩
vanishes. It is compared with the same statistic for "null" triangles whose three sides are
taken from three *different* samples (correlations between the sides destroyed, marginals
kept): a layer is ultrametric when Δ ≪ Δ_null. ``K = ⟨(q_mid − q_min)/(q_max − q_min)⟩`` is the
scale-free version (0 ultrametric; ≈ ½ for three independent uniform sides).
"""

from __future__ import annotations

from itertools import combinations

import numpy as np

from deeprg.errors import InputError


def _pair_index(pairs: list[str]) -> dict[tuple[int, int], int]:
    out = {}
    for p, name in enumerate(pairs):
        a, b = (int(v) for v in str(name).split("-"))
        out[(a, b)] = p
    return out


def triangles(pair_values: np.ndarray, pairs: list[str]) -> np.ndarray:
    """(..., pair, layer) overlaps → (..., triangle, 3, layer): the three sides of every
    triple of clones."""
    idx = _pair_index(pairs)
    n = max(b for _, b in idx) + 1
    tri = [[idx[(a, b)], idx[(b, c)], idx[(a, c)]] for a, b, c in combinations(range(n), 3)]
    if not tri:
        raise InputError("the ultrametricity test needs clones >= 3 (three replicas per sample)")
    return np.stack([pair_values[..., t, :] for t in tri], axis=-3)


def ultrametric_statistics(sides: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(Δ, K) per layer from triangles of shape (n, 3, layer)."""
    s = np.sort(sides, axis=-2)
    gap = s[..., 1, :] - s[..., 0, :]
    span = s[..., 2, :] - s[..., 0, :]
    K = np.where(span > 0, gap / np.where(span > 0, span, 1.0), 0.0)
    return gap.mean(axis=0), K.mean(axis=0)


def ultrametricity(ds, var: str = "q_pairs", time: int = -1, seed: int = 0):
    """Ultrametricity test per layer at one measurement time. Returns an xarray Dataset with
    ``delta`` and ``K`` (triangles within samples), ``delta_null`` and ``K_null`` (sides from
    three different samples, as many triangles), ``n_triangles``."""
    import xarray as xr

    da = ds[var].isel(time=time)
    layer_dim = da.dims[-1]
    sides = triangles(da.values, list(ds["pair"].values))  # (sample, tri, 3, layer)
    S, T = sides.shape[:2]
    flat = sides.reshape(S * T, 3, -1)
    delta, K = ultrametric_statistics(flat)
    if S < 3:
        raise InputError(f"the null triangles need samples >= 3, got {S}")
    rng = np.random.default_rng(seed)
    n = flat.shape[0]
    # null triangle (s, t): side j from sample (s + j) mod S, a random triangle of that sample
    s_idx = np.arange(S)[:, None]
    null = np.stack(
        [sides[(s_idx + j) % S, rng.integers(T, size=(S, T)), j, :] for j in range(3)], axis=2
    ).reshape(S * T, 3, -1)
    d0, K0 = ultrametric_statistics(null)
    coords = {layer_dim: ds[layer_dim].values}
    return xr.Dataset(
        {
            "delta": (layer_dim, delta),
            "K": (layer_dim, K),
            "delta_null": (layer_dim, d0),
            "K_null": (layer_dim, K0),
            "n_triangles": ((), n),
        },
        coords=coords,
    )


def overlap_histogram(ds, var: str = "q_pairs", time: int = -1, bins: int = 41):
    """P_l(q): normalized histogram over samples and clone pairs of one overlap variable at one
    time, per layer, on [−1, 1]. Returns an xarray DataArray (layer, q)."""
    import xarray as xr

    da = ds[var].isel(time=time)
    layer_dim = da.dims[-1]
    edges = np.linspace(-1.0, 1.0, bins + 1)
    vals = da.values.reshape(-1, da.shape[-1])
    dens = np.stack(
        [np.histogram(vals[:, l], bins=edges, density=True)[0] for l in range(vals.shape[1])]
    )
    centres = 0.5 * (edges[1:] + edges[:-1])
    return xr.DataArray(
        dens,
        dims=(layer_dim, "q"),
        coords={layer_dim: ds[layer_dim].values, "q": centres},
        name=f"P({var})",
    )
