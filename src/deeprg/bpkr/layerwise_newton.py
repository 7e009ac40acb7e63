"""Joint Newton iteration over all log Q_l on Cholesky factors (erf networks).

docs/theory/nonlinear-renormalization.md §2.4. For q = (log Q_1..log Q_L) one evaluation
factors A = K_L + T I (LAPACK dpotrf), forms A⁻¹ (dpotri) and returns the action S(q), its
gradient (§2.2) and its Hessian: with D_m = ∂K_L/∂q_m, ⟨U, V⟩_A = tr(A⁻¹ U A⁻¹ V),
B = ½(A⁻¹ − ααᵀ) and B_l the adjoints of §2.2,

    ∂²S/∂q_m∂q_n = δ_mn (N_m/2) Q_m − ½⟨D_m, D_n⟩_A + (D_m α)ᵀA⁻¹(D_n α) + ∂S_data/∂q_min(m,n)
                   + Σ_{l = n+2}^{L} u_l ⟨B_l, ∂²k_φ(K_{l−1})[∂K_{l−1}/∂q_m, ∂K_{l−1}/∂q_n]⟩
                   (0-based m <= n; u_l = Q_l σ_{l+1}²).

D_L = K_L, so with A⁻¹K_L = I − T A⁻¹ every term involving the top layer needs only A⁻¹ and
A⁻² (⟨K_L, K_L⟩_A = P − 2T tr A⁻¹ + T²‖A⁻¹‖², ⟨K_L, D⟩_A = tr(A⁻¹D) − T⟨A⁻², D⟩). For the
lower pairs ⟨D_m, D_n⟩_A costs a P×P product per lower layer ("exact" mode, used while the
iteration is still far); once it contracts fast the "proj" mode instead projects D_m on
span{A, I} in that inner product (exact for a homogeneous map, where D_m ∝ K_L; ~99.8 % for
erf at P = 1,000) and adds the residual from the last exact evaluation.
Hessian-only products run in float32, and so do the factorizations while the next step is
predicted to exceed 1e-4 in log Q (the float32 gradient is good to ~1e-7 relative, measured
on the benchmark problem: a step error of ~5e-8). The Hessian only sets the step; the
gradient of every later evaluation is float64, and the caller verifies the result on the
eigendecomposition it needs anyway.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.linalg import lapack

from deeprg.bpkr.base import Architecture
from deeprg.kernels.erf_fused import (
    erf_gram,
    erf_hess,
    erf_hess2,
    erf_hess_all,
    erf_jvp,
    erf_vjp,
    fill_upper,
    half_adjoint,
    inner_lower,
)


@dataclass
class NewtonEval:
    q: np.ndarray
    S: float
    g: np.ndarray  # gradient, all L (zero where the width is infinite)
    H: np.ndarray  # Hessian (L, L), rows/columns of infinite widths zero
    single: bool  # factored in float32 (gradient good to ~1e-7 relative)
    mode: str  # "exact" or "proj" Hessian


def _factor(KL: np.ndarray, T: float, y: np.ndarray, single: bool = False):
    """(log det A, α = A⁻¹y, A⁻¹ full, C order) for A = K_L + T I, or None if not PD; K_L is
    overwritten unless ``single``.
    ``single``: factor in float32 (a first step from afar needs only ~1e-3 accuracy)."""
    P = KL.shape[0]
    A = KL.astype(np.float32) if single else KL  # float64: factored in place (KL is consumed)
    A.flat[:: P + 1] += T
    potrf, potrs, potri = lapack.get_lapack_funcs(("potrf", "potrs", "potri"), (A,))
    # A is symmetric: hand LAPACK its transpose (a Fortran-ordered view, no copy)
    c, info = potrf(A.T, lower=1, overwrite_a=1, clean=0)
    if info != 0:
        return None
    logdet = 2.0 * float(np.sum(np.log(np.diagonal(c).astype(np.float64))))
    alpha, _ = potrs(c, y.astype(A.dtype), lower=1)
    Ai, info = potri(c, lower=1, overwrite_c=1)  # Fortran order, lower valid
    if info != 0 or not np.all(np.isfinite(alpha)):
        return None
    fill_upper(Ai)
    return logdet, alpha.astype(np.float64), np.ascontiguousarray(Ai.T, dtype=np.float64)


def _hess(K: np.ndarray, B: np.ndarray, dirs: np.ndarray) -> np.ndarray:
    k = dirs.shape[0]
    if k == 1:
        return np.array([[erf_hess(K, B, dirs[0], dirs[0])]])
    if k == 2:
        return erf_hess2(K, B, dirs[0], dirs[1])
    return erf_hess_all(K, B, dirs)


class CholeskyAction:
    """S(q), ∇S, ∇²S of the erf layer-wise action (module docstring) over all log Q_l."""

    def __init__(self, X: np.ndarray, y: np.ndarray, arch: Architecture):
        self.y = y
        self.N = np.asarray(arch.widths, float)
        self.s2 = np.asarray(arch.sigma2, float)
        self.T, self.L, self.P = float(arch.T), arch.L, int(X.shape[0])
        K0 = X @ X.T
        K0 *= self.s2[0] / X.shape[1]
        self.K0 = K0
        self.C1 = erf_gram(K0, np.empty_like(K0))
        self.free = np.flatnonzero(np.isfinite(self.N))
        self.lower = [int(m) for m in self.free if m < self.L - 1]
        self.evaluations = 0
        self.resid: np.ndarray | None = None  # ⟨D_m, D_n⟩_A − projection, lower layers

    def _chain(self, u: np.ndarray) -> tuple[list, list]:
        """K_0..K_L and, per layer l, dirs[l] = (∂K_l/∂q_m for the lower free m <= l−1),
        each (k, P, P); K_l is stored as the last direction of its layer when free."""
        L, P, lower = self.L, self.P, self.lower
        Ks: list = [self.K0]
        dirs: list = [np.empty((0, P, P))]
        for l in range(1, L + 1):
            members = [m for m in lower if m <= l - 1]
            Dl = np.empty((len(members), P, P))
            for k, m in enumerate(members):
                if m < l - 1:  # ∂K_l/∂q_m = u_l J(K_{l−1})[∂K_{l−1}/∂q_m]
                    erf_jvp(Ks[l - 1], dirs[l - 1][k], Dl[k])
                    Dl[k] *= u[l - 1]
            Kl = Dl[-1] if members and members[-1] == l - 1 else np.empty((P, P))
            if l == 1:
                np.multiply(self.C1, u[0], out=Kl)
            else:
                erf_gram(Ks[l - 1], Kl)
                Kl *= u[l - 1]
            Ks.append(Kl)
            dirs.append(Dl)
        return Ks, dirs

    def _inner(
        self, Ai: np.ndarray, D: np.ndarray, a1: np.ndarray, trAi: float, nAi2: float, mode: str
    ) -> tuple[np.ndarray, np.ndarray]:
        """(⟨D_m, D_n⟩_A over the lower pairs, ⟨A⁻², D_m⟩) — "exact": one P×P product per
        lower layer; otherwise one A⁻², projection on span{A, I} plus the stored residual.
        Single precision: these only shape the step (relative error ~1e-6)."""
        k, P = D.shape[0], self.P
        Ai32 = Ai.astype(np.float32)
        if mode == "exact":
            Y = [Ai32 @ D[a].astype(np.float32) for a in range(k)]
            a2 = np.array([float(np.vdot(Ai32, Y[a])) for a in range(k)])
        else:
            A2 = Ai32 @ Ai32.T  # A⁻² (BLAS syrk)
            a2 = np.array([inner_lower(A2, D[a]) for a in range(k)])
        R = np.stack([a1, a2])  # (2, k)
        proj = R.T @ np.linalg.pinv(np.array([[P, trAi], [trAi, nAi2]])) @ R
        if mode == "exact":
            ip = np.array(
                [[float(np.einsum("ij,ji->", Y[a], Y[b])) for b in range(k)] for a in range(k)]
            )
            self.resid = ip - proj
        else:
            ip = proj + (self.resid if self.resid is not None else 0.0)
        return ip, a2

    def __call__(
        self, q: np.ndarray, mode: str = "proj", single: bool = False
    ) -> NewtonEval | None:
        """One evaluation at q (log Q_l; entries of infinite widths must be 0); None when
        K_L + T I is not numerically positive definite. ``single``: factor in float32."""
        self.evaluations += 1
        L, P, T, y, lower = self.L, self.P, self.T, self.y, self.lower
        fin = np.isfinite(self.N)
        Nf = np.where(fin, self.N, 0.0)  # infinite widths: Q = 1, no prior term
        Q = np.exp(q)
        u = Q * self.s2[1:]
        Ks, dirs = self._chain(u)
        fac = _factor(Ks[L], T, y, single)
        if fac is None:
            return None
        logdet, alpha, Ai = fac
        ya, aa, trAi = float(y @ alpha), float(alpha @ alpha), float(np.trace(Ai))
        S = 0.5 * ya + 0.5 * logdet + float(np.sum(0.5 * Nf * (Q - q)))
        B = half_adjoint(Ai, alpha, np.empty((P, P)))
        D = dirs[L]  # ∂K_L/∂q_m, lower m
        nAi2 = float(np.vdot(Ai, Ai))
        a1 = np.array([float(np.vdot(Ai, D[k])) for k in range(len(lower))])  # tr(A⁻¹D_m)
        Da = np.empty((len(lower) + 1, P))  # D_m α, then K_L α = y − Tα
        for k in range(len(lower)):
            Da[k] = D[k] @ alpha
        Da[-1] = y - T * alpha
        gdata = np.zeros(L)
        gdata[L - 1] = 0.5 * (P - T * trAi) - 0.5 * (ya - T * aa)
        for k, m in enumerate(lower):
            gdata[m] = 0.5 * a1[k] - 0.5 * float(alpha @ Da[k])  # ⟨B, D_m⟩
        g = np.where(fin, 0.5 * Nf * (Q - 1.0) + gdata, 0.0)
        # ⟨D_m, D_n⟩_A (top: A⁻¹K_L = I − T A⁻¹) and (D_m α)ᵀ A⁻¹ (D_n α)
        idx = [*lower, L - 1] if fin[L - 1] else list(lower)
        pos = {m: a for a, m in enumerate(idx)}
        n = len(idx)
        ip = np.zeros((n, n))
        k = len(lower)
        if lower:
            ip[:k, :k], a2 = self._inner(Ai, D, a1, trAi, nAi2, mode)
            if fin[L - 1]:
                ip[:k, k] = ip[k, :k] = a1 - T * a2
        if fin[L - 1]:
            ip[-1, -1] = P - 2.0 * T * trAi + T * T * nAi2
        else:
            Da = Da[:k]
        AiDa = Da @ Ai
        H = -0.5 * ip + Da @ AiDa.T
        for a, m in enumerate(idx):
            for b, m2 in enumerate(idx):
                H[a, b] += gdata[min(m, m2)]
            H[a, a] += 0.5 * Nf[m] * Q[m]
        # second derivatives through the Gram maps: layers l >= 2 with adjoints B_l
        Bl = B
        for l in range(L, 1, -1):
            if dirs[l - 1].shape[0]:
                sub = [pos[m] for m in lower if m <= l - 2]
                H[np.ix_(sub, sub)] += u[l - 1] * _hess(Ks[l - 1], Bl, dirs[l - 1])
            if l > 2 and dirs[l - 2].shape[0]:
                Bl = erf_vjp(Ks[l - 1], Bl, np.empty((P, P)))
                Bl *= u[l - 1]
        Hfull = np.zeros((L, L))
        Hfull[np.ix_(idx, idx)] = H
        return NewtonEval(q.copy(), S, g, Hfull, single, mode)


def newton_step(ev: NewtonEval, free: np.ndarray, cap: float = 2.0) -> np.ndarray:
    """Newton step on the free variables (on |H| if H is not positive definite), every
    component capped at ``cap`` in log Q."""
    Hf = ev.H[np.ix_(free, free)]
    gf = ev.g[free]
    w, V = np.linalg.eigh(Hf)
    w = np.maximum(np.abs(w), 1e-8 * max(1.0, float(np.max(np.abs(w)))))
    s = np.zeros(ev.q.size)
    s[free] = -(V / w) @ (V.T @ gf)
    big = float(np.max(np.abs(s), initial=0.0))
    if big > cap:
        s *= cap / big
    return s


def newton_solve(
    action: CholeskyAction, qtol: float = 1e-9, maxiter: int = 30
) -> tuple[np.ndarray, NewtonEval | None, int, bool]:
    """Newton iteration from the GP point q = 0 with a backtracking safeguard.

    Stops when the next step is predicted (quadratic convergence, contraction measured on the
    previous steps) to land within ``qtol`` of the minimum in every log Q_l; returns (q after
    that step, the last evaluation, evaluations, ok). ok is False when a factorization failed
    or the iteration did not settle — the caller then falls back to the eigen path.
    """
    free = action.free
    q = np.zeros(action.L)
    ev = action(q, "proj", single=True)
    if ev is None:
        ev = action(q, "proj")
    if ev is None:
        return q, None, action.evaluations, False
    prev = None  # max |step| of the previous iteration
    halved = False
    for _ in range(maxiter):
        s = newton_step(ev, free)
        smax = float(np.max(np.abs(s), initial=0.0))
        if smax == 0.0 and not ev.single:
            return ev.q, ev, action.evaluations, True
        c = 1.0 if prev is None else max(smax / prev**2, 0.05)
        # relative Hessian error of the step: float32 products; proj mode with the residual of
        # a recent exact evaluation (only used while contracting fast) / without one
        hess_err = 1e-6 if ev.mode == "exact" else 1e-5 if action.resid is not None else 3e-3
        if prev is not None and not ev.single and c * smax**2 + hess_err * smax <= qtol:
            return ev.q + s, ev, action.evaluations, True
        # proj mode only once the iteration contracts fast (the stored residual is then
        # recent); far from the minimum of a strongly nonlinear problem it can be stale
        fast = prev is not None and smax <= 0.25 * prev and not halved
        mode = "proj" if fast or not action.lower else "exact"
        # float32 while the next step is predicted to be large (its ~1e-7 relative gradient
        # error is then immaterial); float64 for the steps that decide convergence
        single = c * smax**2 >= 1e-4
        halved = False
        for _ in range(30):
            new = action(ev.q + s, mode, single)
            tol = (1e-6 if single or ev.single else 1e-12) * abs(ev.S)
            if new is not None and np.isfinite(new.S) and new.S <= ev.S + tol:
                break
            s *= 0.5
            halved = True
        else:
            return ev.q, ev, action.evaluations, False
        ev, prev = new, float(np.max(np.abs(s)))
    return ev.q, ev, action.evaluations, False
