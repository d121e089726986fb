"""cvxlens built-in plugin ``colgen``: column generation / convex neural networks (Bengio et al. 2005).

The two-layer network with weight decay is the Lasso over the infinite dictionary of atoms
``(X̃ u)_+``, ``||u|| <= 1`` (X̃ = ``problem.design()``; MATH.md "Bengio et al. 2005"):

    min_alpha  loss(H alpha [+ c]) + beta ||alpha||_1,      H = [(X̃ u_1)_+, ..., (X̃ u_m)_+]

Column generation keeps a finite set of atoms, solves this restricted master problem, and prices
a new atom with the polar oracle :func:`cvxlens.polar` at the dual vector of the master
(the residual ``y - f`` for the squared loss, ``y * sigmoid(-y f)`` for the logistic loss, the
LP duals ``y * q`` for the hinge loss). It stops when ``max_u |mu^T (X̃ u)_+| <= beta (1 + tol)``:
the dual feasibility condition (survey eqs. 25-26), so with exact pricing the stop is a global
certificate. Each round re-optimizes over all atoms and drops the dead ones.

Network: atom ``u_j`` with coefficient ``alpha_j`` becomes the neuron ``w_j = sqrt|alpha_j| u_j``,
``alpha'_j = sign(alpha_j) sqrt|alpha_j|``, whose weight decay ``(beta/2)(||w_j||^2 + alpha'_j^2)``
equals ``beta |alpha_j|`` since ``||u_j|| = 1``: J of the network equals the master objective.

Bias ``free``: atoms ``(X w + b)_+`` with ``||w|| <= 1`` and b free, and an unpenalized output
offset c in the master; the dual then carries ``sum(mu) = 0``.
"""

from __future__ import annotations

import numpy as np
from threadpoolctl import threadpool_limits
from scipy.optimize import linprog, minimize_scalar

import cvxlens
from cvxlens import Capabilities, Deadline, Method, Option, ReLUNetwork, Solution
from cvxlens.bounds import dual_lower_bound
from cvxlens.polar import DEFAULT_POLAR_MAX_PATTERNS, PolarOracle, merge_atoms
from cvxlens.validators import nonneg_float, pattern_choice, positive_int

__all__ = ["ColGen", "master_squared", "master_logistic", "master_hinge", "dual_bound",
           "lasso_active_set"]


# ----------------------------------------------------------------------------- masters
def master_squared(H, y, beta, intercept, alpha0=None):
    """``min_{alpha, c} 1/2 ||H alpha + c - y||^2 + beta ||alpha||_1`` (c = 0 unless intercept).

    Exact active-set solver (feature-sign search, Lee, Battle, Raina & Ng 2007): on the current
    support with fixed signs the problem is a linear system; a line search to the first sign
    change keeps the objective decreasing; the most violating zero coefficient enters. Finite
    termination, warm-started from ``alpha0``. The intercept (bias ``free``) is eliminated by
    centering H and y. Returns ``(alpha (m,), c)``.
    """
    n, m = H.shape
    if intercept:
        hm, ym = H.mean(axis=0), float(y.mean())
        Hc, yc = H - hm, y - ym
    else:
        Hc, yc = H, y
    if m == 0:
        return np.zeros(0), (ym if intercept else 0.0)
    a = lasso_active_set(Hc.T @ Hc, Hc.T @ yc, beta, alpha0)
    c = float(ym - hm @ a) if intercept else 0.0
    return a, c


def lasso_active_set(G, b, beta, alpha0=None, max_steps=None, free=None):
    """Minimize ``1/2 a^T G a - b^T a + beta sum_{i not free} |a_i|`` (G = H^T H, b = H^T y) by
    feature-sign search; ``alpha0`` warm start; ``free`` (bool mask) marks unpenalized entries.
    Returns a (m,) with exact zeros off the support."""
    m = len(b)
    a = np.zeros(m) if alpha0 is None else np.array(alpha0, dtype=float)
    if a.shape != (m,):
        a = np.zeros(m)
    free = np.zeros(m, bool) if free is None else np.asarray(free, bool)
    pen = np.where(free, 0.0, beta)
    scale = max(1.0, float(np.max(np.abs(b), initial=0.0)), beta)
    tol = 1e-11 * scale
    max_steps = max_steps or 50 * m + 100

    def obj(v):
        return 0.5 * v @ G @ v - b @ v + pen @ np.abs(v)

    # a tiny ridge keeps the support systems solvable when atoms are linearly dependent
    # (n small): it moves the optimum by O(1e-13) relative, and makes the step along a null
    # direction of H_S run to the first sign change, as the exact Lasso does.
    G = G + (1e-13 * max(float(np.max(np.diag(G), initial=0.0)), 1e-300)) * np.eye(m)
    theta = np.sign(a)
    theta[free] = 0.0
    for _ in range(max_steps):
        g = G @ a - b
        act = (theta != 0) | free
        if np.all(np.abs(g[act] + pen[act] * theta[act]) <= tol):
            viol = np.where(act, -np.inf, np.abs(g) - beta)
            i = int(np.argmax(viol))
            if viol[i] <= tol:
                return a
            theta[i] = -np.sign(g[i])
            act[i] = True
        S = np.nonzero(act)[0]
        GS = G[np.ix_(S, S)]
        rhs = b[S] - pen[S] * theta[S]
        try:
            new = np.linalg.solve(GS, rhs)
        except np.linalg.LinAlgError:
            new = np.linalg.lstsq(GS, rhs, rcond=None)[0]
        cur = a[S]
        # candidate points: the new solution and every sign change on the segment
        cross = (cur != 0) & (np.sign(new) != np.sign(cur)) & ~free[S]
        ts = cur[cross] / (cur[cross] - new[cross])
        best_v, best_obj = None, np.inf
        for t in np.append(ts, 1.0):
            v = a.copy()
            v[S] = cur + t * (new - cur)
            if t < 1.0:  # zero exactly the component that crosses at t
                v[S[cross][np.isclose(ts, t, rtol=0, atol=1e-15)]] = 0.0
            f = obj(v)
            if f < best_obj:
                best_v, best_obj = v, f
        if best_obj > obj(a) + 1e-15 * scale and np.any(a != 0):
            return a  # no progress possible (degenerate Gram matrix): current point
        a = best_v
        theta = np.sign(a)
        theta[free] = 0.0
    return a


def master_logistic(H, y, beta, intercept, alpha0=None, c0=0.0, max_iter=200):
    """``min sum log(1 + exp(-y (H alpha + c))) + beta ||alpha||_1`` (c free when ``intercept``).

    Proximal Newton (as in GLMNET): each step solves the weighted Lasso of the quadratic model
    exactly with :func:`lasso_active_set`, then backtracks on the true objective.
    Returns ``(alpha, c)``.
    """
    n, m = H.shape
    A = np.hstack([H, np.ones((n, 1))]) if intercept else H
    k = A.shape[1]
    if k == 0:
        return np.zeros(0), 0.0
    free = np.zeros(k, bool)
    if intercept:
        free[-1] = True
    z = np.zeros(k)
    if alpha0 is not None and len(alpha0) == m:
        z[:m] = alpha0
    if intercept:
        z[-1] = c0

    def F(v):
        return float(np.logaddexp(0.0, -y * (A @ v)).sum() + beta * np.abs(v[:m]).sum())

    Fz = F(z)
    for _ in range(max_iter):
        f = A @ z
        p = _sigmoid(-y * f)
        g = A.T @ (-y * p)
        w = p * (1 - p) + 1e-12
        G = (A * w[:, None]).T @ A
        z_new = lasso_active_set(G, G @ z - g, beta, z, free=free)
        step = z_new - z
        dec = g @ step + beta * (np.abs(z_new[:m]).sum() - np.abs(z[:m]).sum())
        t, accepted = 1.0, False
        while t > 1e-10:
            cand = z + t * step
            Fc = F(cand)
            if Fc <= Fz + 0.25 * t * min(dec, 0.0):
                accepted = True
                break
            t *= 0.5
        if not accepted:
            break
        done = Fz - Fc <= 1e-15 * max(1.0, abs(Fz))
        z, Fz = cand, Fc
        if done:
            break
    return z[:m].copy(), (float(z[-1]) if intercept else 0.0)


def master_hinge(H, y, beta, intercept):
    """The hinge master as an LP (HiGHS dual simplex, so the solution is a vertex)::

        min beta 1^T (p + q) + 1^T xi   s.t.  xi_i >= 1 - y_i (H (p - q) + c)_i,  p, q, xi >= 0

    Returns ``(alpha, c, q_dual)`` with ``q_dual`` in [0, 1]^n the constraint multipliers. A vertex
    has at most n nonzeros among (p, q, xi, c): at most n + 1 neurons (Bengio et al. 2005).
    """
    n, m = H.shape
    nv = 2 * m + n + (1 if intercept else 0)
    cost = np.concatenate([np.full(2 * m, beta), np.ones(n), [0.0] if intercept else []])
    YH = y[:, None] * H
    A = np.hstack([-YH, YH, -np.eye(n)] + ([-y[:, None]] if intercept else []))
    b = -np.ones(n)
    bounds = [(0, None)] * (2 * m + n) + ([(None, None)] if intercept else [])
    res = linprog(cost, A_ub=A, b_ub=b, bounds=bounds, method="highs-ds")
    if res.status != 0:
        raise RuntimeError(f"hinge master LP failed: {res.message}")
    x = res.x
    alpha = x[:m] - x[m:2 * m]
    c = float(x[-1]) if intercept else 0.0
    q = np.clip(-np.asarray(res.ineqlin.marginals, dtype=float), 0.0, 1.0)
    assert nv == len(x)
    return alpha, c, q


def _sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def _entropy(p):
    p = np.clip(p, 0.0, 1.0)
    out = np.zeros_like(p)
    m = (p > 0) & (p < 1)
    out[m] = -p[m] * np.log(p[m]) - (1 - p[m]) * np.log1p(-p[m])
    return out


def dual_bound(loss, y, mu, beta, polar_value):
    """Dual lower bound on ``min J`` from a dual vector ``mu`` whose polar value is exact.

    Weak duality of the infinite-dictionary Lasso (Fenchel; Bengio et al. 2005; survey eqs. 25-26):
    for every ``mu`` with ``max_u |mu^T (X̃ u)_+| <= beta`` (and ``sum(mu) = 0`` for a free
    offset), ``min J >= -loss^*(-mu)``. ``mu`` is scaled by ``t`` into the feasible set:

    * squared, ``mu = y - f``: :func:`cvxlens.bounds.dual_lower_bound`.
    * logistic, ``mu = y * q`` with q in [0, 1]: ``sum_i H(t q_i)`` (binary entropy, nats),
      ``t`` in ``[0, min(1, beta / c)]`` maximizing it.
    * hinge, ``mu = y * q``: ``t sum_i q_i``, ``t = min(1, beta / c)``.
    """
    if not np.isfinite(polar_value):
        return None
    if loss == "squared":
        return dual_lower_bound(y, mu, beta, polar_value)
    q = np.clip(mu * y, 0.0, 1.0)
    tmax = 1.0 if polar_value <= beta else beta / polar_value
    if loss == "hinge":
        return float(tmax * q.sum())
    res = minimize_scalar(lambda t: -_entropy(t * q).sum(), bounds=(0.0, tmax), method="bounded",
                          options={"xatol": 1e-12})
    return float(max(-res.fun, _entropy(tmax * q).sum()))


# ----------------------------------------------------------------------------- the method
class ColGen(Method):
    """Column generation over ReLU atoms (Bengio et al. 2005, "Convex neural networks")."""

    name = "colgen"
    summary = ("column generation (Bengio et al. 2005): Lasso over ReLU atoms priced by the polar "
               "oracle; exact pricing gives a global certificate")
    capabilities = Capabilities(losses=("squared", "logistic", "hinge"),
                                biases=("none", "regularized", "free"), depth=2,
                                finite_weights=True, lower_bound=True)
    options = {
        "patterns": Option("auto", "pricing: 'auto' (exact when the arrangement is small), 'exact', "
                                   "or an int = sampled gates (heuristic, no certificate)", pattern_choice),
        "max_patterns": Option(DEFAULT_POLAR_MAX_PATTERNS, "largest arrangement (cells) priced "
                                                           "exactly", positive_int),
        "tol": Option(1e-6, "stop when the price <= beta (1 + tol)", nonneg_float),
        "max_iter": Option(1000, "maximum rounds (one atom added per round)", positive_int),
    }

    def solve(self, problem, **options):
        # small dense problems: multithreaded BLAS only adds overhead, and under load it makes
        # scipy's L-BFGS-B (setulb) ~70x slower (measured)
        with threadpool_limits(limits=1):
            return self._solve(problem, **options)

    def _solve(self, problem, **options):
        dl = Deadline(options["time_limit"])
        beta, y, loss = problem.beta, problem.y, problem.loss
        free = problem.bias == "free"
        Xd = problem.X if free else problem.design()
        n = problem.n
        oracle = PolarOracle(Xd, patterns=options["patterns"], seed=options["seed"] or 0,
                             max_patterns=options["max_patterns"], free_bias=free)
        exact = oracle.exact
        atoms = np.zeros((Xd.shape[1] + (1 if free else 0), 0))
        H = np.zeros((n, 0))
        alpha, c, qd = np.zeros(0), 0.0, None
        history, prices = [], []
        status, message = "max_iter", ""
        k = 0

        def columns(U):
            if free:
                return np.maximum(problem.X @ U[:-1] + U[-1], 0.0)
            return np.maximum(Xd @ U, 0.0)

        def solve_master(alpha0):
            nonlocal qd
            if loss == "squared":
                return master_squared(H, y, beta, free, alpha0)
            if loss == "logistic":
                return master_logistic(H, y, beta, free, alpha0, c)
            a, cc, qd = master_hinge(H, y, beta, free)
            return a, cc

        def dual_vector():
            f = H @ alpha + c
            if loss == "squared":
                mu = y - f
            elif loss == "logistic":
                mu = y * _sigmoid(-y * f)
            else:
                mu = y * qd
            if free:
                mu = mu - mu.mean()  # exact sum(mu) = 0 (the master's intercept makes it ~0)
            return mu

        def J():
            return problem.loss_value(H @ alpha + c) + beta * np.abs(alpha).sum()

        alpha, c = solve_master(None)
        if loss == "hinge" and qd is None:
            qd = np.ones(n)
        price = None
        mu = dual_vector()
        while True:
            st = atoms if atoms.shape[1] else None  # heuristic: warm starts at the atoms
            t_or = dl.elapsed()
            res = oracle(mu, starts=st)
            t_or = dl.elapsed() - t_or
            rem = dl.remaining()
            if not exact and res.value <= beta * (1 + options["tol"]) and (
                    rem is None or rem > 15 * t_or):
                res = oracle(mu, n_gates=10 * oracle.n_gates, starts=st)  # confirm: 10x gates
            price = res.value
            t = dl.elapsed()
            history.append((t, J()))
            prices.append((t, price))
            if price <= beta * (1 + options["tol"]):
                status = "optimal" if exact else "converged"
                break
            if k >= options["max_iter"]:
                status = "max_iter"
                break
            if dl.expired():
                status = "timeout"
                break
            u = res.u
            h = columns(u[:, None])
            if H.shape[1]:
                cos = (H.T @ h[:, 0]) / (np.linalg.norm(H, axis=0) * np.linalg.norm(h) + 1e-300)
                if np.max(cos) > 1 - 1e-12:
                    status = "converged"
                    message = ("pricing returned an atom already in the master; stopped at the "
                               "master's accuracy")
                    break
            atoms = np.hstack([atoms, u[:, None]])
            H = np.hstack([H, h])
            alpha, c = solve_master(np.append(alpha, 0.0))
            if loss == "hinge":
                # LP duals are not unique: dropping or merging columns can return the LP to an
                # earlier basis and cycle. Keep every column (the LP stays small); the vertex
                # solution has at most n nonzero coefficients.
                mu = dual_vector()
                k += 1
                continue
            keep = alpha != 0
            atoms, H, alpha = atoms[:, keep], H[:, keep], alpha[keep]
            merged = merge_atoms(atoms, alpha, Xd, free)
            if merged is not None:  # same cone and sign: one atom does it cheaper
                atoms, alpha = merged
                H = columns(atoms)
                alpha, c = solve_master(alpha)
                keep = alpha != 0
                atoms, H, alpha = atoms[:, keep], H[:, keep], alpha[keep]
            mu = dual_vector()
            k += 1

        keep = alpha != 0
        atoms, H, alpha = atoms[:, keep], H[:, keep], alpha[keep]
        lb = bound_kind = None
        if exact:
            lb = dual_bound(loss, y, mu, beta, price)
            bound_kind = "global" if lb is not None else None
        # "optimal" only when certified: exact pricing and a duality gap <= 1e-6 (relative)
        Jv = J()
        certified = lb is not None and Jv - lb <= 1e-6 * max(1.0, abs(Jv))
        if certified:
            status = "optimal"
        elif status == "optimal":
            status = "converged"
        net = self._network(problem, atoms, alpha, c)
        if not message:
            message = ("exact pricing (all cones of the arrangement): the stop is a global "
                       "certificate" if exact else
                       "heuristic pricing (sampled gates): no certificate")
        info = {"n_atoms": int(atoms.shape[1]), "pricing_exact": bool(exact),
                "final_price": float(price), "price_over_beta": float(price / beta),
                "history_price": prices, "oracle_work": int(oracle.work)}
        return Solution(net, objective=J(), lower_bound=lb, bound_kind=bound_kind, status=status,
                        n_iter=k, history=history, message=message, info=info)

    @staticmethod
    def _network(problem, atoms, alpha, c):
        s = np.sqrt(np.abs(alpha))
        a_out = np.sign(alpha) * s
        if problem.bias == "free":
            return ReLUNetwork(atoms[:-1] * s, atoms[-1] * s, a_out, c)
        return problem.network_from_design(atoms * s, a_out)


@cvxlens.hookimpl
def cvxlens_register_methods(register):
    register(ColGen)
