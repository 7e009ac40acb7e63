"""deeprg.sweep."""
