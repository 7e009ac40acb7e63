"""Fused Numba kernels for the erf NNGP map on symmetric Gram matrices.

The layer-wise solver (deeprg.bpkr.layerwise, docs/theory/nonlinear-renormalization.md §2.4)
needs, on P×P symmetric matrices, the map

    g(k, v1, v2) = (2/π) arcsin z,   z = 2k/√(a b),   a = 1 + 2 v1,   b = 1 + 2 v2,

its first directional derivative (JVP), its adjoint (VJP) and the contraction of its second
derivative with an adjoint (for an exact Hessian of the action). Entry (i, j) depends on K_ij
and on the variances K_ii, K_jj; for a direction U with r_U = U_ii/a + U_jj/b:

    z_U  = 2U_ij/√(ab) − z r_U,
    z_UV = −(2U_ij/√(ab)) r_V − z_V r_U + 2z (U_ii V_ii/a² + U_jj V_jj/b²),
    g_U  = (2/π) z_U/√(1 − z²),   g_UV = (2/π)[z_UV + z z_U z_V/(1 − z²)]/√(1 − z²).

Every kernel reads only the lower triangle (and diagonal) of its symmetric inputs, evaluates
each pair once and writes full symmetric outputs. One transcendental per pair (arcsin for the
map, a square root for the derivatives); z is clipped to [−1, 1] and 1 − z² floored at 1e-300
like :func:`deeprg.kernels.grad.pair_partials`.
"""

from __future__ import annotations

import numpy as np
from numba import njit

_C = 2.0 / np.pi


@njit(cache=True)
def _scales(K: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    P = K.shape[0]
    s = np.empty(P)
    ia = np.empty(P)
    for i in range(P):
        a = 1.0 + 2.0 * K[i, i]
        s[i] = 1.0 / np.sqrt(a)
        ia[i] = 1.0 / a
    return s, ia


@njit(cache=True)
def _mirror(out: np.ndarray) -> None:
    P = out.shape[0]
    for i in range(P):
        for j in range(i + 1, P):
            out[i, j] = out[j, i]


@njit(cache=True)
def erf_gram(K: np.ndarray, out: np.ndarray) -> np.ndarray:
    """out = k_erf(K) (no σ² factor), K symmetric (lower triangle read)."""
    P = K.shape[0]
    s, _ = _scales(K)
    for i in range(P):
        si = 2.0 * s[i]
        for j in range(i + 1):
            z = K[i, j] * si * s[j]
            z = min(1.0, max(-1.0, z))
            out[i, j] = _C * np.arcsin(z)
    _mirror(out)
    return out


@njit(cache=True)
def erf_jvp(K: np.ndarray, U: np.ndarray, out: np.ndarray) -> np.ndarray:
    """out = J(K)[U], the derivative of k_erf at K in the symmetric direction U."""
    P = K.shape[0]
    s, ia = _scales(K)
    for i in range(P):
        ui = U[i, i] * ia[i]
        for j in range(i + 1):
            sij = 2.0 * s[i] * s[j]
            z = min(1.0, max(-1.0, K[i, j] * sij))
            gp = _C / np.sqrt(max(1.0 - z * z, 1e-300))
            out[i, j] = gp * (U[i, j] * sij - z * (ui + U[j, j] * ia[j]))
    _mirror(out)
    return out


@njit(cache=True)
def erf_vjp(K: np.ndarray, B: np.ndarray, out: np.ndarray) -> np.ndarray:
    """out = J(K)ᵀ B for a symmetric adjoint B (symmetric result; cf. grad.gram_map_vjp)."""
    P = K.shape[0]
    s, ia = _scales(K)
    dg = np.zeros(P)
    for i in range(P):
        for j in range(i + 1):
            sij = 2.0 * s[i] * s[j]
            z = min(1.0, max(-1.0, K[i, j] * sij))
            t = B[i, j] * _C / np.sqrt(max(1.0 - z * z, 1e-300))
            out[i, j] = t * sij
            t *= 2.0 * z
            dg[i] -= t * ia[i]
            if j != i:
                dg[j] -= t * ia[j]
    for i in range(P):
        out[i, i] += dg[i]
    _mirror(out)
    return out


@njit(cache=True)
def erf_hess(K: np.ndarray, B: np.ndarray, U: np.ndarray, V: np.ndarray) -> float:
    """Σ_ij B_ij ∂²k_erf(K)_ij[U, V] for symmetric B, U, V."""
    P = K.shape[0]
    s, ia = _scales(K)
    tot = 0.0
    for i in range(P):
        ui = U[i, i] * ia[i]
        vi = V[i, i] * ia[i]
        row = 0.0
        for j in range(i + 1):
            sij = 2.0 * s[i] * s[j]
            z = min(1.0, max(-1.0, K[i, j] * sij))
            w = max(1.0 - z * z, 1e-300)
            uj = U[j, j] * ia[j]
            vj = V[j, j] * ia[j]
            rU = ui + uj
            rV = vi + vj
            zU = U[i, j] * sij - z * rU
            zV = V[i, j] * sij - z * rV
            zUV = -U[i, j] * sij * rV - zV * rU + 2.0 * z * (ui * vi + uj * vj)
            h = B[i, j] * (zUV + z * zU * zV / w) / np.sqrt(w)
            row += h if j == i else 2.0 * h
        tot += row
    return _C * tot


@njit(cache=True)
def inner_lower(A: np.ndarray, B: np.ndarray) -> float:
    """Σ_ij A_ij B_ij for symmetric A, B from their lower triangles."""
    P = A.shape[0]
    tot = 0.0
    for i in range(P):
        row = 0.0
        for j in range(i):
            row += A[i, j] * B[i, j]
        tot += 2.0 * row + A[i, i] * B[i, i]
    return tot


@njit(cache=True)
def fill_upper(M: np.ndarray) -> None:
    """Copy the strict lower triangle onto the upper one (in place)."""
    _mirror(M)


@njit(cache=True)
def half_adjoint(Ai: np.ndarray, alpha: np.ndarray, out: np.ndarray) -> np.ndarray:
    """out = ½(A⁻¹ − ααᵀ), the derivative of ½yᵀA⁻¹y + ½ log det A with respect to A."""
    P = Ai.shape[0]
    for i in range(P):
        ai = alpha[i]
        for j in range(P):
            out[i, j] = 0.5 * (Ai[i, j] - ai * alpha[j])
    return out


@njit(cache=True)
def erf_hess_all(K: np.ndarray, B: np.ndarray, dirs: np.ndarray) -> np.ndarray:
    """H[a, b] = Σ_ij B_ij ∂²k_erf(K)_ij[dirs[a], dirs[b]] for all pairs of symmetric
    directions at once (one pass; cf. :func:`erf_hess`)."""
    m = dirs.shape[0]
    P = K.shape[0]
    s, ia = _scales(K)
    H = np.zeros((m, m))
    r = np.empty(m)
    zd = np.empty(m)
    di = np.empty(m)
    dj = np.empty(m)
    for i in range(P):
        for j in range(i + 1):
            sij = 2.0 * s[i] * s[j]
            z = min(1.0, max(-1.0, K[i, j] * sij))
            w = max(1.0 - z * z, 1e-300)
            f = (B[i, j] if j == i else 2.0 * B[i, j]) / np.sqrt(w)
            for a in range(m):
                di[a] = dirs[a, i, i] * ia[i]
                dj[a] = dirs[a, j, j] * ia[j]
                r[a] = di[a] + dj[a]
                zd[a] = dirs[a, i, j] * sij - z * r[a]
            for a in range(m):
                ua = dirs[a, i, j] * sij
                for b in range(a + 1):
                    zab = -ua * r[b] - zd[b] * r[a] + 2.0 * z * (di[a] * di[b] + dj[a] * dj[b])
                    H[a, b] += f * (zab + z * zd[a] * zd[b] / w)
    for a in range(m):
        for b in range(a + 1):
            H[a, b] *= _C
            H[b, a] = H[a, b]
    return H


@njit(cache=True)
def erf_hess2(K: np.ndarray, B: np.ndarray, U: np.ndarray, V: np.ndarray) -> np.ndarray:
    """:func:`erf_hess_all` for two directions (unrolled): [[UU, UV], [UV, VV]]."""
    P = K.shape[0]
    s, ia = _scales(K)
    huu = 0.0
    huv = 0.0
    hvv = 0.0
    for i in range(P):
        ui = U[i, i] * ia[i]
        vi = V[i, i] * ia[i]
        for j in range(i + 1):
            sij = 2.0 * s[i] * s[j]
            z = min(1.0, max(-1.0, K[i, j] * sij))
            w = max(1.0 - z * z, 1e-300)
            f = (B[i, j] if j == i else 2.0 * B[i, j]) / np.sqrt(w)
            uj = U[j, j] * ia[j]
            vj = V[j, j] * ia[j]
            rU = ui + uj
            rV = vi + vj
            pu = U[i, j] * sij
            pv = V[i, j] * sij
            zU = pu - z * rU
            zV = pv - z * rV
            zw = z / w
            huu += f * (-(pu + zU) * rU + 2.0 * z * (ui * ui + uj * uj) + zw * zU * zU)
            huv += f * (-pu * rV - zV * rU + 2.0 * z * (ui * vi + uj * vj) + zw * zU * zV)
            hvv += f * (-(pv + zV) * rV + 2.0 * z * (vi * vi + vj * vj) + zw * zV * zV)
    out = np.empty((2, 2))
    out[0, 0] = _C * huu
    out[0, 1] = out[1, 0] = _C * huv
    out[1, 1] = _C * hvv
    return out
