"""Monte Carlo engine checks (deep-perceptron-networks.md §6.3 items 11–12)."""

import functools
import json

import numpy as np
import pytest
from mc_reference import OBS_NAMES, tiny_observables, tiny_reference
from stats_helpers import assert_consistent, assert_detected, check

from deeprg.cli import main
from deeprg.data.patterns import forward_signs, random_patterns, teacher_data
from deeprg.perceptron.montecarlo import MCConfig, init_state, relaxation_time, run_mc
from deeprg.perceptron.montecarlo import engine as eng


def make(cfg, seed=0):
    rng = np.random.default_rng(seed)
    S0, SL = random_patterns(cfg.M, list(cfg.widths), rng)
    return init_state(cfg, S0, SL, rng)


def total_energy(st, cfg):
    h = eng.compute_fields(st.S, st.J, cfg.widths)
    return eng.layer_energies(st.S, h, cfg.widths, cfg.kappa, cfg.eps)[0].sum()


@pytest.mark.parametrize("move", ["pcn", "rotation"])
def test_cached_fields_and_incremental_energy(move):
    cfg = MCConfig(L=4, N=6, alpha=2.0, N_in=5, N_out=3, T=0.3, kappa=0.2, move=move)
    st = make(cfg)
    E0 = total_energy(st, cfg)
    counts = np.zeros(4, dtype=np.int64)
    steps = np.full(cfg.L, 0.4)
    dH = eng.mc_sweeps(
        st.S,
        st.J,
        st.h,
        cfg.widths,
        30,
        1 / cfg.T,
        cfg.kappa,
        cfg.eps,
        0 if move == "pcn" else 1,
        steps,
        counts,
        rng=np.random.default_rng(0),
    )
    np.testing.assert_allclose(st.h, eng.compute_fields(st.S, st.J, cfg.widths), atol=1e-12)
    assert total_energy(st, cfg) - E0 == pytest.approx(dH, abs=1e-9)
    assert counts[1] > 0 and counts[3] > 0
    # clamped boundaries never move
    rng = np.random.default_rng(0)
    S0, SL = random_patterns(cfg.M, list(cfg.widths), rng)
    np.testing.assert_array_equal(st.S[0, :, :5], S0)


def test_single_move_energy_differences():
    cfg = MCConfig(L=3, N=5, alpha=2.0, T=1.0)
    st = make(cfg, seed=3)
    w = cfg.widths
    buf = np.zeros(cfg.M)
    rng = np.random.default_rng(3)
    for _ in range(50):
        E0 = total_energy(st, cfg)
        ok, d = eng.flip_attempt(
            st.S, st.J, st.h, w, 1, 2, 3, 0.0, 0.0, 1.0, rng=rng
        )  # beta = 0: always accept
        assert ok and total_energy(st, cfg) - E0 == pytest.approx(d, abs=1e-10)
        E0 = total_energy(st, cfg)
        ok, d = eng.weight_attempt(
            st.S, st.J, st.h, w, 2, 1, 4, 0.0, 0.0, 1.0, 1, 0.5, buf, rng=rng
        )
        assert ok and total_energy(st, cfg) - E0 == pytest.approx(d, abs=1e-10)


def test_pcn_leaves_standard_normal_invariant_and_rotation_preserves_norms():
    cfg = MCConfig(L=2, N=20, alpha=1.0)
    st = make(cfg, seed=1)
    counts = np.zeros(4, dtype=np.int64)
    rng = np.random.default_rng(1)
    eng.mc_sweeps(
        st.S, st.J, st.h, cfg.widths, 200, 0.0, 0.0, 1.0, eng.MOVE_PCN, np.full(2, 0.5), counts,
        rng=rng,
    )  # fmt: skip
    J = st.J[:, :20, :20].ravel()
    n = J.size  # 800 entries, ~independent after 200 steps at r = 0.5
    assert abs(J.mean()) < 4 / np.sqrt(n)
    assert abs(J.var() - 1) < 4 * np.sqrt(2 / n)
    assert abs(np.mean(J**4) - 3) < 4 * np.sqrt(96 / n)
    st = make(cfg, seed=2)
    norms = np.linalg.norm(st.J, axis=2)
    eng.mc_sweeps(
        st.S, st.J, st.h, cfg.widths, 50, 2.0, 0.0, 1.0, eng.MOVE_ROTATION, np.full(2, 0.5), counts,
        rng=rng,
    )  # fmt: skip
    np.testing.assert_allclose(np.linalg.norm(st.J, axis=2), norms, rtol=1e-12)


def test_zero_temperature_small_alpha_reaches_zero_energy():
    ds = run_mc(
        MCConfig(L=3, N=30, alpha=0.3, T=0.0, t_w=50, steps=50, samples=2, seed=4), progress=False
    )
    assert float(ds["energy"].isel(time=-1).sum("wlayer").max()) == 0.0


def test_student_equal_to_teacher_has_zero_energy_and_eps_g():
    rng = np.random.default_rng(5)
    cfg = MCConfig(L=3, N=7, alpha=3.0, scenario="teacher")
    S0, SL, Jt = teacher_data(cfg.M, list(cfg.widths), rng)
    st = init_state(cfg, S0, SL, rng)
    layers = forward_signs(Jt, S0)
    for l in range(cfg.L + 1):
        st.S[l, :, :7] = layers[l]
    for l in range(cfg.L):
        st.J[l, :7, :7] = Jt[l]
    assert total_energy(st, cfg) == 0.0
    # a random student: teacher overlaps near 0
    ds = run_mc(
        MCConfig(
            L=3, N=20, alpha=1.0, scenario="teacher", T=1.0, t_w=0, steps=2, samples=2, seed=6
        ),
        progress=False,
    )
    assert abs(float(ds["Q_ts"].isel(time=0).mean())) < 0.15


TINY = MCConfig(L=2, N=2, N_in=2, N_out=1, alpha=1.0, T=1.0, move="pcn", r=0.8)


@functools.cache
def tiny_exact(beta=1.0):
    st = make(TINY, seed=7)
    return tiny_reference(st.S[0, :, :2].copy(), st.S[2, :, :1].copy(), beta=beta)


def sample_tiny(beta, n_samp=20_000, every=2, burn=200, seed=11):
    """Trace of the tiny system's observables (mc_reference.OBS_NAMES) from the pCN engine run
    at inverse temperature ``beta`` (the right sampler: beta = 1/T = 1)."""
    st = make(TINY, seed=7)
    w = TINY.widths
    counts = np.zeros(4, dtype=np.int64)
    steps = np.full(2, TINY.r)
    rng = np.random.default_rng(seed)
    eng.mc_sweeps(st.S, st.J, st.h, w, burn, beta, 0.0, 1.0, eng.MOVE_PCN, steps, counts, rng=rng)
    trace = np.empty((n_samp, len(OBS_NAMES)))
    for k in range(n_samp):
        eng.mc_sweeps(
            st.S, st.J, st.h, w, every, beta, 0.0, 1.0, eng.MOVE_PCN, steps, counts, rng=rng
        )
        H = eng.layer_energies(st.S, st.h, w, 0.0, 1.0)[0].sum()
        trace[k] = tiny_observables(st.S, st.J, H)
    return trace


def check_tiny(trace):
    """Hidden-spin distribution, energy and weight norm vs the exact T = 1 averages (z from the
    measured τ_int, joint batch-means T²)."""
    ref, ref_se = tiny_exact(1.0)
    return check(trace, ref, ref_se, names=OBS_NAMES)


def test_tiny_system_matches_exact_gibbs_distribution():
    """L = 2, widths (2, 2, 1), M = 2, T = 1: the 16 hidden-spin probabilities, ⟨H⟩ and ⟨ΣJ²⟩
    vs enumeration × importance sampling of the Gaussian-prior weights (pCN ensemble)."""
    assert_consistent(check_tiny(sample_tiny(1.0)))


@pytest.mark.parametrize("beta", [0.5, 2.0, 0.0], ids=["T_x2", "T_half", "energy_ignored"])
def test_negative_control_tiny_check_fails_for_a_wrong_sampler(beta):
    """The same check on the engine run at twice / half the temperature or at β = 0 (energy
    ignored) must fail: the test above can tell a wrong sampler from the right one."""
    assert_detected(check_tiny(sample_tiny(beta)))


def teacher_L1_eps_g(T, alphas=(1.0, 2.0), samples=12):
    """(samples, len(alphas)) final-time ε_g of L = 1 teacher–student MC (N = 16), one
    independent disorder sample (teacher, patterns, start) per row."""
    out = []
    for a in alphas:
        cfg = MCConfig(
            L=1, N=16, alpha=a, T=T, scenario="teacher", move="rotation", t_w=500, steps=500,
            n_times=3, samples=samples, seed=5 + int(10 * a),
        )  # fmt: skip
        out.append(run_mc(cfg, progress=False)["eps_g"].isel(time=-1).values)
    return np.stack(out, axis=1)


def check_gibbs_learning(eps, alphas=(1.0, 2.0)):
    from deeprg.perceptron.replica import solve_rs

    ref = [solve_rs(1, a, scenario="teacher").eps_g for a in alphas]
    return check(eps, ref, names=[f"eps_g(alpha={a})" for a in alphas], independent=True)


@pytest.mark.statistical
def test_L1_teacher_mc_is_gibbs_learning():
    """L = 1 teacher–student MC at T = 0.01 (≈ version-space sampling) vs the replica
    Gibbs-learning ε_g at α = 1, 2 (12 independent samples each; z from their spread)."""
    assert_consistent(check_gibbs_learning(teacher_L1_eps_g(0.01)))


@pytest.mark.statistical
def test_negative_control_gibbs_learning_check_fails_when_energy_is_ignored():
    """The same check on the MC run at T = 10 (10³ × T: the data barely constrain the
    student) must fail. (T × 2 or × ½ around T = 0.01 is the same version-space sampling
    in the theory as well, so it is no negative control here.)"""
    assert_detected(check_gibbs_learning(teacher_L1_eps_g(10.0)))


def test_relaxation_time_on_synthetic_curves():
    t = np.geomspace(1, 1000, 30)
    c = np.exp(-t / 50.0)
    assert relaxation_time(t, c) == pytest.approx(50.0, rel=0.05)
    assert relaxation_time(t, np.ones_like(t)) is None


def test_store_resume_gives_identical_results(tmp_path):
    cfg = MCConfig(L=3, N=6, alpha=2.0, T=0.2, t_w=4, steps=16, samples=3, seed=9)
    a = run_mc(cfg, progress=False)
    b = run_mc(cfg, store=tmp_path, progress=False)
    (tmp_path / "sample_00001.npz").unlink()  # as if killed before sample 1 finished
    c = run_mc(cfg, store=tmp_path, progress=False)
    np.testing.assert_array_equal(a["q"].values, b["q"].values)
    np.testing.assert_array_equal(a["q"].values, c["q"].values)


def test_mc_cli_json(capsys):
    with pytest.raises(SystemExit) as exc:
        main(
            [
                "mc",
                "--L",
                "3",
                "--N",
                "6",
                "--alpha",
                "2",
                "--T",
                "0.2",
                "--steps",
                "16",
                "--samples",
                "2",
                "--json",
            ]
        )
    assert exc.value.code == 0
    out = json.loads(capsys.readouterr().out)
    for k in ("energy_final", "violations_final", "q", "Q", "tau"):
        assert k in out
    assert len(out["q"]) == 4 and len(out["Q"]) == 3 and len(out["tau"]) == 4


@pytest.mark.slow
def test_L1_capacity_below_two_at_large_N():
    """L = 1 at T = 0 (a spherical perceptron, N = 200): the soft-core energy per gap goes to 0
    well below α = 2 and stays finite above it. (At T = 0 the soft potential lets gaps approach
    0 from below only asymptotically, so the energy, not the count of r < 0, is the criterion.)"""

    def energy_per_gap(alpha):
        cfg = MCConfig(
            L=1,
            N=200,
            alpha=alpha,
            T=0.0,
            move="rotation",
            theta_max=0.2,
            t_w=200,
            steps=2,
            samples=2,
            seed=1,
        )
        ds = run_mc(cfg, progress=False)
        return ds["energy"].isel(time=-1).sum("wlayer").values / (cfg.N * cfg.M)

    assert np.all(energy_per_gap(0.8) < 1e-7)
    assert np.all(energy_per_gap(3.0) > 1e-3)
