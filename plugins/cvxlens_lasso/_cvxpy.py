"""Reference solver: the Pilanci–Ergen programs written in cvxpy (survey eq. 18).

Exact ReLU program::

    min  loss( sum_i D_i Xa (u_i - v_i) [+ c] , y ) + beta sum_i (||u_i[:pen]|| + ||v_i[:pen]||)
    s.t. (2 D_i - I) Xa u_i >= 0,  (2 D_i - I) Xa v_i >= 0

Gated ReLU relaxation: the same without the cone constraints, with one group w_i = u_i - v_i.
The dictionary is never formed explicitly: ``sum_i D_i Xa w_i = rowsum(Dm * (Xa W))``.
"""

from __future__ import annotations

import numpy as np


def solve_cvxpy(Xa, Dm, y, beta, pen, loss="squared", free_offset=False, gated=False,
                solver="CLARABEL", verbose=False, accuracy=1e-10):
    """Solve the exact (or gated) program with cvxpy.

    Parameters
    ----------
    Xa : (n, dd) design; Dm : (n, P) bool patterns; y : (n,); beta > 0; pen : penalized leading
    entries per group; loss : "squared" | "logistic"; free_offset : add an unpenalized c.

    Returns
    -------
    dict with U (dd, P), V (dd, P) (V = 0 for gated: U holds w), c, value, status, solve_time.

    Raises
    ------
    RuntimeError
        When the solver does not return an optimal (or optimal_inaccurate) status.
    """
    import cvxpy as cp

    n, dd = Xa.shape
    P = Dm.shape[1]
    Dmf = Dm.astype(float)
    S = 2.0 * Dmf - 1.0
    U = cp.Variable((dd, P))
    cons = []
    if gated:
        Z = Xa @ U
        pred = cp.sum(cp.multiply(Dmf, Z), axis=1)
        reg = cp.sum(cp.norm(U[:pen, :], 2, axis=0))
    else:
        V = cp.Variable((dd, P))
        Zu, Zv = Xa @ U, Xa @ V
        pred = cp.sum(cp.multiply(Dmf, Zu - Zv), axis=1)
        reg = cp.sum(cp.norm(U[:pen, :], 2, axis=0)) + cp.sum(cp.norm(V[:pen, :], 2, axis=0))
        cons = [cp.multiply(S, Zu) >= 0, cp.multiply(S, Zv) >= 0]
    c = None
    if free_offset:
        c = cp.Variable()
        pred = pred + c
    if loss == "squared":
        data = 0.5 * cp.sum_squares(pred - y)
    elif loss == "logistic":
        data = cp.sum(cp.logistic(-cp.multiply(y, pred)))
    else:
        raise ValueError(f"the cvxpy program supports the squared and logistic losses, not {loss!r}")
    prob = cp.Problem(cp.Minimize(data + beta * reg), cons)
    kwargs = {}
    if solver.upper() == "CLARABEL":
        kwargs = dict(tol_gap_abs=accuracy, tol_gap_rel=accuracy, tol_feas=accuracy,
                      max_iter=500)
    try:
        prob.solve(solver=solver.upper(), verbose=verbose, **kwargs)
    except Exception as exc:  # cvxpy.error.SolverError and friends
        raise RuntimeError(f"cvxpy/{solver} failed: {exc}") from exc
    if prob.status not in ("optimal", "optimal_inaccurate"):
        raise RuntimeError(f"cvxpy/{solver} ended with status {prob.status!r}")
    Uv = np.asarray(U.value, dtype=float)
    Vv = np.zeros_like(Uv) if gated else np.asarray(V.value, dtype=float)
    return {
        "U": Uv, "V": Vv, "c": float(c.value) if free_offset else 0.0,
        "value": float(prob.value), "status": prob.status,
        "solve_time": float(prob.solver_stats.solve_time or 0.0),
    }
