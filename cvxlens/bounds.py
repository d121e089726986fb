"""Lower bounds on min J from the dual of the group Lasso (MATH.md "Lower bounds and certificates").

For the squared loss with bias ``none`` or ``regularized`` (X̃ = ``problem.design()``), the dual of
the group Lasso (survey eqs. 25-26; Pilanci & Ergen 2020, eq. 6-8) is::

    max_lambda  -1/2 ||lambda - y||^2 + 1/2 ||y||^2   s.t.  max_{||u||<=1} |lambda^T (X̃ u)_+| <= beta.

Any lambda can be made feasible by scaling: with ``c = max_{||u||<=1} |lambda^T (X̃ u)_+|`` (the
*polar value*), every ``t in [0, beta/c]`` gives a feasible ``t lambda``, hence the bound
``LB = -1/2 ||t lambda - y||^2 + 1/2 ||y||^2`` with ``t = clip(lambda^T y / ||lambda||^2, 0, beta/c)``.
It bounds min J over ALL networks only when ``c`` is the true maximum over all u (exact
enumeration of the cones), or an upper bound on it such as :func:`crude_polar_bound`. A maximum
over the cones of *sampled* patterns gives a bound for the subsampled program only.
"""

from __future__ import annotations

import numpy as np

__all__ = ["dual_lower_bound", "crude_polar_bound"]


def dual_lower_bound(y, residual, beta: float, polar_value: float) -> float:
    """Dual lower bound from a residual ``lambda = y - f(X)``.

    Parameters
    ----------
    y : array, shape (n,)
        Targets.
    residual : array, shape (n,)
        The dual direction lambda, normally ``y - f(X)`` of any network.
    beta : float
        Regularization of the sum-scaled problem (J = 1/2||f - y||^2 + beta/2 ||theta||^2).
    polar_value : float
        ``max_{||u||<=1} |lambda^T (X̃ u)_+|`` or any upper bound on it (>= 0).

    Returns
    -------
    float
        ``-1/2 ||t lambda - y||^2 + 1/2 ||y||^2`` with ``t = clip(lambda^T y/||lambda||^2, 0, beta/c)``;
        a lower bound on min J when ``polar_value`` is an exact maximum (or an upper bound on it).
    """
    y = np.asarray(y, dtype=float)
    lam = np.asarray(residual, dtype=float)
    if polar_value < 0:
        raise ValueError(f"polar_value must be >= 0, got {polar_value}")
    nn = float(lam @ lam)
    if nn == 0.0:
        return 0.0
    t = float(lam @ y) / nn
    upper = np.inf if polar_value == 0 else beta / polar_value
    t = min(max(t, 0.0), upper)
    r = t * lam - y
    return float(-0.5 * (r @ r) + 0.5 * (y @ y))


def crude_polar_bound(X, residual) -> float:
    """Always-valid upper bound ``max_± sum_k (±lambda_k)_+ ||x_k||`` on the polar value.

    X : (n, d) design matrix; residual : (n,). Since ``|lambda^T (X u)_+| <= sum over the samples
    of one sign of |lambda_k| ||x_k||`` for ``||u|| <= 1``.
    """
    X = np.asarray(X, dtype=float)
    lam = np.asarray(residual, dtype=float)
    norms = np.linalg.norm(X, axis=1)
    return float(max(np.maximum(lam, 0) @ norms, np.maximum(-lam, 0) @ norms))
