"""The layered replica theory of a deep perceptron network: overlaps per layer along alpha
(closure A; closure B is selected the same way, closure="B", and costs more per point), and the
figure drawn from the saved file.

    python examples/perceptron_phase.py
"""

from deeprg.perceptron.replica.config import ReplicaConfig, run_replica
from deeprg.results import write_dataset

for closure in ("A",):
    sols, ds = run_replica(ReplicaConfig(L=4, alpha="1:30:log8", closure=closure))
    path = write_dataset(ds, f"replica-{closure}.nc", config={"closure": closure})
    print(closure, [f"{a:.3g}" for a in ds["alpha"].values[-3:]], ds["q"].isel(alpha=-1).values)
    print(f"deeprg plot {path}  # regenerates the figure from the file")
