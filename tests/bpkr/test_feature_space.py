"""Feature-space path vs kernel path (issue 13): the same spectral interface, the same numbers.

Every quantity is computed twice on random problems with P < N0, P = N0, P > N0 and
rank-deficient X, once from the P×P kernel and once from the N0×N0 feature Gram, and must
agree to 1e-10 (relative to the size of the compared array). The log-evidence with its
null-direction terms is also checked against a dense multivariate-normal reference.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from deeprg.bpkr import architecture, base_kernel, fit, fit_kernel
from deeprg.bpkr.exact import log_evidence_curve
from deeprg.bpkr.phase import r_tilde, t0_solution
from deeprg.bpkr.sweep import errors_points, solve_points, sweep_grid
from deeprg.errors import InputError

RTOL = 1e-10


def close(a, b, rtol=RTOL, floor=1e-300):
    """max |a − b| <= rtol · max(max |a|, floor) (array-wise relative agreement; ``floor`` for
    quantities that vanish, e.g. the T = 0 variance at points the training set spans)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    assert a.shape == b.shape
    scale = max(float(np.max(np.abs(a))), floor)
    err = float(np.max(np.abs(a - b)))
    assert err <= rtol * scale, f"max diff {err:.3g} vs scale {scale:.3g}"


def problem(P, N0, rank=None, seed=0, n_test=25):
    rng = np.random.default_rng(seed)
    if rank is None:
        X = rng.standard_normal((P, N0))
    else:  # exactly rank-deficient inputs
        X = rng.standard_normal((P, rank)) @ rng.standard_normal((rank, N0)) / np.sqrt(rank)
    w = rng.standard_normal(N0)
    y = X @ w / np.sqrt(N0) + 0.3 * rng.standard_normal(P)
    Xt = rng.standard_normal((n_test, N0))
    if rank is not None:
        Xt = rng.standard_normal((n_test, rank)) @ rng.standard_normal((rank, N0)) / np.sqrt(rank)
        Xt[:5] = rng.standard_normal((5, N0))  # some test points outside the row space
    yt = Xt @ w / np.sqrt(N0)
    return X, y, Xt, yt


CASES = {
    "P<N0": (30, 50, None),
    "P=N0": (24, 24, None),
    "P>N0": (90, 30, None),
    "rank-deficient P>N0": (70, 30, 12),
    "rank-deficient P<N0": (25, 60, 9),
}


@pytest.fixture(scope="module", params=list(CASES), ids=list(CASES))
def both(request):
    P, N0, rank = CASES[request.param]
    X, y, Xt, yt = problem(P, N0, rank)
    kk = base_kernel(X, y, path="kernel")
    kf = base_kernel(X, y, path="feature")
    return kk, kf, Xt, yt, (P, N0, rank)


def test_same_spectrum(both):
    kk, kf, _, _, (P, N0, rank) = both
    assert kk.path == "kernel" and kf.path == "feature"
    r = rank if rank is not None else min(P, N0)
    assert kk.rank == kf.rank == r
    assert kk.n_null == kf.n_null == P - r
    close(kk.evals, kf.evals)
    # ỹ_k² per direction (eigenvalues of random data are distinct) and the null part
    close(kk.ytil**2, kf.ytil**2, 1e-8)
    assert kf.ynull2 == pytest.approx(kk.ynull2, rel=1e-9, abs=1e-12 * float(kk.y @ kk.y))
    if P - r == 0:
        assert kk.ynull2 == pytest.approx(0.0, abs=1e-20) and kf.ynull2 == 0.0


@pytest.mark.parametrize("mode", ["saddle", "exact", "gp"])
@pytest.mark.parametrize("T", [0.05, 0.0])
def test_fits_agree(both, mode, T):
    kk, kf, Xt, yt, (P, N0, rank) = both
    arch = architecture([40, 25], [1.3, 0.8, 1.1], T)
    a, b = fit_kernel(kk, arch, mode), fit_kernel(kf, arch, mode)
    assert a.converged and b.converged
    close(a.u, b.u)
    for name in ("U", "G", "action", "log_evidence"):
        assert getattr(b, name) == pytest.approx(getattr(a, name), rel=RTOL, abs=1e-12), name
    assert b.train_error() == pytest.approx(a.train_error(), rel=RTOL, abs=1e-14)
    ma, va, ca = a.predict(Xt, full_cov=True)
    mb, vb, cb = b.predict(Xt, full_cov=True)
    scale = a.U * float(np.mean(Xt**2))  # prior variance of f: floor for vanishing variances
    close(ma, mb)
    close(va, vb, floor=scale)
    close(ca, cb, floor=scale)
    ea, eb = a.errors(Xt, yt), b.errors(Xt, yt)
    for key in ea:
        assert eb[key] == pytest.approx(ea[key], rel=RTOL, abs=RTOL * scale), key
    close(a.layer_kernels(Xt[:8]), b.layer_kernels(Xt[:8]))


def test_log_evidence_with_null_directions_vs_dense(both):
    """log N(y; 0, e^s σ² C + T I) on both paths vs a dense P×P multivariate normal: the
    P − r null directions contribute ‖y_⊥‖²/T and log T each."""
    kk, kf, _, _, _ = both
    X, y = kk.X, kk.y
    C = X @ X.T / X.shape[1]
    s = np.array([-1.0, 0.2, 1.5])
    for T in (0.05, 0.7):
        ref = [
            stats.multivariate_normal(
                np.zeros(len(y)), np.exp(v) * 1.3 * C + T * np.eye(len(y))
            ).logpdf(y)
            for v in s
        ]
        close(ref, log_evidence_curve(kk, s, 1.3, T), 1e-10)
        close(ref, log_evidence_curve(kf, s, 1.3, T), 1e-10)


def test_training_error_vs_dense_gp(both):
    """ε_tr of the GP mode vs the closed form (1/P)[T² yᵀA⁻²y + T Tr(K A⁻¹)] with dense A."""
    kk, kf, _, _, _ = both
    X, y = kk.X, kk.y
    T, s2 = 0.05, [1.3, 0.8, 1.1]
    K = np.prod(s2) * X @ X.T / X.shape[1]
    A = K + T * np.eye(len(y))
    a = np.linalg.solve(A, y)
    ref = (T**2 * a @ a + T * np.trace(np.linalg.solve(A, K))) / len(y)
    for kern in (kk, kf):
        f = fit_kernel(kern, architecture([40, 25], s2, T), "gp")
        assert f.train_error() == pytest.approx(ref, rel=1e-9)


def test_t0_closed_forms_agree(both):
    kk, kf, *_ = both
    (ra, na), (rb, nb) = r_tilde(kk), r_tilde(kf)
    assert na == nb
    assert rb == pytest.approx(ra, rel=1e-8)
    Ua, _ = t0_solution(ra, na, [30, 50], 1.2)
    Ub, _ = t0_solution(rb, nb, [30, 50], 1.2)
    assert Ub == pytest.approx(Ua, rel=1e-8)


def test_sweeps_agree(both):
    kk, kf, Xt, yt, _ = both
    widths = [[60], [60, 30], [10, 20, 30], [200, 200]]
    s2 = [1.0, [1, 2, 0.5], 0.9, 1.4]
    T = [0.05, 0.3, 0.1, 0.01]
    a, b = solve_points(kk, widths, s2, T), solve_points(kf, widths, s2, T)
    for name in ("logU", "G", "u", "action", "log_evidence"):
        close(getattr(a, name), getattr(b, name))
    s1 = np.array([1.0, 1.0, 0.9, 1.4])
    ea = errors_points(kk, np.exp(a.logU), s1, np.array(T), Xt, yt)
    eb = errors_points(kf, np.exp(b.logU), s1, np.array(T), Xt, yt)
    for key in ea:
        close(ea[key], eb[key])
    ga = sweep_grid(
        kk, L=[1, 3], N=[20, 75], sigma2=[0.6, 1.7], T=[0.05, 0.3], X_test=Xt, y_test=yt
    )
    gb = sweep_grid(
        kf, L=[1, 3], N=[20, 75], sigma2=[0.6, 1.7], T=[0.05, 0.3], X_test=Xt, y_test=yt
    )
    for name in ("U", "log_evidence", "eps_g", "variance"):
        close(ga[name].values, gb[name].values)


def test_auto_path_and_bad_paths():
    X, y, Xt, _ = problem(40, 20)
    assert base_kernel(X, y).path == "feature"  # N0 < P
    assert base_kernel(X[:15], y[:15]).path == "kernel"  # N0 >= P
    assert fit(X, y, [30], 1.0, 0.1).kernel.path == "feature"
    assert fit(X, y, [30], 1.0, 0.1, path="kernel").kernel.path == "kernel"
    with pytest.raises(InputError, match="path must be one of auto, kernel, feature"):
        fit(X, y, [30], path="dual")
    with pytest.raises(InputError, match="linear networks only"):
        fit(X, y, [30], activation="relu", path="feature")
    assert fit(X, y, [30], activation="relu").kernel.path == "kernel"


def test_projections_computed_once_per_test_set():
    X, y, Xt, yt = problem(40, 20)
    kern = base_kernel(X, y)
    p1 = kern.project(Xt)
    assert kern.project(Xt.copy()) is p1  # same content: cached
    f = fit_kernel(kern, architecture([30], 1.0, 0.1))
    f.errors(Xt, yt)
    f.predict(Xt)
    assert kern.project(Xt) is p1
    Xt2 = Xt.copy()
    Xt2[0, 0] += 1.0  # different content: recomputed
    p2 = kern.project(Xt2)
    assert p2 is not p1 and not np.allclose(p2.B[:, 0], p1.B[:, 0])
    np.testing.assert_array_equal(p2.B[:, 1:], p1.B[:, 1:])


def test_feature_path_at_many_samples_is_cheap_and_exact():
    """P = 3000 ≫ N0 = 15: the feature path equals the kernel path (which needs 3000×3000)."""
    X, y, Xt, yt = problem(3000, 15, n_test=40)
    kf = base_kernel(X, y)
    kk = base_kernel(X, y, path="kernel")
    assert kf.rank == kk.rank == 15 and kf.n_null == 2985
    arch = architecture([100, 100], 1.0, 0.05)
    a, b = fit_kernel(kk, arch), fit_kernel(kf, arch)
    assert b.log_evidence == pytest.approx(a.log_evidence, rel=RTOL)
    assert b.errors(Xt, yt)["eps_g"] == pytest.approx(a.errors(Xt, yt)["eps_g"], rel=RTOL)
