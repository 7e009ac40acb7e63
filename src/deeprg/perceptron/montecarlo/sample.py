"""One sample of the clone protocol: the driver that composes the instance, the state, the
moves, the protocol, the observables and the checkpoints (see the package modules)."""

from __future__ import annotations

import time as _time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from deeprg.perceptron.montecarlo import checkpoint as ck
from deeprg.perceptron.montecarlo import observables as obs
from deeprg.perceptron.montecarlo.config import MCConfig
from deeprg.perceptron.montecarlo.instance import Instance, draw_instance
from deeprg.perceptron.montecarlo.moves import Dynamics
from deeprg.perceptron.montecarlo.protocol import Protocol, Streams, streams
from deeprg.perceptron.montecarlo.state import Ensemble, State, init_state, network_state


@dataclass
class Sample:
    """The static parts of one sample's run."""

    cfg: MCConfig
    inst: Instance
    proto: Protocol
    dyn: Dynamics
    teacher: State | None

    def measure(self, p: ck.Progress) -> None:
        """Record every timed observable at measurement ``p.k``."""
        snap = obs.Snapshot([ens.host for ens in p.clones], p.ref, self.inst, self.teacher)
        for o in obs.select(self.cfg, "timed"):
            p.out[o.name][p.k] = o.measure(snap)

    def advance(self, p: ck.Progress, t: int) -> None:
        """Evolve every clone (its own Generator) from ``p.t_prev`` to ``t`` steps."""
        for ens, rng in zip(p.clones, p.rngs, strict=True):
            self.dyn.step(ens, t - p.t_prev, self.proto.betas, rng)
        p.t_prev = t


def _start(s: Sample, rs: Streams) -> ck.Progress:
    """Initial states, the initial-stage observables, the waiting time and the cloning."""
    cfg, inst = s.cfg, s.inst
    R = len(s.proto.betas)
    host = Ensemble([init_state(cfg, inst.S0, inst.SL, rs.setup, inst.graph) for _ in range(R)])
    out = {o.name: np.zeros(o.shape(obs.sizes(cfg, len(s.proto.times))))
           for o in obs.select(cfg, "timed")}  # fmt: skip
    if cfg.scenario == "teacher":
        out["eps_g"][:] = np.nan
        snap = obs.Snapshot([host.host], host.host, inst, s.teacher)
        out |= {o.name: np.asarray(o.measure(snap)) for o in obs.select(cfg, "initial")}
    if s.proto.start == "planted" and s.teacher is not None:
        host = Ensemble([s.teacher.copy() for _ in range(R)])
    for n, betas in s.proto.waiting():
        s.dyn.step(host, n, betas, rs.wait)
    clones = s.proto.clone(host)
    return ck.Progress(0, 0, clones, host.host.copy(), rs.clones, out, s.dyn.sweeps.counts,
                       s.dyn.swaps.counts)  # fmt: skip


def _setup(cfg: MCConfig, rs: Streams) -> Sample:
    inst = draw_instance(cfg, rs.setup)
    proto = Protocol.from_config(cfg)
    dyn = Dynamics.init(cfg, inst.model)
    teacher = None
    if inst.teacher is not None:
        L, M, n = cfg.L, cfg.M, int(cfg.widths.max())
        like = State(np.zeros((L + 1, M, n), np.int8), np.zeros((L, n, n)), np.zeros(0))
        teacher = network_state(inst.teacher, inst.S0, like, inst.model)
    return Sample(cfg, inst, proto, dyn, teacher)


def simulate_sample(
    cfg: MCConfig,
    seed: int,
    checkpoint: str | Path | None = None,
    checkpoint_seconds: float = 60.0,
) -> dict[str, np.ndarray]:
    """One sample of the clone protocol; returns arrays over (time, layer).

    With ``checkpoint`` (a file path) the full state, including the exact states of the
    clones' Generators, is saved atomically at measurement times at most every
    ``checkpoint_seconds``, with the configuration and seed; a rerun with the same
    configuration resumes from it (any other is refused), bit-identical to an uninterrupted
    run.
    """
    rs = streams(seed, cfg.clones)
    s = _setup(cfg, rs)
    path = Path(checkpoint) if checkpoint is not None else None
    ident = ck.sample_config(cfg, seed)
    if path is not None and path.exists():
        p = ck.load(path, ident, s.inst.model, (cfg.clones, len(s.proto.betas)))
        s.dyn.sweeps.counts, s.dyn.swaps.counts = p.counts, p.swaps
    else:
        p = _start(s, rs)
    times = s.proto.times
    last_save = _time.monotonic()
    while p.k < len(times):
        s.advance(p, int(times[p.k]))
        s.measure(p)
        p.k += 1
        due = _time.monotonic() - last_save >= checkpoint_seconds
        if path is not None and p.k < len(times) and due:
            ck.save(path, ident, p)
            last_save = _time.monotonic()
    p.out["times"] = times.astype(float)
    for o in obs.select(cfg, "final"):
        p.out[o.name] = np.asarray(o.measure(s.dyn))
    return p.out
