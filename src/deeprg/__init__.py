"""deeprg: statistical mechanics of deep neural networks.

Theory (BPKR kernel renormalization, layered replica theory of deep perceptron networks),
simulations of finite networks (posterior samplers, Monte Carlo) and reproductions of
published results. See ``README.md`` and ``docs/``.
"""

__version__ = "0.1.0"

from deeprg.errors import InputError

__all__ = ["InputError", "__version__"]
