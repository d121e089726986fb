"""Native solvers for the Pilanci–Ergen programs (squared loss).

Never forms the n × (P·dd) dictionary: products go through ``Xa @ W`` (n × P) and the boolean
mask ``Dm`` (n × P), so memory is O(n P).

gated (no cone constraints)
    FISTA (Beck & Teboulle 2009) with group soft-thresholding and gradient-based adaptive
    restart (O'Donoghue & Candès 2015), step 1/L with L from power iteration on the dictionary;
    stops at relative duality gap ``tol``.
exact (cone constraints), :func:`solve_exact_ws`
    Working set over (pattern, sign) groups and over cone rows: numpy pricing over all
    patterns (cone values by screened, batched NNLS projections), small restricted programs
    solved by Clarabel, row generation until every cone constraint holds; stops at relative
    duality gap ``tol`` over all patterns. Measured and dropped: an augmented Lagrangian with
    FISTA inner solves and FISTA with the exact prox ``shrink(P_K z)`` (docs/methods/lasso.md).
"""

from __future__ import annotations

import time

import numpy as np

from . import _recover as R

_BLOCK_ELEMS = 1 << 22  # elements per temporary block (32 MB of float64)


class _Ops:
    """Masked dictionary ``M = [D_1 Xa, ..., D_P Xa]`` applied blockwise."""

    def __init__(self, Xa, Dm):
        self.Xa = np.ascontiguousarray(Xa)
        self.Dm = Dm
        self.Df = Dm.astype(float)  # (n, P) float mask, reused everywhere
        self.n, self.dd = Xa.shape
        self.P = Dm.shape[1]
        self.B = max(1, min(self.P, _BLOCK_ELEMS // max(self.n, 1)))

    def Z(self, W):
        """Xa @ W, shape (n, P')."""
        return self.Xa @ W

    def fwd(self, W):
        """sum_i D_i Xa w_i, shape (n,)."""
        # row k: sum_i D_ki x_k.w_i = x_k . (D W^T)_k: one BLAS pass over the mask
        return np.einsum("nd,nd->n", self.Xa, self.Df @ W.T)

    def adj(self, r):
        """(Xa^T D_i r)_i, shape (dd, P)."""
        # Xa^T (D ∘ r) = (Xa ∘ r)^T D: one BLAS pass over the mask, no (n, P) temporary
        return (self.Xa * r[:, None]).T @ self.Df

    def norm2(self, iters=30, seed=0):
        """||M||_2^2 by power iteration (a slight under-estimate; callers add a margin)."""
        rng = np.random.default_rng(seed)
        W = rng.standard_normal((self.dd, self.P))
        W /= np.linalg.norm(W)
        lam = 0.0
        for _ in range(iters):
            W2 = self.adj(self.fwd(W))
            lam_new = float(np.linalg.norm(W2))
            if lam_new == 0:
                return 1.0
            W = W2 / lam_new
            if abs(lam_new - lam) <= 1e-4 * lam_new:
                lam = lam_new
                break
            lam = lam_new
        return lam


def _group_shrink(W, thr, pen):
    """Prox of thr * sum ||w_i[:pen]|| (group soft-thresholding of the penalized rows)."""
    nrm = np.sqrt((W[:pen] * W[:pen]).sum(axis=0))
    scale = np.maximum(1.0 - thr / np.maximum(nrm, 1e-300), 0.0)
    out = W.copy()
    out[:pen] *= scale
    return out


def _result(U, V, c, n_iter, status, history, info):
    return {"U": U, "V": V, "c": c, "n_iter": n_iter, "status": status, "history": history,
            "info": info}


# ----------------------------------------------------------------------------- gated


def solve_gated(Xa, Dm, y, beta, pen, free_offset=False, tol=1e-6, max_iter=20000, deadline=None,
                init=None, t0=None, check_every=20):
    """Gated ReLU group Lasso ``min ½||sum_i D_i Xa w_i - y||² + beta sum ||w_i||`` by restarted
    FISTA. Returns a dict (U = W (dd, P), V = 0, c, n_iter, status, history, info)."""
    if free_offset:
        raise ValueError("the gated relaxation with free biases is degenerate (unpenalized "
                         "columns D_i 1); use bias 'none' or 'regularized'")
    t0 = time.perf_counter() if t0 is None else t0
    ops = _Ops(Xa, Dm)
    L = 1.05 * ops.norm2()
    P, dd = ops.P, ops.dd
    W = np.zeros((dd, P)) if init is None else (init[0] - init[1]).copy()
    pred = ops.fwd(W)
    W_prev, pred_prev = W, pred
    tk = 1.0
    history = []
    status = "max_iter"
    k = 0
    gap = np.inf
    for k in range(1, max_iter + 1):
        t_next = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * tk * tk))
        mom = (tk - 1.0) / t_next
        Wz = W + mom * (W - W_prev)
        pz = pred + mom * (pred - pred_prev)
        r = pz - y
        G = ops.adj(r)
        Wn = _group_shrink(Wz - G / L, beta / L, pen)
        pn = ops.fwd(Wn)
        # gradient-based restart (O'Donoghue & Candes 2015)
        if np.vdot(Wz - Wn, Wn - W) > 0:
            t_next = 1.0
        W_prev, pred_prev, W, pred, tk = W, pred, Wn, pn, t_next
        if k % check_every == 0 or k == max_iter:
            lam = y - pred
            J = 0.5 * float(lam @ lam) + beta * float(np.linalg.norm(W[:pen], axis=0).sum())
            polar = float(R.gated_polar(Xa, Dm, lam, pen).max())
            lb = R.lower_bound_from("squared", y, lam, beta, polar)
            gap = (J - lb) / max(abs(J), 1e-300)
            history.append((time.perf_counter() - t0, J))
            if gap <= tol:
                status = "converged"
                break
            if deadline is not None and deadline.expired():
                status = "timeout"
                break
    return _result(W, np.zeros_like(W), 0.0, k, status, history,
                   {"native_gap": float(gap), "lipschitz": L})


# ----------------------------------------------------------------------------- working set


def _solve_small(Xa, Dm, y, beta, pen, free_offset, pats, signs, rows, warm=None):
    """The exact program over a few groups (pattern pats[j], sign signs[j]) with only the
    constraint rows ``rows[j]`` of each cone, in cvxpy/Clarabel (small: dd*m variables,
    sum |rows| inequalities). Returns (U (dd, m), c, value)."""
    import cvxpy as cp
    import scipy.sparse as sp
    n, dd = Xa.shape
    m = len(pats)
    U = cp.Variable((dd, m))
    Dw = Dm[:, pats] * signs[None, :]
    pred = cp.sum(cp.multiply(Dw, Xa @ U), axis=1)
    c = None
    if free_offset:
        c = cp.Variable()
        pred = pred + c
    blocks, ri, ci = [], [], []
    r0 = 0
    data = []
    for j in range(m):
        rj = rows[j]
        if not len(rj):
            continue
        A = np.where(Dm[rj, pats[j]], 1.0, -1.0)[:, None] * Xa[rj]  # (k, dd)
        # column index of U[i, j] in vec (Fortran order): i + j*dd
        rr = np.repeat(np.arange(r0, r0 + len(rj)), dd)
        cc = np.tile(np.arange(dd) + j * dd, len(rj))
        ri.append(rr)
        ci.append(cc)
        data.append(A.ravel())
        r0 += len(rj)
    cons = []
    if r0:
        Acon = sp.csr_matrix((np.concatenate(data), (np.concatenate(ri), np.concatenate(ci))),
                             shape=(r0, dd * m))
        cons.append(Acon @ cp.vec(U, order="F") >= 0)
    obj = 0.5 * cp.sum_squares(pred - y) + beta * cp.sum(cp.norm(U[:pen, :], 2, axis=0))
    prob = cp.Problem(cp.Minimize(obj), cons)
    prob.solve(solver="CLARABEL", tol_gap_abs=1e-10, tol_gap_rel=1e-10, tol_feas=1e-9,
               max_iter=400)
    if U.value is None:
        raise RuntimeError(f"working-set subproblem failed with status {prob.status}")
    if prob.status != "optimal":
        import warnings
        warnings.warn(f"working-set subproblem: Clarabel status {prob.status}", RuntimeWarning)
    _solve_small.last_status = prob.status
    return np.asarray(U.value), (float(c.value) if free_offset else 0.0), float(prob.value)


def solve_exact_ws(Xa, Dm, y, beta, pen, free_offset=False, tol=1e-6, max_iter=200,
                   deadline=None, init=None, t0=None, add_per_round=None, rows_per_group=None,
                   seed_groups=None):
    """Exact ReLU program by a working set over (pattern, sign) groups and over cone rows.

    1. Warm start: the support of the gated relaxation solved by FISTA to a loose gap (plus the
       groups of ``init``), rows = the 2*dd rows of smallest slack of each group's gate.
    2. Solve the program restricted to the working set (groups and rows) with Clarabel; add
       the violated rows of every cone until the iterate is feasible for ALL rows.
    3. Pricing: lambda = y - f; every (pattern, sign) pair whose cone value
       ``||P_K(± Xa^T D_i lambda)||`` exceeds beta enters the working set (the largest first,
       screening by :func:`_recover.cone_polar`'s halfspace bounds).
    4. Stop when the relative duality gap of the full restricted program is <= tol.
    Only the small program is handed to Clarabel; the n x P pricing is numpy.
    """
    if free_offset or pen != Xa.shape[1]:
        raise ValueError("the working-set solver handles bias 'none' / 'regularized'")
    t0 = time.perf_counter() if t0 is None else t0
    n, dd = Xa.shape
    P = Dm.shape[1]
    history = []
    # 1. warm start from the gated relaxation (loose)
    gres = solve_gated(Xa, Dm, y, beta, pen, tol=max(1e-2, tol), max_iter=300,
                       deadline=deadline, t0=t0)
    Wg = gres["U"]
    ws = {}  # (pattern, sign) -> row set
    rows_k = 2 * dd if rows_per_group is None else rows_per_group

    def _seed_rows(i, s, vec):
        slack = np.abs(Xa @ vec) / np.maximum(np.linalg.norm(Xa, axis=1), 1e-300)
        return np.sort(np.argsort(slack)[:rows_k])

    wn = np.linalg.norm(Wg, axis=0)
    act = np.argsort(-wn)[:seed_groups if seed_groups is not None else 4 * dd]
    act = act[wn[act] > 0]
    for i in act:
        for s in (1.0, -1.0):
            pv = R.project_cone(Xa, Dm[:, i], s * Wg[:, i])
            if np.linalg.norm(pv) > 0.1 * wn[i]:
                ws[(int(i), s)] = _seed_rows(i, s, pv)
    if init is not None:
        for sgn, M in ((1.0, init[0]), (-1.0, init[1])):
            for i in np.nonzero(np.linalg.norm(M, axis=0) > 0)[0]:
                ws.setdefault((int(i), sgn), _seed_rows(i, sgn, M[:, i]))
    U = np.zeros((dd, 0))
    sol_keys = []
    status = "max_iter"
    gap = np.inf
    n_sub = 0
    rnd = 0
    for rnd in range(1, max_iter + 1):
        if not ws:
            lam = y.copy()
        else:
            keys = list(ws)
            pats = np.array([k[0] for k in keys])
            signs = np.array([k[1] for k in keys])
            # 2. row generation until feasible on every row
            for _ in range(50):
                U, _, val = _solve_small(Xa, Dm, y, beta, pen, False, pats, signs,
                                         [ws[k] for k in keys])
                n_sub += 1
                slack = np.where(Dm[:, pats], 1.0, -1.0) * (Xa @ U)
                scl = np.linalg.norm(Xa, axis=1)[:, None] * np.maximum(
                    np.linalg.norm(U, axis=0), 1e-300)[None, :]
                nu = np.linalg.norm(U, axis=0)
                bad = (slack < -1e-8 * scl) & (nu > 1e-6 * nu.max(initial=0.0))[None, :]
                if not bad.any():
                    break
                for j in np.nonzero(bad.any(axis=0))[0]:
                    v = slack[:, j] / scl[:, j]
                    # the violated rows plus the nearly tight ones
                    add = np.argsort(v)[:2 * dd]
                    add = add[v[add] < 1e-3]
                    ws[keys[j]] = np.union1d(ws[keys[j]], add)
            pred = (Dm[:, pats] * (Xa @ U)) @ signs
            # drop dead groups (pricing brings them back if needed)
            nu = np.linalg.norm(U, axis=0)
            dead = nu <= 1e-9 * max(nu.max(initial=0.0), 1e-300)
            if dead.any() and not dead.all():
                for j in np.nonzero(dead)[0]:
                    del ws[keys[j]]
                keys = [k for j, k in enumerate(keys) if not dead[j]]
                U = U[:, ~dead]
            sol_keys = list(keys)
            lam = y - pred
        J = 0.5 * float(lam @ lam) + beta * float(np.linalg.norm(U, axis=0).sum())
        history.append((time.perf_counter() - t0, J))
        # 3. pricing over all patterns
        want = add_per_round or max(16, 4 * dd)
        vals = _price(Xa, Dm, lam, beta, exclude=set(ws), want=want)
        vmax = max([v for v, _, _ in vals] + [beta])
        lb_v = R.lower_bound_from("squared", y, lam, beta, vmax)  # an upper bound on LB
        if (J - lb_v) <= tol * abs(J):
            # certificate over every pattern (pricing may stop early)
            pol_c, _ = R.cone_polar(Xa, Dm, lam)
            lb = R.lower_bound_from("squared", y, lam, beta, pol_c)
            gap = (J - lb) / max(abs(J), 1e-300)
            if gap <= tol:
                status = "converged"
                break
        else:
            gap = (J - lb_v) / max(abs(J), 1e-300)
        new = [(i, s, g) for v, i, s_g in vals for (s, g) in [s_g] if (i, s) not in ws]
        if not new:
            status = "converged" if gap <= 10 * tol else "max_iter"
            break
        for i, s, g in new[:want]:
            ws[(i, s)] = _seed_rows(i, s, g)
        if deadline is not None and deadline.expired():
            status = "timeout"
            break
    Uf = np.zeros((dd, P))
    Vf = np.zeros((dd, P))
    for j, (i, s) in enumerate(sol_keys[:U.shape[1]]):
        (Uf if s > 0 else Vf)[:, i] += U[:, j]
    return _result(Uf, Vf, 0.0, rnd, status, history,
                   {"native_gap": float(gap), "working_set": len(ws), "subproblems": n_sub,
                    "gated_iters": gres["n_iter"]})


def _price(Xa, Dm, lam, beta, exclude=(), want=64, batch=64):
    """(value, pattern, (sign, direction)) of (pattern, sign) pairs outside ``exclude`` whose cone
    value ``||P_K(± Xa^T D_i lambda)||`` exceeds beta, largest first. Candidates are visited in
    decreasing order of their halfspace screening bound, in batches, until ``want`` violators are
    found or the bound drops below beta."""
    n, dd = Xa.shape
    P = Dm.shape[1]
    rn = np.linalg.norm(Xa, axis=1)
    rn2 = np.where(rn > 0, rn * rn, 1.0)
    G = Xa.T @ (Dm * lam[:, None])
    Sg = np.where(Dm, 1.0, -1.0) * (Xa @ G)
    g2 = (G * G).sum(axis=0)
    vp = np.max(np.minimum(Sg, 0.0) ** 2 / rn2[:, None], axis=0)
    vm = np.max(np.maximum(Sg, 0.0) ** 2 / rn2[:, None], axis=0)
    del Sg
    ub = np.concatenate([np.sqrt(np.maximum(g2 - vp, 0)), np.sqrt(np.maximum(g2 - vm, 0))])
    order = np.argsort(-ub)
    order = order[ub[order] > beta * (1 + 1e-9)]
    if exclude:
        ex = {(i if s > 0 else i + P) for i, s in exclude}
        order = np.array([k for k in order if k not in ex], dtype=int)
    out = []
    for pos in range(0, len(order), batch):
        ks = order[pos:pos + batch]
        pats = ks % P
        sg = np.where(ks < P, 1.0, -1.0)
        Pm, _ = R.project_batch(Xa, Dm, pats, G[:, pats] * sg)
        v = np.linalg.norm(Pm, axis=0)
        for k in np.nonzero(v > beta * (1 + 1e-9))[0]:
            out.append((float(v[k]), int(pats[k]), (float(sg[k]), Pm[:, k])))
        if len(out) >= want:
            break
    out.sort(key=lambda t: -t[0])
    return out
