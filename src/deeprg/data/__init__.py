"""deeprg.data."""
