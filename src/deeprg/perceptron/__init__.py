"""deeprg.perceptron."""
