"""Synthetic data sets: the linear teacher (docs/theory/bpkr.md §7.1) and the template model
(docs/theory/bpkr.md §6.2)."""

from __future__ import annotations

import numpy as np

from deeprg.data.split import DataSplit, _check_labels, check_seed
from deeprg.errors import InputError, check_in_range, check_int, check_memory, check_positive


def linear_teacher(
    P: int,
    P_test: int,
    N0: int = 120,
    *,
    noise: float = 0.3,
    sigma_w: float = 1.0,
    test_labels: str = "clean",
    seed: int = 0,
) -> DataSplit:
    """Linear teacher with Gaussian inputs and label noise (docs/theory/bpkr.md §6.2 item 2, §7.1)."""
    P, P_test, N0 = check_int("P", P), check_int("P_test", P_test), check_int("N0", N0)
    noise = check_positive("noise", noise, allow_zero=True)
    sigma_w = check_positive("sigma_w", sigma_w)
    _check_labels(test_labels)
    seed = check_seed(seed)
    check_memory(f"teacher data (P = {P}, P_test = {P_test}, N0 = {N0})", 8.0 * N0 * (P + P_test))
    rng = np.random.default_rng(seed)
    w0 = sigma_w * rng.standard_normal(N0)
    X = rng.standard_normal((P, N0))
    Xt = rng.standard_normal((P_test, N0))
    y = X @ w0 / np.sqrt(N0) + noise * rng.standard_normal(P)
    yt = Xt @ w0 / np.sqrt(N0)
    if test_labels == "noisy":
        yt = yt + noise * rng.standard_normal(P_test)
    info = {"name": "teacher", "seed": seed, "noise": noise, "sigma_w": sigma_w}
    return DataSplit(X, y, Xt, yt, {**info, "test_labels": test_labels, "N0": N0})


def template_model(
    P: int,
    P_test: int,
    N0: int = 200,
    *,
    gamma: float = 0.05,
    sigma_0: float = 0.1,
    sigma_w: float = 0.3,
    inputs: str = "gaussian",
    test_labels: str = "noisy",
    labels: str = "teacher",
    seed: int = 0,
) -> DataSplit:
    """Template model (docs/theory/bpkr.md §6.2 item 1; App. E of the paper as read by deepbays [S]).

    P templates x^μ (N(0, I), or ±1 with ``inputs="binary"``) are the training inputs; a
    teacher w ~ N(0, σ_w² I) labels them, y = w·x/√N0 + σ_0 η. Test inputs are noisy copies
    x = √(1−γ) x^μ + √γ ξ of random templates; their labels come from the same noisy teacher
    (``test_labels="clean"`` drops the noise). The paper's exact test-label rule is [U].
    ``labels="clusters"``: deepbays' random-cluster variant [S] — each template gets a random
    ±1 label (no teacher, no noise) and a test input carries its template's label.
    """
    P, P_test, N0 = check_int("P", P), check_int("P_test", P_test), check_int("N0", N0)
    gamma = check_in_range("gamma", gamma, 0.0, 1.0)
    sigma_0 = check_positive("sigma_0", sigma_0, allow_zero=True)
    sigma_w = check_positive("sigma_w", sigma_w)
    if inputs not in ("gaussian", "binary"):
        raise InputError(f"inputs must be 'gaussian' or 'binary', got {inputs!r}")
    _check_labels(test_labels)
    if labels not in ("teacher", "clusters"):
        raise InputError(f"labels must be 'teacher' or 'clusters', got {labels!r}")
    seed = check_seed(seed)
    # X, the P_test noisy copies X[which] + noise and the noise draw itself
    check_memory(
        f"template data (P = {P}, P_test = {P_test}, N0 = {N0})", 8.0 * N0 * (P + 3 * P_test)
    )
    rng = np.random.default_rng(seed)
    w = sigma_w * rng.standard_normal(N0)
    if inputs == "gaussian":
        X = rng.standard_normal((P, N0))
    else:
        X = rng.choice([-1.0, 1.0], size=(P, N0))
    y = X @ w / np.sqrt(N0) + sigma_0 * rng.standard_normal(P)
    which = rng.integers(0, P, size=P_test)
    Xt = np.sqrt(1 - gamma) * X[which] + np.sqrt(gamma) * rng.standard_normal((P_test, N0))
    yt = Xt @ w / np.sqrt(N0)
    if test_labels == "noisy":
        yt = yt + sigma_0 * rng.standard_normal(P_test)
    if labels == "clusters":
        y = rng.choice([-1.0, 1.0], size=P)
        yt = y[which]
    info = {"name": "template", "seed": seed, "gamma": gamma, "sigma_0": sigma_0}
    info |= {"sigma_w": sigma_w, "inputs": inputs, "test_labels": test_labels, "N0": N0}
    info["labels"] = labels
    return DataSplit(X, y, Xt, yt, info)
