"""Sparse c-regular connectivity, parallel tempering, in-sample checkpoints, overlap
histograms and the ultrametricity test (deep-perceptron-networks.md §2.1, §5.2, §5.6)."""

import functools

import numpy as np
import pytest
from mc_reference import OBS_NAMES, tiny_observables, tiny_reference
from stats_helpers import assert_consistent, assert_detected, check

from deeprg.data.patterns import random_patterns
from deeprg.errors import InputError
from deeprg.perceptron.montecarlo import (
    MCConfig,
    init_state,
    make_graph,
    overlap_histogram,
    run_mc,
    simulate_sample,
    ultrametric_statistics,
    ultrametricity,
)
from deeprg.perceptron.montecarlo import engine as eng


def make(cfg, seed=0):
    rng = np.random.default_rng(seed)
    g = make_graph(cfg, rng)
    S0, SL = random_patterns(cfg.M, list(cfg.widths), rng)
    return init_state(cfg, S0, SL, rng, g), g


def energy(st, cfg, g):
    h = eng.compute_fields(st.S, st.J, cfg.widths, g)
    return eng.layer_energies(st.S, h, cfg.widths, cfg.kappa, cfg.eps)[0].sum()


def test_random_graph_structure():
    w = np.array([9, 12, 12, 7])
    g = eng.random_graph(w, 5, np.random.default_rng(0))
    for l in range(1, 4):
        m = g.mask(l, w)
        assert m.shape == (w[l], w[l - 1])
        np.testing.assert_array_equal(m.sum(1), 5)  # c distinct inputs per unit
        # reverse lists: exactly the units reading j, in increasing order
        for j in range(w[l - 1]):
            readers = g.rk[l - 1, g.rptr[l - 1, j] : g.rptr[l - 1, j + 1]]
            np.testing.assert_array_equal(readers, np.flatnonzero(m[:, j]))


@pytest.mark.parametrize("move", ["pcn", "rotation"])
def test_sparse_cached_fields_energy_and_graph_preserved(move):
    cfg = MCConfig(L=4, N=10, c=4, alpha=2.0, N_in=8, N_out=5, T=0.4, kappa=0.1, move=move)
    st, g = make(cfg, seed=1)
    w = cfg.widths
    assert cfg.M == 8  # alpha * c
    norms = np.linalg.norm(st.J, axis=2)
    E0 = energy(st, cfg, g)
    counts = np.zeros(4, dtype=np.int64)
    dH = eng.mc_sweeps(
        st.S,
        st.J,
        st.h,
        w,
        40,
        1 / cfg.T,
        cfg.kappa,
        cfg.eps,
        eng.MOVES_BY_NAME[move],
        np.full(cfg.L, 0.5),
        counts,
        g,
        rng=np.random.default_rng(1),
    )
    np.testing.assert_allclose(st.h, eng.compute_fields(st.S, st.J, w, g), atol=1e-12)
    assert energy(st, cfg, g) - E0 == pytest.approx(dH, abs=1e-9)
    assert counts[1] > 0 and counts[3] > 0
    for l in range(1, cfg.L + 1):  # weights stay on the graph
        off = ~g.mask(l, w)
        assert np.all(st.J[l - 1, : w[l], : w[l - 1]][off] == 0.0)
    if move == "rotation":
        np.testing.assert_allclose(np.linalg.norm(st.J, axis=2), norms, rtol=1e-12)


def test_sparse_path_with_c_equal_n_is_the_dense_dynamics():
    """A 'sparse' graph with every input present runs the sparse kernels; it must reproduce the
    dense kernels bit for bit (same random numbers, same summation order)."""
    cfg = MCConfig(L=3, N=6, alpha=2.0, T=0.5)
    w = cfg.widths
    a, gd = make(cfg, seed=2)
    b = a.copy()
    gs = eng._build(w, [np.tile(np.arange(w[l - 1]), (w[l], 1)) for l in range(1, 4)], True)
    for st, g in ((a, gd), (b, gs)):
        eng.mc_sweeps(
            st.S,
            st.J,
            st.h,
            w,
            20,
            2.0,
            0.0,
            1.0,
            eng.MOVE_PCN,
            np.full(3, 0.3),
            np.zeros(4, dtype=np.int64),
            g,
            rng=np.random.default_rng(5),
        )
    np.testing.assert_array_equal(a.S, b.S)
    np.testing.assert_array_equal(a.J, b.J)


def test_c_validation_and_alpha_definition():
    with pytest.raises(InputError, match="c must be"):
        MCConfig(N=10, c=11).validate()
    with pytest.raises(InputError, match="needs T > 0"):
        MCConfig(T=0.0, pt_n=4).validate()
    with pytest.raises(InputError, match="pt_T_max"):
        MCConfig(T=2.0, pt_n=4, pt_T_max=1.0).validate()
    assert MCConfig(N=40, c=10, alpha=3.0).M == 30


PT_CFG = MCConfig(L=2, N=2, N_in=2, N_out=1, alpha=1.0, T=1.0, r=0.8, pt_n=4, pt_T_max=4.0)


def sample_tiny_pt(beta_scale=1.0, n_samp=20_000, burn=200):
    """Trace of the T = 1 member's observables (mc_reference.OBS_NAMES) in a 4-temperature
    ladder up to T = 4; ``beta_scale`` multiplies every β of the ladder (1: the right sampler).
    Returns (trace, swap counts)."""
    from deeprg.perceptron.montecarlo import Dynamics, Ensemble, Model

    PT_CFG.validate()
    w = PT_CFG.widths
    ens = Ensemble([make(PT_CFG, seed=7)[0] for _ in range(4)])
    betas = beta_scale / PT_CFG.temperatures
    dyn = Dynamics.init(PT_CFG, Model.from_config(PT_CFG, eng.dense_graph(w)))
    rng = np.random.default_rng(3)
    dyn.step(ens, burn, betas, rng)
    trace = np.empty((n_samp, len(OBS_NAMES)))
    for k in range(n_samp):
        dyn.step(ens, 2, betas, rng)
        st = ens.host
        H = eng.layer_energies(st.S, st.h, w, 0.0, 1.0)[0].sum()
        trace[k] = tiny_observables(st.S, st.J, H)
    return trace, dyn.swaps.counts


@functools.cache
def tiny_exact():
    st = make(PT_CFG, seed=7)[0]
    return tiny_reference(st.S[0, :, :2].copy(), st.S[2, :, :1].copy(), beta=1.0)


def check_tiny_pt(trace):
    ref, ref_se = tiny_exact()
    return check(trace, ref, ref_se, names=OBS_NAMES)


def test_parallel_tempering_samples_the_exact_gibbs_distribution():
    """Tiny system at T = 1 inside a 4-temperature ladder up to T = 4: the T = 1 member's
    hidden-spin distribution, energy and weight norm equal the exact averages (swaps keep
    detailed balance)."""
    trace, swaps = sample_tiny_pt()
    assert swaps[1].min() > 0.2 * swaps[0].min()  # swaps do happen
    assert_consistent(check_tiny_pt(trace))


@pytest.mark.parametrize("scale", [0.5, 2.0, 0.0], ids=["T_x2", "T_half", "energy_ignored"])
def test_negative_control_pt_check_fails_for_a_wrong_ladder(scale):
    """The same check on a ladder at twice / half the temperatures or at β = 0 must fail."""
    assert_detected(check_tiny_pt(sample_tiny_pt(scale)[0]))


def test_in_sample_checkpoint_resume_is_bit_identical(tmp_path):
    cfg = MCConfig(L=3, N=6, alpha=2.0, T=0.3, t_w=3, steps=20, n_times=6, clones=3, seed=1)
    a = simulate_sample(cfg, 123)
    ck = tmp_path / "s.ckpt.npz"
    b = simulate_sample(cfg, 123, checkpoint=ck, checkpoint_seconds=0.0)
    assert ck.exists()  # last checkpoint: before the final segment
    with np.load(ck) as f:
        assert 0 < int(f["k"]) < len(a["times"])
    c = simulate_sample(cfg, 123, checkpoint=ck, checkpoint_seconds=0.0)  # resumes
    for key in ("q", "Q", "q_pairs", "energy", "C"):
        np.testing.assert_array_equal(a[key], b[key])
        np.testing.assert_array_equal(a[key], c[key])


def test_pt_run_and_pair_overlaps():
    cfg = MCConfig(
        L=3,
        N=8,
        alpha=1.5,
        T=0.2,
        pt_n=3,
        pt_T_max=1.0,
        clones=3,
        t_w=4,
        steps=8,
        n_times=3,
        samples=3,
        seed=2,
    )
    ds = run_mc(cfg, progress=False)
    assert ds["q_pairs"].sizes["pair"] == 3
    np.testing.assert_array_equal(ds["q_pairs"].sel(pair="0-1").values, ds["q"].values)
    assert ds["pt_acceptance"].shape == (3, 2)
    assert np.all((ds["pt_acceptance"] >= 0) & (ds["pt_acceptance"] <= 1))
    np.testing.assert_allclose(ds["temperature"].values, [0.2, np.sqrt(0.2), 1.0])
    um = ultrametricity(ds)
    assert um["delta"].shape == (4,) and int(um["n_triangles"]) == 3
    from deeprg.perceptron.montecarlo import summary

    js = summary(ds)["ultrametricity"]  # the --json object carries the test with >= 3 clones
    np.testing.assert_allclose(js["delta"], um["delta"].values)
    P = overlap_histogram(ds, bins=20)
    np.testing.assert_allclose(P.sum("q") * 0.1, 1.0)  # normalized densities, bin width 0.1


def test_ultrametric_statistic_on_known_geometries():
    rng = np.random.default_rng(0)
    n = 4000
    # ultrametric: two equal smallest sides, a larger third one
    base = rng.uniform(0, 0.5, n)
    top = base + rng.uniform(0, 0.5, n)
    sides = np.stack([base, base, top], axis=1)[:, rng.permutation(3), None]
    d, K = ultrametric_statistics(sides)
    assert d[0] == 0.0 and K[0] == 0.0
    # independent uniform sides: Δ = E[mid − min] = 1/4, K = 1/2 exactly
    sides = rng.uniform(0, 1, (n, 3, 1))
    d, K = ultrametric_statistics(sides)
    assert d[0] == pytest.approx(0.25, abs=4 * np.sqrt(3 / 80 / n))
    assert K[0] == pytest.approx(0.5, abs=4 * np.sqrt(1 / 12 / n))


def _gauge_and_permute(st, w, rng, permute=True):
    """Random gauge flips (and permutations) of every hidden layer (exact symmetries, §2.4)."""
    from deeprg.perceptron.montecarlo import State

    S, J = st.S.copy(), st.J.copy()
    L = J.shape[0]
    for l in range(1, L):
        n = int(w[l])
        sg = rng.choice([-1, 1], size=n)
        pi = rng.permutation(n) if permute else np.arange(n)
        S[l, :, :n] = (S[l, :, :n] * sg)[:, pi]
        J[l - 1, :n, :] = (J[l - 1, :n, :] * sg[:, None])[pi]
        J[l, :, :n] = (J[l, :, :n] * sg[None, :])[:, pi]
    h = eng.compute_fields(S, J, w)
    return State(S, J, h)


def test_gauge_invariant_and_matched_overlaps_are_invariant():
    from deeprg.perceptron.montecarlo import invariant_overlaps, matched_overlaps, overlaps

    cfg = MCConfig(L=4, N=9, alpha=3.0, T=0.3)
    w = cfg.widths
    a, _ = make(cfg, seed=4)
    b = _gauge_and_permute(a, w, np.random.default_rng(1))
    assert energy(a, cfg, eng.dense_graph(w)) == pytest.approx(energy(b, cfg, eng.dense_graph(w)))
    r_aa, _ = invariant_overlaps(a, a, w)
    _, k_ab = invariant_overlaps(a, b, w)
    np.testing.assert_allclose(k_ab, 1.0, rtol=1e-12)  # kernels: gauge and permutation
    g = _gauge_and_permute(a, w, np.random.default_rng(2), permute=False)
    np.testing.assert_allclose(invariant_overlaps(a, g, w)[0], r_aa, rtol=1e-12)  # gaps: gauge
    q, Q = matched_overlaps(a.S, a.J, b.S, b.J, w)
    np.testing.assert_allclose(q, 1.0, rtol=1e-12)
    np.testing.assert_allclose(Q, 1.0, rtol=1e-12)
    q_site = overlaps(a, b, w)[0]
    assert np.all(q_site[1:-1] < 0.9)  # the site-wise overlap is not invariant


def test_split_runs_continue_the_same_stream_so_aging_shares_the_host_history():
    """run_aging relies on this: n MC steps in one call equal n1 then n − n1 steps under one
    seed, so the hosts of runs that differ only in t_w share their history."""
    cfg = MCConfig(L=3, N=6, alpha=2.0, T=0.4, move="rotation")
    w = cfg.widths
    a, g = make(cfg, seed=3)
    b = a.copy()
    c = np.zeros(4, dtype=np.int64)
    rng = np.random.default_rng(21)
    eng.mc_sweeps(a.S, a.J, a.h, w, 8, 2.5, 0.0, 1.0, 1, np.full(3, 0.3), c, g, rng)
    rng = np.random.default_rng(21)
    for n in (3, 5):
        eng.mc_sweeps(b.S, b.J, b.h, w, n, 2.5, 0.0, 1.0, 1, np.full(3, 0.3), c, g, rng)
    np.testing.assert_array_equal(a.S, b.S)
    np.testing.assert_array_equal(a.J, b.J)


def test_aging_family_and_monotone_decay():
    """§6.3 item 11: host–guest overlaps start at 1 and decay on average (here: the sample
    mean never rises by more than 3 standard errors between measurement times)."""
    from deeprg.perceptron.montecarlo import classify_layers, run_aging

    cfg = MCConfig(L=3, N=8, alpha=1.5, T=0.1, steps=64, n_times=7, samples=6, seed=4)
    ds = run_aging(cfg, [2, 16], progress=False)
    assert list(ds["t_w"].values) == [2, 16]
    q = ds["q"].sel(layer=[1, 2])
    m, se = q.mean("sample"), q.std("sample") / np.sqrt(6)
    rise = m.diff("time") - 3 * np.sqrt(se**2 + se.shift(time=1) ** 2).isel(time=slice(1, None))
    assert float(rise.max()) < 0
    assert float(m.isel(time=0).min()) > 0.5  # starts near 1
    assert classify_layers([1.0, 0.01, 0.3]) == ["solid", "liquid", "solid"]
