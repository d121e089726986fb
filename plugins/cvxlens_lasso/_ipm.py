"""Primal–dual interior-point solver for the exact ReLU program restricted to a few groups.

The program over m groups (pattern mask ``d_j``, sign ``s_j``), bias ``none`` / ``regularized``::

    min_{u, tau}  ½ ||sum_j s_j D_j Xa u_j - y||² + beta sum_j tau_j
    s.t.          (2 D_j - I) Xa u_j >= 0      (cone constraint, every nonzero row of Xa)
                  ||u_j|| <= tau_j              (second-order cone)

is the exact Pilanci–Ergen program (survey eq. 18; Pilanci & Ergen, ICML 2020) over those groups.
It is solved by the Mehrotra predictor–corrector path-following method with Nesterov–Todd scaling
of Vandenberghe's ``coneqp`` (CVXOPT; L. Vandenberghe, "The CVXOPT linear and quadratic cone
program solvers", 2010, §§ 5–7), specialized to this structure:

* every constraint block is local to one group, so ``G^T W^{-2} G`` is block diagonal with
  (dd+1) × (dd+1) blocks (the cone rows of group j enter only as ``A_j^T diag(z/s) A_j``; the
  rows kept per group can be all n or a working subset); the epigraph variables ``tau_j`` are eliminated per block;
* the remaining (m·dd) × (m·dd) system ``K = M^T M + blockdiag(Theta_j)`` is either formed
  densely and factored by LAPACK Cholesky (``_DenseGram``: (m·dd)² memory, used unless
  m·dd > 1500 and n < 0.7·m·dd), or solved through the Woodbury identity with an n × n capacitance matrix
  (``_LowRankGram``: n² memory, n²·m·dd flops per factorization), refined by preconditioned
  conjugate gradients on K (the Woodbury solve loses digits when some Theta_j are nearly
  singular, late in the path).

Initial point: Vandenberghe's least-squares start shifted into the cones; the corrector targets
the full residuals (eta = 0 in ``coneqp``), sigma = (gap_aff / gap)³ (Mehrotra), step 0.99 of
the distance to the boundary.

The n × (P·dd) dictionary of all patterns is never formed; only the m·dd columns of the groups
passed in. Memory: min((m·dd)², n²) floats for the Newton matrix, plus (n, m) arrays for the
cone slacks and multipliers.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg as sla

_BLOCK_ROWS = 4096
_BLOCK_ELEMS = 1 << 22  # elements of one temporary block (32 MB of float64)


def _gram(Xa, Dw, y):
    """``H = M^T M`` (m·dd, m·dd) and ``M^T y`` for ``M = [Dw[:, j] * Xa]_j``, in row blocks."""
    n, dd = Xa.shape
    m = Dw.shape[1]
    H = np.zeros((m * dd, m * dd))
    b = np.zeros(m * dd)
    rows = max(1, min(_BLOCK_ROWS, _BLOCK_ELEMS // max(m * dd, 1)))  # 32 MB row blocks
    for s in range(0, n, rows):
        Mb = (Dw[s:s + rows, :, None] * Xa[s:s + rows, None, :]).reshape(-1, m * dd)
        H += Mb.T @ Mb
        b += Mb.T @ y[s:s + rows]
    return H, b


class _Gram:
    """Shared by the two forms of the reduced Newton matrix: ``solve`` runs preconditioned
    conjugate gradients on K with the factorization as preconditioner (one or two iterations
    unless round-off has eaten digits of the factorization, late in the path)."""

    def _K(self, X):
        return np.einsum("jab,jb->ja", self.Th, X) + self.hess(X)

    def solve(self, R, rtol=1e-13, max_iter=20):
        R = R.reshape(self.m, self.dd)
        X = self._solve0(R)
        r = R - self._K(X)
        rn0 = np.linalg.norm(R)
        if rn0 == 0:
            return X
        z = self._solve0(r)
        p = z.copy()
        rz = float((r * z).sum())
        for _ in range(max_iter):
            if np.linalg.norm(r) <= rtol * rn0 or rz <= 0:
                break
            Kp = self._K(p)
            alpha = rz / float((p * Kp).sum())
            X = X + alpha * p
            r = r - alpha * Kp
            z = self._solve0(r)
            rz_new = float((r * z).sum())
            p = z + (rz_new / rz) * p
            rz = rz_new
        return X


class _DenseGram(_Gram):
    """Reduced Newton matrix ``K = H + blockdiag(Theta_j)`` with ``H = M^T M`` formed densely:
    (m·dd)² memory, one (m·dd)³/3 Cholesky per factorization."""

    def __init__(self, Xa, Dw, y):
        self.H, self.Mty = _gram(Xa, Dw, y)
        self.m, self.dd = Dw.shape[1], Xa.shape[1]

    def hess(self, U):
        return (self.H @ U.ravel()).reshape(self.m, self.dd)

    def factor(self, Th):
        m, dd = self.m, self.dd
        self.Th = Th
        self.cf = None  # free the previous factor first: memory is H plus ONE (m·dd)² matrix
        for reg in (1e-13, 1e-10, 1e-7):  # see _LowRankGram.factor
            K = self.H.copy()
            for j in range(m):
                K[j * dd:(j + 1) * dd, j * dd:(j + 1) * dd] += Th[j]
            K[np.diag_indices_from(K)] += reg * max(1.0, float(np.diag(K).max()))
            try:
                self.cf = sla.cho_factor(K, lower=False, check_finite=False, overwrite_a=True)
                break
            except np.linalg.LinAlgError:
                del K
                if reg == 1e-7:
                    raise

    def _solve0(self, R):
        return sla.cho_solve(self.cf, R.ravel(), check_finite=False).reshape(self.m, self.dd)


class _LowRankGram(_Gram):
    """The same matrix through the Woodbury identity when n < m·dd:
    ``K^{-1} = T^{-1} - T^{-1} M^T (I + M T^{-1} M^T)^{-1} M T^{-1}`` with T = blockdiag(Theta_j);
    the n × n capacitance matrix ``I + F F^T``, ``F_j = M_j L_j^{-T}`` (``Theta_j = L_j L_j^T``),
    is formed by one BLAS product per factorization (n²·m·dd flops) and factored by Cholesky.
    Solves are refined by conjugate gradients on ``K v = T v + M^T (M v)`` (``_Gram.solve``)."""

    def __init__(self, Xa, Dw, y):
        self.Xa, self.Dw = Xa, Dw
        self.m, self.dd = Dw.shape[1], Xa.shape[1]
        self.Mty = self.MT(y).ravel()

    def M(self, U):
        return (self.Dw * (self.Xa @ U.T)).sum(axis=1)

    def MT(self, r):
        return ((self.Xa * r[:, None]).T @ self.Dw).T  # (m, dd)

    def hess(self, U):
        return self.MT(self.M(U))

    def factor(self, Th):
        n = self.Xa.shape[0]
        self.Th = Th
        scale = np.maximum(np.einsum("jaa->ja", Th).max(axis=1), 1e-300)
        # the blocks of groups going to zero lose definiteness to round-off late in the path:
        # regularize just enough (conjugate gradients on the true K absorb the perturbation)
        for reg in (1e-14, 1e-11, 1e-8, 1e-5):
            try:
                L = np.linalg.cholesky(Th + (reg * scale)[:, None, None] * np.eye(self.dd)[None])
                break
            except np.linalg.LinAlgError:
                if reg == 1e-5:
                    raise
        Linv = np.linalg.inv(L)  # (m, dd, dd), lower
        self.Tinv = np.transpose(Linv, (0, 2, 1)) @ Linv  # Theta^{-1}
        self.cf = None  # free the previous factor first
        # C = I + F F^T with F[:, j] block = Dw_j * (Xa @ Linv_j^T), accumulated over chunks of
        # groups (memory n² + n·chunk·dd; upper triangle by BLAS syrk, half a general product)
        C = np.asfortranarray(np.eye(n))
        step = max(1, _BLOCK_ELEMS // max(n * self.dd, 1))
        dd = self.dd
        for s in range(0, self.m, step):
            e = min(self.m, s + step)
            # one GEMM: F[:, (j, b)] = Xa @ Linv[j, b, :], then the pattern mask of group j
            F = self.Xa @ Linv[s:e].transpose(2, 0, 1).reshape(dd, -1)
            F.reshape(n, e - s, dd)[...] *= self.Dw[:, s:e, None]
            # F^T is Fortran-ordered: syrk with trans=1 reads it without a copy
            C = sla.blas.dsyrk(1.0, F.T, beta=1.0, c=C, lower=0, trans=1, overwrite_c=1)
            del F
        self.cf = sla.cho_factor(C, lower=False, check_finite=False, overwrite_a=True)

    def _solve0(self, R):
        X = np.einsum("jab,jb->ja", self.Tinv, R)
        w = sla.cho_solve(self.cf, self.M(X), check_finite=False)
        return X - np.einsum("jab,jb->ja", self.Tinv, self.MT(w))


NEWTON_BYTES = 1_500_000_000  # memory budget of the Newton matrices (bytes)


def newton_bytes(n, m, dd, lowrank=None):
    """Bytes held by the Newton system of m groups: dense 2·(m·dd)² (H and one factor), low-rank
    n² plus a 32 MB block; ``lowrank=None`` gives the smaller of the two."""
    dense, low = 16.0 * (m * dd) ** 2, 8.0 * n * n + 8.0 * _BLOCK_ELEMS
    return min(dense, low) if lowrank is None else (low if lowrank else dense)


def _soc_step(x, d):
    """Largest alpha with ``x + alpha d`` in the second-order cone, per row of x, d (m, k);
    inf where unbounded. Assumes x in the interior."""
    x0, x1 = x[:, 0], x[:, 1:]
    d0, d1 = d[:, 0], d[:, 1:]
    c = x0 * x0 - (x1 * x1).sum(axis=1)
    b = 2.0 * (x0 * d0 - (x1 * d1).sum(axis=1))
    a = d0 * d0 - (d1 * d1).sum(axis=1)
    out = np.full(x.shape[0], np.inf)
    disc = b * b - 4.0 * a * c
    with np.errstate(divide="ignore", invalid="ignore"):
        sq = np.sqrt(np.maximum(disc, 0.0))
        # stable roots of a t² + b t + c: q = -(b + sign(b) sq)/2, t1 = q/a, t2 = c/q
        q = -0.5 * (b + np.where(b >= 0, sq, -sq))
        r1 = np.where(a != 0, q / a, np.inf)
        r2 = np.where(q != 0, c / q, np.inf)
    ok = disc >= 0
    for r in (r1, r2):
        good = ok & np.isfinite(r) & (r > 0)
        out = np.where(good, np.minimum(out, r), out)
    # linear case (a == 0): root -c/b when b < 0
    lin = (a == 0) & (b < 0)
    out = np.where(lin, np.minimum(out, -c / np.where(lin, b, -1.0)), out)
    return out


def _nt_soc(s, z):
    """Nesterov–Todd scaling of second-order cones (rows of s, z (m, k), both interior).

    Returns ``(beta_, v)`` with ``W = beta_ (2 v v^T - J)``, ``J = diag(1, -1, ...)``,
    ``v = (wbar + e) / sqrt(2 (wbar_0 + 1))``, ``wbar = (sbar + J zbar) / (2 gamma)`` (Vandenberghe
    2010, § 4.3); ``W z = W^{-1} s`` is checked in the tests."""
    sJs = s[:, 0] ** 2 - (s[:, 1:] ** 2).sum(axis=1)
    zJz = z[:, 0] ** 2 - (z[:, 1:] ** 2).sum(axis=1)
    sJs = np.maximum(sJs, 1e-300)
    zJz = np.maximum(zJz, 1e-300)
    sb = s / np.sqrt(sJs)[:, None]
    zb = z / np.sqrt(zJz)[:, None]
    gam = np.sqrt(np.maximum(0.5 * (1.0 + (sb * zb).sum(axis=1)), 1e-300))
    Jzb = zb.copy()
    Jzb[:, 1:] *= -1.0
    wbar = (sb + Jzb) / (2.0 * gam)[:, None]
    v = wbar.copy()
    v[:, 0] += 1.0
    v /= np.sqrt(2.0 * (wbar[:, 0] + 1.0))[:, None]
    beta_ = (sJs / zJz) ** 0.25
    return beta_, v


def _W_apply(beta_, wbar, v, inverse=False):
    """``W v`` (or ``W^{-1} v``) for NT scalings of second-order cones, rows of v (m, k)."""
    if not inverse:
        # beta (2 w w^T v - J v)
        Jv = v.copy()
        Jv[:, 1:] *= -1.0
        return beta_[:, None] * (2.0 * (wbar * v).sum(axis=1)[:, None] * wbar - Jv)
    # W^{-1} = (1/beta) (2 J w w^T J - J)
    Jw = wbar.copy()
    Jw[:, 1:] *= -1.0
    Jv = v.copy()
    Jv[:, 1:] *= -1.0
    return (2.0 * (Jw * v).sum(axis=1)[:, None] * Jw - Jv) / beta_[:, None]


def _W_inv2_mats(beta_, wbar):
    """``W^{-2}`` as (m, k, k) matrices."""
    Jw = wbar.copy()
    Jw[:, 1:] *= -1.0
    k = wbar.shape[1]
    J = np.diag(np.r_[1.0, -np.ones(k - 1)])
    Winv = (2.0 * Jw[:, :, None] * Jw[:, None, :] - J[None]) / beta_[:, None, None]
    return Winv @ Winv


def _jordan_soc(x, y):
    """Jordan product ``x ∘ y = (x^T y, x0 y1 + y0 x1)`` for rows of (m, k) arrays."""
    out = np.empty_like(x)
    out[:, 0] = (x * y).sum(axis=1)
    out[:, 1:] = x[:, :1] * y[:, 1:] + y[:, :1] * x[:, 1:]
    return out


def _jordan_div_soc(lam, v):
    """``u`` with ``lam ∘ u = v`` (rows of (m, k) arrays)."""
    l0, l1 = lam[:, 0], lam[:, 1:]
    v0, v1 = v[:, 0], v[:, 1:]
    den = l0 * l0 - (l1 * l1).sum(axis=1)
    u0 = (l0 * v0 - (l1 * v1).sum(axis=1)) / den
    out = np.empty_like(v)
    out[:, 0] = u0
    out[:, 1:] = (v1 - u0[:, None] * l1) / l0[:, None]
    return out


def solve_restricted(Xa, Dmask, signs, y, beta, tol=1e-8, feas_tol=1e-8, max_iter=100,
                     deadline=None, lowrank=None, rows=None):
    """Solve the restricted exact program over ``m`` groups by the interior-point method.

    Parameters
    ----------
    Xa : (n, dd) design; Dmask : (n, m) bool patterns of the groups; signs : (m,) ±1 output
    signs; y : (n,); beta > 0. lowrank: use the n × n Woodbury form of the Newton matrix
    (default: when m·dd > 1500 and n < 0.7·m·dd) instead of the dense (m·dd)² one.
    rows : optional (k, m) int array, the cone rows kept for each group (indices into Xa; a
    row may repeat, which leaves the constraint set unchanged): the program with only these
    rows is a relaxation, exact when the solution satisfies the other rows. Default: every
    nonzero row of Xa for every group. With k = 0 (no cone rows) the program is the gated ReLU
    group Lasso (signs then only flip the groups).
    tol : relative duality gap ``s^T z / max(1, |primal|)`` to stop at; feas_tol: relative
    primal and dual residuals. When the iteration stalls or loses accuracy (the last digits of
    the Cholesky factorization), the best iterate seen is returned with status "stalled".

    Returns
    -------
    dict with ``U`` (m, dd) (cone feasible up to the solver tolerance), ``value`` (primal
    objective at U), ``n_iter``, ``status`` ("converged" | "max_iter" | "timeout" | "stalled"),
    ``gap`` (s^T z, absolute), ``pres``, ``dres``, ``trace`` (relative gap, residuals, step, sigma per iteration).
    """
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        # the last steps can overflow next to the cone boundary; non-finite values are caught
        # in the loop and the best iterate is returned
        return _solve(Xa, Dmask, signs, y, beta, tol, feas_tol, max_iter, deadline, lowrank,
                      rows)


def _solve(Xa, Dmask, signs, y, beta, tol, feas_tol, max_iter, deadline, lowrank, rows):
    n, dd = Xa.shape
    m = Dmask.shape[1]
    rn = np.linalg.norm(Xa, axis=1)
    if rows is None:
        rows = np.broadcast_to(np.nonzero(rn > 0)[0][:, None], (int((rn > 0).sum()), m))
    rows = np.asarray(rows)
    # cone rows of group j: Sr[:, j] * Xr[:, j, :] (unit norm), k per group
    Xr = Xa[rows] / rn[rows][:, :, None]  # (k, m, dd)
    Sr = np.where(np.take_along_axis(Dmask, rows, axis=0), 1.0, -1.0)  # (k, m)
    nr = rows.shape[0]
    Dw = Dmask * np.asarray(signs, float)[None, :]
    if lowrank is None:
        lowrank = m * dd > 1500 and n < 0.7 * m * dd
        if newton_bytes(n, m, dd, lowrank) > NEWTON_BYTES:
            lowrank = not lowrank  # the other form may fit
    if newton_bytes(n, m, dd, lowrank) > NEWTON_BYTES:
        raise MemoryError(f"the Newton matrix of {m} groups (dd = {dd}, n = {n}) needs "
                          f"{newton_bytes(n, m, dd, lowrank) / 1e9:.1f} GB, over the "
                          f"{NEWTON_BYTES / 1e9:.1f} GB budget (_ipm.NEWTON_BYTES)")
    lin = (_LowRankGram if lowrank else _DenseGram)(Xa, Dw, y)
    Mty = lin.Mty
    nu = nr * m + m  # barrier degree
    XX = (Xr[:, :, :, None] * Xr[:, :, None, :]).reshape(nr, m, dd * dd)
    # initial point (Vandenberghe 2010, § 6 "Initialization"): x minimizes
    # ½ x^T P x + q^T x + ½ ||G x||², s = -G x, z = G x, both shifted into the cones
    lin.factor(XX.sum(axis=0).reshape(m, dd, dd) + np.eye(dd)[None])
    U = lin.solve(Mty.reshape(m, dd))
    tau = np.full(m, -beta)
    sL = Sr * np.einsum("kjd,jd->kj", Xr, U)
    sQ = np.hstack([tau[:, None], U])
    zL = -sL
    zQ = -sQ

    def _shift(vL, vQ):
        # smallest eigenvalue over all cones; shift by (1 + t) e when not interior
        t = min(float(vL.min()) if vL.size else np.inf,
                float((vQ[:, 0] - np.linalg.norm(vQ[:, 1:], axis=1)).min()))
        if t <= 0:
            vL = vL + (1.0 - t)
            vQ = vQ.copy()
            vQ[:, 0] += 1.0 - t
        return vL, vQ

    sL, sQ = _shift(sL, sQ)
    zL, zQ = _shift(zL, zQ)
    # dual residuals are measured against the scale of the dual constraint ||.|| <= beta of
    # each group: a residual small against ||M^T y|| can still move the cone polar values
    hscale = beta * np.sqrt(m)

    def Gx(U, tau):
        """(G_L x, G_Q x) = (-A_j u_j, -(tau_j, u_j))."""
        gl = -Sr * np.einsum("kjd,jd->kj", Xr, U)
        gq = -np.hstack([tau[:, None], U])
        return gl, gq

    def GTz(zL, zQ):
        """(u-part (m, dd), tau-part (m,)) of G^T z."""
        gu = -np.einsum("kj,kjd->jd", Sr * zL, Xr) - zQ[:, 1:]
        gt = -zQ[:, 0]
        return gu, gt

    def primal(U, tau):
        r = (Dw * (Xa @ U.T)).sum(axis=1) - y
        return 0.5 * float(r @ r) + beta * float(tau.sum())

    status = "max_iter"
    it = 0
    best = None  # (merit, U, tau, gap, pres, dres)
    trace = []  # (relative gap, primal residual, dual residual, step, sigma) per iteration
    for it in range(1, max_iter + 1):
        # residuals: rx = P x + q + G^T z ; rz = G x + s
        gu, gt = GTz(zL, zQ)
        Hu = lin.hess(U)
        rxu = Hu - Mty.reshape(m, dd) + gu
        rxt = beta + gt
        gl, gq = Gx(U, tau)
        rzL = gl + sL
        rzQ = gq + sQ
        gap = float((sL * zL).sum() + (sQ * zQ).sum())
        pcost = 0.5 * float(U.ravel() @ Hu.ravel()) - float(Mty @ U.ravel()) + beta * tau.sum()
        pres = np.sqrt((rzL ** 2).sum() + (rzQ ** 2).sum()) / max(1.0, np.sqrt(m))
        dres = np.sqrt((rxu ** 2).sum() + (rxt ** 2).sum()) / hscale
        ynorm2 = 0.5 * float(y @ y)
        relgap = gap / max(1.0, abs(pcost + ynorm2))
        if not np.isfinite(relgap + pres + dres):
            status = "stalled"
            break
        merit = max(relgap, pres, dres)
        if best is None or merit < best[0]:
            best = (merit, U, tau, gap, pres, dres)
        if pres <= feas_tol and dres <= feas_tol and relgap <= tol:
            status = "converged"
            break
        if deadline is not None and deadline.expired():
            status = "timeout"
            break
        mu = gap / nu
        # scalings
        wL = np.sqrt(sL / zL)  # W_L = diag(wL)
        lamL = np.sqrt(sL * zL)
        bQ, wbar = _nt_soc(sQ, zQ)
        lamQ = _W_apply(bQ, wbar, zQ)
        Winv2 = _W_inv2_mats(bQ, wbar)  # (m, k, k)
        # reduced matrix blocks: Theta_j = A_j^T diag(z/s) A_j + Winv2[uu] - c c^T / a
        dL = zL / sL  # W_L^{-2}
        ThL = np.einsum("kj,kjq->jq", dL, XX).reshape(m, dd, dd)
        a = Winv2[:, 0, 0]
        c = Winv2[:, 1:, 0]
        Th = ThL + Winv2[:, 1:, 1:] - c[:, :, None] * c[:, None, :] / a[:, None, None]
        if not np.all(np.isfinite(Th)):
            status = "stalled"
            break
        try:
            lin.factor(Th)
        except np.linalg.LinAlgError:
            status = "stalled"  # lost positive definiteness to round-off: keep the best iterate
            break

        def solve(bxu, bxt, bzL, bzQ, bsL, bsQ):
            """Solve P dx + G^T dz = bx, G dx + ds = bz, W dz + W^{-T} ds = bs (scaled)."""
            # (P + G^T W^-2 G) dx = bx + G^T W^-2 bz - G^T W^-1 bs
            tL = dL * bzL - bsL / wL  # W^-2 bz - W^-1 bs  (LP)
            tQ = np.einsum("jab,jb->ja", Winv2, bzQ) - _W_apply(bQ, wbar, bsQ, inverse=True)
            tu, tt = GTz(tL, tQ)
            ru = bxu + tu
            rt = bxt + tt
            # eliminate tau: block [[a, c^T],[c, Th+...]]: rhs_u -= c * rt / a
            ru2 = ru - c * (rt / a)[:, None]
            du = lin.solve(ru2)
            dt = (rt - (c * du).sum(axis=1)) / a
            # dz = W^-2 (G dx - bz) + W^-1 bs
            gl, gq = Gx(du, dt)
            dzL = dL * (gl - bzL) + bsL / wL
            dzQ = np.einsum("jab,jb->ja", Winv2, gq - bzQ) + _W_apply(bQ, wbar, bsQ, inverse=True)
            # ds = bz - G dx
            dsL = bzL - gl
            dsQ = bzQ - gq
            return du, dt, dsL, dsQ, dzL, dzQ

        def steplen(dsL, dsQ, dzL, dzQ):
            al = []
            for x, d in ((sL, dsL), (zL, dzL)):
                neg = d < 0
                al.append(float(np.min(-x[neg] / d[neg])) if neg.any() else np.inf)
            al += [float(_soc_step(sQ, dsQ).min()), float(_soc_step(zQ, dzQ).min())]
            return min(al)

        # affine (predictor) direction: ds_target = -lam∘lam -> bs = lam⋄(-lam∘lam) = -lam
        bsL = -lamL
        bsQ = -lamQ
        du, dt, dsL, dsQ, dzL, dzQ = solve(-rxu, -rxt, -rzL, -rzQ, bsL, bsQ)
        a_aff = min(1.0, steplen(dsL, dsQ, dzL, dzQ))
        gap_aff = float(((sL + a_aff * dsL) * (zL + a_aff * dzL)).sum()
                        + ((sQ + a_aff * dsQ) * (zQ + a_aff * dzQ)).sum())
        sigma = min(1.0, max(0.0, gap_aff / gap)) ** 3
        # combined direction: lam∘(W dz + W^-T ds) = -lam∘lam - (W^-T ds_a)∘(W dz_a) + sigma mu e
        dsaL = dsL / wL
        dzaL = dzL * wL
        dsaQ = _W_apply(bQ, wbar, dsQ, inverse=True)
        dzaQ = _W_apply(bQ, wbar, dzQ)
        rhsL = -lamL * lamL - dsaL * dzaL + sigma * mu
        rhsQ = -_jordan_soc(lamQ, lamQ) - _jordan_soc(dsaQ, dzaQ)
        rhsQ[:, 0] += sigma * mu
        bsL = rhsL / lamL
        bsQ = _jordan_div_soc(lamQ, rhsQ)
        du, dt, dsL, dsQ, dzL, dzQ = solve(-rxu, -rxt, -rzL, -rzQ, bsL, bsQ)
        if not all(np.all(np.isfinite(v)) for v in (du, dt, dsL, dsQ, dzL, dzQ)):
            status = "stalled"
            break
        alpha = min(1.0, 0.99 * steplen(dsL, dsQ, dzL, dzQ))
        if alpha < 1e-10 or (best is not None and merit > 1e6 * best[0] and best[0] < 1e-6):
            status = "stalled"
            break
        trace.append((relgap, pres, dres, alpha, sigma))
        U = U + alpha * du
        tau = tau + alpha * dt
        sL = sL + alpha * dsL
        sQ = sQ + alpha * dsQ
        zL = zL + alpha * dzL
        zQ = zQ + alpha * dzQ
    if status != "converged" and best is not None:
        _, U, tau, gap, pres, dres = best
    return {"U": U, "tau": tau, "value": primal(U, np.linalg.norm(U, axis=1)), "n_iter": it,
            "status": status, "gap": gap, "pres": pres, "dres": dres, "trace": trace}
