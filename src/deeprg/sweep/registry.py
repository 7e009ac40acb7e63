"""Point experiments a sweep can run: ``fn(**params) -> dict`` registered by name.

A point function takes keyword parameters (JSON-serializable scalars or short lists) and
returns a flat dict of scalars or 1-D lists. Heavy imports live inside the functions so that
importing the sweep package stays fast.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from deeprg.errors import InputError

PointFn = Callable[..., dict[str, Any]]
REQUIRED = object()
# dimensions of list-valued results (the canonical dims of deeprg.schema): name, first index
LAYER, WLAYER, HIDDEN = ("layer", 0), ("wlayer", 1), ("layer", 1)


@dataclass(frozen=True)
class Param:
    """One parameter of a point experiment: type, default (or REQUIRED) and allowed values.

    ``rule``: None, a bound ``">0"``, ``">=0"``, ``">=1"`` (numbers; for lists, every element),
    or a tuple of allowed values.
    """

    type: type
    default: Any
    rule: str | tuple[Any, ...] | None = None
    bounds: tuple[tuple[str, float], ...] = ()  # from a configuration model: (("ge", 1), ...)
    scalar_ok: bool = False  # a list parameter that also takes one number (e.g. sigma2)

    @classmethod
    def from_field(cls, spec: Any) -> Param:
        """A parameter from a configuration model's field (:func:`deeprg.config.field_specs`)."""
        default = REQUIRED if spec.required else spec.default
        scalar = bool((spec.extra or {}).get("scalar_ok"))
        return cls(spec.type, default, spec.choices, tuple(sorted(spec.bounds.items())), scalar)

    def check(self, v: Any) -> str | None:
        """Why ``v`` is not allowed (one phrase), or None when it is."""
        if v is None and self.default is None:
            return None
        why = self._check_type(v)
        if why is None and self.bounds:
            ops = {"ge": (">=", float.__ge__), "gt": (">", float.__gt__)}
            ops |= {"le": ("<=", float.__le__), "lt": ("<", float.__lt__)}
            for key, bound in self.bounds:
                sym, ok = ops[key]
                if not ok(float(v), float(bound)):
                    return f"must be {sym} {bound}, got {v!r}"
        return why

    def _check_type(self, v: Any) -> str | None:
        t = self.type
        if t is float and not (isinstance(v, (int, float)) and not isinstance(v, bool)):
            return f"must be float, got {v!r}"
        if t is int and not (isinstance(v, int) and not isinstance(v, bool)):
            return f"must be int, got {v!r}"
        if t is bool and not isinstance(v, bool):
            return f"must be true or false, got {v!r}"
        if t is str and not isinstance(v, str):
            return f"must be a string, got {v!r}"
        number = isinstance(v, (int, float)) and not isinstance(v, bool)
        if t is list and not isinstance(v, list) and not (self.scalar_ok and number):
            return f"must be a list, got {v!r}"
        r = self.rule
        if r is None:
            return None
        if isinstance(r, tuple):
            return None if v in r else f"must be one of {', '.join(map(str, r))}, got {v!r}"
        items = v if isinstance(v, list) else [v]
        for x in items:
            if not isinstance(x, (int, float)) or isinstance(x, bool):
                return f"must hold numbers, got {v!r}"
            bad = {">0": x <= 0, ">=0": x < 0, ">=1": x < 1}[r]
            if bad:
                what = "every entry " if isinstance(v, list) else ""
                return f"{what}must be {r[:-1]} {r[-1]}, got {v!r}"
        return None


@dataclass(frozen=True)
class Experiment:
    name: str
    fn: PointFn
    params: dict[str, Param]
    description: str = ""
    model: Any = None  # the configuration model the parameters derive from, if any
    # list-valued results: name -> (dimension, index of the first entry), e.g. q -> (layer, 0)
    result_dims: dict[str, tuple[str, int]] = field(default_factory=dict)


_REGISTRY: dict[str, Experiment] = {}


def register_point(
    name: str,
    params: dict[str, tuple[Any, ...] | Param],
    description: str = "",
    result_dims: dict[str, tuple[str, int]] | None = None,
) -> Callable[[PointFn], PointFn]:
    """Decorator registering a point experiment with its parameter schema.

    ``params`` maps each keyword of the function to ``(type, default)`` or
    ``(type, default, rule)`` (see :class:`Param`); use ``REQUIRED`` for no default.
    """
    schema = {k: v if isinstance(v, Param) else Param(*v) for k, v in params.items()}

    def deco(fn: PointFn) -> PointFn:
        _REGISTRY[name] = Experiment(name, fn, schema, description, None, result_dims or {})
        return fn

    return deco


def register_model(
    name: str,
    model: Any,
    description: str = "",
    result_dims: dict[str, tuple[str, int]] | None = None,
) -> Callable[[Callable[[Any], dict[str, Any]]], Callable[[Any], dict[str, Any]]]:
    """Register a point experiment ``fn(config) -> dict`` whose parameters are the fields of a
    configuration model (:class:`deeprg.config.Config`): defaults, bounds and choices come from
    the model, and every point is validated by constructing it (cross-field rules included)."""
    from deeprg.config import field_specs

    schema = {k: Param.from_field(f) for k, f in field_specs(model).items()}

    def deco(fn: Callable[[Any], dict[str, Any]]) -> Callable[[Any], dict[str, Any]]:
        def point(**params: Any) -> dict[str, Any]:
            return fn(model(**params))

        point.__name__ = fn.__name__
        _REGISTRY[name] = Experiment(name, point, schema, description, model, result_dims or {})
        return fn

    return deco


def get_experiment(name: str) -> Experiment:
    if name not in _REGISTRY:
        raise InputError(
            f"sweep spec: experiment must be one of {', '.join(sorted(_REGISTRY))}; got {name!r}"
        )
    return _REGISTRY[name]


def experiments() -> dict[str, Experiment]:
    return dict(sorted(_REGISTRY.items()))


# ---------------------------------------------------------------- built-in experiments


@register_point(
    "toy",
    {
        "x": (float, REQUIRED),
        "y": (float, 0.0),
        "seed": (int, 0, ">=0"),
        "sleep": (float, 0.0, ">=0"),
        "work": (int, 0, ">=0"),
    },
    "a cheap deterministic function to try a sweep or cluster set-up: value = x² + y + "
    "0.001·seed, after an optional sleep and a fixed amount of CPU work (work = number of "
    "1000-term pure-Python sums)",
)
def toy(
    x: float, y: float = 0.0, seed: int = 0, sleep: float = 0.0, work: int = 0
) -> dict[str, Any]:
    if sleep > 0:
        time.sleep(sleep)
    acc = 0
    for _ in range(work):  # a fixed amount of CPU-bound work (efficiency benchmarks)
        acc += sum(i * i for i in range(1000))
    return {"value": x * x + y + 0.001 * seed, "pair": [x, y]}


def _bpkr_model() -> Any:
    from deeprg.bpkr.config import BPKRConfig

    return BPKRConfig


@register_model(
    "bpkr",
    _bpkr_model(),
    "BPKR theory (deep linear network, or the kernel-renormalization theories of nonlinear "
    "networks; parameters and defaults are those of BPKRConfig): u, U, eps_g, bias2, variance, "
    "train_error, log_evidence",
    result_dims={"u": HIDDEN},
)
def bpkr_point(config: Any) -> dict[str, Any]:
    """One theory point (docs/theory/bpkr.md §2–4) on the configuration's data split."""
    from deeprg.bpkr.config import bpkr_report

    rep = bpkr_report(config)
    keys = ("U", "eps_g", "bias2", "variance", "train_error", "log_evidence", "converged")
    return {k: rep[k] for k in keys} | {"u": rep["u"]}


def _replica_model() -> Any:
    from deeprg.perceptron.replica.config import ReplicaPointConfig

    return ReplicaPointConfig


@register_model(
    "replica",
    _replica_model(),
    "layered replica theory at one alpha, reached by continuation over path_points log-spaced "
    "alphas from min(path_from, alpha) (ReplicaPointConfig; rsb 1|2 for k-RSB): q (layers "
    "0..L), Q (1..L), f, converged, status, residual, eps_g (teacher)",
    result_dims={"q": LAYER, "Q": WLAYER},
)
def replica_point(config: Any) -> dict[str, Any]:
    """docs/theory/perceptron.md §3 through ``solve_path`` / ``rsb_path`` (each point is
    self-contained: the continuation runs inside the point)."""
    from deeprg.perceptron.replica import rsb_path, solve_path

    c = config
    if c.rsb:
        sol = rsb_path(c.L, c.path, c.rsb, margin=c.margin)[-1]
        q, Q = sol.q[:, -1], sol.Q[:, -1]
    else:
        kw = {"field": c.field} if c.field else {}
        sol = solve_path(
            c.L, c.path, scenario=c.scenario, closure=c.closure, margin=c.margin, **kw
        )[-1]
        q, Q = sol.q, sol.Q
    out = {
        "q": q.tolist(),
        "Q": Q.tolist(),
        "f": sol.f if sol.status != "unsat" else None,  # no free entropy beyond capacity
        "converged": sol.converged,
        "status": sol.status,
        "residual": sol.residual,
    }
    if getattr(sol, "eps_g", None) is not None:
        out["eps_g"] = sol.eps_g
    return out


def _compare_model() -> Any:
    from deeprg.experiments.configs import CompareConfig

    return CompareConfig


def _sampling_model() -> Any:
    from deeprg.experiments.configs import SamplingConfig

    return SamplingConfig


@register_model(
    "compare",
    _compare_model(),
    "theory vs posterior sampling of the finite network (deeprg compare; parameters and "
    "defaults are those of CompareConfig)",
)
def compare_point(config: Any) -> dict[str, Any]:
    from deeprg.experiments.compare import run_compare

    cr = run_compare(config, progress=False)
    s = cr.sampler
    keys = ("eps_g", "eps_g_se", "bias2", "variance", "a2_over_N", "a2_over_N_se")
    out = {f"sim_{k}": s[k] for k in (*keys, "rhat_max", "ess_min", "equilibrated")}
    for mode, rep in cr.theory.items():
        out[f"{mode}_eps_g"] = rep["eps_g"]
    return out


@register_model(
    "sampling",
    _sampling_model(),
    "posterior sampling of the finite network (deeprg.sampling.sample_posterior): eps_g, bias2, "
    "variance, a2/N, per-layer norms with standard errors, R-hat, ESS (SamplingConfig)",
    result_dims={"r2": HIDDEN, "r2_se": HIDDEN, "w2": WLAYER, "w2_se": WLAYER},
)
def sampling_point(config: Any) -> dict[str, Any]:
    """Seeds as in ``deeprg compare`` (:func:`deeprg.sampling.sample_posterior`)."""
    from deeprg.experiments.configs import run_sampling

    res = run_sampling(config)
    return {k: v for k, v in res.summary().items() if k != "sampler"}


def _mc_model() -> Any:
    from deeprg.perceptron.montecarlo.config import MCConfig

    return MCConfig


_MC_DIMS = {k: LAYER for k in ("q", "tau", "phase", "q_ts", "q_ts_matched")}
_MC_DIMS |= {k: WLAYER for k in ("Q", "energy_per_layer", "Q_ts", "Q_ts_matched")}
_MC_DIMS |= {f"ultrametricity_{k}": LAYER for k in ("delta", "delta_null", "K")}
_NISH = ("clone", "clone_se", "ts", "ts_se")
_MC_DIMS |= {f"nishimori_q_{k}": LAYER for k in _NISH} | {"nishimori_consistent_q": LAYER}
_MC_DIMS |= {f"nishimori_Q_{k}": WLAYER for k in _NISH} | {"nishimori_consistent_Q": WLAYER}
_MC_DIMS["acceptance"] = ("move", 0)


@register_model(
    "mc",
    _mc_model(),
    "Monte Carlo of a deep perceptron network (deeprg.perceptron.montecarlo, clone protocol): "
    "final energies, layer overlaps q, Q, relaxation times; parameters and defaults are those "
    "of MCConfig (omit N_in, N_out, c, D, T_anneal for their defaults)",
    result_dims=_MC_DIMS,
)
def mc_point(config: Any) -> dict[str, Any]:
    from deeprg.perceptron.montecarlo import run_mc, summary

    return summary(run_mc(config, workers=1, progress=False))


def _mp_model() -> Any:
    from deeprg.perceptron.mp.config import MPConfig

    return MPConfig


@register_model(
    "mp",
    _mp_model(),
    "message passing on one deep perceptron instance (deeprg mp; parameters and defaults are "
    "those of MPConfig): gauge-invariant Q (1..L), q (0..L), self-overlaps, Nishimori gap, "
    "converged, iterations, residual",
    result_dims={"Q": WLAYER, "Q_self": WLAYER, "q": LAYER, "q_self": LAYER},
)
def mp_point(config: Any) -> dict[str, Any]:
    from deeprg.perceptron.mp.dataset import summary
    from deeprg.perceptron.mp.run import solve

    return summary(solve(config))
