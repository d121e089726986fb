"""Native solvers for the Pilanci–Ergen programs (squared loss).

Never forms the n × (P·dd) dictionary: products go through ``Xa @ W`` (n × P) and the boolean
mask ``Dm`` (n × P), so memory is O(n P).

gated (no cone constraints)
    :func:`solve_gated_ws` (default): working set over patterns, each restricted program solved
    by the interior-point method of :mod:`._ipm` with no cone rows; pricing and certificate by
    the exact gated dual values ``||Xa^T D_i lambda||``. :func:`solve_gated` (``solver="fista"``):
    FISTA (Beck & Teboulle 2009) with group soft-thresholding and gradient-based adaptive restart
    (O'Donoghue & Candès 2015), step 1/L with L from power iteration; fastest at loose tolerance.
exact (cone constraints), :func:`solve_exact_ws`
    Working set over (pattern, sign) groups AND over the cone rows of each group: the restricted
    program (a relaxation while rows are missing) is solved by the structured primal–dual
    interior-point method of :mod:`._ipm`; violated rows join, the point is projected exactly
    onto the full cones; numpy pricing over all patterns (cone values by screened, batched NNLS
    projections, exact or upper bounds); zero groups leave, the best candidates enter; stops at
    relative duality gap ``tol`` over all patterns (exact cone polar). Measured and dropped: an
    augmented Lagrangian with FISTA inner solves, FISTA with the exact prox ``shrink(P_K z)``,
    ADMM on the working set, small Clarabel programs with row generation, interior-point warm
    starts (docs/methods/lasso.md, docs/performance.md).
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


def _stop_status(gap, tol, deadline):
    """"converged" once the certified gap is <= tol, "timeout" past the deadline, else None."""
    if gap <= tol:
        return "converged"
    if deadline is not None and deadline.expired():
        return "timeout"
    return None


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
            stop = _stop_status(gap, tol, deadline)
            if stop:
                status = stop
                break
    return _result(W, np.zeros_like(W), 0.0, k, status, history,
                   {"native_gap": float(gap), "lipschitz": L})


# ----------------------------------------------------------------------------- working set


def solve_gated_ws(Xa, Dm, y, beta, pen, free_offset=False, tol=1e-6, max_iter=200,
                   deadline=None, init=None, t0=None, ipm_tol=1e-8):
    """Gated ReLU group Lasso by a working set over patterns, each restricted program solved by
    the interior-point method of :mod:`._ipm` with no cone rows (robust to the ill-conditioned
    dictionaries on which FISTA stalls, e.g. lagged time series).

    Pricing and certificate are exact and cheap for the gated program: the dual constraint
    values ``||Xa^T D_i lambda||`` of all patterns (:func:`_recover.gated_polar`); patterns whose
    value exceeds beta enter (the largest first), groups that come out zero leave; stops at
    relative duality gap ``tol`` over all patterns."""
    from ._ipm import solve_restricted
    if free_offset or pen != Xa.shape[1]:
        raise ValueError("the gated working-set solver handles bias 'none' / 'regularized'")
    t0 = time.perf_counter() if t0 is None else t0
    n, dd = Xa.shape
    P = Dm.shape[1]
    want = max(32, 4 * dd)
    vals = R.gated_polar(Xa, Dm, y)
    ws = [int(i) for i in np.argsort(-vals)[:want] if vals[i] > beta]
    if init is not None:
        ws += [int(i) for i in np.nonzero(np.linalg.norm(init[0] - init[1], axis=0) > 0)[0]
               if int(i) not in ws]
    tight = min(ipm_tol, 0.1 * tol)
    rtol = max(tight, 1e-6)
    history = []
    status, gap, n_ipm, rnd = "max_iter", np.inf, 0, 0
    best = (0.5 * float(y @ y), [], np.zeros((0, dd)), y.copy())
    keys, U, lam = [], np.zeros((0, dd)), y.copy()
    for rnd in range(1, max_iter + 1):
        keys = list(ws)
        U, lam = np.zeros((0, dd)), y.copy()
        if keys:
            m = len(keys)
            res = solve_restricted(Xa, Dm[:, keys], np.ones(m), y, beta, tol=rtol, feas_tol=rtol,
                                   deadline=deadline, max_iter=IPM_MAX_ITER,
                                   rows=np.zeros((0, m), dtype=int))
            n_ipm += res["n_iter"]
            U = res["U"]
            lam = y - ((Xa @ U.T) * Dm[:, keys]).sum(axis=1)
        J = 0.5 * float(lam @ lam) + beta * float(np.linalg.norm(U, axis=1).sum())
        history.append((time.perf_counter() - t0, J))
        if J < best[0]:
            best = (J, keys, U, lam)
        vals = R.gated_polar(Xa, Dm, lam)
        gap = (J - R.lower_bound_from("squared", y, lam, beta, float(vals.max()))) / \
            max(abs(J), 1e-300)
        if VERBOSE:
            print(f"gated round {rnd}: t={time.perf_counter() - t0:.2f}s m={len(keys)} "
                  f"rtol={rtol:.0e} J={J:.10g} gap={gap:.2e}", flush=True)
        stop = _stop_status(gap, tol, deadline)
        if stop:
            status = stop
            break
        rtol = min(rtol, tight if gap <= 1e2 * tol else max(tight, 1e-6) if gap <= 0.1 else rtol)
        # a group leaves when it is negligible AND its dual value is strictly below beta (the
        # optimality condition of a zero group), so groups cannot cycle in and out
        nu = np.linalg.norm(U, axis=1)
        zrel = ZERO_REL * max(nu.max(initial=0.0), 1e-300)
        ws = [k for j, k in enumerate(keys) if nu[j] > zrel or vals[k] >= beta * (1 - 1e-3)]
        vals[keys] = 0.0
        cand = [int(i) for i in np.argsort(-vals)[:max(want, len(ws))] if vals[i] > beta * (1 + 1e-9)]
        if not cand:
            if rtol > tight:
                rtol = tight
                ws = keys
                continue
            break  # the gap left is the interior point's accuracy
        cand = cand[:max(0, _max_groups(n, dd) - len(ws))]  # Newton system within memory
        if not cand:
            break
        ws += cand
    if best[0] < J or not np.isfinite(J):
        J, keys, U, lam = best
        vals = R.gated_polar(Xa, Dm, lam)
        gap = (J - R.lower_bound_from("squared", y, lam, beta, float(vals.max()))) / \
            max(abs(J), 1e-300)
    W = np.zeros((dd, P))
    for j, i in enumerate(keys[:U.shape[0]]):
        W[:, i] += U[j]
    return _result(W, np.zeros_like(W), 0.0, rnd, status, history,
                   {"native_gap": float(gap), "working_set": len(keys), "ipm_iterations": n_ipm,
                    "final_lambda": lam})



DROP_AFTER = 1  # rounds a group may stay zero before it leaves the working set
ZERO_REL = 1e-5  # a group with norm <= ZERO_REL * max norm counts as zero
ROWS_PER_GROUP = None  # initial cone rows per group (default max(16, 4 dd))
ROWS_ADD = None  # violated cone rows added per group and round (default 2 dd)
RTOL0 = 1e-3  # interior-point tolerance of the first rounds (tightened as the gap closes)
PRICE_ROUNDS = 3  # active-set rounds of the cone projections in pricing (upper bounds)
IPM_MAX_ITER = 200  # interior-point iterations per restricted program
VERBOSE = False  # print one line per working-set round (benchmarks, debugging)


def solve_exact_ws(Xa, Dm, y, beta, pen, free_offset=False, tol=1e-6, max_iter=200,
                   deadline=None, init=None, t0=None, add_per_round=None, seed_groups=None,
                   ipm_tol=1e-8):
    """Exact ReLU program (survey eq. 18) by a working set over (pattern, sign) groups and over
    the cone rows of each group; each restricted program is solved by :mod:`._ipm`.

    1. Seed: the ``seed_groups`` (pattern, sign) pairs with the largest cone values
       ``||P_K(± Xa^T D_i y)||`` (pricing at lambda = y), plus the groups of ``init``; each with
       the max(16, 4 dd) rows closest to tight along its pricing direction.
    2. Solve the restricted program over the rows kept (a relaxation), interior-point tolerance
       1e-3, then 1e-6, then ``min(ipm_tol, tol/10)`` as the estimated gap closes. Rows the
       solution violates join their group; the point is projected exactly onto the full cones.
    3. Pricing over all patterns at the restricted residual: (pattern, sign) pairs outside the
       working set whose cone value exceeds beta are candidates; up to max(``add_per_round``,
       #nonzero) of the largest enter (within the memory cap of ``_ipm.NEWTON_BYTES``); zero
       groups leave.
    4. Stop when the relative duality gap over ALL patterns (dual bound of MATH.md with the exact
       cone polar, :func:`_recover.cone_polar`) is <= tol, or when nothing is left to add.

    Returns the dict of :func:`_result`; ``info["final_lambda"]`` is the last residual (any
    residual gives a valid dual bound).
    """
    from ._ipm import solve_restricted
    if free_offset or pen != Xa.shape[1]:
        raise ValueError("the working-set solver handles bias 'none' / 'regularized'")
    t0 = time.perf_counter() if t0 is None else t0
    n, dd = Xa.shape
    P = Dm.shape[1]
    history = []
    want = add_per_round or max(32, 4 * dd)
    seeds = seed_groups or max(32, 4 * dd)
    rn = np.linalg.norm(Xa, axis=1)
    Xh = Xa / np.where(rn > 0, rn, 1.0)[:, None]
    live = np.nonzero(rn > 0)[0]  # rows with a cone constraint (zero rows have none)
    k0 = min(len(live), ROWS_PER_GROUP or max(16, 4 * dd))
    rowsets = {}  # (pattern, sign) -> cone rows kept in the interior point (a working set)

    def _near_rows(direction):
        """The k0 cone rows closest to tight at ``direction`` (smallest |x_k.g| / ||x_k||)."""
        sl = np.abs(Xh[live] @ direction)
        return np.sort(live[np.argsort(sl)[:k0]])

    ws = []  # list of (pattern, sign)
    for v, i, (s, g) in _price(Xa, Dm, y, beta, want=seeds):
        ws.append((i, s))
        rowsets[(i, s)] = _near_rows(g)
    if init is not None:
        for sgn, M in ((1.0, init[0]), (-1.0, init[1])):
            for i in np.nonzero(np.linalg.norm(M, axis=0) > 0)[0]:
                if (int(i), sgn) not in ws:
                    ws.append((int(i), sgn))
                    rowsets[(int(i), sgn)] = _near_rows(M[:, i])
    zero_rounds = {}
    status = "max_iter"
    gap = np.inf
    n_ipm = 0
    rnd = 0
    tight = min(ipm_tol, 0.1 * tol)
    rtol = max(tight, RTOL0)  # early rounds: lambda for pricing needs little accuracy
    gap_est = np.inf
    best = (0.5 * float(y @ y), [], np.zeros((0, dd)), y.copy())  # (J, keys, U, lambda)
    add_cap = want
    capped = False
    cert = {}  # the last certificate: bound and its lambda
    for rnd in range(1, max_iter + 1):
        keys = list(ws)
        U, lam = np.zeros((0, dd)), y.copy()
        if keys:
            pats = np.array([k[0] for k in keys])
            sg = np.array([k[1] for k in keys])
            kmax = max(len(rowsets[k]) for k in keys)
            rows = np.stack([np.resize(rowsets[k], kmax) for k in keys], axis=1)  # pad by repeats
            res = solve_restricted(Xa, Dm[:, pats], sg, y, beta, tol=rtol, feas_tol=rtol,
                                   deadline=deadline, max_iter=IPM_MAX_ITER, rows=rows)
            n_ipm += res["n_iter"]
            U = res["U"]
            # row generation: cone rows the solution violates join the group's row set (the
            # program with a subset of rows is a relaxation; the projection below is exact)
            n_rows_added = 0
            slack = np.where(Dm[live][:, pats], 1.0, -1.0) * (Xh[live] @ U.T)  # (nr, m)
            un = np.linalg.norm(U, axis=1)
            for j in np.nonzero((slack < -1e-9 * un[None, :]).any(axis=0))[0]:
                bad = np.argsort(slack[:, j])[:ROWS_ADD or 2 * dd]
                bad = live[bad[slack[bad, j] < -1e-9 * un[j]]]
                new_rows = np.union1d(rowsets[keys[j]], bad)
                n_rows_added += len(new_rows) - len(rowsets[keys[j]])
                rowsets[keys[j]] = new_rows
            # exact cone feasibility (the interior point is feasible only to its tolerance and
            # only on its rows); pricing uses the relaxed program's residual lam_price
            lam_price = y - ((Xa @ U.T) * (Dm[:, pats] * sg)).sum(axis=1)
            nz = (un > 0) & (slack.min(axis=0) < -1e-12 * un)  # groups that violate a cone row
            del slack
            U = U.copy()
            if nz.any():
                Pm, _ = R.project_batch(Xa, Dm, pats[nz], U[nz].T)
                U[nz] = Pm.T
            lam = y - ((Xa @ U.T) * (Dm[:, pats] * sg)).sum(axis=1)
        J = 0.5 * float(lam @ lam) + beta * float(np.linalg.norm(U, axis=1).sum())
        history.append((time.perf_counter() - t0, J))
        if VERBOSE:
            _nu = np.linalg.norm(U, axis=1)
            nnz = int((_nu > ZERO_REL * max(1e-300, _nu.max(initial=0))).sum())
            print(f"round {rnd}: t={time.perf_counter() - t0:.2f}s m={len(keys)} nonzero={nnz} "
                  f"ipm_it={res['n_iter'] if keys else 0} "
                  f"ipm={res['status'] if keys else '-'} rtol={rtol:.0e} J={J:.10g} "
                  f"gap_est={gap_est:.2e}", flush=True)
        if J < best[0]:
            best = (J, keys, U, lam)
        if deadline is not None and deadline.expired():
            status = "timeout"
            break
        if not keys:
            lam_price = lam
        if keys and res["status"] != "converged" and J > best[0]:
            # the interior point did not converge and its iterate is worse than an earlier
            # round's: price from the best point instead of this one
            J, keys, U, lam = best
            lam_price = lam
            ws = list(keys)
            add_cap = max(1, add_cap // 2)  # and add fewer candidates this time
        vals = _price(Xa, Dm, lam_price, beta, exclude=set(ws), want=max(want, len(ws)))
        if vals:
            # optimistic gap (the working-set groups' polar values taken as beta): schedules
            # the interior-point tolerance; the certificate is computed once it is near tol
            lb_est = R.lower_bound_from("squared", y, lam_price, beta, vals[0][0])
            gap_est = (J - lb_est) / max(abs(J), 1e-300)
            if gap_est <= 1e2 * tol:
                rtol = tight
            elif gap_est <= 0.1:
                rtol = min(rtol, max(tight, 1e-6))
            elif gap_est <= 0.5:
                rtol = min(rtol, max(tight, 1e-3))
            if gap_est <= tol:
                gap = _certified_gap(Xa, Dm, y, beta, lam, J, cert)
                if gap <= tol:
                    status = "converged"
                    break
        else:
            # every pattern priced out: certificate over all patterns
            gap = _certified_gap(Xa, Dm, y, beta, lam, J, cert)
            if gap <= tol:
                status = "converged"
                break
            if keys and n_rows_added:
                continue  # re-solve with the violated cone rows added
            if rtol > tight:
                rtol = tight  # re-solve the same working set accurately
                continue
            break  # the gap left is the interior point's accuracy
        # drop groups that stayed zero, add the best candidates
        nu = np.linalg.norm(U, axis=1) if len(keys) else np.zeros(0)
        top = nu.max(initial=0.0)
        zrel = max(ZERO_REL, 10 * rtol)  # what counts as zero at the solve's accuracy
        for j, k in enumerate(keys):
            if nu[j] <= zrel * max(top, 1e-300):
                zero_rounds[k] = zero_rounds.get(k, 0) + 1
            else:
                zero_rounds.pop(k, None)
        ws = [k for k in ws if zero_rounds.get(k, 0) < DROP_AFTER]
        n_act = int((nu > zrel * max(top, 1e-300)).sum())
        add_cap = max(add_cap, 1) if add_cap < want else max(want, n_act)
        room = _max_groups(n, dd) - len(ws)
        if room <= 0:
            capped = True  # the Newton system of a larger working set would not fit in memory
            break
        add_cap = min(add_cap, room)
        for _, i, (s, g) in vals[:add_cap]:
            ws.append((i, s))
            if (i, s) not in rowsets:
                rowsets[(i, s)] = _near_rows(g)
    if best[0] < J or not np.isfinite(J):
        J, keys, U, lam = best
        gap = np.inf
    if status != "converged" and np.isfinite(J):
        gap = _certified_gap(Xa, Dm, y, beta, lam, J, cert)
    Uf = np.zeros((dd, P))
    Vf = np.zeros((dd, P))
    for j, (i, s) in enumerate(keys[:U.shape[0]]):
        (Uf if s > 0 else Vf)[:, i] += U[j]
    info = {"native_gap": float(gap), "working_set": len(keys), "ipm_iterations": n_ipm,
            "final_lambda": lam}
    if cert and cert["lam"] is lam:
        info["final_lower_bound"] = cert["lower_bound"]  # certificate of final_lambda, done
    if capped:
        info["working_set_capped"] = (f"the working set reached {len(keys)} groups, the most "
                                      f"whose Newton system fits in _ipm.NEWTON_BYTES")
    return _result(Uf, Vf, 0.0, rnd, status, history, info)


def _max_groups(n, dd):
    """Largest working set whose interior-point Newton system fits in ``_ipm.NEWTON_BYTES``."""
    from . import _ipm
    dense = int(np.sqrt(_ipm.NEWTON_BYTES / 16.0) // dd)
    return dense if _ipm.newton_bytes(n, 1, dd, lowrank=True) > _ipm.NEWTON_BYTES else 10 ** 9


def _certified_gap(Xa, Dm, y, beta, lam, J, out=None):
    """Relative duality gap of the value J over ALL patterns: the dual bound of MATH.md from
    lambda with the exact cone polar value (:func:`_recover.cone_polar`). ``out`` (a dict)
    receives the bound and its lambda."""
    pol_c, _ = R.cone_polar(Xa, Dm, lam)
    lb = R.lower_bound_from("squared", y, lam, beta, pol_c)
    if out is not None:
        out.update(lower_bound=lb, lam=lam)
    return (J - lb) / max(abs(J), 1e-300)


def _price(Xa, Dm, lam, beta, exclude=(), want=64, batch=64):
    """(value, pattern, (sign, direction)) of (pattern, sign) pairs outside ``exclude`` whose cone
    value ``||P_K(± Xa^T D_i lambda)||`` exceeds beta, largest first. Candidates are visited in
    decreasing order of their halfspace screening bound, in batches, until ``want`` violators are
    found or the bound drops below beta."""
    n, dd = Xa.shape
    P = Dm.shape[1]
    rn = np.linalg.norm(Xa, axis=1)
    rn2 = np.where(rn > 0, rn * rn, 1.0)
    G = np.empty((dd, P))
    vp, vm = np.empty(P), np.empty(P)
    Xl = Xa * lam[:, None]
    step = max(1, (1 << 22) // max(n, 1))  # (n, step) blocks: 32 MB temporaries at any n, P
    for s in range(0, P, step):
        Dc = Dm[:, s:s + step]
        G[:, s:s + step] = Xl.T @ Dc
        Sg = np.where(Dc, 1.0, -1.0) * (Xa @ G[:, s:s + step])
        vp[s:s + step] = np.max(np.minimum(Sg, 0.0) ** 2 / rn2[:, None], axis=0)
        vm[s:s + step] = np.max(np.maximum(Sg, 0.0) ** 2 / rn2[:, None], axis=0)
    del Sg
    g2 = (G * G).sum(axis=0)
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
        # a few active-set rounds give each value exactly or as an upper bound: candidates
        # whose bound is <= beta are out; the others are finished exactly (warm-started)
        Pm, E = R.project_batch(Xa, Dm, pats, G[:, pats] * sg, max_rounds=PRICE_ROUNDS,
                                exact=False)
        v = np.linalg.norm(Pm, axis=0)
        hi = np.nonzero(v > beta * (1 + 1e-9))[0]
        if len(hi):
            Ph, _ = R.project_batch(Xa, Dm, pats[hi], G[:, pats[hi]] * sg[hi],
                                    E=[E[k] for k in hi])
            Pm[:, hi] = Ph
            v[hi] = np.linalg.norm(Ph, axis=0)
        for k in np.nonzero(v > beta * (1 + 1e-9))[0]:
            out.append((float(v[k]), int(pats[k]), (float(sg[k]), Pm[:, k])))
        if len(out) >= want:
            break
    out.sort(key=lambda t: -t[0])
    return out
