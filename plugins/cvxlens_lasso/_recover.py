"""Cone geometry, weight recovery, pruning and dual certificates for the Pilanci–Ergen program.

Notation (MATH.md): ``Xa`` is the (n, dd) design of the group Lasso, ``Dm`` the (n, P) boolean
pattern mask, ``S = 2 Dm - 1`` its signs; the cone of pattern i is
``K_i = {u : S[:, i] * (Xa @ u) >= 0}`` (survey eq. 18, Pilanci & Ergen 2020). ``pen`` is the
number of leading entries of a group that carry the penalty (``dd`` for bias ``none`` /
``regularized``, ``d`` for ``free``).
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linprog, minimize_scalar, nnls

from cvxlens.bounds import crude_polar_bound, dual_lower_bound

# ----------------------------------------------------------------------------- cones


def cone_rows(Xa: np.ndarray, mask_col: np.ndarray) -> np.ndarray:
    """Constraint matrix ``A = (2 D - I) Xa`` of one cone, shape (n, dd)."""
    return np.where(mask_col[:, None], Xa, -Xa)


def project_cone(Xa: np.ndarray, mask_col: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Euclidean projection of ``z`` (dd,) onto ``K = {u : (2D - I) Xa u >= 0}``.

    Moreau: ``z = P_K z + P_{K°} z`` with ``K° = {-A^T mu : mu >= 0}``, so
    ``P_K z = z + A^T mu*`` with ``mu* = argmin_{mu >= 0} ||A^T mu + z||`` (an NNLS problem).
    """
    A = cone_rows(Xa, mask_col)
    viol = A @ z
    # round-off violations (1e-16 relative) are not worth an n-column NNLS
    if np.all(viol >= -1e-13 * np.linalg.norm(A, axis=1) * np.linalg.norm(z)):
        return z.copy()
    try:
        mu, _ = nnls(A.T, -z, maxiter=50 * A.shape[0])
        p = z + A.T @ mu
    except RuntimeError:  # iteration limit
        p = None
    # a projection onto a convex cone is never longer than z and satisfies every row; if the
    # Lawson-Hanson iterate is not (seen with thousands of nearly parallel rows), use BVLS
    if p is None or not _is_projection(A, z, p):
        from scipy.optimize import lsq_linear
        mu = lsq_linear(A.T, -z, bounds=(0.0, np.inf), method="bvls", tol=1e-12).x
        p = z + A.T @ mu
    return p


def _is_projection(A, z, p, tol=1e-9):
    nz = np.linalg.norm(z)
    return bool(np.all(np.isfinite(p)) and np.linalg.norm(p) <= nz * (1 + tol) + 1e-300
                and np.all(A @ p >= -tol * np.linalg.norm(A, axis=1) * max(nz, 1e-300)))


def cone_support(Xa: np.ndarray, mask_col: np.ndarray, g: np.ndarray) -> float:
    """``max_{u in K, ||u|| <= 1} g.u = ||P_K g||`` (support function of cone ∩ unit ball)."""
    A = cone_rows(Xa, mask_col)
    if np.all(A @ g >= 0):
        return float(np.linalg.norm(g))
    _, res = nnls(A.T, -g, maxiter=50 * A.shape[0])
    return float(res)


def interior_direction(Xa: np.ndarray, mask_col: np.ndarray) -> np.ndarray | None:
    """A direction g with ``(2D - I) Xa g > 0`` on every nonzero row (LP, HiGHS), or None."""
    A = cone_rows(Xa, mask_col)
    norms = np.linalg.norm(A, axis=1)
    keep = norms > 0
    A = A[keep] / norms[keep, None]
    dd = Xa.shape[1]
    # maximize s  s.t.  A g >= s,  -1 <= g <= 1,  s <= 1
    c = np.zeros(dd + 1)
    c[-1] = -1.0
    A_ub = np.hstack([-A, np.ones((A.shape[0], 1))])
    res = linprog(c, A_ub=A_ub, b_ub=np.zeros(A.shape[0]),
                  bounds=[(-1, 1)] * dd + [(None, 1.0)], method="highs")
    if res.status != 0 or -res.fun <= 1e-12:
        return None
    return res.x[:dd]


def cone_decompose(Xa: np.ndarray, mask_col: np.ndarray, w: np.ndarray,
                   gate: np.ndarray | None = None):
    """Write ``w = u - v`` with u, v in the cone of ``mask_col`` (Mishkin et al. 2022, cone
    decomposition of a gated ReLU group).

    Uses ``u = w + t g``, ``v = t g`` with g an interior direction of the cone and the smallest
    t >= 0 that makes u feasible. Returns ``(u, v)`` or None when the cone has empty interior.
    """
    A = cone_rows(Xa, mask_col)
    Aw = A @ w
    if np.all(Aw >= 0):
        return w.copy(), np.zeros_like(w)
    if np.all(-Aw >= 0):
        return np.zeros_like(w), -w
    cands = []
    if gate is not None and np.all(A @ gate > 0):
        cands.append(gate)
    g_lp = interior_direction(Xa, mask_col)
    if g_lp is not None:
        cands.append(g_lp)
    if not cands:
        return None
    bad = Aw < 0
    best = None
    for g in cands:
        Ag = A @ g
        t = float(np.max(-Aw[bad] / Ag[bad]))
        cost = np.linalg.norm(w + t * g) + np.linalg.norm(t * g)
        if best is None or cost < best[0]:
            best = (cost, w + t * g, t * g)
    _, u, v = best
    # numerical clean-up: exact feasibility
    u = project_cone(Xa, mask_col, u)
    v = project_cone(Xa, mask_col, v)
    return u, v


# ----------------------------------------------------------------------------- groups -> network


class Groups:
    """Active groups of a solution: ``U`` (dd, m) vectors, ``sign`` (m,) in {+1, -1}, ``pat``
    (m,) pattern indices, plus the output offset ``c`` (bias ``free`` only)."""

    def __init__(self, U, sign, pat, c=0.0):
        self.U = np.asarray(U, dtype=float).reshape(U.shape[0], -1)
        self.sign = np.asarray(sign, dtype=float)
        self.pat = np.asarray(pat, dtype=int)
        self.c = float(c)

    @property
    def m(self):
        return self.U.shape[1]

    def subset(self, keep):
        return Groups(self.U[:, keep], self.sign[keep], self.pat[keep], self.c)


def groups_from_UV(U, V, c=0.0, rel_tol=0.0, pen=None):
    """Nonzero groups of the (dd, P) arrays U, V (columns with norm <= rel_tol * max are dropped)."""
    pen = U.shape[0] if pen is None else pen
    nu = np.linalg.norm(U, axis=0)
    nv = np.linalg.norm(V, axis=0)
    top = max(nu.max(initial=0.0), nv.max(initial=0.0))
    thr = rel_tol * top
    iu = np.nonzero((nu > thr) & (nu > 0))[0]
    iv = np.nonzero((nv > thr) & (nv > 0))[0]
    G = np.hstack([U[:, iu], V[:, iv]])
    if pen < G.shape[0] and G.shape[1]:
        # free bias: a w-part negligible against the group is a constant neuron (w = 0)
        wn = np.linalg.norm(G[:pen], axis=0)
        G[:pen, wn <= max(rel_tol, 1e-9) * np.linalg.norm(G, axis=0)] = 0.0
    sign = np.concatenate([np.ones(len(iu)), -np.ones(len(iv))])
    return Groups(G, sign, np.concatenate([iu, iv]), c)


def project_groups(Xa, Dm, groups: Groups) -> Groups:
    """Project every group onto its pattern's cone (exact feasibility of the cone constraints)."""
    U = groups.U.copy()
    for j in range(groups.m):
        U[:, j] = project_cone(Xa, Dm[:, groups.pat[j]], U[:, j])
    return Groups(U, groups.sign, groups.pat, groups.c)


def program_value(Xa, Dm, y, beta, groups: Groups, pen: int, loss="squared") -> float:
    """Objective of the convex program at ``groups`` (uses the masks, not the ReLU)."""
    pred = predict_groups_masked(Xa, Dm, groups)
    return loss_value(loss, pred, y) + beta * float(np.linalg.norm(groups.U[:pen], axis=0).sum())


def predict_groups_masked(Xa, Dm, groups: Groups) -> np.ndarray:
    if groups.m == 0:
        return np.full(Xa.shape[0], groups.c)
    Z = Xa @ groups.U
    return (Z * Dm[:, groups.pat]) @ groups.sign + groups.c


def predict_groups_relu(Xa, groups: Groups) -> np.ndarray:
    if groups.m == 0:
        return np.full(Xa.shape[0], groups.c)
    return np.maximum(Xa @ groups.U, 0.0) @ groups.sign + groups.c


def loss_value(loss, pred, y) -> float:
    if loss == "squared":
        r = pred - y
        return 0.5 * float(r @ r)
    if loss == "logistic":
        return float(np.logaddexp(0.0, -y * pred).sum())
    raise ValueError(f"unsupported loss {loss!r}")


def reduce_groups(Xa, groups: Groups, pen: int, free_offset: bool, max_rounds=None) -> Groups:
    """Carathéodory reduction (Mishkin & Pilanci 2023, "Optimal sets and solution paths of ReLU
    networks", pruning by the optimal-set polytope): keep predictions and the penalty unchanged
    while removing groups, until the atoms ``[s_j (Xa u_j)_+ / a_j ; 1]`` are linearly
    independent, hence at most n + 1 groups (n + 2 minus the offset column for ``free``).

    Moving the coefficients ``a_j = ||u_j[:pen]||`` along a null vector of that matrix keeps both
    the prediction and ``sum a_j`` fixed; a ratio test zeroes at least one coefficient per step.
    """
    n = Xa.shape[0]
    a = np.linalg.norm(groups.U[:pen], axis=0)
    keep = a > 0
    c0 = groups.c
    if free_offset and (~keep).any():
        # zero w-part: a constant neuron (feasible only on the all-ones pattern) -> into c
        c0 += float(np.sum(groups.sign[~keep] * np.maximum(Xa[0] @ groups.U[:, ~keep], 0.0)))
    g = groups.subset(keep)
    g.c = c0
    a = a[keep]
    if g.m == 0:
        return g
    Uhat = g.U / a
    H = np.maximum(Xa @ Uhat, 0.0) * g.sign  # (n, m)
    c = g.c
    rounds = 0
    while True:
        m = len(a)
        if m <= 1:
            break
        M = np.vstack([H, np.ones((1, m))])
        if free_offset:
            M = np.hstack([M, np.concatenate([np.ones(n), [0.0]])[:, None]])
        # null vector
        if M.shape[1] > M.shape[0]:
            _, s, Vt = np.linalg.svd(M, full_matrices=True)
            delta = Vt[-1]
        else:
            # numerically dependent atoms: optional clean-up, bounded in size and rounds
            if m > 400 or rounds >= 100:
                break
            _, s, Vt = np.linalg.svd(M, full_matrices=False)
            if s[-1] > 1e-12 * s[0]:
                break
            delta = Vt[-1]
        dj = delta[:m]
        if np.all(dj >= -1e-15):
            dj = -dj
            delta = -delta
        neg = dj < -1e-15 * max(1.0, np.abs(dj).max())
        if not neg.any():
            break
        t = np.min(a[neg] / -dj[neg])
        a = a + t * dj
        if free_offset:
            c = c + t * delta[m]
        j0 = np.nonzero(neg)[0][np.argmin(a[neg] / 1.0)]
        a[j0] = 0.0
        alive = a > 1e-15 * a.max()
        a, H, Uhat = a[alive], H[:, alive], Uhat[:, alive]
        g = Groups(g.U[:, alive], g.sign[alive], g.pat[alive], c)
        rounds += 1
        if max_rounds is not None and rounds >= max_rounds:
            break
    return Groups(Uhat * a, g.sign, g.pat, c)


def groups_to_network(problem, groups: Groups):
    """ReLU network of the groups (MATH.md; survey eq. 19): ``w = u / sqrt(a)``, ``alpha = ± sqrt(a)``
    with ``a = ||u[:pen]||``; for bias ``free`` a group with zero w-part is a constant (into c)."""
    d = problem.d
    c = groups.c
    if problem.bias == "free":
        a = np.linalg.norm(groups.U[:d], axis=0)
        const = a == 0
        if const.any():
            c += float(np.sum(groups.sign[const] * np.maximum(groups.U[d, const], 0.0)))
        U, s, a = groups.U[:, ~const], groups.sign[~const], a[~const]
        r = np.sqrt(a)
        from cvxlens import ReLUNetwork
        return ReLUNetwork(U[:d] / r, U[d] / r, s * r, c)
    a = np.linalg.norm(groups.U, axis=0)
    r = np.sqrt(a)
    if groups.m == 0:
        W = np.zeros((groups.U.shape[0], 0))
        return problem.network_from_design(W, np.zeros(0))
    return problem.network_from_design(groups.U / r, groups.sign * r)


def groups_from_network(problem, Xa, network):
    """Groups (u, sign) and patterns of a two-layer network: u = |alpha| (w, b) (design coordinates).

    Returns ``(U (dd, m), sign (m,), D (n, m) bool, c)``; neurons with zero output weight or zero
    pattern are dropped.
    """
    W, b, alpha = network.W, network.b, network.alpha
    if problem.bias == "none":
        Wd = W
    else:
        Wd = np.vstack([W, b[None, :]])
    U = Wd * np.abs(alpha)
    D = (Xa @ Wd) >= 0
    keep = (alpha != 0) & (np.abs(U).sum(axis=0) > 0) & D.any(axis=0)
    c = network.c if problem.bias == "free" else 0.0
    return U[:, keep], np.sign(alpha[keep]), D[:, keep], c


# ----------------------------------------------------------------------------- certificates


def dual_direction(loss, pred, y):
    """Negative loss gradient at ``pred``: the dual direction lambda (n,)."""
    if loss == "squared":
        return y - pred
    z = -y * pred
    return y / (1.0 + np.exp(-z))  # y * sigmoid(-y pred)


def lower_bound_from(loss, y, lam, beta, polar) -> float:
    """Dual lower bound from a direction lambda whose polar value is ``polar`` (or an upper bound).

    squared: :func:`cvxlens.bounds.dual_lower_bound` (survey eqs. 25–26). logistic: Fenchel dual
    ``sum_k H(t lambda_k y_k)`` (H the binary entropy in nats) maximized over
    ``0 <= t <= min(beta / polar, 1 / max(lambda y))``.
    """
    if loss == "squared":
        return dual_lower_bound(y, lam, beta, max(polar, 0.0))
    q = lam * y
    if np.any(q < 0):
        return float("nan")
    tmax = beta / polar if polar > 0 else np.inf
    tmax = min(tmax, 1.0 / q.max()) if q.max() > 0 else tmax
    if not np.isfinite(tmax):
        return float(len(y) * np.log(2.0))

    def negH(t):
        p = np.clip(t * q, 0.0, 1.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            h = -(np.where(p > 0, p * np.log(p), 0.0) + np.where(p < 1, (1 - p) * np.log1p(-p), 0.0))
        return -float(h.sum())

    res = minimize_scalar(negH, bounds=(0.0, tmax), method="bounded",
                          options={"xatol": 1e-12 * max(1.0, tmax)})
    return max(-negH(res.x), -negH(tmax), -negH(0.0))


def gated_polar(Xa, Dm, lam, pen=None, chunk=256) -> np.ndarray:
    """``||Xa^T D_i lambda||`` for every pattern i, shape (P,): the gated dual constraint values,
    and an upper bound on each cone's value."""
    P = Dm.shape[1]
    out = np.empty(P)
    pen = Xa.shape[1] if pen is None else pen
    for s in range(0, P, chunk):
        G = Xa[:, :pen].T @ (Dm[:, s:s + chunk] * lam[:, None])
        out[s:s + chunk] = np.sqrt((G * G).sum(axis=0))
    return out


def cone_polar(Xa, Dm, lam, chunk=256, deadline=None, batch=64):
    """``max_i max_± ||P_{K_i}(± Xa^T D_i lambda)||``: the restricted program's dual constraint
    (exact over the given patterns, bias ``none`` / ``regularized``).

    Screening: each candidate is bounded above by the norm of its projection onto the single
    most violated halfspace (a superset of the cone), and the NNLS projections run in decreasing
    order of that bound until no remaining bound exceeds the best value found.
    Returns ``(value, n_nnls)``.
    """
    n, dd = Xa.shape
    P = Dm.shape[1]
    rn2 = (Xa * Xa).sum(axis=1)
    rn2 = np.where(rn2 > 0, rn2, 1.0)
    ub = np.empty(2 * P)
    Gall = np.empty((dd, P))
    for s in range(0, P, chunk):
        Dc = Dm[:, s:s + chunk]
        G = Xa.T @ (Dc * lam[:, None])  # (dd, B)
        Gall[:, s:s + chunk] = G
        Sg = np.where(Dc, 1.0, -1.0) * (Xa @ G)  # A_i g_i, (n, B)
        g2 = (G * G).sum(axis=0)
        # + sign: violation where Sg < 0; - sign: violation where Sg > 0
        vp = np.max(np.minimum(Sg, 0.0) ** 2 / rn2[:, None], axis=0)
        vm = np.max(np.maximum(Sg, 0.0) ** 2 / rn2[:, None], axis=0)
        e = s + Dc.shape[1]
        ub[s:e] = np.sqrt(np.maximum(g2 - vp, 0.0))
        ub[P + s:P + e] = np.sqrt(np.maximum(g2 - vm, 0.0))
    order = np.argsort(-ub)
    best = 0.0
    count = 0
    if batch:
        pos = 0
        while pos < len(order) and ub[order[pos]] > best:
            ks = order[pos:pos + batch]
            ks = ks[ub[ks] > best]
            pats = ks % P
            Gs = Gall[:, pats] * np.where(ks < P, 1.0, -1.0)
            # a few rounds give exact values or upper bounds; only columns whose bound beats
            # the best value so far are finished exactly (warm-started)
            Pm, E = project_batch(Xa, Dm, pats, Gs, max_rounds=3, exact=False)
            v = np.linalg.norm(Pm, axis=0)
            hi = np.nonzero(v > best)[0]
            if len(hi):
                Ph, _ = project_batch(Xa, Dm, pats[hi], Gs[:, hi], E=[E[k] for k in hi])
                v[hi] = np.linalg.norm(Ph, axis=0)
            best = max(best, float(v.max()))
            count += len(ks)
            pos += batch
        return best, count
    for pos, k in enumerate(order):
        if ub[k] <= best:
            break
        i = k % P
        g = Gall[:, i] if k < P else -Gall[:, i]
        best = max(best, cone_support(Xa, Dm[:, i], g))
        count += 1
        if deadline is not None and deadline.expired() and pos + 1 < len(order):
            # out of time: the remaining screening bounds are still valid upper bounds
            best = max(best, float(ub[order[pos + 1]]))
            break
    return best, count


def crude_polar_free(X, mu, chunk=512) -> float:
    """Upper bound on ``sup_{||w||<=1, b} |mu^T (X w + b)_+|`` for ``sum(mu) = 0`` (bias ``free``):
    the supremum over b sits at a kink ``b = -x_j.w``, where the value is
    ``sum_k mu_k ((x_k - x_j).w)_+ <= sum_k (±mu_k)_+ ||x_k - x_j||``. Exact for d = 1 when
    evaluated with :func:`exact_polar_free_1d`."""
    n = X.shape[0]
    best = 0.0
    mp, mm = np.maximum(mu, 0.0), np.maximum(-mu, 0.0)
    sq = (X * X).sum(axis=1)
    for s in range(0, n, chunk):
        Xj = X[s:s + chunk]
        D2 = sq[:, None] + (Xj * Xj).sum(axis=1)[None, :] - 2.0 * X @ Xj.T
        Dn = np.sqrt(np.maximum(D2, 0.0))  # (n, B)
        best = max(best, float((mp @ Dn).max()), float((mm @ Dn).max()))
    return best


def exact_polar_free_1d(x, mu) -> float:
    """Exact ``sup_{|w|<=1, b} |mu^T (x w + b)_+|`` for scalar inputs and ``sum(mu) = 0``:
    ``max_j max_s |sum_k mu_k (s (x_k - x_j))_+|`` (Zeger et al. 2024, the 1-D dictionary)."""
    x = np.asarray(x, dtype=float).ravel()
    diff = x[:, None] - x[None, :]  # (k, j)
    a = mu @ np.maximum(diff, 0.0)
    b = mu @ np.maximum(-diff, 0.0)
    return float(max(np.abs(a).max(), np.abs(b).max()))


def global_polar_bound(problem, Xa, lam):
    """An always-valid upper bound on the true polar value over ALL weights, and whether it is exact."""
    if problem.bias == "free":
        mu = lam - lam.mean()
        if problem.d == 1:
            return exact_polar_free_1d(problem.X[:, 0], mu), True
        if problem.n > 20000:
            return None, False
        return crude_polar_free(problem.X, mu), False
    return crude_polar_bound(Xa, lam), False


def decompose_socp(Xa, Dm, W, pats, max_size=100_000):
    """Optimal cone decompositions ``min sum_j ||u_j|| + ||v_j||`` s.t. ``u_j - v_j = w_j``,
    u_j, v_j in K_{pat_j}, in one cvxpy/Clarabel SOCP; None when the program would exceed
    ``max_size`` constraint rows or the solver fails."""
    import cvxpy as cp
    n, dd = Xa.shape
    m = W.shape[1]
    if m == 0 or 2 * n * m > max_size:
        return None
    S = np.where(Dm[:, pats], 1.0, -1.0)
    U = cp.Variable((dd, m))
    Vv = U - W
    cons = [cp.multiply(S, Xa @ U) >= 0, cp.multiply(S, Xa @ Vv) >= 0]
    prob = cp.Problem(cp.Minimize(cp.sum(cp.norm(U, 2, axis=0)) + cp.sum(cp.norm(Vv, 2, axis=0))),
                      cons)
    try:
        prob.solve(solver="CLARABEL")
    except Exception:
        return None
    if prob.status not in ("optimal", "optimal_inaccurate") or U.value is None:
        return None
    Uo = np.asarray(U.value)
    return Uo, Uo - W


ADD_ROWS = None  # rows added per active-set round in project_batch (default dd)


def project_batch(Xa, Dm, pats, Zc, E=None, tol=1e-12, max_rounds=None, exact=True):
    """Exact projections of the columns of ``Zc`` (dd, m) onto the cones of patterns ``pats``.

    Active-set scheme with warm starts: for column j keep a working set E[j] of constraint rows,
    project onto the cone of those rows only (NNLS on at most a few rows), then check every row
    in one batched product; add the most violated rows and repeat. When the projection onto the
    working-set cone satisfies all rows it IS the projection onto K (K ⊂ K_E). Columns that do
    not settle within ``max_rounds`` fall back to a full NNLS; with ``exact=False`` they keep
    their projection onto K_E ⊇ K instead, whose norm is an UPPER bound on ``||P_K z||``
    (support functions grow with the set), cheap enough for pricing.

    Returns ``(P (dd, m), E)`` with E the updated working sets (list of int arrays).
    """
    n, dd = Xa.shape
    m = Zc.shape[1]
    if E is None:
        E = [np.zeros(0, dtype=int) for _ in range(m)]
    Pm = Zc.copy()
    S = np.where(Dm[:, pats], 1.0, -1.0)  # (n, m)
    scale = np.linalg.norm(Xa, axis=1)
    todo = np.arange(m)
    rounds = 0
    max_rounds = 4 * dd if max_rounds is None else max_rounds
    # start from the working sets
    for j in range(m):
        if len(E[j]):
            A = S[E[j], j][:, None] * Xa[E[j]]
            if np.any(A @ Zc[:, j] < 0):
                mu, _ = nnls(A.T, -Zc[:, j])
                Pm[:, j] = Zc[:, j] + A.T @ mu
                E[j] = E[j][mu > 0]
    while len(todo):
        slack = S[:, todo] * (Xa @ Pm[:, todo])  # (n, k)
        thr = -tol * scale[:, None] * np.maximum(np.linalg.norm(Pm[:, todo], axis=0), 1e-300)
        bad = (slack < thr).any(axis=0)
        todo = todo[bad]
        if not len(todo) or rounds >= max_rounds:
            break
        viol = slack[:, bad] / np.maximum(scale, 1e-300)[:, None]
        # the ADD most violated rows of every column join its working set at once (rows that
        # turn out inactive get mu = 0 and leave again): few rounds per projection
        k_add = min(ADD_ROWS or dd, viol.shape[0])
        two = np.argpartition(viol, k_add - 1, axis=0)[:k_add] if viol.shape[0] > k_add else \
            np.argsort(viol, axis=0)[:k_add]
        for jj, j in enumerate(todo):
            add = two[:, jj]
            add = add[viol[add, jj] < 0]
            rows = np.unique(np.concatenate([E[j], add]))
            A = S[rows, j][:, None] * Xa[rows]
            mu, _ = nnls(A.T, -Zc[:, j])
            Pm[:, j] = Zc[:, j] + A.T @ mu
            E[j] = rows[mu > 0] if np.any(mu > 0) else rows
        rounds += 1
    for j in (todo if exact else ()):  # fall back: full NNLS
        Pm[:, j] = project_cone(Xa, Dm[:, pats[j]], Zc[:, j])
    return Pm, E
