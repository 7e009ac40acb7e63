"""Message passing (relaxed BP with a Gaussian closure on the fields) on single instances of
deep perceptron networks (docs/theory/perceptron.md §6)."""

from deeprg.perceptron.mp.config import MPConfig
from deeprg.perceptron.mp.run import Result, solve

__all__ = ["MPConfig", "Result", "solve"]
