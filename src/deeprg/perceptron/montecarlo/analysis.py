"""Overlap distributions and the ultrametricity test (docs/theory/perceptron.md §5.2).

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


def matched_overlaps(
    S_a: np.ndarray,
    J_a: np.ndarray,
    S_b: np.ndarray,
    J_b: np.ndarray,
    w: np.ndarray,
    permute: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Gauge- and permutation-invariant overlaps between two networks on the same data
    (e.g. student and teacher, or independently started replicas), §2.4 and §5.3.

    For every hidden layer the units of b are matched to those of a (a permutation π_l and
    signs σ_l: linear assignment on |O_ij|, O_ij = (1/M) Σ_μ S^a_iμ S^b_jμ); the clamped layers
    keep the identity; ``permute=False`` (sparse graphs, where the wiring fixes each unit's
    identity) matches signs only. Ties of |O_ij| (it takes the values k/M) are broken by the
    cosine of the incoming weight rows along the matching of the layer below, so the result
    does not depend on the order of the units. Returns (q(l), l = 0..L: mean_i σ_i O_{i,π(i)}; Q(l), l = 1..L: mean over
    rows of the normalized overlap of J^a_i with the matched, sign-corrected row of J^b).
    Matching maximizes the overlaps, so unrelated networks give a positive floor of order
    √(ln N / M): :func:`~deeprg.perceptron.montecarlo.simulate_sample` records that floor
    (teacher against the random initial student) next to the matched overlaps."""
    from scipy.optimize import linear_sum_assignment

    L = J_a.shape[0]
    M = S_a.shape[1]
    perms: list[np.ndarray] = []
    signs: list[np.ndarray] = []
    q = np.empty(L + 1)
    for l in range(L + 1):
        n = int(w[l])
        O = S_a[l, :, :n].astype(np.float64).T @ S_b[l, :, :n] / M
        if l in (0, L):
            perms.append(np.arange(n))
            signs.append(np.ones(n))
            q[l] = np.mean(np.diag(O))
            continue
        # incoming weight rows compared along the matching of layer l − 1 (tie-breaker)
        A = J_a[l - 1, :n, : w[l - 1]]
        B = J_b[l - 1, :n, : w[l - 1]][:, perms[l - 1]] * signs[l - 1][None, :]
        C = (A / np.linalg.norm(A, axis=1, keepdims=True)) @ (
            B / np.linalg.norm(B, axis=1, keepdims=True)
        ).T
        if permute:
            # lexicographic: |O| first; its ties (O takes the values k/M) are broken by C. The
            # secondary term sums to < 1/(4M) over any assignment, below the smallest step of |O|.
            pi = linear_sum_assignment(-(np.abs(O) + np.abs(C) / (4 * M * n)))[1]
        else:
            pi = np.arange(n)
        o, c = O[np.arange(n), pi], C[np.arange(n), pi]
        # the sign of the spin overlap; where it is 0, the sign of the weight cosine
        sg = np.where(o != 0, np.sign(o), np.where(c >= 0, 1.0, -1.0))
        perms.append(pi)
        signs.append(sg)
        q[l] = np.mean(sg * O[np.arange(n), pi])
    Q = np.empty(L)
    for l in range(1, L + 1):
        A = J_a[l - 1, : w[l], : w[l - 1]]
        B = J_b[l - 1, : w[l], : w[l - 1]][perms[l]][:, perms[l - 1]]
        Q[l - 1] = row_cosine(A, B * signs[l][:, None] * signs[l - 1][None, :])
    return q, Q


def row_cosine(A: np.ndarray, B: np.ndarray) -> float:
    """Weight overlap of two layers normalized by the actual row norms (§5.2): the mean over
    rows i of J^a_i · J^b_i / (|J^a_i| |J^b_i|)."""
    return float(np.mean(np.sum(A * B, 1) / np.sqrt(np.sum(A**2, 1) * np.sum(B**2, 1))))


def classify_layers(q, cutoff: float = 0.02) -> list[str]:
    """Liquid/solid classification of layers (§5.2): ``"solid"`` where the long-time overlap
    exceeds ``cutoff`` (the 2025 code's QS_cutoff = QJ_cutoff = 0.02), else ``"liquid"``."""
    return ["solid" if v > cutoff else "liquid" for v in np.asarray(q, dtype=float)]
