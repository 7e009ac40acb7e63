"""Multi-output kernel renormalization: a D×D order parameter (docs/theory/nonlinear-renormalization.md §3).

Targets Y (P×D). The renormalized prior of the training outputs is vec(f) ~ N(0, M ⊗ K) with K
the base kernel (K_0 = σ_1² XXᵀ/N0 for deep linear networks, k_φ(K_0) scaled for one hidden
layer of any activation) and M a symmetric positive D×D matrix. The action is

    Φ(M) = s(M) + ½ vec(Y)ᵀA⁻¹vec(Y) + ½ log det A,   A = M ⊗ K + T I,

with s a spectral function, s(M) = Σ_k s(m_k) over the eigenvalues of M, where
s(m) = min_{Π_l u_l = m} Σ_l (N_l/2)(u_l/σ_{l+1}² − log u_l) (for L = 1, s(m) = (N/2)(m/σ_2² −
log m)). At the minimum the layer matrices commute with M: U_l = σ_{l+1}²(I + G/N_l), with G
the D×D matrix whose eigenvalues g_k solve Π_l σ_{l+1}²(1 + g_k/N_l) = m_k.

Kronecker structure: with K = V diag(λ) Vᵀ (decomposed once) and M = O diag(m) Oᵀ, A is
diagonal in the joint eigenbasis with entries λ_i m_k + T, so an evaluation of Φ and of its
gradient costs O(P D² + D³) after the single O(P³) decomposition (never O((DP)³)). Φ is
minimized over Z = log M (symmetric) by a trust-region Newton method with the analytic
gradient (Daleckii–Krein formula for the matrix exponential) and a Hessian from finite
differences of that gradient.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import optimize

from deeprg.bpkr.base import Architecture, BaseKernel, fit_summary
from deeprg.errors import InputError


def base_projections(kern: BaseKernel, Y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(Ỹ = Vᵀ Y of shape (r, D), ‖Y_⊥‖² per column) for a decomposed base kernel."""
    if kern.path == "feature":
        Yt = (kern.basis.T @ (kern.X.T @ Y)) / kern.evals[:, None]
    else:
        Yt = kern.basis.T @ Y
    null2 = np.maximum(np.einsum("pd,pd->d", Y, Y) - np.einsum("rd,rd->d", Yt, Yt), 0.0)
    if kern.n_null == 0:
        null2 = np.zeros_like(null2)
    return Yt, null2


def g_of_m(m: np.ndarray, widths: np.ndarray, s2next: np.ndarray) -> np.ndarray:
    """g with Π_l σ_{l+1}²(1 + g/N_l) = m, for each m (vectorized; finite widths)."""
    m = np.asarray(m, float)
    c = np.log(m) - np.sum(np.log(s2next))
    L = widths.size
    if L == 1:
        return widths[0] * np.expm1(c)
    nmin, nmax = float(widths.min()), float(widths.max())
    ghat = nmax * np.expm1(c / L)
    lo = np.where(ghat < 0, np.maximum(ghat, -nmin * (1 - 1e-15)), 0.0)
    hi = np.where(ghat < 0, 0.0, ghat)
    lo = np.minimum(lo, hi)

    def h(g: np.ndarray) -> np.ndarray:
        return np.sum(np.log1p(g[:, None] / widths[None, :]), 1) - c

    for _ in range(200):
        mid = 0.5 * (lo + hi)
        pos = h(mid) > 0
        hi = np.where(pos, mid, hi)
        lo = np.where(pos, lo, mid)
        if np.all(hi - lo <= 1e-15 * np.maximum(1.0, np.abs(mid))):
            break
    g = 0.5 * (lo + hi)
    for _ in range(3):  # Newton polish
        dh = np.sum(1.0 / (widths[None, :] + g[:, None]), 1)
        g = g - h(g) / dh
    return g


def prior_spectral(
    m: np.ndarray, widths: np.ndarray, s2next: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(s(m), g(m)) per eigenvalue m (finite widths); ds/dm = g/(2m)."""
    g = g_of_m(m, widths, s2next)
    u = s2next[None, :] * (1.0 + g[:, None] / widths[None, :])
    s = np.sum(0.5 * widths[None, :] * (u / s2next[None, :] - np.log(u)), 1)
    return s, g


@dataclass(frozen=True)
class MultiProblem:
    lam: np.ndarray  # (r,) eigenvalues of K_0-scaled base (σ_1² μ)
    Yt: np.ndarray  # (r, D)
    null2: np.ndarray  # (D,)
    n_null: int
    widths: np.ndarray  # (L,) finite
    s2next: np.ndarray  # (L,)
    T: float

    @property
    def D(self) -> int:
        return int(self.Yt.shape[1])

    def parts(self, Z: np.ndarray) -> dict[str, Any]:
        z, O = np.linalg.eigh(0.5 * (Z + Z.T))
        m = np.exp(z)
        Yh = self.Yt @ O
        x = self.lam[:, None] * m[None, :] + self.T
        inv = 1.0 / x
        s, g = prior_spectral(m, self.widths, self.s2next)
        E = 0.5 * float(np.sum(Yh * Yh * inv)) + 0.5 * float(np.sum(np.log(x)))
        return {"z": z, "O": O, "m": m, "Yh": Yh, "inv": inv, "s": s, "g": g, "E": E}

    def value_grad(self, Z: np.ndarray) -> tuple[float, np.ndarray, dict[str, Any]]:
        p = self.parts(Z)
        z, O, m, Yh, inv = p["z"], p["O"], p["m"], p["Yh"], p["inv"]
        Yw = Yh * inv
        dM = 0.5 * np.diag(self.lam @ inv) - 0.5 * (Yw.T * self.lam) @ Yw
        dM[np.diag_indices_from(dM)] += p["g"] / (2.0 * m)
        dz = z[:, None] - z[None, :]
        with np.errstate(invalid="ignore", divide="ignore"):
            gam = np.where(
                np.abs(dz) > 1e-12,
                m[None, :] * np.expm1(dz) / np.where(dz == 0, 1.0, dz),
                0.5 * (m[:, None] + m[None, :]),
            )
        gZ = O @ (dM * gam) @ O.T
        return float(np.sum(p["s"])) + p["E"], 0.5 * (gZ + gZ.T), p


def _pack(Z: np.ndarray) -> np.ndarray:
    iu = np.triu_indices(Z.shape[0], 1)
    return np.concatenate([np.diag(Z), np.sqrt(2.0) * Z[iu]])


def _unpack(v: np.ndarray, D: int) -> np.ndarray:
    Z = np.diag(v[:D])
    iu = np.triu_indices(D, 1)
    Z[iu] = v[D:] / np.sqrt(2.0)
    Z[(iu[1], iu[0])] = v[D:] / np.sqrt(2.0)
    return Z


def solve_multi(prob: MultiProblem, Z0: np.ndarray, *, gtol: float = 1e-10) -> dict[str, Any]:
    """Minimize Φ over Z = log M; returns M, the layer matrices' spectra and diagnostics."""
    D = prob.D
    scale = 0.5 * float(np.max(prob.widths))
    n_eval = [0]

    def fun(v: np.ndarray) -> tuple[float, np.ndarray]:
        n_eval[0] += 1
        f, gZ, _ = prob.value_grad(_unpack(v, D))
        return f / scale, _pack(gZ) / scale

    def hess(v: np.ndarray) -> np.ndarray:
        n = v.size
        H = np.empty((n, n))
        h = 1e-6
        for i in range(n):
            e = np.zeros(n)
            e[i] = h
            H[:, i] = (fun(v + e)[1] - fun(v - e)[1]) / (2 * h)
        return 0.5 * (H + H.T)

    res = optimize.minimize(
        fun,
        _pack(Z0),
        jac=True,
        hess=hess,
        method="trust-exact",
        options={"gtol": gtol, "maxiter": 200},
    )
    Z = _unpack(res.x, D)
    f, gZ, p = prob.value_grad(Z)
    gmax = float(np.max(np.abs(gZ))) / scale
    return {
        "Z": Z,
        "M": (p["O"] * p["m"]) @ p["O"].T,
        "O": p["O"],
        "m": p["m"],
        "g": p["g"],
        "phi": f,
        "parts": p,
        "residual": gmax,
        "converged": bool(gmax < 1e3 * gtol and np.all(np.isfinite(p["m"]))),
        "iterations": int(res.nit),
        "evaluations": n_eval[0],
    }


@dataclass(frozen=True)
class BPKRMultiFit:
    """A solved multi-output theory (targets with D >= 2 columns).

    ``M`` multiplies K_0-scaled base kernel (vec f ~ N(0, M ⊗ K)); ``Q[l]`` = U_l/σ_{l+1}²
    are the layer order parameters (deepbays' Q for one hidden layer is ``Q[0]``).
    """

    mode: str
    kernel: BaseKernel = field(repr=False)
    arch: Architecture
    Y: np.ndarray = field(repr=False)
    Yt: np.ndarray = field(repr=False)
    null2: np.ndarray = field(repr=False)
    M: np.ndarray
    O: np.ndarray
    m: np.ndarray
    Q: list
    action: float
    log_evidence: float
    converged: bool
    residual: float
    iterations: int
    activation: str = "linear"
    renormalization: str = "layerwise"
    diagnostics: dict[str, Any] = field(default_factory=dict)

    @property
    def D(self) -> int:
        return int(self.Y.shape[1])

    @property
    def status(self) -> str:
        return "converged" if self.converged else "not_converged"

    def _per_direction(self, X_test: np.ndarray):
        B, d = self.kernel.cross(X_test)  # (r, n), (n,)
        s1 = self.arch.sigma2[0]
        V = self.m * s1  # (D,) per rotated output
        den = V[None, :] * self.kernel.evals[:, None] + self.arch.T  # (r, D)
        inv = np.divide(1.0, den, out=np.zeros_like(den), where=den > 0)
        Yh = self.Yt @ self.O
        mean_rot = B.T @ (V[None, :] * Yh * inv)  # (n, D)
        var_rot = d[:, None] * V[None, :] - (B**2).T @ (V[None, :] ** 2 * inv)
        return mean_rot, var_rot

    def predict(self, X_test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean (n, D) and variance (n, D) of each output (no label noise)."""
        mr, vr = self._per_direction(X_test)
        mean = mr @ self.O.T
        var = np.maximum(vr, 0.0) @ (self.O**2).T
        return mean, np.maximum(var, 0.0)

    def errors(self, X_test: np.ndarray, Y_test: np.ndarray) -> dict[str, Any]:
        """ε_g, bias², variance per output and averaged over outputs; accuracy of argmax."""
        Yt = np.asarray(Y_test, float)
        mean, var = self.predict(X_test)
        if Yt.shape != mean.shape:
            raise InputError(f"Y_test must have shape {mean.shape}, got {Yt.shape}")
        b = np.mean((mean - Yt) ** 2, 0)
        v = np.mean(var, 0)
        acc = float(np.mean(np.argmax(mean, 1) == np.argmax(Yt, 1)))
        return {
            "eps_g": float(np.mean(b + v)),
            "bias2": float(np.mean(b)),
            "variance": float(np.mean(v)),
            "eps_g_per_output": [float(x) for x in b + v],
            "bias2_per_output": [float(x) for x in b],
            "variance_per_output": [float(x) for x in v],
            "accuracy": acc,
        }

    def train_error(self) -> float:
        """(1/(PD)) Σ_d ⟨‖f_d − y_d‖²⟩ on the training set (docs/theory/bpkr.md §3.3 per output)."""
        T = self.arch.T
        lam = self.kernel.evals * self.arch.sigma2[0]
        x = lam[:, None] * self.m[None, :]
        inv = 1.0 / (x + T) if T > 0 else np.where(x > 0, 1.0 / np.maximum(x, 1e-300), 0.0)
        Yh = self.Yt @ self.O
        per = T**2 * np.sum(Yh**2 * inv**2) + T * np.sum(x * inv)
        return float((per + np.sum(self.null2)) / (self.kernel.P * self.D))


def fit_multi(
    kern: BaseKernel,
    Y: np.ndarray,
    arch: Architecture,
    mode: str,
    *,
    activation: str = "linear",
    renormalization: str = "layerwise",
) -> BPKRMultiFit:
    """Solve the D×D theory on a decomposed base kernel (σ-free; K_0 = σ_1² C)."""
    Y = np.asarray(Y, float)
    Yt, null2 = base_projections(kern, Y)
    widths = np.asarray(arch.widths, float)
    s2next = np.asarray(arch.sigma2[1:], float)
    T = float(arch.T)
    D = Y.shape[1]
    lam = kern.evals * arch.sigma2[0]
    fin = np.isfinite(widths)
    gp_scale = float(np.prod(s2next[~fin]))  # infinite-width layers stay at σ²
    prob = MultiProblem(lam * gp_scale, Yt, null2, kern.n_null, widths[fin], s2next[fin], T)
    m_gp = float(np.prod(s2next[fin])) if fin.any() else 1.0
    if mode == "gp" or not fin.any():
        Z = np.eye(D) * np.log(m_gp)
        out = {
            "Z": Z,
            "M": np.eye(D) * m_gp,
            "O": np.eye(D),
            "m": np.full(D, m_gp),
            "g": np.zeros(D),
            "residual": 0.0,
            "converged": True,
            "iterations": 0,
            "evaluations": 0,
        }
        gvec = np.zeros(D)
    else:
        out = solve_multi(prob, np.eye(D) * np.log(m_gp))
        gvec = out["g"]
    O, m = out["O"], out["m"] * gp_scale
    Q = []
    k = 0
    for l in range(arch.L):
        if fin[l] and mode != "gp":
            q = 1.0 + gvec / widths[l]
            k += 1
        else:
            q = np.ones(D)
        Q.append((O * q) @ O.T)
    # action / evidence: data term (rotated basis) + null directions + prior
    x = lam[:, None] * m[None, :] + T
    Yh = Yt @ O
    fitv = float(np.sum(Yh**2 / x))
    logdet = float(np.sum(np.log(x)))
    if T > 0:
        fitv += float(np.sum(null2)) / T
        logdet += D * kern.n_null * np.log(T)
    npts = D * (kern.rank + (kern.n_null if T > 0 else 0))
    prior = 0.0
    ev_prior = 0.0
    if mode != "gp" and fin.any():
        for wl, s2l in zip(widths[fin], s2next[fin], strict=True):
            u = s2l * (1.0 + gvec / wl)
            prior += float(np.sum(0.5 * wl * (u / s2l - np.log(u))))
            ev_prior += float(np.sum(0.5 * wl * (np.log(u / s2l) - u / s2l + 1.0)))
    action = prior + 0.5 * fitv + 0.5 * logdet
    log_ev = ev_prior - 0.5 * (fitv + logdet + npts * np.log(2 * np.pi))
    return BPKRMultiFit(
        mode=mode,
        kernel=kern,
        arch=arch,
        Y=Y,
        Yt=Yt,
        null2=null2,
        M=(O * m) @ O.T,
        O=O,
        m=m,
        Q=Q,
        action=action,
        log_evidence=log_ev,
        converged=bool(out["converged"]),
        residual=float(out["residual"]),
        iterations=int(out["iterations"]),
        activation=activation,
        renormalization=renormalization,
        diagnostics={"evaluations": int(out["evaluations"])},
    )


def report_multi(fit_: BPKRMultiFit, X_test=None, Y_test=None) -> dict:
    """The ``deeprg bpkr --json`` object for a multi-output fit (``Q``: list of D×D matrices)."""
    out: dict[str, Any] = {
        "mode": fit_.mode,
        "activation": fit_.activation,
        "renormalization": fit_.renormalization,
        "D": fit_.D,
        "Q": [q.tolist() for q in fit_.Q],
        "M": fit_.M.tolist(),
        **fit_summary(fit_),
    }
    if X_test is not None and Y_test is not None:
        out.update(fit_.errors(X_test, Y_test))
    else:
        out.update({"eps_g": None, "bias2": None, "variance": None, "accuracy": None})
    return out
