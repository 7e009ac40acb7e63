"""deeprg.sampling."""
