"""The composed Monte Carlo engine: move kernels run on their own, Generators as the only
randomness, observables declaring the Dataset (docs/montecarlo.md, "Structure")."""

import numpy as np

from deeprg.data.patterns import random_patterns
from deeprg.perceptron.montecarlo import (
    OBSERVABLES,
    Dynamics,
    Ensemble,
    MCConfig,
    Model,
    init_state,
    make_graph,
    run_mc,
)
from deeprg.perceptron.montecarlo import engine as eng
from deeprg.perceptron.montecarlo.moves import PCN, Flip, Rotation


def setup(cfg, seed=0):
    rng = np.random.default_rng(seed)
    g = make_graph(cfg, rng)
    S0, SL = random_patterns(cfg.M, list(cfg.widths), rng)
    return init_state(cfg, S0, SL, rng, g), Model.from_config(cfg, g)


def test_each_move_changes_only_its_variables_and_keeps_the_fields():
    cfg = MCConfig(L=3, N=8, c=4, alpha=2.0, T=0.5, kappa=0.1)
    st, model = setup(cfg)
    counts = np.zeros(4, dtype=np.int64)
    rng = np.random.default_rng(1)
    J0 = st.J.copy()
    Flip.init(cfg).step(st, model, 5, 2.0, counts, rng)
    np.testing.assert_array_equal(st.J, J0)
    assert counts[1] > 0 and counts[2] == 0
    S0 = st.S.copy()
    norms = np.linalg.norm(st.J, axis=2)
    Rotation.init(cfg).step(st, model, 5, 2.0, counts, rng)
    np.testing.assert_array_equal(st.S, S0)
    np.testing.assert_allclose(np.linalg.norm(st.J, axis=2), norms, rtol=1e-12)
    PCN.init(cfg).step(st, model, 5, 2.0, counts, rng)
    np.testing.assert_array_equal(st.S, S0)
    assert counts[3] > 0
    np.testing.assert_allclose(st.h, model.fields(st.S, st.J), atol=1e-12)


def test_a_generator_state_is_the_whole_randomness():
    """Same Generator state, same trajectory (no hidden global state); restoring a saved
    ``bit_generator.state`` continues the stream exactly."""
    cfg = MCConfig(L=3, N=6, alpha=2.0, T=0.3, pt_n=2, pt_T_max=1.0, pt_every=2)
    st, model = setup(cfg)
    betas = 1 / cfg.temperatures
    runs = []
    for _ in range(2):
        ens = Ensemble([st.copy(), st.copy()])
        rng = np.random.default_rng(4)
        dyn = Dynamics.init(cfg, model)
        dyn.step(ens, 3, betas, rng)
        saved = (ens.copy(), rng.bit_generator.state)
        dyn.step(ens, 5, betas, rng)
        runs.append(ens)
    ens2, state = saved
    rng2 = np.random.default_rng()
    rng2.bit_generator.state = state
    Dynamics.init(cfg, model).step(ens2, 5, betas, rng2)
    for a, b, c in zip(runs[0].states, runs[1].states, ens2.states, strict=True):
        np.testing.assert_array_equal(a.J, b.J)
        np.testing.assert_array_equal(a.J, c.J)
        np.testing.assert_array_equal(a.S, c.S)


def test_dataset_follows_the_observable_declarations():
    cfg = MCConfig(L=2, N=6, alpha=1.0, steps=4, t_w=1, samples=2, scenario="teacher")
    ds = run_mc(cfg, progress=False)
    for o in OBSERVABLES:
        if o.applies(cfg):
            assert ds[o.name].dims == ("sample", *o.dims)
            assert ds[o.name].attrs["long_name"] == o.long_name
        else:
            assert o.name not in ds
    assert not hasattr(eng, "seed_numba")  # no global reseeding anywhere
