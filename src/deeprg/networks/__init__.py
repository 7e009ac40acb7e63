"""deeprg.networks."""
