"""cvxlens built-in plugin ``reflection``: the 1-D Lasso of Zeger et al. (2024).

For scalar inputs (d = 1) with free biases, training a two-layer ReLU network with weight decay
``J = 1/2||f(X) - y||^2 + (beta/2)(||W||^2 + ||alpha||^2)`` (biases and output offset free) is
equivalent to the Lasso (MATH.md "Zeger et al. 2024"; survey eq. 34, plus the free offset)::

    min_{z, xi}  1/2 ||A z + xi 1 - y||^2 + beta ||z||_1,   A = [(x_i - x_j)_+ | (x_j - x_i)_+].

Source: E. Zeger, Y. Wang, A. Mishkin, T. Ergen, E. Candes, M. Pilanci, "A library of mirrors:
deep neural nets in low dimensions are convex Lasso models with reflection features" (2024,
arXiv:2403.01046); survey eq. (34).

Option ``depth`` selects the deep-narrow dictionary of the paper (depth 3: capped ramps between
two data points; depth 4: additionally ramps starting at the reflections ``2 x_j - x_i``). Those
Lasso values are optima of the deeper networks under the paper's regularization; cvxlens reports
J of the exact two-layer realization of the same function (see docs/methods/reflection.md).
"""

from __future__ import annotations

import warnings

import numpy as np

import cvxlens
from cvxlens import Capabilities, Deadline, Method, Option, ProblemTooLargeError, ReLUNetwork, Solution
from cvxlens.bounds import dual_lower_bound
from cvxlens.validators import one_of, positive_float, positive_int

__all__ = ["Reflection", "reflection_dictionary", "solve_lasso", "lasso_dual_bound",
           "network_from_lasso", "two_layer_realization"]


# ----------------------------------------------------------------------------- dictionary
def _breakpoint_features(xq, a, s):
    """Ramp features ``(s (xq - a))_+``: xq (q,), a (p,), s (p,) -> (q, p)."""
    return np.maximum(s[None, :] * (xq[:, None] - a[None, :]), 0.0)


def _deep_feature(xq, s, a, anchors):
    """Deep-narrow feature of the paper (recursive definition), vectorized over features.

    ``g_1(x) = (s_0 (x - a))_+`` and ``g_{l+1}(x) = (s_l (g_l(x) - g_l(anchor_l)))_+``.

    xq : (q,) evaluation points; s : (p, L-1) signs; a : (p,) first breakpoint;
    anchors : (p, L-2) anchor points (data values). Returns (q, p).
    """
    def g(level, pts):  # pts: (q, p) evaluation points per feature
        if level == 0:
            return np.maximum(s[None, :, 0] * (pts - a[None, :]), 0.0)
        inner = g(level - 1, pts)
        anchor_val = g(level - 1, np.broadcast_to(anchors[None, :, level - 1], (1, len(a))))
        return np.maximum(s[None, :, level] * (inner - anchor_val), 0.0)

    depth_minus_1 = s.shape[1]
    return g(depth_minus_1 - 1, np.broadcast_to(xq[:, None], (len(xq), len(a))))


def _feature_specs(ux: np.ndarray, depth: int):
    """Every (signs, first breakpoint, anchors) of the depth-``depth`` dictionary on points ux."""
    N = len(ux)
    if depth == 2:
        a = np.concatenate([ux, ux])
        s = np.concatenate([np.ones(N), -np.ones(N)])[:, None]
        return s, a, np.zeros((2 * N, 0))
    L1 = depth - 1
    idx = np.stack(np.meshgrid(*[np.arange(N)] * L1, indexing="ij"), -1).reshape(-1, L1)  # (N^L1, L1)
    sg = np.stack(np.meshgrid(*[np.array([1.0, -1.0])] * L1, indexing="ij"), -1).reshape(-1, L1)
    S = np.repeat(sg, len(idx), axis=0)
    J = np.tile(idx, (len(sg), 1))
    a = ux[J[:, 0]]
    anchors = ux[J[:, 1:]]
    if depth == 4:  # k = 1: first breakpoint at the reflection 2 x_{j1} - x_{j0}
        a_ref = 2.0 * ux[J[:, 1]] - ux[J[:, 0]]
        S = np.vstack([S, S])
        a = np.concatenate([a, a_ref])
        anchors = np.vstack([anchors, anchors])
    return S, a, anchors


def reflection_dictionary(x, depth: int = 2, max_features: int = 200_000):
    """Lasso dictionary of the depth-``depth`` network on 1-D data (Zeger et al. 2024).

    Parameters
    ----------
    x : array, shape (n,) or (n, 1)
        Scalar inputs (any order, duplicates allowed).
    depth : {2, 3, 4}
        2: ramps ``(x - x_j)_+`` and ``(x_j - x)_+`` (survey eq. 34). 3: the paper's deep-narrow
        three-layer features (capped ramps between two data points). 4: adds ramps starting at the
        reflections ``2 x_j - x_i`` of data points about data points.
    max_features : int
        Refuse when the number of candidate columns ``2^(L-1) N^(L-1)`` (times 2 for depth 4;
        N = number of distinct x) exceeds it.

    Returns
    -------
    A : array, shape (n, p)
        Distinct, nonzero, non-constant columns (duplicates and columns that a free offset
        represents are dropped).
    specs : tuple (signs (p, L-1), first breakpoint (p,), anchors (p, L-2))
        What each column is, for evaluating it at new points (:func:`evaluate_features`).

    Raises
    ------
    ProblemTooLargeError
        When the dictionary would exceed ``max_features`` candidate columns.
    """
    x = np.asarray(x, dtype=float).reshape(-1)
    ux = np.unique(x)
    N = len(ux)
    n_cand = 2 * N if depth == 2 else (2 * N) ** (depth - 1) * (2 if depth == 4 else 1)
    if n_cand > max_features:
        raise ProblemTooLargeError(
            f"the depth-{depth} reflection dictionary has {n_cand:,} candidate columns for "
            f"{N} distinct inputs, above max_features = {max_features:,}; use depth=2 "
            "(2N columns), fewer samples, or raise max_features")
    S, a, anchors = _feature_specs(ux, depth)
    A = evaluate_features(x, (S, a, anchors))
    # drop columns constant on the data (the free offset represents them) and duplicates
    keep = np.ptp(A, axis=0) > 1e-12 * max(1.0, np.ptp(x))
    A, S, a, anchors = A[:, keep], S[keep], a[keep], anchors[keep]
    if A.shape[1]:
        key = np.round(A, 10) + 0.0
        _, first = np.unique(key, axis=1, return_index=True)
        first = np.sort(first)
        A, S, a, anchors = A[:, first], S[first], a[first], anchors[first]
    return A, (S, a, anchors)


def evaluate_features(xq, specs) -> np.ndarray:
    """Dictionary columns of ``specs`` evaluated at points xq (q,) -> (q, p)."""
    S, a, anchors = specs
    xq = np.asarray(xq, dtype=float).reshape(-1)
    if S.shape[1] == 1:
        return _breakpoint_features(xq, a, S[:, 0])
    if len(a) == 0:
        return np.zeros((len(xq), 0))
    return _deep_feature(xq, S, a, anchors)


# ----------------------------------------------------------------------------- Lasso
def lasso_objective(A, y, beta, z, xi) -> float:
    """``1/2 ||A z + xi - y||^2 + beta ||z||_1``."""
    r = A @ z + xi - y
    return 0.5 * float(r @ r) + beta * float(np.abs(z).sum())


def lasso_dual_bound(A, y, beta, residual) -> float:
    """Dual value of the Lasso with a free offset at the feasible point built from ``residual``.

    Dual: ``max_lam lam^T y - 1/2 ||lam||^2`` s.t. ``1^T lam = 0``, ``||A^T lam||_inf <= beta``.
    ``lam`` = centered residual, scaled into the feasible set (cvxlens.bounds.dual_lower_bound).
    Any feasible dual value lower-bounds the Lasso optimum (weak duality).
    """
    lam = np.asarray(residual, dtype=float)
    lam = lam - lam.mean()
    c = float(np.abs(A.T @ lam).max()) if A.shape[1] else 0.0
    return dual_lower_bound(y, lam, beta, c)


def ramp_correlations(x, lam, u):
    """``A^T lam`` for the depth-2 ramp dictionary at breakpoints u, in O(n log n).

    Returns shape (2 len(u),): first ``sum_i lam_i (x_i - u_j)_+``, then ``sum_i lam_i (u_j - x_i)_+``.
    """
    x = np.asarray(x, dtype=float)
    lam = np.asarray(lam, dtype=float)
    order = np.argsort(x, kind="stable")
    xs, ls = x[order], lam[order]
    cl = np.concatenate([[0.0], np.cumsum(ls)])
    cm = np.concatenate([[0.0], np.cumsum(ls * xs)])
    hi = np.searchsorted(xs, u, side="right")  # samples with x > u_j are xs[hi:]
    lo = np.searchsorted(xs, u, side="left")   # samples with x < u_j are xs[:lo]
    plus = (cm[-1] - cm[hi]) - u * (cl[-1] - cl[hi])
    minus = u * cl[lo] - cm[lo]
    return np.concatenate([plus, minus])


def _polish(cols, y, beta, z_s):
    """Exact Lasso solution on a support with fixed signs (KKT linear system), or None.

    cols : (n, k) support columns, z_s : (k,) approximate coefficients. Solves
    ``min 1/2||A_S z + xi - y||^2 + beta sign^T z`` (xi free) by least squares.
    """
    s = np.sign(z_s)
    Ac = cols - cols.mean(axis=0)
    yc = y - y.mean()
    G = Ac.T @ Ac
    rhs = Ac.T @ yc - beta * s
    try:
        z, *_ = np.linalg.lstsq(G, rhs, rcond=None)
    except np.linalg.LinAlgError:  # pragma: no cover
        return None
    if not np.all(np.sign(z) == s):
        return None
    xi = float(np.mean(y - cols @ z))
    return z, xi


def solve_ramp_lasso(x, y, beta, tol=1e-9):
    """Depth-2 Lasso (survey eq. 34 with a free offset) by a sparse interior-point program.

    With sorted distinct inputs u and coefficients p_j on ``(x - u_j)_+``, q_j on ``(u_j - x)_+``,
    the fitted values at u obey ``f_{k+1} = f_k + (u_{k+1} - u_k) s_k`` with slopes
    ``s_k = s_{k-1} + p_k + q_k``, ``s_0 = p_0 - sum_{j>0} q_j``: O(N) sparse constraints instead
    of a dense n x 2N dictionary. Solved with Clarabel through cvxpy. The learned function is then
    re-expressed with the fewest-l1 ramp coefficients (:func:`two_layer_realization`, which also
    merges the p/q splits an interior-point method leaves), tiny kinks are pruned, and the support
    is polished by the KKT system with signs fixed (kept only if it lowers the duality gap).

    Parameters
    ----------
    x, y : arrays, shape (n,)
    beta : float
        Sum-scaled regularization.
    tol : float
        Target relative duality gap.

    Returns
    -------
    network : ReLUNetwork
        Two-layer free-bias network; its J equals the Lasso objective of its coefficients.
    primal, dual : float
        J of ``network`` and a feasible Lasso dual value (weak duality: dual <= min J).
    """
    import cvxpy as cp

    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    u, inv, cnt = np.unique(x, return_inverse=True, return_counts=True)
    N = len(u)
    if N == 1:
        net = ReLUNetwork(np.zeros((1, 0)), np.zeros(0), np.zeros(0), float(y.mean()))
        return (net, *_net_eval(x, y, beta, u, net))
    ybar = np.bincount(inv, weights=y) / cnt
    h = np.diff(u)
    p = cp.Variable(N)
    q = cp.Variable(N)
    f = cp.Variable(N)
    s = cp.Variable(N - 1)
    cons = [s[0] == p[0] - cp.sum(q[1:]), f[1:] == f[:-1] + cp.multiply(h, s)]
    if N > 2:
        cons.append(s[1:] == s[:-1] + p[1:-1] + q[1:-1])
    obj = 0.5 * cp.sum_squares(cp.multiply(np.sqrt(cnt), f - ybar)) \
        + beta * (cp.norm1(p) + cp.norm1(q))
    prob = cp.Problem(cp.Minimize(obj), cons)
    try:
        prob.solve(solver="CLARABEL", tol_gap_abs=1e-12, tol_gap_rel=1e-12, tol_feas=1e-12,
                   max_iter=500)
    except cp.SolverError:  # pragma: no cover - fall back to the default tolerances
        prob.solve(solver="CLARABEL")
    if f.value is None:
        raise RuntimeError(f"the Lasso solve failed with status {prob.status}")
    fv = np.asarray(f.value, dtype=float)

    def interp(xq):  # the learned function: linear between u, tails from p, q
        return np.interp(xq, u, fv, left=np.nan, right=np.nan)

    slope_left = float(s.value[0] - p.value[0] - q.value[0]) if N > 1 else 0.0
    slope_right = float(s.value[-1] + p.value[-1] + q.value[-1]) if N > 1 else 0.0

    def fun(xq):
        xq = np.asarray(xq, dtype=float)
        out = interp(xq)
        out = np.where(xq < u[0], fv[0] + slope_left * (xq - u[0]), out)
        return np.where(xq > u[-1], fv[-1] + slope_right * (xq - u[-1]), out)

    best = None
    for prune in (1e-9, 1e-7, 1e-5, 1e-12):
        net = two_layer_realization(u, fun, prune=prune * max(1.0, float(np.abs(fv).max())))
        cands = [net]
        pol = _polish_network(x, y, beta, net)
        if pol is not None:
            cands.append(pol)
        for c in cands:
            ev = _net_eval(x, y, beta, u, c)
            if best is None or ev[0] - ev[1] < best[1] - best[2]:
                best = (c, *ev)
        if best[1] - best[2] <= tol * max(1.0, abs(best[1])):
            break
    return best


def _net_eval(x, y, beta, u, net):
    """(J, Lasso dual value at the centered residual) of a free-bias 1-D network."""
    r = y - net.predict(x.reshape(-1, 1))
    primal = 0.5 * float(r @ r) + 0.5 * beta * float((net.W**2).sum() + (net.alpha**2).sum())
    lam = r - r.mean()
    c = float(np.abs(ramp_correlations(x, lam, u)).max())
    return primal, dual_lower_bound(y, lam, beta, c)


def _polish_network(x, y, beta, net):
    """KKT polish of a ramp network: same breakpoints and signs, exact Lasso coefficients."""
    if net.width == 0:
        return None
    w = net.W[0]
    sgn = np.sign(w)
    brk = -net.b / w
    coef = net.alpha * np.abs(w)
    cols = np.maximum(sgn[None, :] * (x[:, None] - brk[None, :]), 0.0)
    pol = _polish(cols, y, beta, coef)
    if pol is None:
        return None
    z, xi = pol
    r = np.sqrt(np.abs(z))
    return ReLUNetwork((sgn * r)[None, :], -sgn * brk * r, np.sign(z) * r, xi)


def _ramp_columns(x, u, idx):
    """Columns idx of the dense ramp dictionary [(x - u_j)_+ | (u_j - x)_+], shape (n, len(idx))."""
    N = len(u)
    idx = np.asarray(idx)
    sgn = np.where(idx < N, 1.0, -1.0)
    a = u[idx % N]
    return np.maximum(sgn[None, :] * (x[:, None] - a[None, :]), 0.0)


def solve_lasso(A, y, beta, tol=1e-9, solver="clarabel", max_iter=200_000):
    """Solve ``min 1/2||A z + xi - y||^2 + beta ||z||_1`` (dense dictionary A, free offset xi).

    ``solver="clarabel"``: interior point through cvxpy, then a KKT polish on the support.
    ``solver="sklearn"``: scikit-learn's ``Lasso`` (objective ``1/(2n)||.||^2 + a||z||_1``, so
    ``a = beta/n``; its intercept is xi), refitted with smaller tolerances until the duality gap
    computed here is below ``tol * max(1, primal)`` (at most 6 refits).

    Returns ``(z, xi, primal, dual, n_iter)``; ``dual`` is a feasible dual value (a lower bound).
    """
    y = np.asarray(y, dtype=float)
    if A.shape[1] == 0:
        xi = float(np.mean(y))
        z = np.zeros(0)
        p = lasso_objective(A, y, beta, z, xi)
        return z, xi, p, p, 0

    def ev(z, xi):
        return lasso_objective(A, y, beta, z, xi), lasso_dual_bound(A, y, beta, y - A @ z - xi)

    if solver == "sklearn":
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.linear_model import Lasso

        model = Lasso(alpha=beta / len(y), fit_intercept=True, max_iter=max_iter, warm_start=True)
        n_iter, sk_tol = 0, 1e-8
        for _ in range(6):
            model.set_params(tol=sk_tol)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                model.fit(A, y)
            n_iter += int(np.max(model.n_iter_))
            z, xi = np.asarray(model.coef_, dtype=float), float(model.intercept_)
            primal, dual = ev(z, xi)
            if primal - dual <= tol * max(1.0, abs(primal)):
                break
            sk_tol *= 1e-2
        return z, xi, primal, dual, n_iter

    import cvxpy as cp

    zv = cp.Variable(A.shape[1])
    xv = cp.Variable()
    prob = cp.Problem(cp.Minimize(0.5 * cp.sum_squares(A @ zv + xv - y) + beta * cp.norm1(zv)))
    prob.solve(solver="CLARABEL")
    z, xi = np.asarray(zv.value, dtype=float), float(xv.value)
    best = (z, xi, *ev(z, xi))
    zmax = np.abs(z).max(initial=0.0)
    for thr in (1e-6, 1e-4, 1e-8):
        sup = np.nonzero(np.abs(z) > thr * max(zmax, 1e-300))[0]
        pol = _polish(A[:, sup], y, beta, z[sup]) if len(sup) else (np.zeros(0), float(y.mean()))
        if pol is None:
            continue
        zz = np.zeros_like(z)
        zz[sup] = pol[0]
        cand = (zz, pol[1], *ev(zz, pol[1]))
        if cand[2] - cand[3] < best[2] - best[3]:
            best = cand
        if best[2] - best[3] <= tol * max(1.0, abs(best[2])):
            break
    return (*best, 0)


# ----------------------------------------------------------------------------- networks
def network_from_lasso(z, xi, specs, prune: float = 0.0) -> ReLUNetwork:
    """Two-layer network of a depth-2 Lasso solution (MATH.md).

    For the column ``(s (x - a))_+`` with coefficient z: ``w = s sqrt|z|``, ``b = -s a sqrt|z|``,
    ``alpha = sign(z) sqrt|z|``; the output offset is ``c = xi``. Its weight decay
    ``(beta/2)(w^2 + alpha^2) = beta |z|``, so J of the network equals the Lasso objective.
    """
    S, a, _ = specs
    keep = np.abs(z) > prune
    z, s, a = z[keep], S[keep, 0], a[keep]
    r = np.sqrt(np.abs(z))
    return ReLUNetwork((s * r)[None, :], -s * a * r, np.sign(z) * r, xi)


def two_layer_realization(xq_kinks, f, prune: float = 1e-12) -> ReLUNetwork:
    """Two-layer free-bias network equal to a continuous piecewise-linear 1-D function.

    ``f`` (callable on arrays) must be linear between consecutive points of ``xq_kinks``
    and outside their range. Among the representations
    ``f(x) = c + sum_i p_i (x - b_i)_+ + q_i (b_i - x)_+`` the one with the least
    ``sum |p_i| + |q_i|`` (= weight decay / beta of the network) is chosen by a small LP.
    """
    from scipy.optimize import linprog

    b = np.unique(np.asarray(xq_kinks, dtype=float))
    fb = f(b)
    m = len(b)
    if m == 1:
        span = 1.0
    else:
        span = max(1.0, float(b[-1] - b[0]))
    left = (fb[0] - f(np.array([b[0] - span]))[0]) / span
    right = (f(np.array([b[-1] + span]))[0] - fb[-1]) / span
    inner = np.diff(fb) / np.diff(b) if m > 1 else np.zeros(0)
    slopes = np.concatenate([[left], inner, [right]])  # slope on each of the m+1 pieces
    delta = np.diff(slopes)  # kink at each b_i
    # variables p (m), q (m) split as p+ p- q+ q- >= 0
    # constraints: p_i + q_i = delta_i ; -sum q_i = left
    import scipy.sparse as sp

    i = np.arange(m)
    rows = np.concatenate([i, i, i, i, np.full(m, m), np.full(m, m)])
    cols = np.concatenate([i, m + i, 2 * m + i, 3 * m + i, 2 * m + i, 3 * m + i])
    vals = np.concatenate([np.ones(m), -np.ones(m), np.ones(m), -np.ones(m),
                           -np.ones(m), np.ones(m)])
    Aeq = sp.csr_matrix((vals, (rows, cols)), shape=(m + 1, 4 * m))
    beq = np.concatenate([delta, [left]])
    res = linprog(np.ones(4 * m), A_eq=Aeq, b_eq=beq, bounds=(0, None), method="highs")
    if res.status != 0:  # pragma: no cover - the LP is always feasible
        raise RuntimeError(f"two-layer realization LP failed: {res.message}")
    v = res.x
    p = v[:m] - v[m:2 * m]
    q = v[2 * m:3 * m] - v[3 * m:]
    coef = np.concatenate([p, q])
    sgn = np.concatenate([np.ones(m), -np.ones(m)])
    brk = np.concatenate([b, b])
    keep = np.abs(coef) > prune
    coef, sgn, brk = coef[keep], sgn[keep], brk[keep]
    r = np.sqrt(np.abs(coef))
    W = (sgn * r)[None, :]
    bias = -sgn * brk * r
    alpha = np.sign(coef) * r
    # offset: match f at the first kink
    partial = ReLUNetwork(W, bias, alpha, 0.0).predict(b[:1].reshape(-1, 1))[0]
    return ReLUNetwork(W, bias, alpha, float(fb[0] - partial))


# ----------------------------------------------------------------------------- method
def _depth(v):
    try:
        d = positive_int(v)
    except (TypeError, ValueError):
        d = None
    if d not in (2, 3, 4):
        raise ValueError(f"must be 2, 3 or 4, got {v!r}")
    return d


class Reflection(Method):
    """1-D Lasso with ramp (and, deeper, reflection) features; Zeger et al. 2024.

    Depth 2 (default) solves ``min J`` exactly for d = 1, squared loss, bias ``free`` and
    returns the two-layer network of the Lasso solution with a global certificate (the Lasso dual
    value at a verified duality gap). Depth 3 and 4 solve the deep-narrow dictionaries of the
    paper; the returned network is the exact two-layer realization of the learned function and
    its reported objective is that network's two-layer J (the deep Lasso value is in
    ``info["lasso_objective"]``).
    """

    name = "reflection"
    summary = "1-D Lasso over ramp/reflection features (Zeger et al. 2024): exact for d=1, free biases"
    capabilities = Capabilities(losses=("squared",), biases=("free",), depth=2,
                                finite_weights=True, lower_bound=True, input_dim=1)
    options = {
        "depth": Option(2, "2: two-layer Lasso (exact min J); 3, 4: the paper's deep-narrow "
                           "dictionaries (4 adds reflection features 2x_j - x_i)", _depth),
        "tol": Option(1e-9, "target relative duality gap of the Lasso (status 'optimal' when met)",
                      positive_float),
        "solver": Option("clarabel", "'clarabel': sparse interior point + KKT polish (fast); "
                                     "'sklearn': scikit-learn Lasso coordinate descent (slow on "
                                     "ramp dictionaries, kept for comparison)",
                         one_of("clarabel", "sklearn")),
        "max_iter": Option(200_000, "coordinate-descent epochs per scikit-learn fit",
                           positive_int),
        "max_features": Option(200_000, "refuse larger dictionaries (depth 3/4 grow as N^2/N^3)",
                               positive_int),
    }

    def solve(self, problem, **options):
        dl = Deadline(options["time_limit"])
        depth = options["depth"]
        tol = options["tol"]
        x = problem.X[:, 0]
        y = problem.y
        beta = problem.beta
        if depth == 2 and options["solver"] == "clarabel":
            net, primal, dual = solve_ramp_lasso(x, y, beta, tol)
            z = net.alpha
            n_iter, n_feat = 0, 2 * len(np.unique(x))
        else:
            A, specs = reflection_dictionary(x, depth, options["max_features"])
            z, xi, primal, dual, n_iter = solve_lasso(A, y, beta, tol, options["solver"],
                                                      options["max_iter"])
            n_feat = int(A.shape[1])
        gap = primal - dual
        gap_ok = gap <= tol * max(1.0, abs(primal))
        info = {"n_features": n_feat, "depth": depth, "lasso_objective": primal,
                "lasso_dual": dual, "duality_gap": gap, "n_selected": int(np.sum(z != 0))}
        if depth == 2:
            if options["solver"] != "clarabel":
                net = network_from_lasso(z, xi, specs)
            lower = dual
            message = ("Lasso over ramp features (Zeger et al. 2024); its optimum is min J for "
                       "d = 1 with free biases")
        else:
            sel = z != 0
            sub = (specs[0][sel], specs[1][sel], specs[2][sel])
            kinks = np.concatenate([x, specs[1][sel], specs[2][sel].ravel()])
            zs = z[sel]

            def f(xq):
                return evaluate_features(xq, sub) @ zs + xi

            net = two_layer_realization(kinks, f)
            # certificate on min two-layer J from the returned network's residual
            r = y - net.predict(problem.X)
            lam = r - r.mean()
            c = float(np.abs(ramp_correlations(x, lam, np.unique(x))).max())
            lower = dual_lower_bound(y, lam, beta, c)
            message = (f"depth-{depth} deep-narrow Lasso value {primal:.6g} (the paper's "
                       "regularization of the deeper network); objective is the two-layer J of "
                       "the same function, bound is on min two-layer J")
        J = problem.objective(net)
        status = "optimal" if gap_ok else "converged"
        if not gap_ok:
            message += f"; Lasso duality gap {gap:.3g} above tol = {tol:g}"
        return Solution(net, objective=J, lower_bound=lower, bound_kind="global", status=status,
                        n_iter=n_iter, history=[(dl.elapsed(), J)], message=message, info=info)


@cvxlens.hookimpl
def cvxlens_register_methods(register):
    register(Reflection)
