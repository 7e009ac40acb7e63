# %% [markdown]
# # Monte Carlo of a deep perceptron network
#
# The clone protocol (wait, clone, measure) on a small teacher-student network, with planted
# starts and the Nishimori diagnostics that say whether the run is in equilibrium
# (docs/montecarlo.md).

# %%
from deeprg.perceptron.montecarlo import MCConfig, run_mc, summary

cfg = MCConfig(L=2, N=12, alpha=2.0, scenario="teacher", start="planted", T=0.001,
               move="rotation", t_w=16, steps=64, samples=4)  # fmt: skip
ds = run_mc(cfg, progress=False)
s = summary(ds)
print("final overlaps q per neuron layer:", [round(v, 3) for v in s["q"]])
print("Nishimori diagnostics:", s["nishimori"]["status"])

# %% [markdown]
# A run this short is usually *not* shown to be in equilibrium: where clone-clone and
# student-teacher overlaps disagree beyond 3 standard errors the diagnostics name the layers,
# and the summary line and the file's attributes say so. Longer runs, T = 0 with the
# slaved-neuron sampler, or population annealing are the remedies (docs/montecarlo.md).

# %% [markdown]
# At T = 0 the slaved-neuron sampler and population annealing work on the solution space
# directly: the log Gardner volume per weight along alpha.

# %%
from deeprg.perceptron.montecarlo.anneal import anneal
from deeprg.perceptron.montecarlo.config import AnnealConfig

pa = anneal(AnnealConfig(L=1, N=1, N_in=16, c=16, alpha_max=0.5, population=200, scenario="random"))
print(pa["log_volume"].values.round(4))
