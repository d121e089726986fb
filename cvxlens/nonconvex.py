"""Local optimization of the non-convex objective J: L-BFGS on the weights and random restarts.

Used as the independent check of certified optima ("many random restarts of the non-convex
problem never beat a certified optimum") and as a local-descent building block.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize
from threadpoolctl import threadpool_limits

from .network import ReLUNetwork
from .problem import Problem

__all__ = ["fit_lbfgs", "random_restarts"]


def _pack(problem: Problem, W, b, alpha, c) -> np.ndarray:
    parts = [W.ravel(), alpha]
    if problem.bias != "none":
        parts.append(b)
    if problem.bias == "free":
        parts.append([c])
    return np.concatenate(parts)


def _unpack(problem: Problem, theta: np.ndarray, m: int):
    d = problem.d
    k = d * m
    W = theta[:k].reshape(d, m)
    alpha = theta[k:k + m]
    k += m
    if problem.bias != "none":
        b = theta[k:k + m]
        k += m
    else:
        b = np.zeros(m)
    c = float(theta[k]) if problem.bias == "free" else 0.0
    return W, b, alpha, c


def fit_lbfgs(problem: Problem, network: ReLUNetwork, max_iter: int = 2000,
              tol: float = 1e-12) -> ReLUNetwork:
    """Run scipy's L-BFGS-B on J from ``network``; returns the network it ends at.

    J is non-smooth at ReLU kinks (and for the hinge loss); L-BFGS then stops at a kink or a
    stationary point. The result is never worse than the start.
    """
    m = network.width
    theta0 = _pack(problem, network.W, network.b, network.alpha, network.c)

    def fun(theta):
        W, b, alpha, c = _unpack(problem, theta, m)
        J, (dW, db, dalpha, dc) = problem.objective_and_grad(W, b, alpha, c)
        return J, _pack(problem, dW, db, dalpha, dc)

    # small dense products: threaded BLAS only adds overhead here (70x slower seen under load)
    with threadpool_limits(1):
        res = minimize(fun, theta0, jac=True, method="L-BFGS-B",
                       options={"maxiter": max_iter, "ftol": tol, "gtol": 1e-10})
    best = res.x if res.fun <= fun(theta0)[0] else theta0
    W, b, alpha, c = _unpack(problem, best, m)
    return ReLUNetwork(W, b, alpha, c)


def random_restarts(problem: Problem, width: int, n_restarts: int = 20, seed: int = 0,
                    scale: float = 1.0, max_iter: int = 2000):
    """L-BFGS from ``n_restarts`` random Gaussian initializations of a width-``width`` network.

    Returns ``(best_J, best_network, all_J)`` with all_J of shape (n_restarts,). Initial weights
    are ``N(0, scale^2 / d)`` for W and b and ``N(0, scale^2 / width)`` for alpha.
    """
    rng = np.random.default_rng(seed)
    d = problem.d
    best, best_net, all_j = np.inf, None, []
    for _ in range(n_restarts):
        W = rng.standard_normal((d, width)) * scale / np.sqrt(d)
        b = rng.standard_normal(width) * scale / np.sqrt(d) if problem.bias != "none" else None
        alpha = rng.standard_normal(width) * scale / np.sqrt(width)
        c = float(np.mean(problem.y)) if problem.bias == "free" else 0.0
        net = fit_lbfgs(problem, ReLUNetwork(W, b, alpha, c), max_iter=max_iter)
        J = problem.objective(net)
        all_j.append(J)
        if J < best:
            best, best_net = J, net
    return best, best_net, np.asarray(all_j)
