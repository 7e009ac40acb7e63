"""±1 patterns for deep perceptron networks (docs/theory/perceptron.md §2.3).

- ``random_patterns``: inputs and outputs i.i.d. ±1, independent of each other;
- ``teacher_network`` + ``teacher_data``: a teacher with spherical rows (|J_i|² = fan-in) and
  the forward pass S^l = sgn(h^l) from random ±1 inputs;
- ``hidden_manifold_inputs``: S^0 = sgn(F ξ/√D) with F, ξ Gaussian, effective dimension D.

Widths: ``widths = (N_0, N_1, ..., N_L)`` lists the neuron-layer sizes (L weight layers).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def random_patterns(
    M: int, widths: Sequence[int], rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """(S0 of shape (M, N_0), SL of shape (M, N_L)), i.i.d. ±1."""
    S0 = rng.choice(np.array([-1, 1], dtype=np.int8), size=(M, widths[0]))
    SL = rng.choice(np.array([-1, 1], dtype=np.int8), size=(M, widths[-1]))
    return S0, SL


def spherical_rows(
    n_out: int, n_in: int, rng: np.random.Generator, mask: np.ndarray | None = None
) -> np.ndarray:
    """Gaussian rows rescaled to squared norm = fan-in (uniform on the sphere of radius √c).

    With a boolean ``mask`` (n_out × n_in, sparse connectivity) each row lives on its own
    inputs, c = mask.sum(1), and is zero elsewhere."""
    J = rng.standard_normal((n_out, n_in))
    if mask is None:
        return J * np.sqrt(n_in) / np.linalg.norm(J, axis=1, keepdims=True)
    J = np.where(mask, J, 0.0)
    return J * np.sqrt(mask.sum(1, keepdims=True)) / np.linalg.norm(J, axis=1, keepdims=True)


def teacher_network(
    widths: Sequence[int],
    rng: np.random.Generator,
    masks: Sequence[np.ndarray] | None = None,
) -> list[np.ndarray]:
    """Teacher weights J^l (N_l × N_{l−1}), rows uniform on the sphere (on the graph given by
    ``masks`` when the connectivity is sparse)."""
    return [
        spherical_rows(widths[l + 1], widths[l], rng, None if masks is None else masks[l])
        for l in range(len(widths) - 1)
    ]


def forward_signs(J: Sequence[np.ndarray], S0: np.ndarray) -> list[np.ndarray]:
    """All neuron layers S^0..S^L of the sign network for inputs S0 (M × N_0)."""
    layers = [S0.astype(np.int8)]
    for W in J:
        h = layers[-1].astype(np.float64) @ W.T
        layers.append(np.where(h >= 0, 1, -1).astype(np.int8))
    return layers


def teacher_data(
    M: int,
    widths: Sequence[int],
    rng: np.random.Generator,
    *,
    D: int | None = None,
    masks: Sequence[np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """(S0, SL, teacher weights): random (or hidden-manifold) inputs labelled by the teacher."""
    J = teacher_network(widths, rng, masks)
    S0 = hidden_manifold_inputs(M, widths[0], D, rng) if D else random_patterns(M, widths, rng)[0]
    layers = forward_signs(J, S0)
    return layers[0], layers[-1], J


def hidden_manifold_inputs(M: int, N: int, D: int, rng: np.random.Generator) -> np.ndarray:
    """S^0 = sgn(F ξ/√D), F (N × D) and ξ (D × M) i.i.d. Gaussian (§2.3, a proposed form [R/D])."""
    F = rng.standard_normal((N, D))
    xi = rng.standard_normal((D, M))
    return np.where((F @ xi).T >= 0, 1, -1).astype(np.int8)
