"""deeprg.experiments."""
