"""Standard errors of the sampled bias² and variance (jackknife over chains) against the
spread over independent replicate runs of a synthetic sampler with known chain structure."""

import numpy as np

from deeprg.sampling.run import bias_variance_se


def _replicates(R=800, C=16, n=50, D=50, seed=1):
    rng = np.random.default_rng(seed)
    y = rng.standard_normal(n)
    mu = y + 0.3 * rng.standard_normal(n)  # a biased posterior mean
    out = []
    for _ in range(R):
        chain_means = mu + 0.2 * rng.standard_normal((C, n))  # chain-to-chain spread
        draws = chain_means[:, None, :] + 0.5 * rng.standard_normal((C, D, n))
        sq = ((draws - y) ** 2).mean(2)  # (C, D) squared-error trace
        fmc = draws.mean(1)
        b = float(((fmc.mean(0) - y) ** 2).mean())
        out.append((b, float(sq.mean()) - b, fmc, sq, y))
    return out


def test_jackknife_se_matches_the_replicate_spread():
    reps = _replicates()
    b, v = np.array([r[0] for r in reps]), np.array([r[1] for r in reps])
    se = np.array([bias_variance_se(r[2], r[3], r[4]) for r in reps])
    # R = 800 replicates: the sd of the spread is ~2.5 %, so 10 % is a 4-sigma tolerance
    assert abs(se[:, 0].mean() / b.std(ddof=1) - 1) < 0.10
    assert abs(se[:, 1].mean() / v.std(ddof=1) - 1) < 0.10


def test_negative_control_per_chain_variance_spread_is_wrong():
    """Treating each chain's own variance (within-chain only) as an independent estimate,
    spread / sqrt(C), is the tempting wrong error bar: the same check must reject it."""
    reps = _replicates(R=300)
    v = np.array([r[1] for r in reps])
    naive = []
    for _, _, fmc, sq, y in reps:
        per_chain = sq.mean(1) - ((fmc - y) ** 2).mean(1)
        naive.append(per_chain.std(ddof=1) / np.sqrt(len(per_chain)))
    assert abs(np.mean(naive) / v.std(ddof=1) - 1) > 0.25  # measured: 0.52


def test_single_chain_has_no_error_bar():
    se = bias_variance_se(np.zeros((1, 5)), np.zeros((1, 3)), np.zeros(5))
    assert all(np.isnan(se))
