"""The one sampling pipeline: network → initial parameters → sampler → chains (bpkr.md §6.1).

Every caller that samples the posterior of a finite network — ``deeprg compare``, the demo, the
reproductions and the sweep adapter — goes through :func:`sample_posterior`, so seeding is
defined once:

- initial parameters: chain c draws from the prior with the c-th child of
  ``SeedSequence([seed, 1])``;
- the chains' noise: chain c uses the c-th child of ``SeedSequence(seed)``
  (:class:`~deeprg.sampling.rng.ChainRNG`), so a chain's trajectory does not depend on how many
  chains run beside it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from deeprg.sampling.run import RunResult, run_chains


def sample_posterior(
    split: Any,
    widths: list[int],
    sigma2: float | list[float],
    T: float,
    *,
    activation: str = "linear",
    sampler: str = "gibbs",
    chains: int = 16,
    steps: int = 2000,
    warmup: int | None = None,
    thin: int = 5,
    eta: float = 1e-3,
    seed: int = 0,
    Z: np.ndarray | None = None,
    checkpoint: str | Path | None = None,
    overwrite: bool = False,
    progress: bool | None = None,
    config: dict[str, Any] | None = None,
) -> RunResult:
    """Sample the Gibbs posterior of the network ``N0 → widths → 1`` on ``split`` (a
    :class:`~deeprg.data.DataSplit`) with ``chains`` independent chains.

    ``warmup`` defaults to ``steps // 4``; ``Z`` are inputs on which the mean layer kernels are
    accumulated; ``checkpoint`` / ``overwrite`` / ``config`` as in
    :func:`~deeprg.sampling.run.run_chains` (the checkpoint is keyed by ``config`` plus the
    run's own configuration).
    """
    from deeprg.errors import InputError, check_int
    from deeprg.networks import init_params, network
    from deeprg.sampling.rng import ChainRNG
    from deeprg.sampling.samplers import make_sampler

    chains = check_int("chains", chains, minimum=2)
    seed = check_int("seed", seed, minimum=0)
    if sampler == "gibbs" and activation != "linear":
        raise InputError("sampler 'gibbs' needs activation 'linear' (use mala or langevin)")
    D = 1 if np.ndim(split.y) == 1 else int(np.shape(split.y)[1])  # (P, D) targets: D outputs
    net = network(split.N0, widths, sigma2, activation, outputs=D)
    smp = make_sampler(sampler, net, split.X, split.y, T, eta=eta)
    params0 = init_params(net, chains, ChainRNG(np.random.SeedSequence([seed, 1]), chains))
    return run_chains(
        smp,
        net,
        params0,
        X_test=split.X_test,
        y_test=split.y_test,
        steps=steps,
        warmup=steps // 4 if warmup is None else warmup,
        thin=thin,
        seed=seed,
        Z=Z,
        checkpoint=checkpoint,
        overwrite=overwrite,
        progress=progress,
        config=config,
    )
