"""Theory versus simulation with error bars: BPKR (saddle, exact, GP) against blocked-Gibbs
samples of the finite network, and the draws as ArviZ InferenceData.

    python examples/theory_vs_simulation.py
"""

from deeprg.experiments.compare import run_compare
from deeprg.experiments.configs import CompareConfig

cfg = CompareConfig(P=60, N0=120, widths=[60, 60], sigma2=1.0, T=0.05, chains=8, steps=600)
cr = run_compare(cfg, progress=False)
for mode, rep in cr.theory.items():
    print(
        f"{mode:7s} eps_g = {rep['eps_g']:.4f}   deviation {cr.deviations[mode]['eps_g']:+.2f} se"
    )
s = cr.sampler
print(
    f"Gibbs   eps_g = {s['eps_g']:.4f} +- {s['eps_g_se']:.4f} (equilibrated: {s['equilibrated']})"
)
idata = cr.run.to_inference_data()
print(idata.posterior)
