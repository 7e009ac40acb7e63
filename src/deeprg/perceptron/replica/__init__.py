"""deeprg.perceptron.replica."""
