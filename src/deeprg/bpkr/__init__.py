"""deeprg.bpkr."""
