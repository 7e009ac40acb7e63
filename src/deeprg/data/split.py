"""The training/test split every data set returns, and the shared checks (docs/data.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from deeprg.errors import InputError, check_int


@dataclass(frozen=True)
class DataSplit:
    """Training and test sets with the labels used for ε_g; ``info`` records seed and options."""

    X: np.ndarray
    y: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def P(self) -> int:
        return int(self.X.shape[0])

    @property
    def N0(self) -> int:
        return int(self.X.shape[1])


def check_seed(seed: Any, name: str = "seed") -> int:
    """A seed is an integer >= 0 (NumPy's generators refuse negative seeds)."""
    return check_int(name, seed, minimum=0)


def _check_labels(test_labels: str) -> None:
    if test_labels not in ("clean", "noisy"):
        raise InputError(f"test_labels must be 'clean' or 'noisy', got {test_labels!r}")


def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.array(a)
    a.setflags(write=False)
    return a
