"""Closed-form references independent of the package's solvers (a helper module, not a test
file)."""

import numpy as np
from scipy import integrate, optimize, special


def gibbs_learning_eps_g(alpha: float) -> float:
    """Gibbs learning of a spherical perceptron from a perceptron teacher (RS, exact by
    Nishimori): ε = arccos(R)/π with R/√(1 − R) = (α/π) ∫Dt e^{−Rt²/2}/H(−√R t)
    (Engel & Van den Broeck, Statistical Mechanics of Learning, eq. 2.42), by quadrature.
    e^{−Rt²/2}/H(−√R t) = 2/erfcx(−√R t/√2) keeps the integrand finite in the tails."""

    def gap(R):
        def f(t):
            return (
                np.exp(-t * t / 2)
                / np.sqrt(2 * np.pi)
                * 2
                / special.erfcx(-np.sqrt(R) * t / 2**0.5)
            )

        I = integrate.quad(f, -40, 40, epsabs=1e-14, epsrel=1e-13, limit=200)[0]
        return R / np.sqrt(1 - R) - alpha / np.pi * I

    R = optimize.brentq(gap, 1e-12, 1 - 1e-12, xtol=1e-15)
    return float(np.arccos(R) / np.pi)
