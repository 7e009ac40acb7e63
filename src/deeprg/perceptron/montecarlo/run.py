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

from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from deeprg.errors import InputError
from deeprg.perceptron.montecarlo import engine as eng
from deeprg.perceptron.montecarlo.analysis import (
    classify_layers,
    matched_overlaps,
    row_cosine,
    ultrametricity,
)
from deeprg.perceptron.montecarlo.config import MCConfig

MOVES = eng.MOVES_BY_NAME


@dataclass
class State:
    S: np.ndarray
    J: np.ndarray
    h: np.ndarray

    def copy(self) -> State:
        return State(self.S.copy(), self.J.copy(), self.h.copy())


def make_graph(cfg: MCConfig, rng: np.random.Generator) -> eng.Graph:
    """Dense graph (c = None) or random c-regular inputs drawn from ``rng``."""
    if cfg.c is None:
        return eng.dense_graph(cfg.widths)
    return eng.random_graph(cfg.widths, cfg.c, rng)


def init_state(
    cfg: MCConfig,
    S0: np.ndarray,
    SL: np.ndarray,
    rng: np.random.Generator,
    graph: eng.Graph | None = None,
) -> State:
    """Clamped boundaries, random hidden ±1, Gaussian rows (on the graph) rescaled to
    norm² = fan-in."""
    from deeprg.data.patterns import spherical_rows

    w = cfg.widths
    g = graph or eng.dense_graph(w)
    L, M, Nmax = cfg.L, cfg.M, int(w.max())
    S = np.zeros((L + 1, M, Nmax), dtype=np.int8)
    S[0, :, : w[0]] = S0
    S[L, :, : w[L]] = SL
    for l in range(1, L):
        S[l, :, : w[l]] = rng.choice(np.array([-1, 1], dtype=np.int8), size=(M, w[l]))
    J = np.zeros((L, Nmax, Nmax))
    for l in range(1, L + 1):
        mask = g.mask(l, w) if g.sparse else None
        J[l - 1, : w[l], : w[l - 1]] = spherical_rows(int(w[l]), int(w[l - 1]), rng, mask)
    return State(S, J, eng.compute_fields(S, J, w, g))


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
    q = np.empty(L + 1)
    qabs = np.empty(L + 1)
    for l in range(L + 1):
        prod = a.S[l, :, : w[l]].astype(np.float64) * b.S[l, :, : w[l]]
        q[l] = prod.mean()
        qabs[l] = np.abs(prod.mean(axis=0)).mean()
    Q = np.empty(L)
    for l in range(1, L + 1):
        Q[l - 1] = row_cosine(a.J[l - 1, : w[l], : w[l - 1]], b.J[l - 1, : w[l], : w[l - 1]])
    return q, Q, qabs


def invariant_overlaps(a: State, b: State, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Gauge-invariant overlaps of §5.3: (gap overlap (1/(N M)) Σ r^a r^b per weight layer
    l = 1..L (gauge invariant; unit by unit, so not invariant under permutations of hidden
    units); cosine similarity of the off-diagonal representation kernels
    K^{μν}(l) = (1/N) Σ_i S_i^μ S_i^ν of the two replicas, per neuron layer l = 0..L)."""
    L = a.J.shape[0]
    r = np.empty(L)
    for l in range(1, L + 1):
        ra = a.S[l, :, : w[l]] * a.h[l - 1, :, : w[l]]
        rb = b.S[l, :, : w[l]] * b.h[l - 1, :, : w[l]]
        r[l - 1] = np.mean(ra * rb)
    k = np.empty(L + 1)
    for l in range(L + 1):
        Sa = a.S[l, :, : w[l]].astype(np.float64)
        Sb = b.S[l, :, : w[l]].astype(np.float64)
        Ka, Kb = Sa @ Sa.T, Sb @ Sb.T
        np.fill_diagonal(Ka, 0.0)
        np.fill_diagonal(Kb, 0.0)
        den = np.sqrt(np.sum(Ka * Ka) * np.sum(Kb * Kb))
        k[l] = np.sum(Ka * Kb) / den if den > 0 else 1.0
    return r, k


def student_eps_g(st: State, w: np.ndarray, S_test: np.ndarray, teacher_out: np.ndarray) -> float:
    """Fraction of output bits where the student's sign network disagrees with the teacher's
    outputs ``teacher_out`` on the fresh inputs ``S_test``."""
    from deeprg.data.patterns import forward_signs

    L = st.J.shape[0]
    student = [st.J[l - 1, : w[l], : w[l - 1]] for l in range(1, L + 1)]
    return float(np.mean(forward_signs(student, S_test)[-1] != teacher_out))


def _energy(st: State, w: np.ndarray, cfg: MCConfig) -> float:
    return float(eng.layer_energies(st.S, st.h, w, cfg.kappa, cfg.eps)[0].sum())


def _advance(ens, n, cfg, w, graph, betas, move, steps, counts, swaps, rng) -> None:
    """``n`` MC steps of one clone: a list of states ordered by temperature (one without
    tempering). Parallel tempering: after every ``pt_every`` steps, neighbours (alternating
    even/odd pairs) swap with probability min(1, exp[(β_i − β_j)(E_i − E_j)])."""
    chunk = n if len(ens) == 1 else cfg.pt_every
    done = 0
    while done < n:
        m = min(chunk, n - done)
        for st, b in zip(ens, betas, strict=True):
            eng.mc_sweeps(st.S, st.J, st.h, w, m, b, cfg.kappa, cfg.eps, move, steps, counts, graph)
        done += m
        if len(ens) == 1:
            continue
        E = [_energy(st, w, cfg) for st in ens]
        start = int(swaps[2, 0]) % 2
        swaps[2, 0] += 1
        for i in range(start, len(ens) - 1, 2):
            swaps[0, i] += 1
            x = (betas[i] - betas[i + 1]) * (E[i] - E[i + 1])
            if x >= 0 or rng.random() < np.exp(x):
                swaps[1, i] += 1
                ens[i], ens[i + 1] = ens[i + 1], ens[i]
                E[i], E[i + 1] = E[i + 1], E[i]


def _pairs(n: int) -> list[tuple[int, int]]:
    return [(a, b) for a in range(n) for b in range(a + 1, n)]


def store_config(cfg: MCConfig) -> dict[str, Any]:
    """The configuration a store of samples is keyed by: every field but ``samples`` (sample i's
    seed is the i-th word of ``SeedSequence(seed)``, whatever the number of samples, so a store
    can be extended with more samples)."""
    return {k: v for k, v in cfg.to_dict().items() if k != "samples"}


def sample_config(cfg: MCConfig, seed: int) -> dict[str, Any]:
    """Identity of one sample's result or checkpoint: the store configuration and its seed."""
    return store_config(cfg) | {"sample_seed": int(seed)}


def _save_ckpt(
    path: Path, ident: dict[str, Any], k: int, t_prev: int, clones, ref, out, counts, swaps
) -> None:
    from deeprg.identity import identity
    from deeprg.results import save_npz

    arrs: dict[str, np.ndarray] = {"k": np.array(k), "t_prev": np.array(t_prev)}
    arrs["counts"], arrs["swaps"] = counts, swaps
    for a, ens in enumerate(clones):
        for r, st in enumerate(ens):
            arrs[f"S_{a}_{r}"], arrs[f"J_{a}_{r}"], arrs[f"h_{a}_{r}"] = st.S, st.J, st.h
    arrs["ref_S"], arrs["ref_J"] = ref.S, ref.J
    arrs |= {f"out_{key}": v for key, v in out.items()}
    save_npz(path, arrs, identity=identity(ident))


def _load_npz_checked(path: Path, ident: dict[str, Any], what: str) -> dict[str, np.ndarray]:
    """Members of a sample or checkpoint file, refused (one line) unless written for ``ident``."""
    from deeprg.identity import check_identity
    from deeprg.results import load_npz, meta_of

    f = load_npz(path, what)
    stored = meta_of(f, "identity")
    if stored is None:
        raise InputError(f"{what} {path} records no configuration: remove it or pass --overwrite")
    hint = "choose a new --store or pass --overwrite"
    check_identity(f"{what} {path}", stored, ident, hint)
    return {k: v for k, v in f.items() if not k.startswith("__")}


def simulate_sample(
    cfg: MCConfig,
    seed: int,
    checkpoint: str | Path | None = None,
    checkpoint_seconds: float = 60.0,
) -> dict[str, np.ndarray]:
    """One sample of the clone protocol; returns arrays over (time, layer).

    With ``checkpoint`` (a file path) the full state is saved atomically at measurement times
    at most every ``checkpoint_seconds``, with the configuration and seed; a rerun with the
    same configuration resumes from it (any other is refused). Every segment between
    measurements reseeds the generators from the sample seed, so a resumed sample is
    bit-identical to an uninterrupted one.
    """
    import time as _time

    from deeprg.data.patterns import forward_signs, random_patterns, teacher_data

    rng = np.random.default_rng(seed)
    w = cfg.widths
    graph = make_graph(cfg, rng)
    teacher = None
    if cfg.scenario == "teacher":
        masks = [graph.mask(l, w) for l in range(1, cfg.L + 1)] if graph.sparse else None
        S0, SL, teacher = teacher_data(cfg.M, list(w), rng, D=cfg.D, masks=masks)
    else:
        S0, SL = random_patterns(cfg.M, list(w), rng)
    times = np.unique(np.round(np.geomspace(1, cfg.steps, cfg.n_times)).astype(int))
    seg_seeds = rng.integers(2**31 - 1, size=len(times) + 1)
    S_test = random_patterns(cfg.P_test, list(w), rng)[0] if teacher is not None else None
    teacher_test_out = (
        forward_signs(teacher, S_test)[-1] if teacher is not None and S_test is not None else None
    )
    temps = cfg.temperatures
    betas = np.array([np.inf if t == 0 else 1.0 / t for t in temps])
    R = len(temps)
    host = [init_state(cfg, S0, SL, rng, graph) for _ in range(R)]
    steps = _steps(cfg)
    mv = MOVES[cfg.move]
    L = cfg.L
    pairs = _pairs(cfg.clones)
    nt = len(times)
    out: dict[str, np.ndarray] = {k: np.zeros((nt, L + 1)) for k in ("q", "qabs", "C", "q_ts")}
    out |= {k: np.zeros((nt, L)) for k in ("Q", "energy", "violations", "Q_ts")}
    out["q_pairs"] = np.zeros((nt, len(pairs), L + 1))
    out["Q_pairs"] = np.zeros((nt, len(pairs), L))
    out["eps_g"] = np.full(nt, np.nan)
    out["gap_overlap"] = np.zeros((nt, L))
    out["kernel_overlap"] = np.zeros((nt, L + 1))
    out["q_matched"] = np.zeros((nt, L + 1))
    out["Q_matched"] = np.zeros((nt, L))
    out["q_ts_matched"] = np.zeros((nt, L + 1))
    out["Q_ts_matched"] = np.zeros((nt, L))
    counts = np.zeros(4, dtype=np.int64)
    # swap attempts, accepted swaps per neighbour pair; swaps[2, 0] counts sweeps (parity)
    swaps = np.zeros((3, max(R - 1, 1)), dtype=np.int64)
    teacher_state = None
    if teacher is not None:
        teacher_state = State(np.zeros_like(host[0].S), np.zeros_like(host[0].J), host[0].h)
        tl = forward_signs(teacher, S0)
        for l in range(L + 1):
            teacher_state.S[l, :, : w[l]] = tl[l]
        for l in range(1, L + 1):
            teacher_state.J[l - 1, : w[l], : w[l - 1]] = teacher[l - 1]
        q0, Q0 = matched_overlaps(
            host[0].S, host[0].J, teacher_state.S, teacher_state.J, w, not graph.sparse
        )
        out["q_ts_floor"], out["Q_ts_floor"] = q0, Q0

    def segment(k: int) -> np.random.Generator:
        eng.seed_numba(int(seg_seeds[k]))
        return np.random.default_rng(int(seg_seeds[k]))

    ckpt = Path(checkpoint) if checkpoint is not None else None
    ident = sample_config(cfg, seed)
    k0, t_prev = 0, 0
    if ckpt is not None and ckpt.exists():
        f = _load_npz_checked(ckpt, ident, "checkpoint")
        try:
            k0, t_prev = int(f["k"]), int(f["t_prev"])
            counts, swaps = f["counts"].copy(), f["swaps"].copy()
            clones = [
                [State(f[f"S_{a}_{r}"], f[f"J_{a}_{r}"], f[f"h_{a}_{r}"]) for r in range(R)]
                for a in range(cfg.clones)
            ]
            ref = State(
                f["ref_S"], f["ref_J"], eng.compute_fields(f["ref_S"], f["ref_J"], w, graph)
            )
            out = {key[4:]: f[key].copy() for key in f if key.startswith("out_")}
        except (KeyError, ValueError, IndexError) as exc:
            raise InputError(f"checkpoint {ckpt} is corrupt (missing {exc})") from None
    else:
        prng = segment(0)
        if cfg.T_anneal is not None and cfg.t_w > 0:
            T_end = cfg.T if cfg.T > 0 else min(cfg.T_anneal, 1e-3)
            for T_k in np.geomspace(cfg.T_anneal, T_end, cfg.t_w)[:-1]:
                _advance(host, 1, cfg, w, graph, [1.0 / T_k], mv, steps, counts, swaps, prng)
            _advance(host, 1, cfg, w, graph, betas, mv, steps, counts, swaps, prng)
        else:
            _advance(host, cfg.t_w, cfg, w, graph, betas, mv, steps, counts, swaps, prng)
        ref = host[0].copy()
        clones = [host] + [[st.copy() for st in host] for _ in range(cfg.clones - 1)]
    last_save = _time.monotonic()
    for k in range(k0, nt):
        t = int(times[k])
        prng = segment(k + 1)
        for ens in clones:
            _advance(ens, t - t_prev, cfg, w, graph, betas, mv, steps, counts, swaps, prng)
        t_prev = t
        cur = [ens[0] for ens in clones]
        for p, (a, b) in enumerate(pairs):
            qp, Qp, qabs = overlaps(cur[a], cur[b], w)
            out["q_pairs"][k, p], out["Q_pairs"][k, p] = qp, Qp
            if p == 0:
                out["q"][k], out["Q"][k], out["qabs"][k] = qp, Qp, qabs
        out["q_matched"][k], out["Q_matched"][k] = matched_overlaps(
            cur[0].S, cur[0].J, cur[1].S, cur[1].J, w, not graph.sparse
        )
        out["gap_overlap"][k], out["kernel_overlap"][k] = invariant_overlaps(cur[0], cur[1], w)
        out["C"][k] = overlaps(cur[0], ref, w)[0]
        E, V = eng.layer_energies(cur[0].S, cur[0].h, w, cfg.kappa, cfg.eps)
        out["energy"][k], out["violations"][k] = E, V
        if teacher_state is not None and S_test is not None and teacher_test_out is not None:
            qt, Qt, _ = overlaps(cur[0], teacher_state, w)
            out["q_ts"][k], out["Q_ts"][k] = qt, Qt
            out["eps_g"][k] = student_eps_g(cur[0], w, S_test, teacher_test_out)
            qm, Qm = matched_overlaps(
                cur[0].S, cur[0].J, teacher_state.S, teacher_state.J, w, not graph.sparse
            )
            out["q_ts_matched"][k], out["Q_ts_matched"][k] = qm, Qm
        if ckpt is not None and k + 1 < nt and _time.monotonic() - last_save >= checkpoint_seconds:
            _save_ckpt(ckpt, ident, k + 1, t_prev, clones, ref, out, counts, swaps)
            last_save = _time.monotonic()
    out["times"] = times.astype(float)
    out["acceptance"] = np.array([counts[1] / max(counts[0], 1), counts[3] / max(counts[2], 1)])
    out["pt_acceptance"] = swaps[1] / np.maximum(swaps[0], 1)
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


_V = {
    "q": ("replica overlap of the neurons", "host-guest (clone pair 0-1) overlap q(l; t)"),
    "qabs": ("gauge-invariant neuron overlap", "mean over units of |q_i(l; t)|"),
    "C": ("autocorrelation of the neurons", "overlap of the host at t_w + t with itself at t_w"),
    "Q": ("replica overlap of the weights", "host-guest Q(l; t), rows normalized by their norms"),
    "energy": ("energy per weight layer", "sum of V(r) over the gaps of layer l"),
    "violations": ("violated gaps", "number of gaps r < kappa in layer l"),
    "acceptance": ("acceptance rate", "accepted / attempted moves (flip, weight)"),
    "gap_overlap": ("gap overlap", "(1/NM) sum r^a r^b per weight layer (gauge invariant)"),
    "kernel_overlap": (
        "representation-kernel overlap",
        "cosine similarity of the off-diagonal kernels K^{mu nu}(l) of host and guest",
    ),
    "q_matched": ("matched neuron overlap", "host-guest q after gauge and permutation matching"),
    "Q_matched": ("matched weight overlap", "host-guest Q after gauge and permutation matching"),
    "q_pairs": ("neuron overlap per clone pair", "q(l; t) for every pair of clones"),
    "Q_pairs": ("weight overlap per clone pair", "Q(l; t) for every pair of clones"),
    "q_ts": ("student-teacher neuron overlap", "site-wise overlap with the teacher"),
    "Q_ts": ("student-teacher weight overlap", "site-wise weight overlap with the teacher"),
    "eps_g": ("generalization error", "fraction of output bits wrong on fresh inputs"),
    "q_ts_matched": ("matched student-teacher neuron overlap", "after gauge/permutation matching"),
    "Q_ts_matched": ("matched student-teacher weight overlap", "after gauge/permutation matching"),
    "q_ts_floor": ("random-student floor of q_ts_matched", "teacher vs the initial student"),
    "Q_ts_floor": ("random-student floor of Q_ts_matched", "teacher vs the initial student"),
    "pt_acceptance": ("tempering swap acceptance", "accepted / attempted neighbour swaps"),
    "temperature": ("tempering temperatures", "the geometric ladder from T to pt_T_max"),
}
VARIABLES = {k: {"long_name": a, "units": "1", "description": b} for k, (a, b) in _V.items()}
VARIABLES["tau"] = {
    "long_name": "relaxation time",
    "units": "MC steps",
    "description": "first time the sample-mean q(l; t) crosses 1/e (NaN: not reached)",
}


def _run_one(
    args: tuple[MCConfig, int, int, str | None, float],
) -> tuple[int, dict[str, np.ndarray]]:
    cfg, idx, seed, store, ckpt_s = args
    if store is None:
        return idx, simulate_sample(cfg, seed)
    from deeprg.identity import identity
    from deeprg.results import save_npz

    ident = sample_config(cfg, seed)
    p = Path(store) / f"sample_{idx:05d}.npz"
    if p.exists():
        return idx, _load_npz_checked(p, ident, "sample")
    ckpt = Path(store) / f"sample_{idx:05d}.ckpt.npz"
    res = simulate_sample(cfg, seed, checkpoint=ckpt, checkpoint_seconds=ckpt_s)
    save_npz(p, res, identity=identity(ident))
    ckpt.unlink(missing_ok=True)
    return idx, res


def open_store(store: str | Path, cfg: MCConfig, *, overwrite: bool = False) -> Path:
    """Prepare a sample store: check it is writable, then create it with ``config.json`` (the
    identity of :func:`store_config`), or verify that an existing one was written with the same
    configuration and package version (else InputError, one line). ``overwrite`` removes the
    store's own files (config, samples, checkpoints) first."""
    import json

    from deeprg.identity import check_identity, identity
    from deeprg.results import atomic_write_text, check_writable

    d = check_writable(store, kind="dir", what="--store")
    cj = d / "config.json"
    if overwrite:
        for f in [cj, *d.glob("sample_*.npz")]:
            f.unlink(missing_ok=True)
    ident = store_config(cfg)
    if cj.exists():
        try:
            stored = json.loads(cj.read_text())
        except (OSError, ValueError):
            raise InputError(f"store {d}: {cj.name} is unreadable (corrupt store)") from None
        check_identity(f"store {d}", stored, ident, "choose a new --store or pass --overwrite")
    elif any(d.glob("sample_*.npz")):
        raise InputError(
            f"store {d} holds samples but no config.json: choose a new --store or pass --overwrite"
        )
    else:
        atomic_write_text(cj, json.dumps(identity(ident), indent=1))
    return d


def run_mc(
    cfg: MCConfig,
    *,
    workers: int = 1,
    store: str | Path | None = None,
    progress: bool | None = None,
    checkpoint_seconds: float = 60.0,
    overwrite: bool = False,
):
    """Run ``cfg.samples`` samples (in ``workers`` processes); returns an xarray Dataset.

    With ``store`` (a directory), finished samples are saved atomically and reused on rerun,
    and a running sample checkpoints its full state at most every ``checkpoint_seconds``
    (at measurement times), so a killed run resumes inside the sample, bit-identically.
    The store records its configuration (``config.json``: every field but ``samples``, the
    package version and the hash); a rerun under any other configuration is refused with one
    line naming the keys that differ, ``overwrite=True`` starts the store afresh. A rerun with
    more ``samples`` reuses the finished ones and adds the rest.
    """
    import sys

    import xarray as xr

    seeds = np.random.SeedSequence(cfg.seed).generate_state(cfg.samples)
    if store is not None:
        open_store(store, cfg, overwrite=overwrite)
    st = None if store is None else str(store)
    tasks = [(cfg, i, int(s), st, checkpoint_seconds) for i, s in enumerate(seeds)]
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

            from deeprg.parallel import one_blas_thread

            ctx = mp.get_context("fork")
            with ProcessPoolExecutor(workers, mp_context=ctx, initializer=one_blas_thread) as ex:
                for idx, res in ex.map(_run_one, tasks):
                    results[idx] = res
                    if bar is not None and task is not None:
                        bar.update(task, advance=1)
        else:
            for t in tasks:
                idx, res = _run_one(t)
                results[idx] = res
                if bar is not None and task is not None:
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
            "gap_overlap": (("sample", "time", "wlayer"), stack("gap_overlap")),
            "kernel_overlap": (("sample", "time", "layer"), stack("kernel_overlap")),
            "q_matched": (("sample", "time", "layer"), stack("q_matched")),
            "Q_matched": (("sample", "time", "wlayer"), stack("Q_matched")),
            "q_pairs": (("sample", "time", "pair", "layer"), stack("q_pairs")),
            "Q_pairs": (("sample", "time", "pair", "wlayer"), stack("Q_pairs")),
        },
        coords={
            "sample": np.arange(cfg.samples),
            "pair": [f"{a}-{b}" for a, b in _pairs(cfg.clones)],
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
        ds["q_ts_matched"] = (("sample", "time", "layer"), stack("q_ts_matched"))
        ds["Q_ts_matched"] = (("sample", "time", "wlayer"), stack("Q_ts_matched"))
        ds["q_ts_floor"] = (("sample", "layer"), stack("q_ts_floor"))
        ds["Q_ts_floor"] = (("sample", "wlayer"), stack("Q_ts_floor"))
    qm = ds["q"].mean("sample").values
    tau = [relaxation_time(times, qm[:, l]) for l in range(L + 1)]
    ds["tau"] = ("layer", np.array([np.nan if v is None else v for v in tau]))
    if cfg.pt_n > 1:
        ds["pt_acceptance"] = (("sample", "pt_pair"), stack("pt_acceptance"))
        ds["temperature"] = ("pt_level", cfg.temperatures)
    from deeprg.identity import identity
    from deeprg.schema import COORDS, annotate

    annotate(ds, COORDS | VARIABLES)
    ds.attrs.update(identity(cfg.to_dict()))
    return ds


def run_aging(cfg: MCConfig, t_ws, **kwargs):
    """Aging family: the clone protocol at several waiting times of the *same* host trajectory
    (§5.1). The waiting-time segment is driven by one seed per sample, so runs that differ only
    in t_w share the host's history up to the shorter t_w; the guests are cloned from it at each
    t_w. Returns the :func:`run_mc` datasets concatenated along a ``t_w`` dimension.
    ``kwargs`` go to :func:`run_mc` (workers, store, progress)."""
    import xarray as xr

    from deeprg.errors import InputError

    t_ws = sorted({int(t) for t in t_ws})
    if not t_ws or t_ws[0] < 0:
        raise InputError(f"t_ws must be non-negative waiting times, got {t_ws}")
    if cfg.T_anneal is not None:
        raise InputError("run_aging needs a fixed temperature (T_anneal must be None)")
    parts = []
    for tw in t_ws:
        store = kwargs.get("store")
        kw = dict(kwargs)
        if store is not None:
            kw["store"] = Path(store) / f"t_w_{tw}"
        ds = run_mc(cfg.replace(t_w=tw), **kw)
        parts.append(ds.expand_dims(t_w=[tw]))
    return xr.concat(parts, dim="t_w", coords="minimal", compat="override")


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
        "phase": classify_layers(last["q"].mean("sample").values),
        "acceptance": ds["acceptance"].mean("sample").values.tolist(),
    }
    if "eps_g" in ds:
        out["eps_g_final"] = float(last["eps_g"].mean("sample"))
        out["q_ts"] = last["q_ts"].mean("sample").values.tolist()
        out["Q_ts"] = last["Q_ts"].mean("sample").values.tolist()
        out["q_ts_matched"] = last["q_ts_matched"].mean("sample").values.tolist()
        out["Q_ts_matched"] = last["Q_ts_matched"].mean("sample").values.tolist()
    if ds.sizes.get("pair", 1) >= 3 and ds.sizes["sample"] >= 3:
        um = ultrametricity(ds)
        out["ultrametricity"] = {k: um[k].values.tolist() for k in ("delta", "delta_null", "K")}
    return out


def _warm_up() -> None:
    """Compile the kernels in the parent before forking workers."""
    cfg = MCConfig(L=2, N=2, alpha=1.0, t_w=1, steps=1, n_times=1, samples=1)
    simulate_sample(cfg, 0)
