"""cvxlens built-in plugin ``path3``: three-layer parallel ReLU networks with path regularization.

Network (survey eq. 32; Ergen & Pilanci, "Path regularization: a convexity and sparsity inducing
regularization for parallel ReLU networks", NeurIPS 2023, arXiv:2110.09548)::

    f(x) = sum_k ((x~ W1[k])_+ W2[k])_+ . alpha[k],      x~ = x  or  [x, 1] (bias "regularized")

    J = 1/2 ||f(X) - y||^2 + beta sum_k sqrt(sum_ij ||w1_ki||^2 W2_kij^2 alpha_kj^2)

(beta multiplies the path norm, not beta/2). The convex program (survey eq. 33) is a group Lasso
over two-level activation patterns. The form solved here, derived from the path norm's rescaling
invariance (docs/methods/path3.md has the derivation):

* a *group* g fixes, for each of the m1 first-layer slots, a first-layer pattern D1 and the sign
  s of its second-layer weight, a second-layer pattern D2 and an output sign sigma;
* its variables are V_g = (v_g1, ..., v_gm1), v_gi in R^{d~}, with the cone constraints
  ``(2 D1_gi - I) X~ v_gi >= 0`` and ``(2 D2_g - I) z_g >= 0``, ``z_g = sum_i s_gi D1_gi X~ v_gi``;
* program: ``min 1/2 ||sum_g sigma_g D2_g z_g - y||^2 + (beta / sqrt(m2)) sum_g ||V_g||_F``.

Each group with ``t = ||V_g||_F > 0`` becomes one parallel unit: ``w1_i = v_gi/||v_gi||``,
``w2_i = s_gi ||v_gi|| / sqrt(t)``, the m2 second-layer neurons are copies of w2 with output
weights ``sigma_g sqrt(t) / m2``; its path norm is ``t / sqrt(m2)``, so J of the network equals the
program's objective. With every pattern enumerated the program's optimum is min J over all
three-layer parallel networks of widths (m1, m2) with any number of units (the program is a
relaxation of every such network, and its solution is one). m1 = 1 reduces to the two-layer
group Lasso (Pilanci & Ergen 2020) with beta / sqrt(m2).
"""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np

import cvxlens
from cvxlens import (Capabilities, Deadline, Method, Option, ParallelReLUNetwork3,
                     ProblemTooLargeError, Solution)
from cvxlens.bounds import dual_lower_bound
from cvxlens.validators import one_of, positive_int

__all__ = ["Path3", "build_groups", "solve_path3_program", "objective_and_grad3", "lbfgs_path3"]

#: cone rows (n * groups * (m1 + 1)) allowed when patterns="auto" falls back to sampling
AUTO_ROW_BUDGET = 150_000


# ----------------------------------------------------------------------------- groups
def _second_layer_choices(D1s: np.ndarray, signs: np.ndarray, limit: int):
    """Second-layer patterns worth trying for one slot tuple.

    D1s : (n, m1) bool first-layer patterns, signs : (m1,) +-1. Row r of z = sum_i s_i D1_i X~ v_i
    is >= 0 when every active slot is positive (pattern 1 dominates), <= 0 when every active slot is
    negative (pattern 0 dominates: the output is 0 either way and the constraint is weaker), 0 when
    no slot is active; only "mixed" rows need both choices. Returns (c, n) bool or raises.
    """
    pos = (D1s & (signs > 0)[None, :]).any(axis=1)
    neg = (D1s & (signs < 0)[None, :]).any(axis=1)
    mixed = np.nonzero(pos & neg)[0]
    base = pos & ~neg
    base = base | ~(pos | neg)  # inactive rows: z_r = 0, either choice; take 1
    if not pos.any():
        return np.zeros((0, len(base)), dtype=bool)  # z <= 0 everywhere: the unit outputs 0
    k = len(mixed)
    if 2**k > limit:
        raise ProblemTooLargeError(
            f"a first-layer slot tuple has {k} rows of mixed sign: 2^{k} second-layer patterns "
            f"exceed max_groups = {limit:,}; sample patterns instead (patterns=(p1, p2))")
    out = np.repeat(base[None, :], 2**k, axis=0)
    if k:
        bits = np.array(list(itertools.product((False, True), repeat=k)))
        out[:, mixed] = bits
    return out


def build_groups(Xd: np.ndarray, m1: int, patterns="exact", seed=0, max_groups: int = 20000):
    """Groups of the convex program: slot patterns/signs, second-layer patterns, output signs.

    Parameters
    ----------
    Xd : array, shape (n, d~)
        Design matrix (``Problem.design()``).
    m1 : int
        First-layer neurons per parallel unit.
    patterns : "exact" or (p1, p2)
        ``"exact"``: every full-dimensional cell of the first-layer arrangement for every slot
        (multisets of m1 (pattern, sign) pairs) and every useful second-layer pattern.
        ``(p1, p2)``: p1 Gaussian first-layer gates, then p2 random units (m1 gates drawn from
        them, Gaussian second-layer weights) whose two-level patterns are kept.
    max_groups : int
        Refuse exact enumeration beyond this many groups.

    Returns
    -------
    D1 : bool (n, m1, G); S : (m1, G) +-1 slot signs; D2 : bool (n, G); sigma : (G,) +-1.

    Raises
    ------
    ProblemTooLargeError
        When exact enumeration would exceed ``max_groups``.
    """
    n = Xd.shape[0]
    tuples = []  # (D1s (n, m1), signs (m1,), D2 (n,))
    if patterns == "exact":
        P = cvxlens.enumerate_patterns(Xd, max_patterns=max_groups)
        items = [(p, s) for p in range(P.shape[1]) for s in (1, -1)]
        n_multisets = math.comb(len(items) + m1 - 1, m1)
        if 2 * n_multisets > max_groups:
            raise ProblemTooLargeError(
                f"exact two-level enumeration: {P.shape[1]} first-layer patterns give "
                f"{n_multisets:,} slot tuples for m1 = {m1} (times second-layer patterns and 2 "
                f"output signs), above max_groups = {max_groups:,}; use patterns=(p1, p2) to "
                "sample, a smaller m1, or raise max_groups")
        total = 0
        for combo in itertools.combinations_with_replacement(range(len(items)), m1):
            idx = np.array([items[c][0] for c in combo])
            sg = np.array([items[c][1] for c in combo], dtype=float)
            D1s = P[:, idx]
            for D2 in _second_layer_choices(D1s, sg, max_groups):
                tuples.append((D1s, sg, D2))
                total += 2
                if total > max_groups:
                    raise ProblemTooLargeError(
                        f"exact two-level enumeration exceeds max_groups = {max_groups:,} groups; "
                        "use patterns=(p1, p2) to sample, a smaller m1, or raise max_groups")
    else:
        p1, p2 = patterns
        rng = np.random.default_rng(seed)
        P, Gt = cvxlens.sample_patterns(Xd, p1, seed=rng, return_gates=True)
        if P.shape[1] == 0:
            P = np.ones((n, 1), dtype=bool)
            Gt = np.zeros((Xd.shape[1], 1))
        H = np.maximum(Xd @ Gt, 0.0)  # (n, P) first-layer activations of the gates
        seen = set()
        for _ in range(int(p2)):
            idx = rng.integers(0, P.shape[1], size=m1)
            w2 = rng.standard_normal(m1)
            if not np.any(w2 > 0):
                w2[0] = abs(w2[0])
            sg = np.sign(w2)
            sg[sg == 0] = 1.0
            D2 = (H[:, idx] @ w2) >= 0
            order = np.lexsort((sg, idx))
            idx, sg = idx[order], sg[order]
            key = (tuple(idx), tuple(sg), np.packbits(D2).tobytes())
            if key in seen or not D2.any():
                continue
            seen.add(key)
            tuples.append((P[:, idx], sg, D2))
        # always include the m1 = 1-like groups (all slots on one positive gate): two-layer features
        for p in range(P.shape[1]):
            key = (tuple([p] * m1), tuple([1.0] * m1), np.packbits(np.ones(n, bool)).tobytes())
            if key not in seen:
                seen.add(key)
                tuples.append((np.repeat(P[:, [p]], m1, axis=1), np.ones(m1), np.ones(n, bool)))
    G = 2 * len(tuples)
    D1 = np.zeros((n, m1, G), dtype=bool)
    S = np.zeros((m1, G))
    D2 = np.zeros((n, G), dtype=bool)
    sigma = np.zeros(G)
    for g, (d1, sg, d2) in enumerate(tuples):
        for h, sgm in enumerate((1.0, -1.0)):
            D1[:, :, 2 * g + h] = d1
            S[:, 2 * g + h] = sg
            D2[:, 2 * g + h] = d2
            sigma[2 * g + h] = sgm
    return D1, S, D2, sigma


# ----------------------------------------------------------------------------- program
def solve_path3_program(Xd, y, beta_eff, D1, S, D2, sigma, solver="CLARABEL", time_limit=None):
    """Solve the group program over the given groups with cvxpy.

    Returns ``(V, value, lam_parts, status)``: V of shape (m1, d~, G), the solver's objective
    value, the constraint multipliers (mu (m1, n, G), nu (n, G)) for the dual certificate, and the
    solver status (``user_limit`` when Clarabel stopped at ``time_limit`` seconds).
    """
    import cvxpy as cp

    n, dd = Xd.shape
    m1, G = S.shape
    V = [cp.Variable((dd, G)) for _ in range(m1)]
    Z = [Xd @ V[i] for i in range(m1)]
    cones = [cp.multiply((2.0 * D1[:, i, :] - 1.0), Z[i]) >= 0 for i in range(m1)]
    M = [D1[:, i, :] * S[i][None, :] for i in range(m1)]
    zg = sum(cp.multiply(M[i], Z[i]) for i in range(m1))
    second = cp.multiply(2.0 * D2 - 1.0, zg) >= 0
    pred = cp.sum(cp.multiply(D2 * sigma[None, :], zg), axis=1)
    stacked = cp.vstack(V) if m1 > 1 else V[0]  # (m1*dd, G)
    obj = 0.5 * cp.sum_squares(pred - y) + beta_eff * cp.sum(cp.norm(stacked, 2, axis=0))
    prob = cp.Problem(cp.Minimize(obj), cones + [second])
    with warnings.catch_warnings():  # "inaccurate" is reported through the status instead
        warnings.simplefilter("ignore", UserWarning)
        if solver == "CLARABEL":
            limit = {} if time_limit is None else {"time_limit": max(1e-3, float(time_limit))}
            try:
                prob.solve(solver=solver, tol_gap_abs=1e-10, tol_gap_rel=1e-10, tol_feas=1e-10,
                           **limit)
            except cp.SolverError:  # pragma: no cover - retry with the default tolerances
                prob.solve(solver=solver, **limit)
        else:
            limit = {} if time_limit is None else {"time_limit_secs": max(1e-3, float(time_limit))}
            prob.solve(solver=solver, eps=1e-9, max_iters=100_000, **limit)
    if V[0].value is None:
        raise RuntimeError(f"the path3 program failed: solver status {prob.status}")
    Vv = np.stack([np.asarray(v.value) for v in V])  # (m1, dd, G)
    mu = np.stack([np.maximum(np.asarray(c.dual_value), 0.0) for c in cones])  # (m1, n, G)
    nu = np.maximum(np.asarray(second.dual_value), 0.0)
    return Vv, float(prob.value), (mu, nu), prob.status


def group_predictions(Xd, V, D1, S, D2, sigma):
    """Per-group output ``sigma_g D2_g z_g`` (n, G) and pre-activation z (n, G)."""
    z = np.einsum("nig,ig,nig->ng", D1.astype(float), S, np.einsum("nd,idg->nig", Xd, V))
    return (D2 * sigma[None, :]) * z, z


def dual_certificate(Xd, y, beta_eff, lam, mu, nu, D1, S, D2, sigma):
    """Lower bound on the program's optimum from (lam, mu, nu) by weak duality.

    Group g is dual feasible when ``||G_g||_F <= beta_eff`` with
    ``G_gi = X~^T [ s_gi D1_gi (sigma_g D2_g lam + (2 D2_g - 1) nu_g) + (2 D1_gi - 1) mu_gi ]``;
    the triple is scaled by ``t = clip(lam^T y / ||lam||^2, 0, beta_eff / max_g ||G_g||)``
    (cvxlens.bounds.dual_lower_bound) giving ``t lam^T y - t^2 ||lam||^2 / 2``.
    """
    D1f = D1.astype(float)
    inner = (D2 * sigma[None, :]) * lam[:, None] + (2.0 * D2 - 1.0) * nu  # (n, G)
    R = D1f * S[None, :, :] * inner[:, None, :] + (2.0 * D1f - 1.0) * np.transpose(mu, (1, 0, 2))
    Gm = np.einsum("nd,nig->idg", Xd, R)  # (m1, dd, G)
    c = float(np.sqrt((Gm**2).sum(axis=(0, 1))).max()) if Gm.size else 0.0
    return dual_lower_bound(y, lam, beta_eff, c)


def network_from_groups(V, S, sigma, m2, bias_regularized: bool, tol: float = 0.0):
    """ParallelReLUNetwork3 of the program's solution (one unit per group with ||V_g||_F > tol)."""
    m1, dd, G = V.shape
    t = np.sqrt((V**2).sum(axis=(0, 1)))
    keep = np.nonzero(t > tol)[0]
    K = len(keep)
    W1 = np.zeros((K, dd, m1))
    W2 = np.zeros((K, m1, m2))
    alpha = np.zeros((K, m2))
    for k, g in enumerate(keep):
        norms = np.sqrt((V[:, :, g] ** 2).sum(axis=1))  # (m1,)
        for i in range(m1):
            if norms[i] > 0:
                W1[k, :, i] = V[i, :, g] / norms[i]
        w2 = S[:, g] * norms / np.sqrt(t[g])
        W2[k] = np.repeat(w2[:, None], m2, axis=1)
        alpha[k] = sigma[g] * np.sqrt(t[g]) / m2
    if bias_regularized:
        return ParallelReLUNetwork3(W1[:, :-1, :], W2, alpha, W1[:, -1, :])
    return ParallelReLUNetwork3(W1, W2, alpha)


# ----------------------------------------------------------------------------- non-convex
def objective_and_grad3(problem, W1, W2, alpha, b1=None):
    """Path-regularized J (survey eq. 32) of a three-layer parallel network and its gradient.

    Shapes as in :class:`cvxlens.ParallelReLUNetwork3`: W1 (K, d, m1), W2 (K, m1, m2), alpha
    (K, m2), b1 (K, m1) (only for bias "regularized"; then part of the path norm). The ReLU
    derivative at 0 is 0; the path norm's gradient at a zero unit is taken as 0.
    Returns ``(J, (dW1, dW2, dalpha, db1))``.
    """
    X = problem.X
    if b1 is None:
        b1 = np.zeros(W1.shape[::2])
    A1 = np.einsum("nd,kdi->kni", X, W1) + b1[:, None, :]
    H1 = np.maximum(A1, 0.0)
    A2 = np.einsum("kni,kij->knj", H1, W2)
    H2 = np.maximum(A2, 0.0)
    f = np.einsum("knj,kj->n", H2, alpha)
    r = f - problem.y
    c = (W1**2).sum(axis=1) + b1**2  # (K, m1)
    P = np.sqrt(np.einsum("ki,kij,kj->k", c, W2**2, alpha**2))
    J = 0.5 * float(r @ r) + problem.beta * float(P.sum())
    dalpha = np.einsum("knj,n->kj", H2, r)
    dA2 = r[None, :, None] * alpha[:, None, :] * (A2 > 0)
    dW2 = np.einsum("kni,knj->kij", H1, dA2)
    dA1 = np.einsum("knj,kij->kni", dA2, W2) * (A1 > 0)
    dW1 = np.einsum("nd,kni->kdi", X, dA1)
    db1 = dA1.sum(axis=1)
    inv = np.where(P > 0, 1.0 / np.where(P > 0, P, 1.0), 0.0) * problem.beta  # (K,)
    s_i = np.einsum("kij,kj->ki", W2**2, alpha**2)  # (K, m1)
    dW1 += inv[:, None, None] * s_i[:, None, :] * W1
    db1 += inv[:, None] * s_i * b1
    dW2 += inv[:, None, None] * c[:, :, None] * W2 * (alpha**2)[:, None, :]
    dalpha += inv[:, None] * np.einsum("ki,kij->kj", c, W2**2) * alpha
    if problem.bias != "regularized":
        db1 = np.zeros_like(db1)
    return J, (dW1, dW2, dalpha, db1)


def lbfgs_path3(problem, net: ParallelReLUNetwork3, max_iter: int = 3000) -> ParallelReLUNetwork3:
    """Local descent (scipy L-BFGS-B) on the non-convex path-regularized J from ``net``."""
    from scipy.optimize import minimize

    K, d, m1 = net.W1.shape
    m2 = net.W2.shape[2]
    sizes = [K * d * m1, K * m1 * m2, K * m2, K * m1]

    def unpack(th):
        a, b, c, _ = np.cumsum(sizes)
        b1 = th[c:].reshape(K, m1) if problem.bias == "regularized" else np.zeros((K, m1))
        return (th[:a].reshape(K, d, m1), th[a:b].reshape(K, m1, m2), th[b:c].reshape(K, m2), b1)

    def fun(th):
        J, grads = objective_and_grad3(problem, *unpack(th))
        return J, np.concatenate([g.ravel() for g in grads])

    th0 = np.concatenate([net.W1.ravel(), net.W2.ravel(), net.alpha.ravel(), net.b1.ravel()])
    res = minimize(fun, th0, jac=True, method="L-BFGS-B",
                   options={"maxiter": max_iter, "ftol": 1e-14, "gtol": 1e-10})
    th = res.x if res.fun <= fun(th0)[0] else th0
    W1, W2, alpha, b1 = unpack(th)
    return ParallelReLUNetwork3(W1, W2, alpha, b1)


# ----------------------------------------------------------------------------- method
def _patterns(v):
    if v in ("exact", "auto"):
        return v
    pair = v.split(",") if isinstance(v, str) and "," in v else v
    if not isinstance(pair, (tuple, list)):
        pair = (pair, pair)
    try:
        if len(pair) != 2:
            raise ValueError
        return (positive_int(pair[0]), positive_int(pair[1]))
    except (TypeError, ValueError):
        raise ValueError("must be 'exact', 'auto', an int p, or a pair (p1, p2) of positive ints "
                         f"(first-layer gates, sampled units), got {v!r}") from None


class Path3(Method):
    """Three-layer parallel ReLU network trained through its convex group program (survey eq. 33).

    With ``patterns="exact"`` (tiny data) the returned network is a global minimizer of the
    path-regularized J among three-layer parallel networks with the given (m1, m2) and any number
    of units, and the lower bound is a global certificate for that problem. With sampled patterns
    the bound is only valid for the subsampled program (``bound_kind="subsampled"``).
    """

    name = "path3"
    summary = "three-layer parallel ReLU network, path regularization, convex program (Ergen & Pilanci)"
    capabilities = Capabilities(losses=("squared",), biases=("none", "regularized"), depth=3,
                                finite_weights=True, lower_bound=True, input_dim=None)
    options = {
        "m1": Option(2, "first-layer neurons per parallel unit", positive_int),
        "m2": Option(1, "second-layer neurons per parallel unit", positive_int),
        "patterns": Option("auto", "'exact' (tiny data), (p1, p2) = numbers of sampled first-layer "
                                   "gates and sampled units, or 'auto' (exact if it fits "
                                   "max_groups, else a sample sized to keep the program small)", _patterns),
        "max_groups": Option(6000, "refuse exact enumeration beyond this many groups",
                             positive_int),
        "solver": Option("cvxpy", "'cvxpy' (Clarabel interior point) or 'scs'",
                         one_of("cvxpy", "clarabel", "scs")),
    }

    def solve(self, problem, **options):
        dl = Deadline(options["time_limit"])
        Xd = problem.design()
        y = problem.y
        m1, m2 = options["m1"], options["m2"]
        beta_eff = problem.beta / math.sqrt(m2)
        pat = options["patterns"]
        exact = pat in ("exact", "auto")
        message = ""
        try:
            groups = build_groups(Xd, m1, "exact" if exact else pat, options["seed"],
                                  options["max_groups"])
        except ProblemTooLargeError:
            if pat == "exact":
                raise
            exact = False
            # the program has n * G * (m1 + 1) cone rows; keep it to ~AUTO_ROW_BUDGET so the
            # interior-point solve stays in seconds (Clarabel: ~30 s for 200k rows measured)
            g_max = max(8, AUTO_ROW_BUDGET // (Xd.shape[0] * (m1 + 1)))
            k = max(2, min(50, g_max // 4))
            pat = (k, k)
            message = (f"exact enumeration too large; sampled patterns {pat} instead (set "
                       "patterns=(p1, p2) for more). ")
            groups = build_groups(Xd, m1, pat, options["seed"], options["max_groups"])
        D1, S, D2, sigma = groups
        solver = "SCS" if options["solver"] == "scs" else "CLARABEL"
        V, value, (mu, nu), status = solve_path3_program(Xd, y, beta_eff, D1, S, D2, sigma, solver,
                                                         time_limit=dl.remaining())
        t = np.sqrt((V**2).sum(axis=(0, 1)))
        tmax = float(t.max(initial=0.0))
        best = None
        # interior-point solutions carry tiny groups: prune, keep the lowest J (J is what counts)
        thresholds = [1e-9 * max(1.0, float(np.linalg.norm(y)))] + [r * tmax for r in (1e-7, 1e-9, 1e-5)]
        for thr in thresholds + [0.0]:
            net = network_from_groups(V, S, sigma, m2, problem.bias == "regularized", thr)
            J = problem.objective(net)
            if best is None or J < best[1] - 1e-15 * max(1.0, abs(J)):
                best = (net, J)
        net, J = best
        lam = y - net.predict(problem.X)
        lower = dual_certificate(Xd, y, beta_eff, lam, mu, nu, D1, S, D2, sigma)
        kind = "global" if exact else "subsampled"
        gap = J - lower
        ok = gap <= 1e-6 * max(1.0, abs(J))
        message += (f"{'exact' if exact else 'sampled'} two-level patterns, {len(sigma)} groups; "
                    f"program value {value:.8g}; widths m1={m1}, m2={m2}, "
                    f"K={net.n_units} units")
        if not exact:
            message += ("; the bound holds for the sampled program only, not for min J")
        info = {"n_groups": int(len(sigma)), "exact": bool(exact), "program_value": value,
                "solver_status": str(status), "beta_effective": beta_eff, "m1": m1, "m2": m2,
                "n_units": int(net.n_units), "patterns": "exact" if exact else list(pat)}
        st = "optimal" if (ok and exact) else "converged"
        if (dl.expired() or status == "user_limit") and not ok:
            st = "timeout"
            message += "; stopped at time_limit inside the solver (inaccurate iterate)"
        return Solution(net, objective=J, lower_bound=lower, bound_kind=kind, status=st,
                        n_iter=0, history=[(dl.elapsed(), J)], message=message, info=info)


@cvxlens.hookimpl
def cvxlens_register_methods(register):
    register(Path3)
