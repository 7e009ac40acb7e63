"""Posterior samplers as ``init`` / ``step`` pairs over immutable states (BlackJAX style).

``sampler.init(params) -> state`` and ``sampler.step(state, rng) -> (state, info)``; every
array carries a leading chain axis and one call advances all chains. A second backend (JAX)
can provide the same two functions.

- :func:`langevin`: the paper's Euler–Maruyama discretization (bpkr.md §1.2, §6.1),
  Θ ← Θ − η∇[E + (T/2σ²)‖Θ‖²] + √(2ηT) ξ. Biased by O(η); any activation.
- :func:`mala`: the same proposal with a Metropolis–Hastings correction (exact stationary law),
  per-chain step sizes adapted during warm-up (Robbins–Monro on log η toward acceptance 0.574).
- :func:`blocked_gibbs`: exact Gaussian conditionals for deep linear networks (§6.1): a | W is
  Bayesian linear regression; for W_l only z = W_lᵀ r̂_l is constrained by the data
  (f = ‖r_l‖ zᵀx_{l−1}/√N_{l−1}), the part orthogonal to r̂_l is redrawn from the prior.
  D outputs (readout N_L×D): the readout's columns are independent Bayesian linear
  regressions with one shared Cholesky factor; for W_l, with the thin SVD R_l = Σ_k s_k u_k v_kᵀ
  of the back-propagated readout (N_l×D), F = Σ_k s_k (X_{l−1} W_lᵀ u_k) v_kᵀ/√N_{l−1}, so the
  rows z_k = W_lᵀ u_k are independent regressions on the targets Y v_k with features
  s_k X_{l−1}/√N_{l−1}, and the part of W_l orthogonal to the u_k is redrawn from the prior.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np

from deeprg.errors import InputError, check_positive
from deeprg.networks import Network, Params, backprop_readout, forward, potential_and_grad


@dataclass(frozen=True)
class SamplerState:
    """Parameters of all chains plus what the step needs to carry (potential, gradient, η)."""

    params: Params
    potential: np.ndarray | None = None  # (C,)
    grad: Params | None = None
    step_size: np.ndarray | None = None  # (C,) in units of the paper's η


@dataclass(frozen=True)
class Sampler:
    """A sampling algorithm: pure ``init`` and ``step`` functions."""

    name: str
    init: Callable[[Params], SamplerState]
    step: Callable[..., tuple[SamplerState, dict[str, Any]]]
    config: dict[str, Any] = field(default_factory=dict)  # the target it samples (identity)


def _target(net: Network, X: np.ndarray, y: np.ndarray, T: float, **extra: Any) -> dict[str, Any]:
    """What a sampler's stationary law depends on: network, data digests, temperature, steps."""
    from deeprg.identity import array_digest

    return {"net": asdict(net), "X": array_digest(X), "y": array_digest(y), "T": T, **extra}


def _axpy(a: Params, b: Params, coef: np.ndarray | float) -> Params:
    """a + coef·b, with coef per chain (broadcast over parameter axes)."""

    def c(x: np.ndarray) -> np.ndarray | float:
        if isinstance(coef, np.ndarray):
            return np.reshape(coef, (-1,) + (1,) * (x.ndim - 1))
        return coef

    return tuple(x + c(x) * y for x, y in zip(a, b, strict=True))


def _grad_fields(state: SamplerState) -> tuple[np.ndarray, Params, np.ndarray]:
    """(potential, gradient, step size) of a gradient sampler's state (set by its ``init``)."""
    if state.potential is None or state.grad is None or state.step_size is None:
        raise ValueError("a gradient sampler needs a state made by its own init")
    return state.potential, state.grad, state.step_size


def _sqnorm(a: Params) -> np.ndarray:
    return sum(np.sum(x.reshape(x.shape[0], -1) ** 2, 1) for x in a)


def langevin_proposal(
    state: SamplerState, eta: np.ndarray, T: float, rng: Any
) -> tuple[Params, Params]:
    """Θ' = Θ − ηT∇Φ + √(2ηT)ξ with Φ = E/T + Σ‖W‖²/(2σ²) (= the paper's update); returns (Θ', ξ).

    This is the shared building block of :func:`langevin` and :func:`mala`. ``rng`` is a
    :class:`~deeprg.sampling.rng.ChainRNG` or a ``numpy.random.Generator``.
    """
    h = np.asarray(eta, dtype=np.float64) * T
    out, xis = [], []
    for p, g in zip(state.params, _grad_fields(state)[1], strict=True):
        shape = (-1,) + (1,) * (p.ndim - 1)
        xi = rng.standard_normal(p.shape)
        new = xi * np.sqrt(2 * h).reshape(shape)  # in-place updates avoid temporaries
        new -= h.reshape(shape) * g
        new += p
        out.append(new)
        xis.append(xi)
    return tuple(out), tuple(xis)


def langevin(net: Network, X: np.ndarray, y: np.ndarray, T: float, eta: float) -> Sampler:
    """Unadjusted Langevin, as in the paper (step η in the paper's units; bpkr.md §1.2)."""
    T = check_positive("temperature T", T)
    eta = check_positive("eta", eta)

    def init(params: Params) -> SamplerState:
        pot, g, _ = potential_and_grad(net, params, X, y, T)
        return SamplerState(params, pot, g, np.full(params[0].shape[0], eta))

    def step(state: SamplerState, rng: Any, **kwargs: Any):
        new, _ = langevin_proposal(state, _grad_fields(state)[2], T, rng)
        pot, g, _ = potential_and_grad(net, new, X, y, T)
        return replace(state, params=new, potential=pot, grad=g), {"acceptance": np.ones(len(pot))}

    return Sampler("langevin", init, step, _target(net, X, y, T, eta=eta))


def mala(
    net: Network, X: np.ndarray, y: np.ndarray, T: float, eta: float, target_accept: float = 0.574
) -> Sampler:
    """Metropolis-adjusted Langevin; step sizes adapt while ``adapt=True`` is passed to step."""
    T = check_positive("temperature T", T)
    eta = check_positive("eta", eta)

    def init(params: Params) -> SamplerState:
        pot, g, _ = potential_and_grad(net, params, X, y, T)
        return SamplerState(params, pot, g, np.full(params[0].shape[0], eta))

    def step(state: SamplerState, rng: Any, adapt: bool = False, t: int = 1, **kwargs: Any):
        pot0, grad0, step_size = _grad_fields(state)
        h = step_size * T
        prop, _ = langevin_proposal(state, step_size, T, rng)
        pot, g, _ = potential_and_grad(net, prop, X, y, T)
        # log q(x'|x) = −‖x' − x + h∇Φ(x)‖²/(4h)
        fwd = _sqnorm(_axpy(_axpy(prop, state.params, -1.0), grad0, h)) / (4 * h)
        bwd = _sqnorm(_axpy(_axpy(state.params, prop, -1.0), g, h)) / (4 * h)
        log_acc = pot0 - pot + fwd - bwd
        accept = np.log(rng.uniform(size=log_acc.shape)) < log_acc
        acc_prob = np.exp(np.minimum(log_acc, 0.0))

        def pick(a: Params, b: Params) -> Params:
            return tuple(
                np.where(accept.reshape((-1,) + (1,) * (x.ndim - 1)), x, z)
                for x, z in zip(a, b, strict=True)
            )

        if adapt:
            step_size = step_size * np.exp((acc_prob - target_accept) / np.sqrt(t + 10.0))
        new = SamplerState(
            pick(prop, state.params), np.where(accept, pot, pot0), pick(g, grad0), step_size
        )
        return new, {"acceptance": acc_prob}

    return Sampler("mala", init, step, _target(net, X, y, T, eta=eta, target=target_accept))


def _blr_from_gram(
    G: np.ndarray, b: np.ndarray, s2: float, T: float, rng: Any, C: int
) -> np.ndarray:
    """Draw w ~ N(μ, Σ), Σ⁻¹ = I/s2 + G/T, μ = Σ b/T, from the Gram G = ΦᵀΦ ((C, d, d) or
    (d, d)) and b = Φᵀy ((C, d)): one Cholesky factor Σ⁻¹ = LLᵀ and two triangular solves,
    w = L⁻ᵀ(L⁻¹ b/T + z), z ~ N(0, I)."""
    from scipy.linalg import solve_triangular

    d = G.shape[-1]
    Lc = np.linalg.cholesky(np.broadcast_to(G / T + np.eye(d) / s2, (C, d, d)))
    rhs = b / T if b.ndim == 3 else (b / T)[..., None]  # (C, d, D): D independent columns
    v = solve_triangular(Lc, rhs, lower=True, check_finite=False)
    v += rng.standard_normal(v.shape)
    w = solve_triangular(Lc, v, lower=True, trans="T", check_finite=False)
    return w if b.ndim == 3 else w[..., 0]


def _chol_solve(K: np.ndarray, r: np.ndarray) -> np.ndarray:
    """K⁻¹ r for a batch of SPD matrices K (C, n, n) and right-hand sides r (C, n): one
    Cholesky factor and two triangular solves."""
    from scipy.linalg import solve_triangular

    Lk = np.linalg.cholesky(K)
    v = solve_triangular(Lk, r[..., None], lower=True, check_finite=False)
    return solve_triangular(Lk, v, lower=True, trans="T", check_finite=False)[..., 0]


def _blr_matheron(
    K: np.ndarray,
    proj: Callable[[np.ndarray], np.ndarray],
    back: Callable[[np.ndarray], np.ndarray],
    y: np.ndarray,
    s2: float,
    T: float,
    rng: Any,
    d: int,
) -> np.ndarray:
    """Matheron's rule in data space (exact, O(P²d) for P < d): w = w0 + s2 Φᵀ K⁻¹(y − Φw0 − ε),
    w0 ~ N(0, s2 I), ε ~ N(0, T I), K = s2 ΦΦᵀ + T I ((C, P, P)); ``proj`` maps w (C, d) to
    Φw (C, P), ``back`` maps a (C, P) to Φᵀa (C, d)."""
    C, P = K.shape[0], K.shape[-1]
    w0 = np.sqrt(s2) * rng.standard_normal((C, d))
    eps = np.sqrt(T) * rng.standard_normal((C, P))
    yc = y if y.ndim == 2 else y[None, :]  # per-chain targets (C, P) allowed
    alpha = _chol_solve(K, yc - proj(w0) - eps)
    return w0 + s2 * back(alpha)


def _first_layer(
    X: np.ndarray, gram: np.ndarray, Xty: np.ndarray, rn: np.ndarray, y, s2, T, rng
) -> np.ndarray:
    """The first layer's conditional in feature space: Φ = ‖r_1‖ X/√N0 is never formed; the
    Gram XᵀX/N0 (N0 <= P) or XXᵀ/N0 (P < N0) and Xᵀy are computed once per sampler, so a step
    costs O(C·N0³) or O(C·P³) instead of O(C·P·N0²) (bpkr.md §6.1)."""
    P, d = X.shape
    C = rn.size
    rs = rn[:, None] / np.sqrt(d)
    if P < d:
        K = s2 * (rn**2)[:, None, None] * gram + T * np.eye(P)
        return _blr_matheron(K, lambda w: rs * (w @ X.T), lambda a: rs * (a @ X), y, s2, T, rng, d)
    G = (rn**2)[:, None, None] * gram
    return _blr_from_gram(G, rs * (Xty if Xty.ndim == 2 else Xty[None, :]), s2, T, rng, C)


def _blr_sample(Phi: np.ndarray, y: np.ndarray, s2: float, T: float, rng: Any) -> np.ndarray:
    """Draw w ~ N(μ, Σ), Σ⁻¹ = I/s2 + ΦᵀΦ/T, μ = ΣΦᵀy/T, batched over chains (Φ: (C, P, d)).

    For d <= P: Cholesky of the d×d precision (:func:`_blr_from_gram`). For P < d (e.g. the
    first layer of a network on MNIST): Matheron's rule in data space (:func:`_blr_matheron`).
    """
    C, P, d = Phi.shape
    if P < d:
        K = s2 * np.matmul(Phi, Phi.transpose(0, 2, 1)) + T * np.eye(P)
        PhiT = Phi.transpose(0, 2, 1)
        return _blr_matheron(
            K,
            lambda w: np.matmul(Phi, w[..., None])[..., 0],
            lambda a: np.matmul(PhiT, a[..., None])[..., 0],
            y,
            s2,
            T,
            rng,
            d,
        )
    G = np.matmul(Phi.transpose(0, 2, 1), Phi)
    b = np.einsum("cpd,cp->cd", Phi, y) if y.ndim == 2 else np.einsum("cpd,p->cd", Phi, y)
    return _blr_from_gram(G, b, s2, T, rng, C)


def blocked_gibbs(net: Network, X: np.ndarray, y: np.ndarray, T: float) -> Sampler:
    """Exact blocked Gibbs sweep a → W_L → … → W_1 for deep linear networks (bpkr.md §6.1)."""
    if net.activation != "linear":
        raise InputError(
            "sampler 'gibbs' needs activation 'linear' (use mala or langevin for relu)"
        )
    T = check_positive("temperature T", T)
    if np.ndim(y) == 2:
        return _blocked_gibbs_multi(net, X, np.asarray(y, float), T)
    P, N0 = X.shape
    gram = (X @ X.T if P < N0 else X.T @ X) / N0  # first layer, feature space (once)
    Xty = X.T @ y

    def init(params: Params) -> SamplerState:
        return SamplerState(tuple(np.array(p) for p in params))

    def step(state: SamplerState, rng: Any, **kwargs: Any):
        params = list(state.params)
        _, xs = forward(
            net, tuple(params), X
        )  # x_{l−1} stay valid: layers below l are updated later
        L = net.L
        params[L] = _blr_sample(xs[L] / np.sqrt(net.dims[L]), y, net.sigma2[L], T, rng)
        r = params[L] / np.sqrt(net.dims[L])  # r_L
        for l in range(L, 0, -1):  # update W_l (index l−1), given r_l
            W = params[l - 1]
            rn = np.linalg.norm(r, axis=1)
            rhat = r / rn[:, None]
            if l == 1:
                z = _first_layer(X, gram, Xty, rn, y, net.sigma2[0], T, rng)
            else:
                Phi = rn[:, None, None] * xs[l - 1] / np.sqrt(net.dims[l - 1])
                z = _blr_sample(Phi, y, net.sigma2[l - 1], T, rng)
            G = np.sqrt(net.sigma2[l - 1]) * rng.standard_normal(W.shape)
            G_perp = G - rhat[:, :, None] * np.einsum("ci,cij->cj", rhat, G)[:, None, :]
            params[l - 1] = rhat[:, :, None] * z[:, None, :] + G_perp
            r = np.einsum("cij,ci->cj", params[l - 1], r) / np.sqrt(net.dims[l - 1])
        return SamplerState(tuple(params)), {"acceptance": np.ones(params[0].shape[0])}

    return Sampler("gibbs", init, step, _target(net, X, y, T))


def _readout_multi(Phi: np.ndarray, Y: np.ndarray, s2: float, T: float, rng: Any) -> np.ndarray:
    """The N_L×D readout given the last layer: D independent Bayesian linear regressions
    with features Φ (C, P, d) and targets Y (P, D), one Cholesky factor shared by the columns
    (d <= P) or Matheron's rule with one P×P factor (P < d). Returns (C, d, D)."""
    from scipy.linalg import solve_triangular

    C, P, d = Phi.shape
    D = Y.shape[1]
    if P < d:
        K = s2 * np.matmul(Phi, Phi.transpose(0, 2, 1)) + T * np.eye(P)
        W0 = np.sqrt(s2) * rng.standard_normal((C, d, D))
        eps = np.sqrt(T) * rng.standard_normal((C, P, D))
        Lk = np.linalg.cholesky(K)
        v = solve_triangular(Lk, Y[None] - np.matmul(Phi, W0) - eps, lower=True, check_finite=False)
        alpha = solve_triangular(Lk, v, lower=True, trans="T", check_finite=False)
        return W0 + s2 * np.matmul(Phi.transpose(0, 2, 1), alpha)
    G = np.matmul(Phi.transpose(0, 2, 1), Phi)
    return _blr_from_gram(G, np.einsum("cpd,pk->cdk", Phi, Y), s2, T, rng, C)


def _blocked_gibbs_multi(net: Network, X: np.ndarray, Y: np.ndarray, T: float) -> Sampler:
    """Blocked Gibbs for deep linear networks with D = Y.shape[1] outputs (module docstring)."""
    if net.outputs != Y.shape[1]:
        raise InputError(f"the network has {net.outputs} output(s) but y has {Y.shape[1]} columns")
    P, N0 = X.shape
    gram = (X @ X.T if P < N0 else X.T @ X) / N0
    XtY = X.T @ Y  # (N0, D)

    def init(params: Params) -> SamplerState:
        return SamplerState(tuple(np.array(p) for p in params))

    def step(state: SamplerState, rng: Any, **kwargs: Any):
        params = list(state.params)
        _, xs = forward(net, tuple(params), X)
        L = net.L
        params[L] = _readout_multi(xs[L] / np.sqrt(net.dims[L]), Y, net.sigma2[L], T, rng)
        R = params[L] / np.sqrt(net.dims[L])  # R_L (C, N_L, D)
        for l in range(L, 0, -1):
            W = params[l - 1]
            Uu, sv, Vt = np.linalg.svd(R, full_matrices=False)  # (C, N_l, r), (C, r), (C, r, D)
            r = sv.shape[1]
            Z = np.empty((W.shape[0], r, W.shape[2]))
            for k in range(r):  # independent rows z_k = W_lᵀ u_k
                yk = np.einsum("pd,cd->cp", Y, Vt[:, k, :])  # targets Y v_k per chain
                if l == 1:
                    Xty_k = np.einsum("id,cd->ci", XtY, Vt[:, k, :])
                    Z[:, k] = _first_layer(X, gram, Xty_k, sv[:, k], yk, net.sigma2[0], T, rng)
                else:
                    Phi = sv[:, k, None, None] * xs[l - 1] / np.sqrt(net.dims[l - 1])
                    Z[:, k] = _blr_sample(Phi, yk, net.sigma2[l - 1], T, rng)
            G = np.sqrt(net.sigma2[l - 1]) * rng.standard_normal(W.shape)
            G_perp = G - np.matmul(Uu, np.matmul(Uu.transpose(0, 2, 1), G))
            params[l - 1] = np.matmul(Uu, Z) + G_perp
            R = np.matmul(params[l - 1].transpose(0, 2, 1), R) / np.sqrt(net.dims[l - 1])
        return SamplerState(tuple(params)), {"acceptance": np.ones(params[0].shape[0])}

    return Sampler("gibbs", init, step, _target(net, X, Y, T))


SAMPLERS = ("gibbs", "mala", "langevin")


def make_sampler(
    name: str,
    net: Network,
    X: np.ndarray,
    y: np.ndarray,
    T: float,
    eta: float = 1e-3,
) -> Sampler:
    """Sampler by name: ``gibbs`` (linear nets), ``mala`` or ``langevin``."""
    if name == "gibbs":
        return blocked_gibbs(net, X, y, T)
    if name == "mala":
        return mala(net, X, y, T, eta)
    if name == "langevin":
        return langevin(net, X, y, T, eta)
    raise InputError(f"sampler must be one of {', '.join(SAMPLERS)}; got {name!r}")


__all__ = [
    "SAMPLERS",
    "Sampler",
    "SamplerState",
    "backprop_readout",
    "blocked_gibbs",
    "langevin",
    "make_sampler",
    "mala",
]
