"""Slaved-neuron sampler at T = 0 (hard constraints, margin κ; docs/montecarlo.md).

At zero temperature and κ = 0 every hidden neuron is slaved to its field, S = sgn(h), and the
weights are the only free variables: the equilibrium measure is the uniform measure on the
product of spheres |J_i|² = c restricted to the networks that map every training input to its
output with gaps r ≥ κ (docs/theory/perceptron.md §2.2). This sampler works on that measure
directly:

- the state is the weights (compact storage ``J[l−1, i, a]`` = weight of unit i of layer l from
  its a-th input ``conn[l−1, i, a]``) plus the cached fields ``h`` and the slaved neurons ``S``;
- a move rotates two weights (J_ia, J_ib) of one row by θ ~ U(−θ_max, θ_max) in their plane
  (norm-preserving, symmetric proposal, so the uniform measure on the spheres is invariant);
- the new fields of the moved unit are computed for every pattern; where a hidden neuron
  changes sign, the change is propagated forward through the cone of units it feeds (per
  pattern, with an undo log); the move is accepted iff every gap stays ≥ κ (hidden: |h| ≥ κ,
  output: S_target h ≥ κ), else everything is restored.

Hidden neurons are never moved on their own, so the sampler targets exactly the T = 0 measure
the replica theory describes (no soft-core energy, no backward coupling through hidden spins).
All kernels take a ``numpy.random.Generator`` (no global random state).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from deeprg.errors import InputError


@dataclass(frozen=True)
class Wiring:
    """Connectivity of the L weight layers in compact form.

    ``w``: widths (L+1,); ``fan[l−1]``: inputs per unit of layer l; ``conn[l−1, i, a]``: the
    a-th input of unit i of layer l; ``rptr[l, j]..rptr[l, j+1]`` indexes ``rk[l]`` (units of
    layer l+1 that read unit j of layer l) and ``rs[l]`` (the slot a of that input)."""

    w: np.ndarray
    fan: np.ndarray
    conn: np.ndarray
    rptr: np.ndarray
    rk: np.ndarray
    rs: np.ndarray

    @property
    def L(self) -> int:
        return len(self.w) - 1

    @property
    def n_weights(self) -> int:
        return int(sum(self.w[l] * self.fan[l - 1] for l in range(1, self.L + 1)))


def wiring(w: np.ndarray, c: int | None, rng: np.random.Generator) -> Wiring:
    """Dense layers (c = None: every unit reads all of the layer below) or random c-regular
    inputs (every unit reads c distinct units of the layer below, drawn uniformly)."""
    w = np.asarray(w, dtype=np.int64)
    L, nmax = len(w) - 1, int(w.max())
    fans = [int(w[l - 1]) if c is None else int(c) for l in range(1, L + 1)]
    cmax = max(fans)
    conn = np.zeros((L, nmax, cmax), dtype=np.int64)
    rptr = np.zeros((L, nmax + 1), dtype=np.int64)
    rk = np.zeros((L, nmax * cmax), dtype=np.int64)
    rs = np.zeros((L, nmax * cmax), dtype=np.int64)
    for l in range(1, L + 1):
        n_in, n_out, f = int(w[l - 1]), int(w[l]), fans[l - 1]
        if f > n_in:
            raise InputError(f"c must be <= the width of every layer it reads ({n_in}), got {f}")
        if c is None:
            cn = np.tile(np.arange(n_in), (n_out, 1))
        else:
            cn = np.sort(np.argsort(rng.random((n_out, n_in)), axis=1)[:, :f], axis=1)
        conn[l - 1, :n_out, :f] = cn
        units = np.repeat(np.arange(n_out), f)
        slots = np.tile(np.arange(f), n_out)
        order = np.lexsort((units, cn.ravel()))
        rk[l - 1, : units.size] = units[order]
        rs[l - 1, : units.size] = slots[order]
        counts = np.bincount(cn.ravel(), minlength=n_in)
        rptr[l - 1, 1 : n_in + 1] = np.cumsum(counts)
        rptr[l - 1, n_in + 1 :] = rptr[l - 1, n_in]
    return Wiring(w, np.asarray(fans, dtype=np.int64), conn, rptr, rk, rs)


def random_weights(wr: Wiring, rng: np.random.Generator, n: int | None = None) -> np.ndarray:
    """Weights drawn from the prior (rows uniform on the sphere |J_i|² = c); ``n`` configurations
    at once gives shape (n, L, Nmax, cmax)."""
    shape = (wr.L, int(wr.w.max()), wr.conn.shape[2])
    J = rng.standard_normal(shape if n is None else (n, *shape))
    mask = np.zeros(shape, dtype=bool)
    for l in range(1, wr.L + 1):
        mask[l - 1, : wr.w[l], : wr.fan[l - 1]] = True
    J = np.where(mask, J, 0.0)
    norms = np.sqrt((J**2).sum(-1, keepdims=True))
    fan = wr.fan.reshape((-1, 1, 1))
    return np.where(mask, J * np.sqrt(fan) / np.where(norms > 0, norms, 1.0), 0.0)


def dense_weights(wr: Wiring, J: np.ndarray) -> list[np.ndarray]:
    """The compact weights as dense matrices J^l (N_l × N_{l−1}), l = 1..L."""
    out = []
    for l in range(1, wr.L + 1):
        n_out, n_in, f = int(wr.w[l]), int(wr.w[l - 1]), int(wr.fan[l - 1])
        W = np.zeros((n_out, n_in))
        rows = np.repeat(np.arange(n_out), f)
        W[rows, wr.conn[l - 1, :n_out, :f].ravel()] = J[l - 1, :n_out, :f].ravel()
        out.append(W)
    return out


def masks(wr: Wiring) -> list[np.ndarray]:
    """The connectivity as boolean matrices (N_l × N_{l−1}), l = 1..L: the graph a teacher's
    weights live on (``deeprg.data.patterns.teacher_network(..., masks)``)."""
    ones = np.ones((wr.L, int(wr.w.max()), wr.conn.shape[2]))
    return [W != 0 for W in dense_weights(wr, ones)]


def compact_weights(wr: Wiring, dense: list[np.ndarray]) -> np.ndarray:
    """Dense matrices J^l on the wiring back to the compact storage."""
    J = np.zeros((wr.L, int(wr.w.max()), wr.conn.shape[2]))
    for l in range(1, wr.L + 1):
        n_out, f = int(wr.w[l]), int(wr.fan[l - 1])
        J[l - 1, :n_out, :f] = np.take_along_axis(dense[l - 1], wr.conn[l - 1, :n_out, :f], axis=1)
    return J


# Layout: unit-major, S[l, i, mu] and h[l-1, i, mu], so that the loop over patterns of one
# unit (every move's main loop) reads contiguous memory.


@njit(cache=True)
def _forward(J, S, h, w, fan, conn):
    """Fields of every layer and the slaved hidden neurons, from the inputs S[0] (in place).
    S[L] (the targets) is left untouched."""
    L = J.shape[0]
    M = S.shape[2]
    for l in range(1, L + 1):
        inv = 1.0 / np.sqrt(fan[l - 1])
        for i in range(w[l]):
            for mu in range(M):
                h[l - 1, i, mu] = 0.0
            for a in range(fan[l - 1]):
                jv = J[l - 1, i, a] * inv
                src = conn[l - 1, i, a]
                for mu in range(M):
                    h[l - 1, i, mu] += jv * S[l - 1, src, mu]
            if l < L:
                for mu in range(M):
                    S[l, i, mu] = 1 if h[l - 1, i, mu] >= 0.0 else -1


@njit(cache=True)
def _violations(S, h, w, kappa):
    """Number of gaps below κ (hidden: |h| < κ; output: S_L h < κ)."""
    L = h.shape[0]
    M = S.shape[2]
    n = 0
    for l in range(1, L + 1):
        for i in range(w[l]):
            for mu in range(M):
                if S[l, i, mu] * h[l - 1, i, mu] < kappa:
                    n += 1
    return n


@njit(cache=True)
def _cascade(S, h, J, fan, rptr, rk, rs, kappa, mu, l0, i0, stack, log_h, log_s, n_log, soft):
    """Propagate the flip of hidden neuron (l0, i0) of pattern mu forward through the units it
    feeds. Hard pattern (``soft`` False): returns -1 as soon as a gap drops below κ, else 0.
    Soft pattern: never stops; returns the change of the number of violated gaps of the pattern
    (hidden |h| < κ, output S_L h < κ). Every change is logged: log_h rows (layer, unit,
    pattern, old h), log_s rows (layer, unit, pattern); n_log = [n_h, n_s] counts them."""
    L = J.shape[0]
    stack[0, 0], stack[0, 1] = l0, i0
    top = 1
    dE = 0
    while top > 0:
        top -= 1
        l, i = stack[top, 0], stack[top, 1]
        s_new = S[l, i, mu]
        inv = 1.0 / np.sqrt(fan[l])
        for p in range(rptr[l, i], rptr[l, i + 1]):
            k, a = rk[l, p], rs[l, p]
            old = h[l, k, mu]
            nh = n_log[0]
            log_h[nh, 0], log_h[nh, 1], log_h[nh, 2], log_h[nh, 3] = l + 1, k, mu, old
            n_log[0] = nh + 1
            new = old + 2.0 * s_new * J[l, k, a] * inv
            h[l, k, mu] = new
            out = l + 1 == L
            bad_new = (S[L, k, mu] * new < kappa) if out else (abs(new) < kappa)
            if bad_new and not soft:
                return -1
            if soft:
                bad_old = (S[L, k, mu] * old < kappa) if out else (abs(old) < kappa)
                dE += int(bad_new) - int(bad_old)
            if not out:
                sg = 1 if new >= 0.0 else -1
                if sg != S[l + 1, k, mu]:
                    S[l + 1, k, mu] = sg
                    ns = n_log[1]
                    log_s[ns, 0], log_s[ns, 1], log_s[ns, 2] = l + 1, k, mu
                    n_log[1] = ns + 1
                    stack[top, 0], stack[top, 1] = l + 1, k
                    top += 1
    return dE


@njit(cache=True)
def _undo(S, h, log_h, log_s, n_log):
    for t in range(n_log[0] - 1, -1, -1):
        h[int(log_h[t, 0]) - 1, int(log_h[t, 1]), int(log_h[t, 2])] = log_h[t, 3]
    for t in range(n_log[1] - 1, -1, -1):
        l, k, mu = log_s[t, 0], log_s[t, 1], log_s[t, 2]
        S[l, k, mu] = -S[l, k, mu]


@njit(cache=True)
def _metropolis(dE, beta, rng):
    return dE <= 0 or rng.random() < np.exp(-beta * dE)


@njit(cache=True, inline="always")
def _log_flip(log_s, n_log, l, i, mu):
    ns = n_log[1]
    log_s[ns, 0], log_s[ns, 1], log_s[ns, 2] = l, i, mu
    n_log[1] = ns + 1


@njit(cache=True, inline="always")
def _output_move(S, hi, buf, M, kappa, i, soft, beta, rng):
    """Accept/reject a move of output unit i (only its own gaps change) and apply it."""
    L = S.shape[0] - 1
    St = S[L, i]
    for mu in range(M):
        if St[mu] * buf[mu] < kappa:
            return False
    if soft:
        dE = int(St[M] * buf[M] < kappa) - int(St[M] * hi[M] < kappa)
        if not _metropolis(dE, beta, rng):
            return False
    Mt = M + 1 if soft else M
    hi[:Mt] = buf[:Mt]
    return True


@njit(cache=True, inline="always")
def _hidden_move(J, S, h, M, fan, rptr, rk, rs, kappa, l, i, buf, old, work, soft, beta, rng):
    """Apply the new fields of hidden unit i of layer l, follow every sign change down its
    cone; accept iff every hard gap stays >= κ (and the soft pattern passes Metropolis), else
    restore everything."""
    stack, log_h, log_s, n_log = work
    hi = h[l - 1, i]
    for mu in range(M):
        if abs(buf[mu]) < kappa:
            return False
    Mt = M + 1 if soft else M
    old[:Mt] = hi[:Mt]
    hi[:Mt] = buf[:Mt]
    Si = S[l, i]
    n_log[0], n_log[1] = 0, 0
    ok = True
    for mu in range(M):
        sg = 1 if buf[mu] >= 0.0 else -1
        if sg != Si[mu]:  # the neuron flips: follow its cone downstream
            Si[mu] = sg
            _log_flip(log_s, n_log, l, i, mu)
            work_args = (stack, log_h, log_s, n_log)
            if _cascade(S, h, J, fan, rptr, rk, rs, kappa, mu, l, i, *work_args, False) < 0:
                ok = False
                break
    if ok and soft:
        dE = int(abs(buf[M]) < kappa) - int(abs(old[M]) < kappa)
        sg = 1 if buf[M] >= 0.0 else -1
        if sg != Si[M]:
            Si[M] = sg
            _log_flip(log_s, n_log, l, i, M)
            dE += _cascade(
                S, h, J, fan, rptr, rk, rs, kappa, M, l, i, stack, log_h, log_s, n_log, True
            )
        ok = _metropolis(dE, beta, rng)
    if not ok:
        _undo(S, h, log_h, log_s, n_log)
        hi[:Mt] = old[:Mt]
    return ok


@njit(cache=True, fastmath={"reassoc", "contract", "nsz", "arcp"})
def _move(J, S, h, M, fan, conn, rptr, rk, rs, kappa, l, i, a, b, theta, buf, old, work, beta, rng):
    """Rotate (J_ia, J_ib) of unit i in layer l by theta; accept iff all gaps of the first M
    patterns stay >= κ. With ``beta >= 0`` pattern M is *soft*: its violated gaps E cost
    exp(−beta E), and the move is also subject to the Metropolis rule for that cost."""
    L = J.shape[0]
    soft = beta >= 0.0
    Mt = M + 1 if soft else M
    inv = 1.0 / np.sqrt(fan[l - 1])
    ja, jb = J[l - 1, i, a], J[l - 1, i, b]
    c, s = np.cos(theta), np.sin(theta)
    da, db = (ja * c - jb * s - ja) * inv, (ja * s + jb * c - jb) * inv
    Sa, Sb, hi = S[l - 1, conn[l - 1, i, a]], S[l - 1, conn[l - 1, i, b]], h[l - 1, i]
    for mu in range(Mt):  # new fields of the moved unit
        buf[mu] = hi[mu] + da * Sa[mu] + db * Sb[mu]
    if l == L:
        ok = _output_move(S, hi, buf, M, kappa, i, soft, beta, rng)
    else:
        ok = _hidden_move(
            J, S, h, M, fan, rptr, rk, rs, kappa, l, i, buf, old, work, soft, beta, rng
        )
    if ok:
        J[l - 1, i, a], J[l - 1, i, b] = ja * c - jb * s, ja * s + jb * c
    return ok


@njit(cache=True)
def _sweeps(
    J, S, h, M, w, fan, conn, rptr, rk, rs, kappa, theta_max, n_sweeps, rng, counts, work, beta
):
    """n_sweeps × (number of weights) rotation attempts on uniformly chosen (layer, unit,
    slot) with a second slot drawn among the others, hard on the first M patterns (and soft on
    pattern M at inverse temperature beta >= 0); counts += [attempts, accepted] per layer."""
    L = J.shape[0]
    buf = np.empty(S.shape[2])
    old = np.empty(S.shape[2])
    n_w = 0
    for l in range(1, L + 1):
        n_w += w[l] * fan[l - 1]
    for _ in range(n_sweeps * n_w):
        t = rng.integers(0, n_w)
        l = 1
        while t >= w[l] * fan[l - 1]:
            t -= w[l] * fan[l - 1]
            l += 1
        f = fan[l - 1]
        i, a = t // f, t % f
        b = rng.integers(0, f - 1)
        if b >= a:
            b += 1
        theta = theta_max[l - 1] * (2.0 * rng.random() - 1.0)
        counts[l - 1, 0] += 1
        if _move(
            J, S, h, M, fan, conn, rptr, rk, rs, kappa, l, i, a, b, theta, buf, old, work, beta, rng
        ):
            counts[l - 1, 1] += 1


def _work(wr: Wiring, M: int) -> tuple:
    """Scratch arrays of a cascade (stack, h log, S log, counts); a cascade touches every edge
    of every pattern at most once."""
    n = int(wr.w.sum() * wr.conn.shape[2]) * M + 1
    return (
        np.zeros((int(wr.w.sum()) + 1, 2), dtype=np.int64),
        np.zeros((n, 4)),
        np.zeros((n, 3), dtype=np.int64),
        np.zeros(2, dtype=np.int64),
    )


@dataclass
class SlavedState:
    """One network on fixed data: compact weights J, slaved neurons S[l, i, mu] (S[0] inputs,
    S[L] targets) and fields h[l−1, i, mu] of layer l (unit-major layout)."""

    J: np.ndarray
    S: np.ndarray
    h: np.ndarray

    @classmethod
    def build(cls, wr: Wiring, J: np.ndarray, S0: np.ndarray, SL: np.ndarray) -> SlavedState:
        """The state of weights ``J`` on inputs S0 (M × N_0) and targets SL (M × N_L)."""
        M, nmax = S0.shape[0], int(wr.w.max())
        S = np.zeros((wr.L + 1, nmax, M), dtype=np.int8)
        S[0, : wr.w[0]] = S0.T
        S[wr.L, : wr.w[-1]] = SL.T
        h = np.zeros((wr.L, nmax, M))
        J = np.ascontiguousarray(J, dtype=np.float64)
        _forward(J, S, h, wr.w, wr.fan, wr.conn)
        return cls(J, S, h)

    def violations(self, wr: Wiring, kappa: float = 0.0) -> int:
        """Number of gaps below κ (0 for a solution)."""
        return int(_violations(self.S, self.h, wr.w, float(kappa)))


def sweep(
    state: SlavedState,
    wr: Wiring,
    n_sweeps: int,
    rng: np.random.Generator,
    *,
    kappa: float = 0.0,
    theta_max: float | np.ndarray = 0.3,
) -> np.ndarray:
    """Run ``n_sweeps`` sweeps in place; returns (attempts, accepted) per weight layer (L, 2).
    The state must be a solution (no violated gap): the sampler never leaves the solution
    space, so it has to start inside it (e.g. planted at the teacher)."""
    if state.violations(wr, kappa):
        raise InputError(
            "the slaved-neuron sampler needs a starting state that satisfies every gap"
        )
    th = np.broadcast_to(np.asarray(theta_max, dtype=np.float64), (wr.L,)).copy()
    _forward(state.J, state.S, state.h, wr.w, wr.fan, wr.conn)  # no drift of the cached fields
    counts = np.zeros((wr.L, 2), dtype=np.int64)
    work = _work(wr, state.S.shape[2])
    M = state.S.shape[2]
    _sweeps(
        state.J, state.S, state.h, M, wr.w, wr.fan, wr.conn, wr.rptr, wr.rk, wr.rs,
        float(kappa), th, int(n_sweeps), rng, counts, work, -1.0,
    )  # fmt: skip
    return counts
