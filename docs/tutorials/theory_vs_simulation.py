# %% [markdown]
# # Theory versus simulation, with error bars
#
# The exact finite-width theory against blocked-Gibbs samples of the actual network: each
# observable with its Monte Carlo standard error, the deviation in standard errors, and the
# equilibrium check (R-hat, ESS). The draws are ArviZ InferenceData.

# %%
from deeprg.experiments.compare import run_compare
from deeprg.experiments.configs import CompareConfig

cfg = CompareConfig(P=40, N0=80, widths=[40, 40], T=0.05, chains=8, steps=400, thin=2)
cr = run_compare(cfg, progress=False)
s = cr.sampler
print(f"Gibbs eps_g = {s['eps_g']:.4f} +- {s['eps_g_se']:.4f}, equilibrated: {s['equilibrated']}")
for mode, dev in cr.deviations.items():
    print(f"{mode:6s} eps_g = {cr.theory[mode]['eps_g']:.4f}  deviation {dev['eps_g']:+.2f} se")

# %%
import arviz as az

idata = cr.run.to_inference_data()
print(az.summary(idata, var_names=["sq_err", "a2_over_N"]))
