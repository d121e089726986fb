"""Independent reference solves shared by the tests (cvxpy, not the project's own solvers)."""

from collections import namedtuple

import cvxpy as cp

from cvxlens import enumerate_patterns

GroupLassoRef = namedtuple("GroupLassoRef", "value U V D")


def group_lasso_reference(X, y, beta, loss="squared", intercept=False):
    """Pilanci-Ergen program (survey eq. 18; logistic/hinge versions) over ALL enumerated
    activation patterns of the design X (n, d), solved by cvxpy/Clarabel: min J.

    Returns (value, U (d, P), V (d, P), D (n, P) float mask).
    """
    D = enumerate_patterns(X).astype(float)
    d, P = X.shape[1], D.shape[1]
    U, V = cp.Variable((d, P)), cp.Variable((d, P))
    c = cp.Variable() if intercept else 0.0
    pred = cp.sum(cp.multiply(D, X @ (U - V)), axis=1) + c
    S = 2 * D - 1
    cons = [cp.multiply(S, X @ U) >= 0, cp.multiply(S, X @ V) >= 0]
    pen = beta * (cp.sum(cp.norm(U, 2, axis=0)) + cp.sum(cp.norm(V, 2, axis=0)))
    if loss == "squared":
        data = 0.5 * cp.sum_squares(pred - y)
    elif loss == "logistic":
        data = cp.sum(cp.logistic(-cp.multiply(y, pred)))
    else:
        data = cp.sum(cp.pos(1 - cp.multiply(y, pred)))
    pr = cp.Problem(cp.Minimize(data + pen), cons)
    if loss == "logistic":  # exponential cones: Clarabel's defaults (tight ones can fail)
        pr.solve(solver=cp.CLARABEL)
    else:
        pr.solve(solver=cp.CLARABEL, tol_gap_abs=1e-10, tol_gap_rel=1e-10, tol_feas=1e-10)
    return GroupLassoRef(pr.value, U.value, V.value, D)
