"""Write a small train/test pair of .npz files for ``deeprg bpkr --train --test``.

python examples/make_npz.py && deeprg bpkr --train train.npz --test test.npz --widths 50 --json
"""

import numpy as np

rng = np.random.default_rng(0)
N0, P, P_test = 40, 80, 200
w = rng.standard_normal(N0)
for name, n in (("train", P), ("test", P_test)):
    X = rng.standard_normal((n, N0))
    y = X @ w / np.sqrt(N0) + 0.2 * rng.standard_normal(n)
    np.savez(f"{name}.npz", X=X, y=y)
print("wrote train.npz and test.npz")
