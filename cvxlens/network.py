"""Plain ReLU networks: the one thing every method returns.

Two-layer network (MATH.md, survey eq. 10 with samples as rows)::

    f(x) = sum_j alpha_j * (x . w_j + b_j)_+ + c

Three-layer parallel network (survey eq. 32)::

    f(x) = sum_k ( (x W1[k] + b1[k])_+ W2[k] )_+ . alpha[k]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["ReLUNetwork", "ParallelReLUNetwork3", "relu"]


def relu(z: np.ndarray) -> np.ndarray:
    """Elementwise ``max(z, 0)``."""
    return np.maximum(z, 0.0)


def _as_float_array(name: str, value, ndim: int) -> np.ndarray:
    arr = np.asarray(value, dtype=float)
    if arr.ndim != ndim:
        raise ValueError(f"{name} must be a {ndim}-D array, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or inf")
    return arr


def _check_X(X, d: int) -> np.ndarray:
    X = np.asarray(X, dtype=float)
    if X.ndim == 1 and d == 1:
        X = X.reshape(-1, 1)
    if X.ndim != 2 or X.shape[1] != d:
        raise ValueError(f"X must have shape (n, {d}), got {X.shape}")
    return X


@dataclass
class ReLUNetwork:
    """Two-layer ReLU network ``f(x) = sum_j alpha_j (x.w_j + b_j)_+ + c``.

    Parameters
    ----------
    W : array, shape (d, m)
        First-layer weights, one column per neuron.
    b : array, shape (m,), optional
        Hidden biases (zeros when omitted).
    alpha : array, shape (m,)
        Output weights.
    c : float, optional
        Output offset (0 when omitted).

    Raises
    ------
    ValueError
        On inconsistent shapes or non-finite values.
    """

    W: np.ndarray
    b: np.ndarray | None = None
    alpha: np.ndarray | None = None
    c: float = 0.0

    def __post_init__(self):
        self.W = _as_float_array("W", self.W, 2)
        m = self.W.shape[1]
        self.b = np.zeros(m) if self.b is None else _as_float_array("b", self.b, 1)
        if self.alpha is None:
            raise ValueError("alpha (output weights, shape (m,)) is required")
        self.alpha = _as_float_array("alpha", self.alpha, 1)
        if self.b.shape != (m,) or self.alpha.shape != (m,):
            raise ValueError(
                f"W has {m} neurons (shape {self.W.shape}) but b has shape {self.b.shape} "
                f"and alpha has shape {self.alpha.shape}; both must be ({m},)"
            )
        self.c = float(self.c)
        if not np.isfinite(self.c):
            raise ValueError("c must be finite")

    @property
    def d(self) -> int:
        """Input dimension."""
        return self.W.shape[0]

    @property
    def width(self) -> int:
        """Number of neuron slots m (columns of W), active or not."""
        return self.W.shape[1]

    @property
    def n_neurons(self) -> int:
        """Number of active neurons: nonzero output weight and nonzero (w_j, b_j)."""
        active = (self.alpha != 0) & ((np.abs(self.W).sum(axis=0) + np.abs(self.b)) > 0)
        return int(active.sum())

    def hidden(self, X) -> np.ndarray:
        """Hidden activations ``(X W + b)_+``, shape (n, m)."""
        X = _check_X(X, self.d)
        return relu(X @ self.W + self.b)

    def predict(self, X) -> np.ndarray:
        """Network output for X of shape (n, d); returns shape (n,)."""
        return self.hidden(X) @ self.alpha + self.c

    def activation_patterns(self, X) -> np.ndarray:
        """Boolean (n, m) array ``1[x.w_j + b_j >= 0]`` (ties count as active, as everywhere)."""
        X = _check_X(X, self.d)
        return (X @ self.W + self.b) >= 0

    def pruned(self, tol: float = 0.0) -> "ReLUNetwork":
        """Copy without neurons whose contribution ``|alpha_j| * ||(w_j, b_j)||`` is <= tol."""
        size = np.abs(self.alpha) * np.sqrt((self.W**2).sum(axis=0) + self.b**2)
        keep = size > tol
        return ReLUNetwork(self.W[:, keep], self.b[keep], self.alpha[keep], self.c)

    def to_dict(self) -> dict:
        """JSON-ready dict (lists of floats)."""
        return {"type": "ReLUNetwork", "W": self.W.tolist(), "b": self.b.tolist(),
                "alpha": self.alpha.tolist(), "c": self.c}

    @classmethod
    def from_dict(cls, data: dict) -> "ReLUNetwork":
        return cls(np.asarray(data["W"], dtype=float).reshape(len(data["W"]), -1),
                   data["b"], data["alpha"], data["c"])


@dataclass
class ParallelReLUNetwork3:
    """Three-layer parallel ReLU network (survey eq. 32).

    ``f(x) = sum_k ((x W1[k] + b1[k])_+ W2[k])_+ . alpha[k]``

    Parameters
    ----------
    W1 : array, shape (K, d, m1)
        First-layer weights of each of the K parallel units.
    W2 : array, shape (K, m1, m2)
        Second-layer weights.
    alpha : array, shape (K, m2)
        Output weights.
    b1 : array, shape (K, m1), optional
        First-layer biases (the ``regularized`` convention: they are part of the first-layer
        weight vector and enter the path norm).
    """

    W1: np.ndarray
    W2: np.ndarray
    alpha: np.ndarray
    b1: np.ndarray | None = None

    def __post_init__(self):
        self.W1 = _as_float_array("W1", self.W1, 3)
        self.W2 = _as_float_array("W2", self.W2, 3)
        self.alpha = _as_float_array("alpha", self.alpha, 2)
        K, d, m1 = self.W1.shape
        if self.b1 is None:
            self.b1 = np.zeros((K, m1))
        self.b1 = _as_float_array("b1", self.b1, 2)
        if self.W2.shape[:2] != (K, m1) or self.alpha.shape != (K, self.W2.shape[2]) \
                or self.b1.shape != (K, m1):
            raise ValueError(
                f"inconsistent shapes: W1 {self.W1.shape} (K, d, m1), W2 {self.W2.shape} "
                f"(K, m1, m2), alpha {self.alpha.shape} (K, m2), b1 {self.b1.shape} (K, m1)"
            )

    @property
    def d(self) -> int:
        return self.W1.shape[1]

    @property
    def n_units(self) -> int:
        return self.W1.shape[0]

    @property
    def n_neurons(self) -> int:
        """Active parallel units (nonzero path norm)."""
        return int(np.sum(self.path_norms() > 0))

    def predict(self, X) -> np.ndarray:
        X = _check_X(X, self.d)
        H1 = relu(np.einsum("nd,kdi->kni", X, self.W1) + self.b1[:, None, :])
        H2 = relu(np.einsum("kni,kij->knj", H1, self.W2))
        return np.einsum("knj,kj->n", H2, self.alpha)

    def path_norms(self) -> np.ndarray:
        """Per-unit path norm ``sqrt(sum_ij ||(w1_i, b1_i)||^2 W2_ij^2 alpha_j^2)``, shape (K,)."""
        col = (self.W1**2).sum(axis=1) + self.b1**2  # (K, m1)
        return np.sqrt(np.einsum("ki,kij,kj->k", col, self.W2**2, self.alpha**2))

    def to_dict(self) -> dict:
        return {"type": "ParallelReLUNetwork3", "W1": self.W1.tolist(), "W2": self.W2.tolist(),
                "alpha": self.alpha.tolist(), "b1": self.b1.tolist()}
