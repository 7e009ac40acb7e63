"""Message passing on single instances (docs/theory/perceptron.md §6): the L = 1 Gibbs-learning
limit, starts, negative controls, the CLI and the Dataset schema."""

from __future__ import annotations

import json

import numpy as np
import pytest

from deeprg.errors import InputError
from deeprg.perceptron.mp import MPConfig, solve
from deeprg.perceptron.mp.bp import channel
from deeprg.perceptron.replica import solve_rs


def _l1(alpha: float, **kw: object) -> MPConfig:
    """Four independent perceptrons of c = 500 inputs (L = 1)."""
    return MPConfig(L=1, N=4, N_in=500, c=500, alpha=alpha, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("alpha", [1.0, 2.0, 4.0])
def test_l1_matches_gibbs_learning(alpha: float) -> None:
    """Q(α) of BP = the Gibbs-learning overlap R(α) of the replica theory (finite-c error
    ≈ √(R(1 − R)/(4c)) ≈ 0.01), and the Nishimori identity Q = Q_self holds."""
    res = solve(_l1(alpha))
    R = float(solve_rs(1, alpha, scenario="teacher").Q[0])
    assert res.converged
    assert abs(res.Q[0] - R) < 0.03
    assert res.nishimori_gap < 0.03


def test_l1_starts_reach_one_fixed_point() -> None:
    """Planted, weakly biased and random starts give the same fixed point (RS phase)."""
    Qs = [solve(_l1(2.0, init=s)).Q[0] for s in ("planted", "biased", "random")]
    assert max(Qs) - min(Qs) < 1e-3


def test_random_io_l1_matches_gardner() -> None:
    """Random I/O, L = 1 (below capacity): the self-overlap is the RS q of the spherical
    perceptron (Gardner)."""
    res = solve(_l1(1.0, scenario="random"))
    assert res.converged
    assert abs(res.Q[0] - float(solve_rs(1, 1.0).Q[0])) < 0.03


def test_random_io_deep_liquid() -> None:
    """Random I/O, L = 3 below the first freezing (α = 1 < π²/4): BP converges to the liquid,
    Q = q = 0 inside, as the replica theory says."""
    res = solve(MPConfig(L=3, N=64, c=16, alpha=1.0, scenario="random"))
    assert res.converged
    assert np.abs(res.Q).max() < 0.02 and np.abs(res.q[1:-1]).max() < 0.02


@pytest.mark.slow
def test_deep_starts_reach_one_fixed_point() -> None:
    """L = 2 teacher with the side field: planted, biased and random starts agree."""
    Qs = [
        solve(MPConfig(L=2, N=128, c=16, alpha=3.0, init=s, max_iter=400)).Q
        for s in ("planted", "biased", "random")
    ]
    assert np.ptp(np.array(Qs), axis=0).max() < 0.01


def test_reproduction_tiny(tmp_path) -> None:
    """The reproduction's dataset (tiny size) carries the schema and draws its figure from the
    saved file."""
    from deeprg.experiments.perceptron_mp_repro import plot, run
    from deeprg.results import read_dataset, write_dataset
    from deeprg.schema import missing_attrs

    res = run("tiny", 0, tmp_path)
    assert missing_attrs(res.dataset) == []
    path = write_dataset(res.dataset, tmp_path / "mp.nc")
    assert plot(read_dataset(path), tmp_path / "mp.png").exists()
    assert "Q(1)/Q(L)" in res.summary


def test_wrong_margin_fails_the_check() -> None:
    """Negative control: a student assuming κ = 0.5 for a κ = 0 teacher is not Bayes optimal;
    its overlap leaves the Gibbs-learning value or the Nishimori identity breaks."""
    res = solve(_l1(2.0, kappa=0.5, max_iter=100))
    R = float(solve_rs(1, 2.0, scenario="teacher").Q[0])
    assert abs(res.Q[0] - R) > 0.05 or res.nishimori_gap > 0.05


def test_channel_derivatives() -> None:
    """g and g' of the channel are the derivatives of ln Z (finite differences)."""
    from scipy.special import log_ndtr

    omega, V, w, k = np.array([0.3, -1.2]), np.array([0.5, 0.2]), np.array([0.7, 0.2]), 0.1

    def lnZ(o: np.ndarray) -> np.ndarray:
        sd = np.sqrt(V)
        return np.logaddexp(
            np.log(w) + log_ndtr((o - k) / sd), np.log1p(-w) + log_ndtr((-o - k) / sd)
        )

    h = 1e-5
    g, dg, _ = channel(omega, V, w, k)
    assert np.allclose(g, (lnZ(omega + h) - lnZ(omega - h)) / (2 * h), atol=1e-6)
    g_fd = (channel(omega + h, V, w, k)[0] - channel(omega - h, V, w, k)[0]) / (2 * h)
    assert np.allclose(dg, g_fd, atol=1e-5)


def test_config_errors() -> None:
    with pytest.raises(InputError, match="c must be"):
        MPConfig(N=8, c=16)
    with pytest.raises(InputError, match="teacher"):
        MPConfig(scenario="random", init="planted")


def _cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[object, str, str]:
    from deeprg.cli import main

    with pytest.raises(SystemExit) as exc:
        main(args)
    out = capsys.readouterr()
    return exc.value.code, out.out, out.err


def test_cli_json_and_dataset(tmp_path, capsys) -> None:
    from deeprg.results import read_dataset
    from deeprg.schema import missing_attrs

    out = tmp_path / "mp.nc"
    args = ["mp", "--L", "1", "--N", "4", "--N-in", "200", "--c", "200", "--alpha", "2"]
    code, stdout, _ = _cli([*args, "--json", "--out", str(out)], capsys)
    assert code in (0, None)
    d = json.loads(stdout)
    assert {"Q", "q", "converged", "iterations", "residual", "nishimori_gap"} <= set(d)
    ds = read_dataset(out)
    assert missing_attrs(ds) == []
    assert "config_hash" in ds.attrs
    assert ds["Q"].dims == ("wlayer",) and ds["q"].dims == ("layer",)


def test_cli_bad_input_and_not_converged(capsys) -> None:
    code, _, err = _cli(["mp", "--N", "8", "--c", "16"], capsys)
    assert code == 2 and "c must be" in err and len(err.strip().splitlines()) == 1
    args = ["mp", "--L", "1", "--N", "4", "--N-in", "100", "--c", "100", "--max-iter", "3"]
    code, out, _ = _cli(args, capsys)
    assert "NOT converged" in out


def _shared_instance(L: int, N: int, c: int, M: int, seed: int):
    """One planted instance in both representations: the slaved sampler's wiring and state,
    and the message-passing Instance (no side field)."""
    from deeprg.data.patterns import forward_signs, teacher_network
    from deeprg.perceptron.montecarlo.slaved import SlavedState, compact_weights, masks, wiring
    from deeprg.perceptron.mp.bp import Instance

    rng = np.random.default_rng(seed)
    w = np.full(L + 1, N)
    wr = wiring(w, c, rng)
    teacher = teacher_network(list(w), rng, masks(wr))
    S0 = rng.choice(np.array([-1, 1], dtype=np.int8), size=(M, N))
    layers = forward_signs(teacher, S0)
    Jt = compact_weights(wr, teacher)
    inst = Instance(
        tuple(np.ascontiguousarray(wr.conn[l, :N, :c]) for l in range(L)),
        tuple(int(x) for x in w),
        layers[0].T.astype(float),
        layers[-1].T.astype(float),
        0.0,
        tuple(Jt[l, :N, :c].copy() for l in range(L)),
        tuple(S.T.astype(float) for S in layers),
        tuple(np.zeros((N, M)) for _ in range(L - 1)),
    )
    return wr, SlavedState.build(wr, Jt.copy(), S0, layers[-1]), Jt, inst, rng


def test_small_c_against_planted_slaved_monte_carlo() -> None:
    """c = 8, L = 1, α = 2 (documented in docs/validation.md): BP's teacher overlap vs the
    planted slaved-neuron sampler on the same 4 instances. Measured: BP 0.730, MC 0.747
    (difference −0.017 ± 0.004, the Gaussian closure's error at c = 8)."""
    from deeprg.perceptron.montecarlo.slaved import sweep
    from deeprg.perceptron.mp.bp import init_state, step

    diffs = []
    for s in range(4):
        wr, state, Jt, inst, rng = _shared_instance(1, 32, 8, 16, 100 + s)
        st = init_state(inst, "planted", 0.1, rng)
        for _ in range(300):
            st, info = step(inst, st, 0.7)
            if info.residual < 1e-5:
                break
        q_bp = np.mean((st.a[0] * inst.teacher[0]).sum(axis=1)) / 8  # type: ignore[index]
        sweep(state, wr, 200, rng)
        acc = []
        for _ in range(20):
            sweep(state, wr, 20, rng)
            acc.append(np.mean((state.J[0, :32, :8] * Jt[0, :32, :8]).sum(axis=1)) / 8)
        diffs.append(q_bp - np.mean(acc))
    assert abs(np.mean(diffs)) < 0.05


def test_sweep_experiment() -> None:
    """The sweep experiment ``mp`` takes MPConfig's fields and returns the JSON summary."""
    from deeprg.sweep.registry import get_experiment

    exp = get_experiment("mp")
    out = exp.fn(L=1, N=2, N_in=100, c=100, alpha=1.0)
    assert out["converged"] and len(out["Q"]) == 1 and len(out["q"]) == 2


def test_cavity_and_node_forms_agree_to_first_order() -> None:
    """The cavity-neuron form (§6.8) and the GAMP node form (§6.3) are the same expansion to
    first order in the single messages: where those are small (α = 2) their fixed points differ
    by O(1/c) — below 0.02 at c = 32 and smaller than at c = 16 (measured 0.016 → 0.007)."""

    def gap(c: int) -> float:
        runs = [solve(MPConfig(L=2, N=8 * c, c=c, alpha=2.0, neurons=n)) for n in ("cavity", "amp")]
        assert all(r.converged for r in runs)
        return float(np.abs(runs[0].Q - runs[1].Q).max())

    g16, g32 = gap(16), gap(32)
    assert g32 < 0.02 and g32 < 0.75 * g16


@pytest.mark.slow
def test_cavity_form_converges_where_node_form_wanders() -> None:
    """L = 3, α = 10, c = 24: single messages are O(1) and the node form wanders without a
    fixed point (residual ~2e-2 for ever); the cavity form converges, to overlaps within the
    O(1/c) difference of the two forms (measured 0.038)."""
    kw = {"L": 3, "N": 192, "c": 24, "alpha": 10.0, "max_iter": 800}
    cav = solve(MPConfig(**kw))  # type: ignore[arg-type]
    node = solve(MPConfig(**kw, neurons="amp"))  # type: ignore[arg-type]
    assert cav.converged and not node.converged
    assert node.residual > 50 * cav.residual
    assert np.abs(cav.Q - node.Q).max() < 0.05


def test_simd_tanh_matches_numpy() -> None:
    """The branch-free tanh of the cavity kernels (range reduction, polynomial, exponent bits)
    against NumPy's, over 40 orders of magnitude of |y|, both signs and the saturated tail."""
    from deeprg.perceptron.mp.cavity import _tanh_row

    rng = np.random.default_rng(3)
    y = np.concatenate(
        [
            rng.normal(0, 3, 5000),
            np.sign(rng.normal(size=2000)) * 10.0 ** rng.uniform(-40, 3, 2000),
            [0.0, -0.0, 19.9, 20.1, -1e300, 1e300, np.log(2) / 4, -np.log(2) / 4],
        ]
    )
    out = np.empty_like(y)
    _tanh_row(y, out, np.empty_like(y))
    assert np.abs(out - np.tanh(y)).max() <= 4e-16
    small = np.abs(y) < 1e-3
    assert np.allclose(out[small], np.tanh(y[small]), rtol=1e-15, atol=0)  # relative, near 0


def test_channel_linear_and_log_space_agree() -> None:
    """The channel's linear-space fast path (one erfc at κ = 0) against its log-space form,
    including the clamped outputs w = 0, 1, a tiny w and far tails (log space taken there)."""
    from numba import njit

    from deeprg.perceptron.mp.bp import _channel_log

    @njit
    def log_space(om, V, w, kappa):  # type: ignore[no-untyped-def]
        out = np.empty((3, om.size))
        for e in range(om.size):
            sd = np.sqrt(V[e])
            xp, xm = (om[e] - kappa) / sd, (-om[e] - kappa) / sd
            out[0, e], out[1, e], out[2, e] = _channel_log(xp, xm, w[e], sd, V[e])
        return out

    rng = np.random.default_rng(4)
    n = 20000
    om, V, w = rng.normal(0, 3, n), rng.uniform(0.01, 0.5, n), rng.uniform(0, 1, n)
    w[:500], w[500:1000], w[1000:1500] = 0.0, 1.0, 1e-300
    om[1500:2000] = rng.normal(0, 30, 500)
    for kappa in (0.0, 0.3):
        fast = np.array(channel(om, V, w, kappa))
        ref = log_space(om, V, w, kappa)
        assert np.isfinite(fast).all()
        assert np.allclose(fast, ref, rtol=1e-11, atol=1e-12)


def test_cavity_constraint_pass_against_numpy() -> None:
    """One compiled pass over the constraints of a hidden weight layer (§6.8) against a NumPy
    transcription of its formulas: cavity magnetizations, channel, damped messages, row sums."""
    from deeprg.perceptron.mp.cavity import _constraints

    rng = np.random.default_rng(5)
    n, n_in, c, M, d, kappa = 12, 10, 4, 7, 0.3, 0.2
    conn = np.stack([rng.choice(n_in, c, replace=False) for _ in range(n)])
    a, v = rng.normal(size=(n, c)), rng.uniform(0.01, 0.3, (n, c))
    h, H = rng.normal(0, 0.5, (n, c, M)), rng.normal(0, 1.5, (n_in, M))
    g_old, dg_old, wp = (
        rng.normal(size=(n, M)),
        -rng.uniform(0, 1, (n, M)),
        rng.uniform(0, 1, (n, M)),
    )
    h_in = h.copy()
    g, dg, u, sums = _constraints(conn, a, v, h, H, g_old, dg_old, wp, kappa, d)

    x = np.tanh(H[conn] - h_in)  # (n, c, M)
    A, Vw = a[:, :, None], v[:, :, None]
    omega = (A * x).sum(1) / np.sqrt(c) - g_old * (Vw * x**2).sum(1) / c
    var = (Vw + A**2 * (1 - x**2)).sum(1) / c
    g_ref, dg_ref, u_ref = channel(omega, var, wp, kappa)
    new = (
        A * g_ref[:, None] / np.sqrt(c)
        - x * (A**2 * dg_ref[:, None] + Vw * g_ref[:, None] ** 2) / c
    )
    gd, dgd = d * g_old + (1 - d) * g_ref, d * dg_old + (1 - d) * dg_ref
    sums_ref = [
        (x * gd[:, None]).sum(-1),
        (x**2 * dgd[:, None]).sum(-1),
        ((1 - x**2) * gd[:, None] ** 2).sum(-1),
    ]
    for got, ref in zip(
        (g, dg, u, h, *sums),
        (g_ref, dg_ref, u_ref, d * h_in + (1 - d) * new, *sums_ref),
        strict=True,
    ):
        np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-13)


def test_reproduction_grid_does_not_depend_on_workers() -> None:
    """The reproduction's grid run in two processes (costliest point first) gives the same
    arrays, point by point, as the serial run."""
    from deeprg.experiments.perceptron_mp_repro import _bp

    args = ([2, 3], [2.0], [6, 8], 1, 0, 30)
    one, two = _bp(*args, workers=1), _bp(*args, workers=2)
    for key in ("Q", "q", "Q_self", "residual", "iterations", "converged"):
        np.testing.assert_array_equal(one[key], two[key])


def test_reproduction_resumes_from_finished_points(tmp_path, monkeypatch) -> None:
    """An interrupted grid resumes: finished points are read back (the solver is not called
    again) with the same values; a point file recorded under another configuration is refused
    in one line."""
    import deeprg.perceptron.mp as mp_pkg
    from deeprg.experiments.perceptron_mp_repro import _bp
    from deeprg.results import save_checkpoint

    args = ([2], [2.0], [6, 8], 1, 0, 30)
    first = _bp(*args, workers=1, points=tmp_path)
    files = sorted(tmp_path.glob("*.npz"))
    assert len(files) == 2

    def refuse(cfg):  # type: ignore[no-untyped-def]
        raise AssertionError("solved again")

    monkeypatch.setattr(mp_pkg, "solve", refuse)
    again = _bp(*args, workers=1, points=tmp_path)
    for key in ("Q", "q", "residual", "iterations"):
        np.testing.assert_array_equal(first[key], again[key])

    other = MPConfig(L=2, N=48, c=6, alpha=3.0)  # a different point's result under this name
    target = files[0]
    save_checkpoint(target, solve(MPConfig(L=2, N=48, c=6, alpha=2.0, max_iter=2)), other)
    with pytest.raises(InputError, match=r"finished point .* alpha"):
        _bp(*args, workers=1, points=tmp_path)


def test_a_plateau_stops_early_and_says_so() -> None:
    """L = 3, c = 16, α = 10 sits on a residual plateau (~4e-3): with ``stall`` the run stops
    once its best residual has not fallen by 10 % from one window to the next and reports it;
    with stall = 0 (the default) the same run goes to max_iter. A converging run is not
    flagged."""
    kw = {"L": 3, "N": 128, "c": 16, "alpha": 10.0}
    r = solve(MPConfig(**kw, stall=60, max_iter=400))  # type: ignore[arg-type]
    assert r.stalled and not r.converged and r.iterations < 400
    full = solve(MPConfig(**kw, stall=0, max_iter=r.iterations + 40))  # type: ignore[arg-type]
    assert not full.stalled and full.iterations == r.iterations + 40 and not full.converged
    ok = solve(_l1(2.0, stall=60))
    assert ok.converged and not ok.stalled


def test_forward_and_parallel_schedules_reach_one_fixed_point() -> None:
    """The forward schedule (each layer's constraints see the upstream fields just sent from
    below, damping 0.5) and the parallel one (damping 0.7) are two iterations of the same
    equations: one fixed point, the forward one in fewer iterations (measured 107 vs 164)."""
    kw = {"L": 4, "N": 128, "c": 16, "alpha": 5.0}
    fwd = solve(MPConfig(**kw))  # type: ignore[arg-type]
    par = solve(MPConfig(**kw, schedule="parallel"))  # type: ignore[arg-type]
    assert fwd.converged and par.converged
    assert np.abs(fwd.Q - par.Q).max() < 2e-3 and np.abs(fwd.q - par.q).max() < 2e-3
    assert fwd.iterations < par.iterations


def test_adaptive_damping_rescues_an_oscillating_instance() -> None:
    """An instance that oscillates at damping 0.5 (L = 3, c = 16, α = 5, the reproduction's
    seed): with damping fixed at 0.5 it does not converge in 500 iterations; the default
    iteration raises the damping on the plateau and converges, to the parallel schedule's
    fixed point."""
    from deeprg.seeds import derive_seed

    kw = {"L": 3, "N": 128, "c": 16, "alpha": 5.0, "seed": derive_seed(0, 3, 50, 16, 0)}
    fixed = solve(MPConfig(**kw, damping=0.5))  # type: ignore[arg-type]
    adapt = solve(MPConfig(**kw))  # type: ignore[arg-type]
    par = solve(MPConfig(**kw, schedule="parallel"))  # type: ignore[arg-type]
    assert not fixed.converged and fixed.damping == 0.5
    assert adapt.converged and adapt.damping > 0.5
    assert np.abs(adapt.Q - par.Q).max() < 2e-3
