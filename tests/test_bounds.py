"""The dual lower bound against an independent cvxpy solve of the exact group Lasso."""

import cvxpy as cp
import numpy as np
import pytest

from cvxlens import Problem, ReLUNetwork, enumerate_patterns
from cvxlens.bounds import crude_polar_bound, dual_lower_bound
from cvxlens.nonconvex import random_restarts
from _reference import group_lasso_reference


def group_lasso_cvxpy(X, y, beta):
    """Survey eq. 18 over all enumerated patterns (reference solve)."""
    return tuple(group_lasso_reference(X, y, beta))


def exact_polar(X, lam, D):
    """max over enumerated cones of |lam^T D X u|, ||u|| <= 1 (tiny SOCPs)."""
    best = 0.0
    for i in range(D.shape[1]):
        s = 2 * D[:, i] - 1
        for sign in (1, -1):
            u = cp.Variable(X.shape[1])
            pr = cp.Problem(cp.Maximize(sign * ((lam * D[:, i]) @ (X @ u))),
                            [cp.norm(u) <= 1, cp.multiply(s, X @ u) >= 0])
            pr.solve(solver=cp.CLARABEL)
            best = max(best, pr.value)
    return best


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_dual_bound_is_below_the_optimum_and_tight_at_it(seed):
    rng = np.random.default_rng(seed)
    X = np.hstack([rng.standard_normal((6, 2)), np.ones((6, 1))])
    y = rng.standard_normal(6)
    beta = 0.3
    opt, U, V, D = group_lasso_cvxpy(X, y, beta)
    # recovered network's J equals the convex optimum (MATH.md recovery)
    Z = U - V
    pred = np.sum(D * (X @ Z), axis=1)
    lam = y - pred
    lb = dual_lower_bound(y, lam, beta, exact_polar(X, lam, D))
    assert lb <= opt + 1e-6
    assert lb == pytest.approx(opt, rel=1e-4)
    # a poor residual still gives a valid (weaker) bound, crude polar too
    lam0 = y.copy()
    assert dual_lower_bound(y, lam0, beta, exact_polar(X, lam0, D)) <= opt + 1e-7
    assert dual_lower_bound(y, lam, beta, crude_polar_bound(X, lam)) <= opt + 1e-7
    # and the non-convex problem never beats it (bias regularized = ones column)
    prob = Problem(X[:, :2], y, beta, bias="regularized")
    best, _, _ = random_restarts(prob, width=6, n_restarts=8, seed=seed)
    assert best >= opt - 1e-6


def test_crude_bound_dominates_polar():
    rng = np.random.default_rng(5)
    X = rng.standard_normal((5, 2))
    lam = rng.standard_normal(5)
    D = enumerate_patterns(X).astype(float)
    assert crude_polar_bound(X, lam) >= exact_polar(X, lam, D) - 1e-8


def test_zero_residual_gives_zero_and_negative_polar_rejected():
    assert dual_lower_bound(np.ones(3), np.zeros(3), 1.0, 0.0) == 0.0
    with pytest.raises(ValueError):
        dual_lower_bound(np.ones(3), np.ones(3), 1.0, -1.0)


def test_restarts_reach_the_recovered_network():
    X = np.array([[2.0, 2.0], [3.0, 3.0], [1.0, 0.0]])
    y = np.array([1.0, 2.0, -1.0])
    opt, U, V, D = group_lasso_cvxpy(X, y, 0.1)
    W, alpha = [], []
    for Zs, sgn in ((U, 1), (V, -1)):
        for i in range(Zs.shape[1]):
            nrm = np.linalg.norm(Zs[:, i])
            if nrm > 1e-7:
                W.append(Zs[:, i] / np.sqrt(nrm))
                alpha.append(sgn * np.sqrt(nrm))
    net = ReLUNetwork(np.array(W).T, alpha=alpha)
    J = Problem(X, y, 0.1, bias="none").objective(net)
    assert J == pytest.approx(opt, rel=1e-5)
    best, _, _ = random_restarts(Problem(X, y, 0.1, bias="none"), 4, n_restarts=10)
    assert best >= opt - 1e-6
