"""The Monte Carlo configuration (docs/theory/perceptron.md §5): one pydantic model, the
single source of the defaults, bounds and help texts of ``run_mc``, ``deeprg mc`` and the
sweep experiment ``mc``."""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field, model_validator

from deeprg.config import Config
from deeprg.errors import InputError


class MCConfig(Config):
    """Simulation parameters. L counts weight layers; M = round(alpha · c_in) patterns, c_in the
    fan-in of the first weight layer (N_in when fully connected, else c).

    ``c``: inputs per unit (None = fully connected, c = N; else sparse random c-regular inputs,
    §2.1). ``clones``: replicas cloned from the host at t_w (≥ 2; 3 or more give overlap
    histograms over pairs and the ultrametricity test). ``pt_n`` > 1 turns on parallel
    tempering: every clone is an ensemble at ``pt_n`` geometric temperatures from T to
    ``pt_T_max``, neighbours swapped every ``pt_every`` MC steps; observables are measured at T.
    ``start="planted"`` (teacher scenario) starts every replica at the teacher: its weights and
    its forward pass on the training inputs.
    ``T_anneal``: during the waiting time the temperature decreases geometrically from
    ``T_anneal`` to T (one MC step per temperature, final value T; simulated annealing before
    cloning), so the clones start from a better-relaxed configuration.
    """

    L: int = Field(4, ge=1, description="Weight layers (neuron layers 0..L).")
    N: int = Field(20, ge=2, description="Hidden width.")
    alpha: float = Field(2.0, gt=0, description="α = M/c (M training patterns).")
    N_in: int | None = Field(None, ge=1, description="Input width (default N).")
    N_out: int | None = Field(None, ge=1, description="Output width (default N).")
    c: int | None = Field(
        None, ge=2, description="Inputs per unit: sparse random c-regular graph (default c = N)."
    )
    scenario: Literal["random", "teacher"] = Field(
        "random", description="Random I/O or teacher-student data."
    )
    T: float = Field(0.0, ge=0, description="Temperature (0 = greedy).")
    kappa: float = Field(0.0, ge=0, description="Gap margin κ >= 0.")
    eps: float = Field(1.0, gt=0, description="Energy scale ε of the soft-core potential.")
    move: Literal["pcn", "rotation"] = Field(
        "pcn", description="Weight move: pcn (Gaussian prior, eq. 35) or rotation (spherical)."
    )
    r: float = Field(0.1, gt=0, description="pCN step size r.")
    theta_max: float = Field(0.3, gt=0, description="Largest rotation angle.")
    t_w: int = Field(64, ge=0, description="Waiting time before cloning (MC steps).")
    steps: int = Field(256, ge=1, description="MC steps after cloning.")
    n_times: int = Field(12, ge=1, description="Measurement times (geometric).")
    samples: int = Field(4, ge=1, description="Independent samples.")
    seed: int = Field(0, ge=0, description="Master seed.")
    D: int | None = Field(None, ge=1, description="Teacher hidden-manifold dimension.")
    P_test: int = Field(1000, ge=1, description="Fresh inputs for the teacher's eps_g.")
    clones: int = Field(
        2, ge=2, le=16, description="Replicas cloned at t_w (>= 3: histograms, ultrametricity)."
    )
    pt_n: int = Field(1, ge=1, le=64, description="Parallel tempering: temperatures (1 = off).")
    pt_T_max: float = Field(1.0, gt=0, description="Highest tempering temperature.")
    pt_every: int = Field(1, ge=1, description="MC steps between swap attempts.")
    T_anneal: float | None = Field(
        None, gt=0, description="Anneal from this temperature to T during the waiting time."
    )
    start: Literal["random", "planted"] = Field(
        "random",
        description="Initial state: random, or planted at the teacher (teacher scenario; an "
        "exact posterior sample by the Nishimori property).",
    )
    free_output: bool = Field(
        False,
        description="Control run: the output neurons are not clamped but flip like hidden ones "
        "(random I/O only). Overlaps that persist then are memory of the protocol, not freezing "
        "driven by the data.",
    )

    @model_validator(mode="after")
    def _free_output_only_for_random_io(self) -> MCConfig:
        if self.free_output and self.scenario != "random":
            raise InputError("free_output is a control for scenario random only")
        return self

    @model_validator(mode="after")
    def _cross_field(self) -> MCConfig:
        if self.c is not None:
            fan_max = int(self.widths[:-1].min())
            if self.c > fan_max:
                raise InputError(f"c must be an integer >= 2 and <= {fan_max}, got {self.c}")
        if self.pt_n > 1:
            if self.T <= 0:
                raise InputError("parallel tempering (pt_n > 1) needs T > 0, got T = 0")
            if not self.pt_T_max > self.T:
                raise InputError(
                    f"pt_T_max must be > T = {self.T:g} for parallel tempering, "
                    f"got {self.pt_T_max:g}"
                )
        if self.T_anneal is not None:
            if not self.T_anneal > self.T:
                raise InputError(f"T_anneal must be > T = {self.T:g}, got {self.T_anneal:g}")
            if self.pt_n > 1:
                raise InputError("T_anneal and parallel tempering (pt_n > 1) are exclusive")
        if self.start == "planted" and self.scenario != "teacher":
            raise InputError("start='planted' needs the teacher scenario (scenario='teacher')")
        if self.M < 1:
            raise InputError(f"alpha * c must give at least one pattern, got M = {self.M}")
        self._check_memory()
        return self

    def _check_memory(self) -> None:
        from deeprg.errors import check_memory

        # Every live state (clones x tempering ladder, + reference and teacher) holds S
        # ((L+1)·M·Nmax int8), J (L·Nmax² float64) and the fields h (L·M·Nmax float64).
        w = self.widths
        L, M, n = self.L, self.M, float(w.max())
        per_state = (L + 1) * M * n + 8.0 * L * n * n + 8.0 * L * M * n
        n_states = self.clones * self.pt_n + 2
        check_memory(
            f"Monte Carlo state (L = {L}, N = {self.N}, M = {M}, {n_states} replicas)",
            n_states * per_state,
        )

    @property
    def widths(self) -> np.ndarray:
        w = [self.N_in or self.N] + [self.N] * (self.L - 1) + [self.N_out or self.N]
        return np.asarray(w, dtype=np.int64)

    @property
    def M(self) -> int:
        return round(self.alpha * (self.c or self.N_in or self.N))

    @property
    def beta(self) -> float:
        return np.inf if self.T == 0 else 1.0 / self.T

    @property
    def temperatures(self) -> np.ndarray:
        """The parallel-tempering ladder (just [T] without tempering)."""
        if self.pt_n == 1:
            return np.array([self.T])
        return np.geomspace(self.T, self.pt_T_max, self.pt_n)


class AnnealConfig(Config):
    """Population annealing in α (L counts weight layers; α = M/c, c the fan-in)."""

    L: int = Field(3, ge=1, description="Weight layers (neuron layers 0..L).")
    N: int = Field(64, ge=1, description="Hidden width.")
    N_in: int | None = Field(None, ge=1, description="Input width (default N).")
    N_out: int | None = Field(None, ge=1, description="Output width (default N).")
    c: int | None = Field(
        8, ge=2, description="Inputs per unit (sparse random c-regular graph); None = dense."
    )
    alpha_max: float = Field(10.0, gt=0, description="Final α = M/c.")
    scenario: Literal["random", "teacher"] = Field(
        "teacher", description="Random I/O or teacher-student data."
    )
    kappa: float = Field(0.0, ge=0, description="Margin κ of every gap.")
    population: int = Field(1000, ge=2, description="Population size R.")
    sweeps: int = Field(1, ge=0, description="Sweeps of every network at each beta step.")
    ess_floor: float = Field(
        0.5, gt=0, lt=1, description="Smallest effective population fraction per beta step."
    )
    max_steps: int = Field(400, ge=1, description="Most beta steps for one pattern.")
    theta_max: float = Field(
        0.5, gt=0, le=3.2, description="Largest rotation angle (the start, when adapted)."
    )
    target_acceptance: float | None = Field(
        None,
        gt=0,
        lt=1,
        description="Adapt the largest rotation angle of every layer after each beta step "
        "towards this move acceptance (None: fixed theta_max).",
    )
    solved_floor: float | None = Field(
        None,
        gt=0,
        lt=1,
        description="Fraction of the population that must solve the new pattern before it is "
        "made hard (None: ess_floor).",
    )
    decorrelation: float | None = Field(
        None,
        gt=0,
        lt=1,
        description="Repeat the sweeps of a beta step until the mean weight overlap of the "
        "networks with their state before it is at most this in every layer, up to max_sweeps "
        "(None: always `sweeps`).",
    )
    max_sweeps: int = Field(50, ge=1, description="Most sweeps per beta step with --decorrelation.")
    runs: int = Field(
        1,
        ge=1,
        description="Independent populations (seeds run, run+1, ...) combined with weights "
        "proportional to their volume estimates (Machta's weighted averaging).",
    )
    n_alpha: int = Field(10, ge=1, description="Measurement points (overlaps) along α.")
    pairs: int = Field(32, ge=1, description="Network pairs for the replica overlaps.")
    seed: int = Field(0, ge=0, description="Seed of the instance (graph, data, teacher).")
    run: int = Field(
        0, ge=0, description="Seed of the population (independent runs, one instance)."
    )

    @model_validator(mode="after")
    def _check(self) -> AnnealConfig:
        fan_max = int(self.widths[:-1].min())
        if self.c is not None and self.c > fan_max:
            raise InputError(f"c must be <= {fan_max} (the widths it reads), got {self.c}")
        if self.M < 1:
            raise InputError(f"alpha_max * c must give at least one pattern, got {self.M}")
        from deeprg.errors import check_memory

        n = float(self.population) * (self.L + 1) * float(self.widths.max()) * self.M
        check_memory(f"population (R = {self.population}, M = {self.M})", n * 9 + 8 * n)
        return self

    @property
    def widths(self) -> np.ndarray:
        w = [self.N_in or self.N] + [self.N] * (self.L - 1) + [self.N_out or self.N]
        return np.asarray(w, dtype=np.int64)

    @property
    def fan(self) -> int:
        """Fan-in of the first weight layer (α = M / fan)."""
        return self.c if self.c is not None else int(self.widths[0])

    @property
    def M(self) -> int:
        return round(self.alpha_max * self.fan)
