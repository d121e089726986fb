"""The one problem every method is judged on.

Training objective of a two-layer ReLU network (MATH.md; survey eq. 16 with ``beta/2``)::

    J(W, b, alpha, c) = loss(f(X), y) + (beta/2) (||W||_F^2 + ||alpha||^2)   [+ (beta/2)||b||^2]

with ``loss = 1/2 ||f(X) - y||^2`` for the squared loss. The survey's eq. (16) writes
``beta (||W||^2 + ||alpha||^2)``, but its group Lasso (18) carries ``beta sum ||u||``; the two agree
only with ``beta/2`` on the weight decay, which is the convention used throughout cvxlens.

For the three-layer parallel network the penalty is the path norm of survey eq. (32),
``beta * sum_k sqrt(sum_ij ||w1_ki||^2 W2_kij^2 alpha_kj^2)`` (beta, not beta/2).
"""

from __future__ import annotations

import numbers

import numpy as np

from .network import ParallelReLUNetwork3, ReLUNetwork, relu

__all__ = ["Problem", "LOSSES", "BIASES", "SCALES"]

LOSSES = ("squared", "logistic", "hinge")
BIASES = ("none", "regularized", "free")
SCALES = ("sum", "mean")


def _validate_X_y(X, y):
    try:
        X = np.asarray(X, dtype=float)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"X must be a numeric array of shape (n, d): {exc}") from None
    try:
        y = np.asarray(y, dtype=float)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"y must be a numeric array of shape (n,): {exc}") from None
    if X.ndim == 1:
        raise ValueError(
            f"X must be 2-D with shape (n, d), got a 1-D array of shape {X.shape}; "
            "for a single feature pass X.reshape(-1, 1)"
        )
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D with shape (n, d), got shape {X.shape}")
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(f"y must have shape (n,) or (n, 1), got shape {y.shape}")
    if X.shape[0] == 0:
        raise ValueError("X has no samples (n = 0); at least one row is needed")
    if X.shape[1] == 0:
        raise ValueError("X has no features (d = 0); at least one column is needed")
    if y.shape[0] != X.shape[0]:
        raise ValueError(
            f"X and y disagree on the number of samples: X has {X.shape[0]} rows, "
            f"y has {y.shape[0]} entries"
        )
    for name, arr in (("X", X), ("y", y)):
        bad = ~np.isfinite(arr)
        if bad.any():
            idx = np.argwhere(bad)[0]
            raise ValueError(
                f"{name} contains {int(bad.sum())} NaN or inf value(s) (first at index "
                f"{tuple(int(i) for i in idx)}); drop or impute them before building a Problem"
            )
    return np.ascontiguousarray(X), np.ascontiguousarray(y)


def validate_beta(beta) -> float:
    """Return beta as float; raise ValueError unless it is a finite number > 0."""
    if isinstance(beta, bool) or not isinstance(beta, (numbers.Real, np.floating, np.integer)):
        raise TypeError(f"beta must be a real number > 0, got {beta!r}")
    beta = float(beta)
    if not np.isfinite(beta) or beta <= 0:
        raise ValueError(f"beta must be > 0, got {beta}")
    return beta


class Problem:
    """A regularized training problem shared by every method.

    Parameters
    ----------
    X : array_like, shape (n, d)
        Inputs, samples as rows.
    y : array_like, shape (n,) or (n, 1)
        Targets; labels in {-1, +1} for the ``logistic`` and ``hinge`` losses.
    beta : float
        Weight-decay strength, > 0. Enters the objective as ``(beta/2)(||W||_F^2 + ||alpha||^2)``.
    loss : {"squared", "logistic", "hinge"}
        ``squared``: ``1/2 sum (f_i - y_i)^2``; ``logistic``: ``sum log(1 + exp(-y_i f_i))``;
        ``hinge``: ``sum max(0, 1 - y_i f_i)``.
    bias : {"none", "regularized", "free"}
        ``none``: b = 0 and c = 0. ``regularized``: a column of ones is appended to X, so b is
        part of each neuron's weight vector and is penalized, c = 0 (Pilanci & Ergen 2020).
        ``free``: b and c are not penalized (Zeger et al. 2024).
    scale : {"sum", "mean"}
        ``mean`` uses the averaged loss ``(1/n) loss``. The mean problem with ``beta`` has the same
        minimizers as the sum problem with ``n * beta``, and ``J_mean = J_sum(n beta) / n``
        (equivalently: a sum problem with ``beta`` is the mean problem with ``beta / n``).

    Raises
    ------
    ValueError
        On NaN/inf, shape mismatch, n = 0, beta <= 0, labels outside {-1, +1} for a
        classification loss, or an unknown loss / bias / scale.
    TypeError
        On non-numeric input.
    """

    def __init__(self, X, y, beta, loss: str = "squared", bias: str = "regularized",
                 scale: str = "sum"):
        self.X, self.y = _validate_X_y(X, y)
        self.beta = validate_beta(beta)
        if loss not in LOSSES:
            raise ValueError(f"unknown loss {loss!r}; choose one of {', '.join(LOSSES)}")
        if bias not in BIASES:
            raise ValueError(f"unknown bias convention {bias!r}; choose one of {', '.join(BIASES)}")
        if scale not in SCALES:
            raise ValueError(f"unknown scale {scale!r}; choose one of {', '.join(SCALES)}")
        if loss in ("logistic", "hinge"):
            labels = np.unique(self.y)
            if not np.all(np.isin(labels, (-1.0, 1.0))):
                shown = ", ".join(f"{v:g}" for v in labels[:6])
                raise ValueError(
                    f"the {loss} loss needs labels in {{-1, +1}}, got values {{{shown}}}; "
                    "map 0/1 labels with y = 2*y - 1"
                )
        self.loss = loss
        self.bias = bias
        self.scale = scale

    # ------------------------------------------------------------------ basic facts
    @property
    def n(self) -> int:
        return self.X.shape[0]

    @property
    def d(self) -> int:
        return self.X.shape[1]

    @property
    def loss_weight(self) -> float:
        """Factor on the loss: 1 for ``sum``, 1/n for ``mean``."""
        return 1.0 if self.scale == "sum" else 1.0 / self.n

    @property
    def beta_sum(self) -> float:
        """beta of the equivalent ``sum``-scaled problem (``n * beta`` for ``mean``)."""
        return self.beta if self.scale == "sum" else self.beta * self.n

    def as_sum(self) -> "Problem":
        """The equivalent ``sum``-scaled problem; its J is ``J / loss_weight``."""
        if self.scale == "sum":
            return self
        return Problem(self.X, self.y, self.beta_sum, self.loss, self.bias, "sum")

    def with_beta(self, beta) -> "Problem":
        """Same data and conventions, another beta."""
        return Problem(self.X, self.y, beta, self.loss, self.bias, self.scale)

    def __repr__(self) -> str:
        return (f"Problem(n={self.n}, d={self.d}, beta={self.beta:g}, loss={self.loss!r}, "
                f"bias={self.bias!r}, scale={self.scale!r})")

    # ------------------------------------------------------------------ bias helpers
    def design(self, X=None) -> np.ndarray:
        """Design matrix of the group-Lasso view: X, with a ones column appended for ``regularized``.

        Returns shape (n, d) or (n, d + 1).
        """
        X = self.X if X is None else np.asarray(X, dtype=float)
        if self.bias == "regularized":
            return np.hstack([X, np.ones((X.shape[0], 1))])
        return X

    def network_from_design(self, W_design, alpha, b=None, c: float = 0.0) -> ReLUNetwork:
        """Build a ReLUNetwork from weights on the design matrix of :meth:`design`.

        For ``regularized`` the last row of ``W_design`` (shape (d + 1, m)) is the bias.
        """
        W_design = np.asarray(W_design, dtype=float)
        if self.bias == "regularized":
            return ReLUNetwork(W_design[:-1], W_design[-1], alpha, 0.0)
        return ReLUNetwork(W_design, b, alpha, c)

    # ------------------------------------------------------------------ loss
    def loss_value(self, pred) -> float:
        """Data term ``loss(pred, y)`` including the ``mean`` factor. pred: shape (n,)."""
        return self.loss_weight * float(_loss(self.loss, np.asarray(pred, dtype=float), self.y))

    def loss_grad(self, pred) -> tuple[float, np.ndarray]:
        """``(loss, d loss / d pred)`` with the ``mean`` factor; for hinge a subgradient."""
        val, g = _loss_and_grad(self.loss, np.asarray(pred, dtype=float), self.y)
        return self.loss_weight * val, self.loss_weight * g

    # ------------------------------------------------------------------ objective
    def _check_conventions(self, net: ReLUNetwork) -> None:
        if net.d != self.d:
            raise ValueError(f"network expects d = {net.d} inputs, the problem has d = {self.d}")
        if self.bias == "none" and (np.any(net.b != 0) or net.c != 0):
            raise ValueError("bias='none' allows no biases: the network has nonzero b or c")
        if self.bias == "regularized" and net.c != 0:
            raise ValueError("bias='regularized' has no output offset: the network has c != 0")

    def penalty(self, network) -> float:
        """Regularization term of J for ``network`` (weight decay or path norm)."""
        if isinstance(network, ParallelReLUNetwork3):
            if self.bias == "free":
                raise ValueError("three-layer networks support bias 'none' or 'regularized'")
            if self.bias == "none" and np.any(network.b1 != 0):
                raise ValueError("bias='none' allows no biases: the network has nonzero b1")
            return self.beta * float(network.path_norms().sum())
        self._check_conventions(network)
        sq = float((network.W**2).sum() + (network.alpha**2).sum())
        if self.bias == "regularized":
            sq += float((network.b**2).sum())
        return 0.5 * self.beta * sq

    def objective(self, network) -> float:
        """J of any network on this problem (MATH.md; survey eqs. 16 and 32).

        Raises
        ------
        ValueError
            If the network does not fit the problem (input dimension) or breaks the bias
            convention (biases under ``none``, an output offset under ``regularized``).
        TypeError
            If ``network`` has no finite weights (e.g. a kernel predictor).
        """
        if not isinstance(network, (ReLUNetwork, ParallelReLUNetwork3)):
            raise TypeError(f"J is defined for ReLU networks only, got {type(network).__name__}")
        pen = self.penalty(network)
        return self.loss_value(network.predict(self.X)) + pen

    def objective_and_grad(self, W, b, alpha, c):
        """J and its (sub)gradient for two-layer weights.

        Parameters are W (d, m), b (m,), alpha (m,), c float. Returns
        ``(J, (dW, db, dalpha, dc))``; gradients of parameters fixed by the bias convention are 0.
        The ReLU derivative at 0 is taken as 0.
        """
        Z = self.X @ W + b
        H = relu(Z)
        pred = H @ alpha + c
        val, g = self.loss_grad(pred)
        G = np.multiply.outer(g, alpha)  # (n, m): dJ/dZ
        G[Z <= 0] = 0.0
        dW = self.X.T @ G + self.beta * W
        dalpha = H.T @ g + self.beta * alpha
        sq = (W**2).sum() + (alpha**2).sum()
        if self.bias == "none":
            db = np.zeros_like(b)
            dc = 0.0
        elif self.bias == "regularized":
            db = G.sum(axis=0) + self.beta * b
            dc = 0.0
            sq += (b**2).sum()
        else:
            db = G.sum(axis=0)
            dc = float(g.sum())
        return val + 0.5 * self.beta * float(sq), (dW, db, dalpha, dc)


def _loss(kind: str, pred: np.ndarray, y: np.ndarray) -> float:
    if kind == "squared":
        r = pred - y
        return 0.5 * float(r @ r)
    if kind == "logistic":
        return float(np.logaddexp(0.0, -y * pred).sum())
    return float(np.maximum(0.0, 1.0 - y * pred).sum())


def _loss_and_grad(kind: str, pred: np.ndarray, y: np.ndarray):
    if kind == "squared":
        r = pred - y
        return 0.5 * float(r @ r), r
    if kind == "logistic":
        m = -y * pred
        # d/dpred log(1 + exp(-y pred)) = -y * sigmoid(-y pred)
        return float(np.logaddexp(0.0, m).sum()), -y * _sigmoid(m)
    m = 1.0 - y * pred
    return float(np.maximum(0.0, m).sum()), np.where(m > 0, -y, 0.0)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    out = np.empty_like(z)
    pos = z >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-z[pos]))
    ez = np.exp(z[~pos])
    out[~pos] = ez / (1.0 + ez)
    return out
