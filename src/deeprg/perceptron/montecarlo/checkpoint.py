"""Identity and checkpoints of Monte Carlo samples.

Every sample result and in-sample checkpoint records the configuration it was written for
(:func:`sample_config`: every ``MCConfig`` field but ``samples``, plus the sample seed) and is
refused, with one line naming the fields that differ, under any other (:func:`load_checked`).
A checkpoint (:class:`Progress`) holds the full state of a running sample after a
measurement: every clone's replicas (S, J and the incrementally updated fields h), the
reference state, the observables so far, the move counters and the exact states of the
clones' Generators, so a resumed sample is bit-identical to an uninterrupted one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from deeprg.errors import InputError
from deeprg.perceptron.montecarlo.config import MCConfig
from deeprg.perceptron.montecarlo.state import Ensemble, Model, State


def store_config(cfg: MCConfig) -> dict[str, Any]:
    """The configuration a store of samples is keyed by: every field but ``samples`` (sample i's
    seed is the i-th word of ``SeedSequence(seed)``, whatever the number of samples, so a store
    can be extended with more samples)."""
    return {k: v for k, v in cfg.to_dict().items() if k != "samples"}


def sample_config(cfg: MCConfig, seed: int) -> dict[str, Any]:
    """Identity of one sample's result or checkpoint: the store configuration and its seed."""
    return store_config(cfg) | {"sample_seed": int(seed)}


def _read(path: Path, ident: dict[str, Any], what: str) -> dict[str, np.ndarray]:
    from deeprg.identity import check_identity
    from deeprg.results import load_npz, meta_of

    f = load_npz(path, what)
    stored = meta_of(f, "identity")
    if stored is None:
        raise InputError(f"{what} {path} records no configuration: remove it or pass --overwrite")
    hint = "choose a new --store or pass --overwrite"
    check_identity(f"{what} {path}", stored, ident, hint)
    return f


def load_checked(path: Path, ident: dict[str, Any], what: str) -> dict[str, np.ndarray]:
    """Members of a sample or checkpoint file, refused (one line) unless written for ``ident``."""
    return {k: v for k, v in _read(path, ident, what).items() if not k.startswith("__")}


_load_npz_checked = load_checked  # the former name


@dataclass
class Progress:
    """The mutable state of a sample between measurements."""

    k: int  # index of the next measurement time
    t_prev: int  # MC steps done since cloning
    clones: list[Ensemble]
    ref: State
    rngs: list[np.random.Generator]  # one per clone
    out: dict[str, np.ndarray]
    counts: np.ndarray  # move counters (Sweeps.counts)
    swaps: np.ndarray  # tempering counters (TemperingSwaps.counts)


def save(path: Path, ident: dict[str, Any], p: Progress) -> None:
    """Write ``p`` atomically with the identity ``ident``."""
    from deeprg.identity import identity
    from deeprg.results import save_npz

    arrs: dict[str, np.ndarray] = {"k": np.array(p.k), "t_prev": np.array(p.t_prev)}
    arrs["counts"], arrs["swaps"] = p.counts, p.swaps
    for a, ens in enumerate(p.clones):
        for r, st in enumerate(ens.states):
            arrs[f"S_{a}_{r}"], arrs[f"J_{a}_{r}"], arrs[f"h_{a}_{r}"] = st.S, st.J, st.h
    arrs["ref_S"], arrs["ref_J"] = p.ref.S, p.ref.J
    arrs |= {f"out_{key}": v for key, v in p.out.items()}
    rngs = [g.bit_generator.state for g in p.rngs]
    save_npz(path, arrs, identity=identity(ident), rngs=rngs)


def load(path: Path, ident: dict[str, Any], model: Model, shape: tuple[int, int]) -> Progress:
    """Read a checkpoint written for ``ident``; ``shape`` = (clones, replicas per clone)."""
    from deeprg.results import meta_of

    f = _read(path, ident, "checkpoint")
    n_clones, R = shape
    try:
        clones = [
            Ensemble([State(f[f"S_{a}_{r}"], f[f"J_{a}_{r}"], f[f"h_{a}_{r}"]) for r in range(R)])
            for a in range(n_clones)
        ]
        ref = State(f["ref_S"], f["ref_J"], model.fields(f["ref_S"], f["ref_J"]))
        out = {key[4:]: f[key].copy() for key in f if key.startswith("out_")}
        rngs = [_generator(s) for s in meta_of(f, "rngs")]
        if len(rngs) != n_clones:
            raise KeyError("rngs")
        return Progress(int(f["k"]), int(f["t_prev"]), clones, ref, rngs, out,
                        f["counts"].copy(), f["swaps"].copy())  # fmt: skip
    except (KeyError, ValueError, IndexError, TypeError) as exc:
        raise InputError(f"checkpoint {path} is corrupt (missing {exc})") from None


def _generator(state: dict[str, Any]) -> np.random.Generator:
    bg = getattr(np.random, state["bit_generator"])()
    bg.state = state
    return np.random.Generator(bg)
