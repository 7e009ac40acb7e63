"""deeprg.perceptron.montecarlo."""
