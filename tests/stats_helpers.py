"""Statistics shared by the sampler and Monte Carlo tests (a helper module, not a test file).

Every statistical test compares time averages of a few observables with an exact reference,
with a tolerance taken from the *measured* autocorrelation of the trace, never from an assumed
factor:

- :func:`integrated_time`: τ_int = 1 + 2 Σ_{t≥1} ρ(t) per observable, with Sokal's automatic
  window (the smallest W with W ≥ c·τ_int(W)); the standard error of a mean over n correlated
  draws is √(var·τ_int/n);
- :func:`check`: per-observable z-scores from those standard errors (combined with the error
  of the reference) and a joint chi-square (Hotelling T²) of all observables from batch means,
  whose covariance includes the correlations between observables (e.g. histogram cells).

The same :func:`check` is applied to deliberately wrong samplers (temperature ×2, ×½, energy
ignored) by the negative controls, which assert that it fails.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats


def _as_chains(x: np.ndarray) -> np.ndarray:
    """(n,) -> (1, n, 1); (n, k) -> (1, n, k); (C, n, k) unchanged."""
    x = np.asarray(x, dtype=float)
    if x.ndim == 1:
        return x[None, :, None]
    if x.ndim == 2:
        return x[None]
    return x


def autocorrelation(x: np.ndarray) -> np.ndarray:
    """Normalized autocorrelation ρ(t) of each observable, averaged over independent chains.

    ``x``: (n,), (n, k) or (C, n, k); returns (n, k). A constant observable gets ρ ≡ 0 beyond
    t = 0 (its error is then that of the reference alone)."""
    x = _as_chains(x)
    C, n, k = x.shape
    d = x - x.mean(axis=1, keepdims=True)
    f = np.fft.rfft(d, n=2 * n, axis=1)
    acov = np.fft.irfft(f * np.conj(f), n=2 * n, axis=1)[:, :n].mean(0) / n  # (n, k)
    rho = np.zeros_like(acov)
    ok = acov[0] > 0
    rho[:, ok] = acov[:, ok] / acov[0, ok]
    rho[0] = 1.0
    return rho


def integrated_time(x: np.ndarray, c: float = 5.0) -> np.ndarray:
    """τ_int per observable (1 for independent draws), Sokal's automatic window."""
    rho = autocorrelation(x)
    taus = 2 * np.cumsum(rho, axis=0) - 1  # τ(W) = 1 + 2 Σ_{t=1..W} ρ(t)
    out = np.empty(rho.shape[1])
    for j in range(rho.shape[1]):
        W = np.arange(len(taus))
        good = W >= c * taus[:, j]
        w = int(np.argmax(good)) if good.any() else len(W) - 1
        out[j] = max(taus[w, j], 1.0)
    return out


def mean_and_se(x: np.ndarray, c: float = 5.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(mean, standard error √(var·τ_int/(C·n)), τ_int) of each observable."""
    x = _as_chains(x)
    C, n, _ = x.shape
    tau = integrated_time(x, c)
    var = x.var(axis=(0, 1), ddof=1)
    return x.mean(axis=(0, 1)), np.sqrt(var * tau / (C * n)), tau


@dataclass(frozen=True)
class CheckResult:
    """Outcome of :func:`check`: z-scores, τ_int, the joint chi-square and the verdict."""

    names: tuple[str, ...]
    mean: np.ndarray
    reference: np.ndarray
    z: np.ndarray
    tau: np.ndarray
    chi2: float  # Hotelling T² of the batch means (all observables jointly)
    dof: int
    p_value: float  # of the joint test (F distribution of the scaled T²)
    n_batches: int
    z_max: float
    p_min: float
    enough_data: bool  # batches at least 10 τ_int long

    @property
    def passed(self) -> bool:
        return bool(np.all(np.abs(self.z) < self.z_max) and self.p_value > self.p_min)

    @property
    def max_abs_z(self) -> float:
        return float(np.max(np.abs(self.z)))

    def __str__(self) -> str:
        worst = int(np.argmax(np.abs(self.z)))
        return (
            f"max|z| = {self.max_abs_z:.1f} ({self.names[worst]}: {self.mean[worst]:.4g} vs "
            f"{self.reference[worst]:.4g}), T² = {self.chi2:.1f} on {self.dof} observables "
            f"(p = {self.p_value:.2g}), τ_int max = {self.tau.max():.1f}, "
            f"{self.n_batches} batches"
        )


def check(
    trace: np.ndarray,
    reference: np.ndarray,
    ref_se: np.ndarray | float = 0.0,
    names: list[str] | None = None,
    z_max: float = 4.0,
    p_min: float = 1e-4,
    n_batches: int = 100,
    independent: bool = False,
) -> CheckResult:
    """Time averages of ``trace`` ((n,), (n, k) or (C, n, k): C independent chains) against
    ``reference`` (k,) with the reference's own standard error ``ref_se``.

    Passes iff every |z| < ``z_max`` (z from τ_int standard errors) and the joint batch-means
    Hotelling test has p > ``p_min``. Linearly dependent observables (histogram cells summing to
    one) are handled by the pseudo-inverse of the batch-means covariance. ``independent``:
    the draws are independent by construction (separate disorder samples): τ_int = 1 and
    every draw is its own batch."""
    x = _as_chains(trace)
    C, n, k = x.shape
    ref = np.broadcast_to(np.asarray(reference, dtype=float), (k,))
    rse = np.broadcast_to(np.asarray(ref_se, dtype=float), (k,))
    if independent:
        mean, tau = x.mean(axis=(0, 1)), np.ones(k)
        se = np.sqrt(x.var(axis=(0, 1), ddof=1) / (C * n))
        n_batches = C * n
    else:
        mean, se, tau = mean_and_se(x)
    tot = np.sqrt(se**2 + rse**2)
    d = mean - ref
    z = np.where(tot > 0, d / np.where(tot > 0, tot, 1.0), np.where(d == 0, 0.0, np.inf))
    # joint test: B batch means per chain (independent once batches are >> τ_int)
    B = min(max(n_batches // C, 2), n)
    b = n // B
    bm = x[:, : B * b].reshape(C, B, b, k).mean(2).reshape(C * B, k)
    nb = C * B
    cov = np.cov(bm, rowvar=False, ddof=1).reshape(k, k) / nb + np.diag(rse**2)
    # keep the directions the data resolve (drops e.g. the sum-to-one direction of a histogram)
    w, V = np.linalg.eigh(cov)
    keep = w > 1e-10 * max(w.max(), 1e-300)
    proj = V[:, keep].T @ d
    T2 = float(np.sum(proj**2 / w[keep]))
    p_dim = int(keep.sum())
    # unresolved directions (zero variance) that nevertheless differ beyond the reference's
    # numerical precision (~1e-8 relative for quadratures): certain failure
    resid = d - V[:, keep] @ proj
    if np.any(~keep) and np.linalg.norm(resid) > 1e-6 * max(np.linalg.norm(ref), 1e-300):
        T2, p = np.inf, 0.0
    elif nb > p_dim and p_dim > 0:
        F = T2 * (nb - p_dim) / (p_dim * (nb - 1))
        p = float(stats.f.sf(F, p_dim, nb - p_dim))
    else:
        p = 1.0
    return CheckResult(
        names=tuple(names or [f"obs{j}" for j in range(k)]),
        mean=mean,
        reference=ref.copy(),
        z=z,
        tau=tau,
        chi2=T2,
        dof=p_dim,
        p_value=p,
        n_batches=nb,
        z_max=z_max,
        p_min=p_min,
        enough_data=bool(independent or b >= 10 * tau.max()),
    )


def assert_consistent(res: CheckResult) -> None:
    """The positive test: enough data for the error estimate and the check passes."""
    assert res.enough_data, f"batches shorter than 10 τ_int: {res}"
    assert res.passed, str(res)


def assert_detected(res: CheckResult) -> None:
    """The negative control: the same check must fail on a deliberately wrong sampler."""
    assert not res.passed, f"a wrong sampler passed: {res}"
