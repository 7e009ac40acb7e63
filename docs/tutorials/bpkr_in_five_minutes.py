# %% [markdown]
# # BPKR in five minutes
#
# The kernel renormalization theory of a deep linear network on a data set: the saddle point,
# the exact finite-width scale mixture and the GP limit, their predictions and errors
# (theory: docs/theory/bpkr.md).

# %%
from deeprg.bpkr import fit
from deeprg.data import make_dataset

d = make_dataset("teacher", P=60, P_test=500, N0=120, seed=0)  # linear teacher, noise 0.3
for mode in ("saddle", "exact", "gp"):
    f = fit(d.X, d.y, widths=[60, 60], sigma2=1.0, T=0.05, mode=mode)
    e = f.errors(d.X_test, d.y_test)
    print(f"{mode:6s} U = {f.U:.4f}  eps_g = {e['eps_g']:.4f}  converged = {f.converged}")

# %% [markdown]
# Width dependence: narrower networks renormalize the kernel more (U moves away from the GP's
# sigma^(2L)); the mean predictor at T -> 0 does not depend on the architecture at all.

# %%
for n in (10, 30, 100, 1000):
    f = fit(d.X, d.y, widths=[n, n], sigma2=1.0, T=0.05)
    print(f"N = {n:5d}: u = {f.u.round(4)}, eps_g = {f.errors(d.X_test, d.y_test)['eps_g']:.4f}")
