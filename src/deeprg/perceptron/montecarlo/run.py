"""Monte Carlo runs of deep perceptron networks: clone protocol and layer-resolved observables
(deep-perceptron-networks.md §5.1–5.4).

Protocol per sample: draw the data (random ±1 I/O, or a teacher's forward pass), start the
host from random hidden neurons and spherical rows, run t_w MC steps, clone it, and evolve
host and guest with independent random numbers, measuring at geometric times t:

- replica overlaps q(l; t) (neurons, layers 0..L) and Q(l; t) (weights, normalized by the row
  norms) between host and guest, and the gauge-invariant mean |q_i(l)| (§5.3);
- autocorrelations C_S(l; t) of the host with itself at t_w;
- energy and violated gaps per layer; for teacher–student, q_TS(l), Q_TS(l) and ε_g on fresh
  inputs (fraction of output bits where the student's sign network disagrees with the teacher).

Samples run in parallel processes (one sample per task, seeds spawned from one master seed);
each finished sample is stored atomically, so an interrupted run resumes with the missing
samples only. τ(l) is the first time the host–guest overlap q(l; t) crosses 1/e
(log-time interpolation), None where not reached.
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from deeprg.errors import InputError, check_choice, check_int, check_positive
from deeprg.perceptron.montecarlo import engine as eng

MOVES = {"pcn": eng.MOVE_PCN, "rotation": eng.MOVE_ROTATION}


@dataclass(frozen=True)
class MCConfig:
    """Simulation parameters. L counts weight layers; M = round(alpha · N_in) patterns."""

    L: int = 4
    N: int = 20
    alpha: float = 2.0
    N_in: int | None = None
    N_out: int | None = None
    scenario: str = "random"
    T: float = 0.0
    kappa: float = 0.0
    eps: float = 1.0
    move: str = "pcn"
    r: float = 0.1
    theta_max: float = 0.3
    t_w: int = 64
    steps: int = 256
    n_times: int = 12
    samples: int = 4
    seed: int = 0
    D: int | None = None
    P_test: int = 1000

    def validate(self) -> MCConfig:
        check_int("L", self.L)
        check_int("N", self.N, minimum=2)
        check_positive("alpha", self.alpha)
        check_choice("scenario", self.scenario, ("random", "teacher"))
        check_choice("move", self.move, tuple(MOVES))
        check_positive("T", self.T, allow_zero=True)
        check_positive("kappa", self.kappa, allow_zero=True)
        check_positive("r", self.r)
        check_int("steps", self.steps)
        check_int("t_w", self.t_w, minimum=0)
        check_int("samples", self.samples)
        if self.M < 1:
            raise InputError(f"alpha * N must give at least one pattern, got M = {self.M}")
        return self

    @property
    def widths(self) -> np.ndarray:
        w = [self.N_in or self.N] + [self.N] * (self.L - 1) + [self.N_out or self.N]
        return np.asarray(w, dtype=np.int64)

    @property
    def M(self) -> int:
        return round(self.alpha * (self.N_in or self.N))

    @property
    def beta(self) -> float:
        return np.inf if self.T == 0 else 1.0 / self.T


@dataclass
class State:
    S: np.ndarray
    J: np.ndarray
    h: np.ndarray

    def copy(self) -> State:
        return State(self.S.copy(), self.J.copy(), self.h.copy())


def init_state(cfg: MCConfig, S0: np.ndarray, SL: np.ndarray, rng: np.random.Generator) -> State:
    """Clamped boundaries, random hidden ±1, Gaussian rows rescaled to norm² = fan-in."""
    from deeprg.data.patterns import spherical_rows

    w = cfg.widths
    L, M, Nmax = cfg.L, cfg.M, int(w.max())
    S = np.zeros((L + 1, M, Nmax), dtype=np.int8)
    S[0, :, : w[0]] = S0
    S[L, :, : w[L]] = SL
    for l in range(1, L):
        S[l, :, : w[l]] = rng.choice(np.array([-1, 1], dtype=np.int8), size=(M, w[l]))
    J = np.zeros((L, Nmax, Nmax))
    for l in range(1, L + 1):
        J[l - 1, : w[l], : w[l - 1]] = spherical_rows(int(w[l]), int(w[l - 1]), rng)
    return State(S, J, eng.compute_fields(S, J, w))


def _steps(cfg: MCConfig) -> np.ndarray:
    """Move sizes per weight layer: pCN r (rescaled by fan-in/N at the boundaries, §5.1) or θ_max."""
    w = cfg.widths
    if cfg.move == "pcn":
        return np.array(
            [
                cfg.r * w[l - 1] / cfg.N
                if l == 1
                else (cfg.r * w[l] / cfg.N if l == cfg.L else cfg.r)
                for l in range(1, cfg.L + 1)
            ]
        )
    return np.full(cfg.L, cfg.theta_max)


def overlaps(a: State, b: State, w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(q(l), l = 0..L; Q(l), l = 1..L normalized by row norms; mean_i |q_i(l)|)."""
    L = a.J.shape[0]
    q = np.array(
        [np.mean(a.S[l, :, : w[l]].astype(np.float64) * b.S[l, :, : w[l]]) for l in range(L + 1)]
    )
    qabs = np.array(
        [
            np.mean(
                np.abs(np.mean(a.S[l, :, : w[l]].astype(np.float64) * b.S[l, :, : w[l]], axis=0))
            )
            for l in range(L + 1)
        ]
    )
    Q = np.empty(L)
    for l in range(1, L + 1):
        Ja, Jb = a.J[l - 1, : w[l], : w[l - 1]], b.J[l - 1, : w[l], : w[l - 1]]
        Q[l - 1] = np.mean(np.sum(Ja * Jb, 1) / np.sqrt(np.sum(Ja**2, 1) * np.sum(Jb**2, 1)))
    return q, Q, qabs


def student_eps_g(
    st: State, teacher_J: list[np.ndarray], w: np.ndarray, S_test: np.ndarray
) -> float:
    """Fraction of output bits where student and teacher sign networks disagree on fresh inputs."""
    from deeprg.data.patterns import forward_signs

    L = st.J.shape[0]
    student = [st.J[l - 1, : w[l], : w[l - 1]] for l in range(1, L + 1)]
    return float(
        np.mean(forward_signs(student, S_test)[-1] != forward_signs(teacher_J, S_test)[-1])
    )


def simulate_sample(cfg: MCConfig, seed: int) -> dict[str, np.ndarray]:
    """One sample of the clone protocol; returns arrays over (time, layer)."""
    from deeprg.data.patterns import forward_signs, random_patterns, teacher_data

    for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ.setdefault(v, "1")
    rng = np.random.default_rng(seed)
    eng.seed_numba(int(rng.integers(2**31 - 1)))
    w = cfg.widths
    teacher = None
    if cfg.scenario == "teacher":
        S0, SL, teacher = teacher_data(cfg.M, list(w), rng, D=cfg.D)
    else:
        S0, SL = random_patterns(cfg.M, list(w), rng)
    host = init_state(cfg, S0, SL, rng)
    steps = _steps(cfg)
    counts = np.zeros(4, dtype=np.int64)
    mv = MOVES[cfg.move]
    eng.mc_sweeps(
        host.S, host.J, host.h, w, cfg.t_w, cfg.beta, cfg.kappa, cfg.eps, mv, steps, counts
    )
    ref = host.copy()
    guest = host.copy()
    times = np.unique(np.round(np.geomspace(1, cfg.steps, cfg.n_times)).astype(int))
    L = cfg.L
    out = {k: np.zeros((len(times), L + 1)) for k in ("q", "qabs", "C")}
    out |= {k: np.zeros((len(times), L)) for k in ("Q", "energy", "violations", "Q_ts")}
    out["q_ts"] = np.zeros((len(times), L + 1))
    out["eps_g"] = np.full(len(times), np.nan)
    S_test = None
    if teacher is not None:
        S_test = random_patterns(cfg.P_test, list(w), rng)[0]
        teacher_state = State(np.zeros_like(host.S), np.zeros_like(host.J), host.h)
        tl = forward_signs(teacher, S0)
        for l in range(L + 1):
            teacher_state.S[l, :, : w[l]] = tl[l]
        for l in range(1, L + 1):
            teacher_state.J[l - 1, : w[l], : w[l - 1]] = teacher[l - 1]
    t_prev = 0
    for k, t in enumerate(times):
        dt = int(t - t_prev)
        eng.mc_sweeps(
            host.S, host.J, host.h, w, dt, cfg.beta, cfg.kappa, cfg.eps, mv, steps, counts
        )
        eng.mc_sweeps(
            guest.S, guest.J, guest.h, w, dt, cfg.beta, cfg.kappa, cfg.eps, mv, steps, counts
        )
        t_prev = int(t)
        q, Q, qabs = overlaps(host, guest, w)
        C, _, _ = overlaps(host, ref, w)
        E, V = eng.layer_energies(host.S, host.h, w, cfg.kappa, cfg.eps)
        out["q"][k], out["Q"][k], out["qabs"][k], out["C"][k] = q, Q, qabs, C
        out["energy"][k], out["violations"][k] = E, V
        if teacher is not None:
            qt, Qt, _ = overlaps(host, teacher_state, w)
            out["q_ts"][k], out["Q_ts"][k] = qt, Qt
            out["eps_g"][k] = student_eps_g(host, teacher, w, S_test)
    out["times"] = times.astype(float)
    out["acceptance"] = np.array([counts[1] / max(counts[0], 1), counts[3] / max(counts[2], 1)])
    return out


def relaxation_time(t: np.ndarray, c: np.ndarray, level: float = np.exp(-1)) -> float | None:
    """First crossing of ``level`` by c(t), interpolated linearly in log t; None if not reached."""
    below = np.flatnonzero(c < level)
    if below.size == 0:
        return None
    k = below[0]
    if k == 0:
        return float(t[0])
    lt0, lt1 = np.log(t[k - 1]), np.log(t[k])
    frac = (c[k - 1] - level) / (c[k - 1] - c[k])
    return float(np.exp(lt0 + frac * (lt1 - lt0)))


def _run_one(args: tuple[MCConfig, int, int, str | None]) -> tuple[int, dict[str, np.ndarray]]:
    cfg, idx, seed, store = args
    if store is not None:
        p = Path(store) / f"sample_{idx:05d}.npz"
        if p.exists():
            with np.load(p) as f:
                return idx, {k: f[k] for k in f.files}
    res = simulate_sample(cfg, seed)
    if store is not None:
        from deeprg.results import atomic_path

        with atomic_path(Path(store) / f"sample_{idx:05d}.npz") as tmp:
            with open(tmp, "wb") as fh:
                np.savez(fh, **res)
    return idx, res


def run_mc(
    cfg: MCConfig,
    *,
    workers: int = 1,
    store: str | Path | None = None,
    progress: bool | None = None,
):
    """Run ``cfg.samples`` samples (in ``workers`` processes); returns an xarray Dataset.

    With ``store`` (a directory), finished samples are saved atomically and reused on rerun.
    """
    import sys

    import xarray as xr

    cfg.validate()
    seeds = np.random.SeedSequence(cfg.seed).generate_state(cfg.samples)
    if store is not None:
        Path(store).mkdir(parents=True, exist_ok=True)
    tasks = [(cfg, i, int(s), None if store is None else str(store)) for i, s in enumerate(seeds)]
    results: dict[int, dict[str, np.ndarray]] = {}
    show = sys.stderr.isatty() if progress is None else progress
    bar = task = None
    if show:
        from rich.progress import Progress

        bar = Progress(transient=True)
        task = bar.add_task("samples", total=cfg.samples)
        bar.start()
    try:
        if workers > 1:
            _warm_up()
            import multiprocessing as mp

            with ProcessPoolExecutor(workers, mp_context=mp.get_context("fork")) as ex:
                for idx, res in ex.map(_run_one, tasks):
                    results[idx] = res
                    if bar is not None:
                        bar.update(task, advance=1)
        else:
            for t in tasks:
                idx, res = _run_one(t)
                results[idx] = res
                if bar is not None:
                    bar.update(task, advance=1)
    finally:
        if bar is not None:
            bar.stop()
    order = [results[i] for i in range(cfg.samples)]
    times = order[0]["times"]
    L = cfg.L

    def stack(k):
        return np.stack([r[k] for r in order])

    ds = xr.Dataset(
        {
            "q": (("sample", "time", "layer"), stack("q")),
            "qabs": (("sample", "time", "layer"), stack("qabs")),
            "C": (("sample", "time", "layer"), stack("C")),
            "Q": (("sample", "time", "wlayer"), stack("Q")),
            "energy": (("sample", "time", "wlayer"), stack("energy")),
            "violations": (("sample", "time", "wlayer"), stack("violations")),
            "acceptance": (("sample", "move"), stack("acceptance")),
        },
        coords={
            "sample": np.arange(cfg.samples),
            "time": times,
            "layer": np.arange(L + 1),
            "wlayer": np.arange(1, L + 1),
            "move": ["flip", "weight"],
        },
    )
    if cfg.scenario == "teacher":
        ds["q_ts"] = (("sample", "time", "layer"), stack("q_ts"))
        ds["Q_ts"] = (("sample", "time", "wlayer"), stack("Q_ts"))
        ds["eps_g"] = (("sample", "time"), stack("eps_g"))
    qm = ds["q"].mean("sample").values
    tau = [relaxation_time(times, qm[:, l]) for l in range(L + 1)]
    ds["tau"] = ("layer", np.array([np.nan if v is None else v for v in tau]))
    ds.attrs["config"] = str(asdict(cfg))
    return ds


def summary(ds) -> dict[str, Any]:
    """The ``deeprg mc --json`` object: final energies, overlaps, relaxation times."""
    last = ds.isel(time=-1)
    out = {
        "energy_final": float(last["energy"].sum("wlayer").mean("sample")),
        "violations_final": float(last["violations"].sum("wlayer").mean("sample")),
        "energy_per_layer": last["energy"].mean("sample").values.tolist(),
        "q": last["q"].mean("sample").values.tolist(),
        "Q": last["Q"].mean("sample").values.tolist(),
        "tau": [None if np.isnan(v) else float(v) for v in ds["tau"].values],
        "acceptance": ds["acceptance"].mean("sample").values.tolist(),
    }
    if "eps_g" in ds:
        out["eps_g_final"] = float(last["eps_g"].mean("sample"))
        out["q_ts"] = last["q_ts"].mean("sample").values.tolist()
        out["Q_ts"] = last["Q_ts"].mean("sample").values.tolist()
    return out


def _warm_up() -> None:
    """Compile the kernels in the parent before forking workers."""
    cfg = MCConfig(L=2, N=2, alpha=1.0, t_w=1, steps=1, n_times=1, samples=1)
    simulate_sample(cfg, 0)
