"""The message-passing configuration (docs/theory/perceptron.md §6): one pydantic model, the
single source of the defaults, bounds and help texts of ``run_mp``, ``deeprg mp`` and the sweep
experiment ``mp``."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from deeprg.config import Config
from deeprg.errors import InputError

ADAPTIVE_DAMPING = (0.5, 0.7, 0.85)  # levels of the default cavity forward iteration (§6.4)
PARALLEL_DAMPING = 0.7  # default of the parallel schedules (node form, cavity parallel)


class MPConfig(Config):
    """Message passing on one sparse instance (L counts weight layers; neuron layers 0..L).

    Every unit reads c random units of the layer below (c-regular inputs, as ``deeprg mc
    --c``); M = round(alpha · c) patterns. ``init``: ``planted`` starts at the teacher (teacher
    scenario), ``biased`` at posterior means b·J* and magnetizations b·S* (overlap b², a weak
    symmetry-breaking start), ``random`` at means b·ξ with ξ drawn from the prior (no teacher
    information; the only start of the random scenario). ``field`` h_b: every hidden neuron
    also observes h_b·S* + √h_b·z (teacher scenario; a Bayes-optimal side channel that pins the
    gauge, the replica theory's ``field``). ``neurons``: the form of the hidden-neuron messages
    (§6.8). ``N_in``: the input width (e.g. N_in = c with few
    units, L = 1: independent perceptrons reading the same c inputs).
    """

    L: int = Field(3, ge=1, description="Weight layers (neuron layers 0..L).")
    N: int = Field(256, ge=2, description="Units per layer.")
    N_in: int | None = Field(None, ge=2, description="Input width (default N).")
    c: int = Field(32, ge=2, description="Inputs per unit (sparse random c-regular graph).")
    alpha: float = Field(5.0, gt=0, description="α = M/c (M training patterns).")
    scenario: Literal["teacher", "random"] = Field(
        "teacher", description="Teacher-student or random I/O data."
    )
    kappa: float = Field(0.0, ge=0, description="Gap margin κ >= 0 of every constraint.")
    init: Literal["planted", "biased", "random"] | None = Field(
        None, description="Start: planted, biased or random (default planted, random I/O: random)."
    )
    field: float | None = Field(
        None,
        ge=0,
        description="Side field h_b on the hidden neurons (teacher; pins the gauge; default "
        "0.3, random I/O 0).",
    )
    bias: float = Field(0.1, gt=0, lt=1, description="Start overlap scale b of biased/random.")
    neurons: Literal["cavity", "amp"] = Field(
        "cavity",
        description="Hidden-neuron messages: cavity (one magnetization per edge, §6.8) or amp "
        "(Onsager-corrected node magnetizations, §6.3; less memory, wanders at alpha >= 10).",
    )
    damping: float | None = Field(
        None,
        ge=0,
        lt=1,
        description="Weight of the old value per update (default: cavity forward starts at 0.5 "
        "and raises it to 0.7, 0.85 on a residual plateau; otherwise 0.7).",
    )
    schedule: Literal["forward", "parallel"] = Field(
        "forward",
        description="Update order of the cavity form: forward (each layer's constraints see the "
        "upstream fields the layer below has just sent) or parallel (all from the previous "
        "iterate). The amp form is always parallel.",
    )
    tol: float = Field(1e-4, gt=0, description="Convergence: RMS change of means < tol.")
    max_iter: int = Field(500, ge=1, description="Most iterations.")
    stall: int = Field(
        0,
        ge=0,
        description="Stop, not converged, once the smallest residual of the last `stall` "
        "iterations is above 0.9 times that of the `stall` before, at the last damping level "
        "(0: off; a run may also rise before it converges, e.g. random I/O from a random start).",
    )
    seed: int = Field(0, ge=0, description="Seed of the instance and of the start.")

    @model_validator(mode="after")
    def _check(self) -> MPConfig:
        fan_max = min(self.N_in or self.N, self.N) if self.L > 1 else self.N_in or self.N
        if self.c > fan_max:
            raise InputError(f"c must be <= {fan_max} (the widths it reads), got {self.c}")
        if self.field and self.scenario != "teacher":
            raise InputError("field > 0 needs the teacher scenario (scenario='teacher')")
        if self.M < 1:
            raise InputError(f"alpha * c must give at least one pattern, got M = {self.M}")
        if self.scenario == "random" and self.start != "random":
            raise InputError("init planted/biased needs the teacher scenario (scenario='teacher')")
        from deeprg.errors import check_memory

        # fields, magnetizations, g, g' per layer (L+1)·N·M and the edge gather of one layer
        n = 8.0 * (self.L + 1) * self.N * self.M * 10 + 8.0 * self.L * self.N * self.c * 8
        if self.neurons == "cavity":  # the (N, c, M) messages to the input neurons
            n += 8.0 * (self.L - 1) * self.N * self.M * self.c
        check_memory(f"message passing (L = {self.L}, N = {self.N}, M = {self.M})", n)
        return self

    @property
    def M(self) -> int:
        return round(self.alpha * self.c)

    @property
    def damping_factor(self) -> float:
        """The damping set (``damping``), else the first level of the form's default (the
        default cavity forward iteration raises it on a plateau, see ``run.iterate``)."""
        if self.damping is not None:
            return self.damping
        return ADAPTIVE_DAMPING[0] if self.adaptive_damping else PARALLEL_DAMPING

    @property
    def adaptive_damping(self) -> bool:
        """Whether the damping follows :data:`ADAPTIVE_DAMPING` (the default cavity forward
        iteration, ``damping`` unset)."""
        return self.damping is None and self.neurons == "cavity" and self.schedule == "forward"

    @property
    def h_b(self) -> float:
        """The side field actually used (``field`` or its scenario default)."""
        if self.field is not None:
            return self.field
        return 0.3 if self.scenario == "teacher" else 0.0

    @property
    def start(self) -> str:
        """The start actually used (``init`` or its scenario default)."""
        if self.init is not None:
            return self.init
        return "planted" if self.scenario == "teacher" else "random"
