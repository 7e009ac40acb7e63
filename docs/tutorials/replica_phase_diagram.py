# %% [markdown]
# # The layered replica theory and its phase diagram
#
# Overlaps per layer of a deep perceptron network along the load alpha = M/c (closure A,
# random inputs and outputs): the boundary layers freeze first (at pi^2/4), the solid grows
# inwards, the centre stays liquid longest (theory: docs/theory/perceptron.md §3).

# %%
import numpy as np

from deeprg.perceptron.replica import front_thresholds
from deeprg.perceptron.replica.config import ReplicaConfig, run_replica

sols, ds = run_replica(ReplicaConfig(L=6, alpha="1:60:log10"))
print(ds["q"].round(3).to_pandas())

# %% [markdown]
# The same figure `deeprg replica --out FILE.nc` followed by `deeprg plot FILE.nc` draws:

# %%
from deeprg.experiments.figures import plot_replica

plot_replica(ds, "replica_phase_diagram.png")

# %%
th = front_thresholds(8, 3, scenario="random", alpha_max=300.0, n_grid=40)
print(
    "freezing thresholds, layers 1..3:", np.round(th.alpha, 3), "pi^2/4 =", round(np.pi**2 / 4, 4)
)
