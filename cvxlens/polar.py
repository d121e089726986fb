"""The polar problem ``max_{||u|| <= 1} |r^T (X u)_+|``: pricing oracle and dual certificate.

Its value ``c`` is the dual feasibility test of the group Lasso / infinite-width Lasso
(survey eqs. 25-26; Pilanci & Ergen 2020; MATH.md "Lower bounds and certificates"): ``c <= beta``
certifies optimality, and any residual with its exact ``c`` gives the lower bound
:func:`cvxlens.bounds.dual_lower_bound`. Column generation (Bengio et al. 2005) prices a new atom
``(X u*)_+`` with it; the Haeffele & Vidal (2017) expansion adds the neuron ``u*``.

Exact computation (``patterns="exact"``, or ``"auto"`` when the arrangement is small)
-------------------------------------------------------------------------------------
``phi(u) = s r^T (X u)_+`` (s = +-1) is positively homogeneous and linear on each closed cone of
the hyperplane arrangement ``{u : x_i . u = 0}``. Two exact algorithms:

* ``method="faces"`` (default, vectorized). Let ``u*`` maximize ``phi`` on the unit sphere and ``F``
  be the relatively open face of the arrangement that contains it, with span ``L``. Near ``u*``,
  ``phi`` is linear on ``L`` with gradient ``P_L X^T D r`` (D: the pattern of any cell adjacent to
  ``F``), so ``u* = P_L X^T D r / ||P_L X^T D r||``. Hence the maximum is attained at one of the
  candidates ``+-normalize(P_L X^T D r)`` over all intersection subspaces ``L`` of the arrangement
  (of dimension >= 2) and the cells D of the arrangement restricted to ``L``, or at a 1-D face
  (a ray ``+-v``). Each candidate is evaluated with ``phi`` itself, so the answer is the true
  value at a feasible ``u`` and never above the maximum. The candidate structure depends on X only
  and is cached by :class:`PolarOracle` (column generation calls it with many residuals).
* ``method="nnls"``: for every enumerated cell D and sign s, the maximum over the closed cone
  ``K = {u : (2D - I) X u >= 0}`` is ``||Pi_K(g)||`` with ``g = s X^T D r`` (Moreau decomposition);
  ``Pi_K(g) = g + A^T mu*``, ``mu* = argmin_{mu >= 0} ||A^T mu + g||`` (NNLS, A = (2D - I) X).
  Cells whose upper bound ``||g||`` is below the best value found are skipped (exact pruning).

``benchmarks/bench_polar.py`` compares the two with a per-cone SOCP (cvxpy).

Heuristic (``patterns=<int>`` or ``"auto"`` on large arrangements)
-------------------------------------------------------------------
Many Gaussian gates and the cells' gradient directions as starts, then a fixed-point ascent
``u <- normalize(s X^T 1[X u >= 0] r)`` and a final exact maximization over the closed cone of the
best start (NNLS). The value is attained (a valid lower estimate of the maximum), flagged
``exact=False``: it gives no certificate.

Free hidden bias
----------------
With ``free_bias=True`` the atom is ``(X w + b)_+`` with ``||w|| <= 1`` and b free (bias convention
``free``, Zeger et al. 2024). The value is finite only when ``sum(r) = 0`` (the dual constraint of a
free output offset); then for a fixed w the best b is a breakpoint ``b = -x_k . w``, so the value
is ``max_k max_{||w|| <= 1} |r^T ((X - x_k) w)_+|``: n exact problems in dimension d.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import nnls

from .method import ProblemTooLargeError
from .patterns import enumerate_patterns, pattern_count_bound

__all__ = ["polar", "PolarResult", "PolarOracle", "DEFAULT_POLAR_MAX_PATTERNS", "merge_atoms"]

#: ``patterns="auto"`` computes exactly when the estimated work (cells of the arrangement, Cover's
#: bound, times n for a free bias) is at most this; ``"exact"`` refuses above it.
DEFAULT_POLAR_MAX_PATTERNS = 60_000
DEFAULT_GATES = 2000
_RANK_TOL = 1e-10
_CHUNK = 4_000_000  # entries of the (n, K) evaluation matrix per chunk


@dataclass
class PolarResult:
    """Answer of :func:`polar`.

    Attributes
    ----------
    value : float
        ``|r^T (X u)_+|`` at ``u`` (exactly the maximum when ``exact``; +inf for a free bias
        with ``sum(r) != 0``).
    u : array, shape (d,) — or (d + 1,) as ``(w, b)`` with ``free_bias``
        Unit-norm maximizer (the w-part has unit norm for a free bias).
    exact : bool
        True when ``value`` is the global maximum over all ``||u|| <= 1`` (certificate-grade).
    sign : int
        +1 if ``r^T (X u)_+ = +value``, -1 if ``= -value``.
    info : dict
        How it was computed (``method``, number of candidates/cells).
    """

    value: float
    u: np.ndarray
    exact: bool
    sign: int
    info: dict = field(default_factory=dict)


# ----------------------------------------------------------------------------- helpers
def _evaluate(X, r, U):
    """``r^T (X U)_+`` for directions U (d, K), chunked; returns (K,)."""
    n = X.shape[0]
    K = U.shape[1]
    out = np.empty(K)
    step = max(1, _CHUNK // max(n, 1))
    for s in range(0, K, step):
        out[s:s + step] = r @ np.maximum(X @ U[:, s:s + step], 0.0)
    return out


def _normalize_cols(G):
    nrm = np.linalg.norm(G, axis=0)
    keep = nrm > 1e-300
    return G[:, keep] / nrm[keep]


def _row_space(Z):
    """Orthonormal basis V (k, rho) of the row space of Z (n, k)."""
    if Z.size == 0:
        return np.zeros((Z.shape[1], 0))
    _, s, Vt = np.linalg.svd(Z, full_matrices=False)
    if s.size == 0 or s[0] == 0:
        return np.zeros((Z.shape[1], 0))
    rho = int(np.sum(s > _RANK_TOL * s[0]))
    return Vt[:rho].T


def _distinct_normals(Z):
    """Indices of rows of Z that are nonzero and pairwise non-parallel (up to sign)."""
    nrm = np.linalg.norm(Z, axis=1)
    nz = np.nonzero(nrm > _RANK_TOL * max(1.0, nrm.max(initial=0.0)))[0]
    if nz.size == 0:
        return nz
    A = Z[nz] / nrm[nz, None]
    lead = np.argmax(np.abs(A) > 1e-9, axis=1)
    A = A * np.sign(A[np.arange(len(A)), lead])[:, None]
    _, first = np.unique(np.round(A, 9) + 0.0, axis=0, return_index=True)
    return nz[np.sort(first)]


def _cells_2d(Z):
    """Patterns (n, P) of the cells of the arrangement of Z (n, 2) and its vertices (2, V)."""
    idx = _distinct_normals(Z)
    if idx.size == 0:
        return np.ones((Z.shape[0], 1), bool), np.zeros((2, 0))
    perp = np.stack([-Z[idx, 1], Z[idx, 0]])
    perp /= np.linalg.norm(perp, axis=0)
    V = np.hstack([perp, -perp])  # (2, 2m) rays
    ang = np.sort(np.arctan2(V[1], V[0]))
    nxt = np.append(ang[1:], ang[0] + 2 * np.pi)
    mid = 0.5 * (ang + nxt)
    M = np.stack([np.cos(mid), np.sin(mid)])
    return (Z @ M) >= 0, V


# ----------------------------------------------------------------------------- oracle
class PolarOracle:
    """Reusable polar oracle for a fixed X: ``oracle(r) -> PolarResult``.

    The arrangement (cells, faces) depends only on X; it is computed once, so repeated calls
    (column generation, neuron expansion) cost one evaluation of the candidates each.

    Parameters
    ----------
    X : array, shape (n, d)
        Design matrix (``problem.design()``: with a ones column for regularized biases; the raw X
        with ``free_bias=True``).
    patterns : "auto" | "exact" | int
        ``exact``: enumerate (raise :class:`~cvxlens.ProblemTooLargeError` if the estimated number
        of cells exceeds ``max_patterns``); ``auto``: exact when that estimate is small, otherwise
        the heuristic with ``DEFAULT_GATES`` gates; an int: the heuristic with that many gates.
    seed : int
        Seed of the heuristic's gates.
    max_patterns : int
        Work limit for exact computation (Cover's bound ``2 sum_{k<r} C(n-1, k)`` on the number
        of cells, times n with ``free_bias``).
    method : "faces" | "nnls"
        Exact algorithm (module docstring).
    free_bias : bool
        Atoms ``(X w + b)_+`` with ``||w|| <= 1`` and a free b.

    Raises
    ------
    ValueError
        Bad X or option values.
    ProblemTooLargeError
        ``patterns="exact"`` on an arrangement above ``max_patterns``.
    """

    def __init__(self, X, patterns="auto", seed=0, max_patterns=DEFAULT_POLAR_MAX_PATTERNS,
                 method="faces", free_bias=False):
        X = np.asarray(X, dtype=float)
        if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0:
            raise ValueError(f"X must have shape (n, d) with n, d >= 1, got {X.shape}")
        if not np.all(np.isfinite(X)):
            raise ValueError("X contains NaN or inf")
        if method not in ("faces", "nnls"):
            raise ValueError(f"method must be 'faces' or 'nnls', got {method!r}")
        if isinstance(patterns, bool) or not (
                patterns in ("auto", "exact") or isinstance(patterns, (int, np.integer))):
            raise ValueError(f"patterns must be 'auto', 'exact' or a positive int, got {patterns!r}")
        if isinstance(patterns, (int, np.integer)) and patterns < 1:
            raise ValueError(f"patterns (number of sampled gates) must be >= 1, got {patterns}")
        if isinstance(max_patterns, bool) or not isinstance(max_patterns, (int, np.integer)) \
                or max_patterns < 1:
            raise ValueError(f"max_patterns must be a positive int, got {max_patterns!r}")
        self.X = X
        self.free_bias = bool(free_bias)
        self.method = method
        self.seed = seed
        self.n, self.d = X.shape
        self.work = self.estimate_work(X, free_bias)
        if patterns == "exact" and self.work > max_patterns:
            raise ProblemTooLargeError(
                f"exact polar would enumerate about {self.work:,} cells (n = {self.n}, "
                f"d = {self.d}{', free bias' if free_bias else ''}) above max_patterns = "
                f"{max_patterns:,}; raise max_patterns or use patterns='auto' / an int "
                "(heuristic, no certificate)")
        self.exact = patterns == "exact" or (patterns == "auto" and self.work <= max_patterns)
        self.n_gates = DEFAULT_GATES if not isinstance(patterns, (int, np.integer)) else int(patterns)
        self._rng = np.random.default_rng(seed)
        self._structs = None
        if self.exact:
            self._structs = [self._build(Xs) for Xs in self._unique_shifts()]

    @staticmethod
    def estimate_work(X, free_bias=False) -> int:
        """Cover's bound on the number of cells (times n for a free bias)."""
        X = np.asarray(X, dtype=float)
        n = X.shape[0]
        if free_bias:
            r = np.linalg.matrix_rank(np.hstack([X, np.ones((n, 1))]))
            return n * pattern_count_bound(n, max(r - 1, 1))
        r = np.linalg.matrix_rank(X) if X.size else 0
        return pattern_count_bound(len(_distinct_normals(X)), r)

    def _unique_shifts(self):
        if not self.free_bias:
            return [self.X]
        _, idx = np.unique(np.round(self.X, 12), axis=0, return_index=True)
        return [self.X - self.X[k] for k in np.sort(idx)]

    # ------------------------------------------------------------------ exact structure
    def _build(self, X):
        """Candidate structure: rays (d, V) and groups [(Q (d, k), D (n, P))]."""
        d = X.shape[1]
        rays, groups, seen = [], [], set()
        if self.method == "nnls":
            Vb = _row_space(X)
            if Vb.shape[1] == 0:
                return {"rays": np.zeros((d, 0)), "groups": [], "cells": None}
            D = enumerate_patterns(X, max_patterns=10**12)
            return {"rays": np.zeros((d, 0)), "groups": [], "cells": D}

        def rec(Q):
            Z = X @ Q
            V = _row_space(Z)
            if V.shape[1] == 0:
                return
            Q = Q @ V
            Z = Z @ V
            k = Q.shape[1]
            key = tuple(np.nonzero(np.linalg.norm(Z, axis=1)
                                   <= _RANK_TOL * max(1.0, np.abs(Z).max()))[0])
            key = (k, key)
            if key in seen:
                return
            seen.add(key)
            if k == 1:
                rays.append(np.hstack([Q, -Q]))
                return
            if k == 2:
                D, V2 = _cells_2d(Z)
                groups.append((Q, D))
                rays.append(Q @ V2)
                return
            D = enumerate_patterns(Z, max_patterns=10**12)
            groups.append((Q, D))
            for i in _distinct_normals(Z):
                z = Z[i] / np.linalg.norm(Z[i])
                B = np.linalg.svd(z[None, :], full_matrices=True)[2][1:].T  # (k, k-1)
                rec(Q @ B)

        rec(np.eye(d))
        R = np.hstack(rays) if rays else np.zeros((d, 0))
        if R.shape[1]:
            _, ui = np.unique(np.round(R, 10) + 0.0, axis=1, return_index=True)
            R = R[:, np.sort(ui)]
        return {"rays": R, "groups": groups, "cells": None}

    def _exact_one(self, X, st, r):
        """Best (value, u) for one design X with structure st."""
        d = X.shape[1]
        if st["cells"] is not None:
            return self._nnls_one(X, st["cells"], r)
        cands = [st["rays"]]
        for Q, D in st["groups"]:
            G = Q @ (Q.T @ (X.T @ (D * r[:, None])))
            G = _normalize_cols(G)
            cands.append(G)
            cands.append(-G)
        U = np.hstack(cands) if cands else np.zeros((d, 0))
        if U.shape[1] == 0:
            return 0.0, _unit(d), U.shape[1]
        vals = _evaluate(X, r, U)
        j = int(np.argmax(np.abs(vals)))
        return float(vals[j]), U[:, j], U.shape[1]

    def _nnls_one(self, X, D, r):
        d = X.shape[1]
        if D is None:
            return 0.0, _unit(d), 0
        G0 = X.T @ (D * r[:, None])  # (d, P)
        best_v, best_u = 0.0, _unit(d)
        Gs = np.hstack([G0, -G0])
        Ds = np.hstack([D, D])
        U = _normalize_cols(Gs)
        if U.shape[1]:
            vals = _evaluate(X, r, U)
            j = int(np.argmax(np.abs(vals)))
            best_v, best_u = float(vals[j]), U[:, j]
        ub = np.linalg.norm(Gs, axis=0)
        n_solved = 0
        for p in np.argsort(-ub):
            if ub[p] <= abs(best_v) * (1 + 1e-12):
                break
            A = (2.0 * Ds[:, p] - 1.0)[:, None] * X
            g = Gs[:, p]
            # skip the cone solve when g lies in the cone (its value was evaluated above)
            if np.all(A @ g >= 0):
                continue
            mu, _ = nnls(A.T, -g, maxiter=50 * max(A.shape))
            proj = g + A.T @ mu
            nrm = np.linalg.norm(proj)
            n_solved += 1
            if nrm > abs(best_v):
                u = proj / nrm
                v = float(r @ np.maximum(X @ u, 0.0))
                if abs(v) > abs(best_v):
                    best_v, best_u = v, u
        return best_v, best_u, n_solved

    # ------------------------------------------------------------------ heuristic
    def _heuristic_one(self, X, r, rng, n_gates, n_refine=64, n_steps=60, block=1024,
                       starts=None):
        n, d = X.shape
        Xr = X * r[:, None]
        keepU, keepV = [], []
        extra = _perturbed(starts, rng, d)
        for s0 in range(0, max(n_gates, 1), block):  # gates and their cells' gradients
            G = _normalize_cols(rng.standard_normal((d, min(block, n_gates - s0))))
            if s0 == 0 and extra is not None:
                G = np.hstack([extra, G])
            Z = X @ G
            D = (Z >= 0).astype(float)
            grads = _normalize_cols(Xr.T @ D)
            for U in (G, grads):
                Zu = X @ U
                v = r @ np.maximum(Zu, 0.0)
                v_neg = v - r @ Zu  # phi(-u) = r^T (X u)_+ - r^T X u
                keepU += [U, -U]
                keepV += [v, v_neg]
            U = np.hstack(keepU)
            V = np.concatenate(keepV)
            top = np.argsort(-np.abs(V))[:n_refine]
            keepU, keepV = [U[:, top]], [V[top]]
        U, vals = keepU[0], keepV[0]
        if U.shape[1] == 0:
            return 0.0, _unit(d)
        for _ in range(n_steps):  # fixed-point ascent, batched over the starts
            s = np.where(vals >= 0, 1.0, -1.0)
            act = (X @ U) >= 0
            Gn = X.T @ (act * r[:, None]) * s
            nrm = np.linalg.norm(Gn, axis=0)
            ok = nrm > 0
            Un = U.copy()
            Un[:, ok] = Gn[:, ok] / nrm[ok]
            vn = _evaluate(X, r, Un)
            better = np.abs(vn) > np.abs(vals) * (1 + 1e-13)
            if not better.any():
                break
            U[:, better], vals[better] = Un[:, better], vn[better]
        j = int(np.argmax(np.abs(vals)))
        best_v, best_u = float(vals[j]), U[:, j]
        # exact maximum over the closed cone of the best start's cell
        Dp = (X @ best_u) >= 0
        A = (2.0 * Dp - 1.0)[:, None] * X
        g = np.sign(best_v or 1.0) * (X.T @ (Dp * r))
        try:
            mu, _ = nnls(A.T, -g, maxiter=50 * max(A.shape))
            proj = g + A.T @ mu
            nrm = np.linalg.norm(proj)
            if nrm > 0:
                u = proj / nrm
                v = float(r @ np.maximum(X @ u, 0.0))
                if abs(v) > abs(best_v):
                    best_v, best_u = v, u
        except RuntimeError:  # nnls iteration limit: keep the ascent's answer
            pass
        return best_v, best_u

    # ------------------------------------------------------------------ call
    def __call__(self, r, n_gates=None, starts=None) -> PolarResult:
        """Polar value at r (n,). Heuristic only: ``n_gates`` overrides the number of gates for
        this call, ``starts`` (d, K) adds warm-start directions (e.g. the current neurons; with
        ``free_bias`` the columns are (w, b)); fresh gates are drawn at each call (one generator
        seeded once). The exact computation ignores both."""
        r = np.asarray(r, dtype=float)
        if r.shape != (self.n,):
            raise ValueError(f"r must have shape ({self.n},) to match X, got {r.shape}")
        if not np.all(np.isfinite(r)):
            raise ValueError("r contains NaN or inf")
        if self.free_bias:
            tot = float(r.sum())
            if abs(tot) > 1e-9 * max(1.0, float(np.abs(r).sum())):
                u = np.zeros(self.d + 1)
                u[-1] = 1.0
                return PolarResult(np.inf, u, True, 1 if tot > 0 else -1,
                                   {"method": "free-bias", "reason": "sum(r) != 0"})
            return self._call_free(r, n_gates, starts)
        if self.exact:
            v, u, k = self._exact_one(self.X, self._structs[0], r)
            info = {"method": self.method, "candidates": int(k)}
        else:
            g = n_gates or self.n_gates
            v, u = self._heuristic_one(self.X, r, self._rng, g, starts=starts)
            info = {"method": "heuristic", "gates": g}
        return PolarResult(abs(v), u, self.exact, 1 if v >= 0 else -1, info)

    def _call_free(self, r, n_gates=None, starts=None):
        best_v, best_w, best_b = 0.0, _unit(self.d), 0.0
        if self.exact:
            shifts = self._unique_shifts()
            for Xs, st in zip(shifts, self._structs):
                v, w, _ = self._exact_one(Xs, st, r)
                if abs(v) > abs(best_v):
                    # Xs = X - x_k: (Xs w)_+ = (X w + b)_+ with b = -x_k . w
                    k_row = self.X[0] - Xs[0]
                    best_v, best_w, best_b = v, w, -float(k_row @ w)
            info = {"method": self.method + "+free", "shifts": len(shifts)}
        else:
            g = n_gates or self.n_gates
            best_v, best_w, best_b = self._heuristic_free(r, self._rng, g, starts=starts)
            info = {"method": "heuristic+free", "gates": g}
        u = np.append(best_w, best_b)
        return PolarResult(abs(best_v), u, self.exact, 1 if best_v >= 0 else -1, info)

    def _best_b(self, W, r):
        """For each column w of W (d, K): the best breakpoint b and value s r^T (Xw + b)_+."""
        Z = self.X @ W  # (n, K)
        order = np.argsort(-Z, axis=0)
        Zs = np.take_along_axis(Z, order, axis=0)
        Rs = r[order]
        cr = np.cumsum(Rs, axis=0)            # sum of r over the top-j points
        crz = np.cumsum(Rs * Zs, axis=0)      # sum of r z over the top-j points
        # b = -Zs[j]: active = top j+1 points; value = crz_j + b * cr_j
        vals = crz - Zs * cr
        j = np.argmax(np.abs(vals), axis=0)
        cols = np.arange(W.shape[1])
        return -Zs[j, cols], vals[j, cols]

    def _heuristic_free(self, r, rng, n_gates, n_refine=64, n_steps=60, starts=None):
        d = self.d
        W = _normalize_cols(rng.standard_normal((d, n_gates)))
        extra = _perturbed(None if starts is None else starts[:-1], rng, d)
        if extra is not None:
            W = np.hstack([extra, W])
        b, vals = self._best_b(W, r)
        order = np.argsort(-np.abs(vals))[:n_refine]
        W, b, vals = W[:, order], b[order], vals[order]
        for _ in range(n_steps):
            s = np.where(vals >= 0, 1.0, -1.0)
            act = (self.X @ W + b) >= 0
            Gn = self.X.T @ (act * r[:, None]) * s
            nrm = np.linalg.norm(Gn, axis=0)
            ok = nrm > 0
            Wn = W.copy()
            Wn[:, ok] = Gn[:, ok] / nrm[ok]
            bn, vn = self._best_b(Wn, r)
            better = np.abs(vn) > np.abs(vals) * (1 + 1e-13)
            if not better.any():
                break
            W[:, better], b[better], vals[better] = Wn[:, better], bn[better], vn[better]
        j = int(np.argmax(np.abs(vals)))
        return float(vals[j]), W[:, j], float(b[j])


def _perturbed(starts, rng, d):
    """Warm starts (d, K) plus two perturbed copies at two noise levels, unit columns."""
    if starts is None:
        return None
    S = np.asarray(starts, dtype=float).reshape(d, -1)
    S = _normalize_cols(S)
    if S.shape[1] == 0:
        return None
    out = [S]
    for sigma in (0.03, 0.1, 0.3):
        out.append(_normalize_cols(S + sigma * rng.standard_normal(S.shape) / np.sqrt(d)))
    return np.hstack(out)


def _unit(d):
    u = np.zeros(d)
    u[0] = 1.0
    return u


def polar(X, r, patterns="auto", seed=0, max_patterns=DEFAULT_POLAR_MAX_PATTERNS,
          method="faces", free_bias=False) -> PolarResult:
    """``max_{||u|| <= 1} |r^T (X u)_+|`` and its maximizer (MATH.md; survey eqs. 25-26).

    Parameters
    ----------
    X : array, shape (n, d)
        Design matrix (``problem.design()``).
    r : array, shape (n,)
        Residual / dual vector (e.g. ``y - f(X)``).
    patterns, seed, max_patterns, method, free_bias
        See :class:`PolarOracle`.

    Returns
    -------
    PolarResult
        ``value``, unit ``u``, ``exact`` (True only when the value is the certified global
        maximum), ``sign``.

    Raises
    ------
    ValueError
        Shapes or values of X, r or options.
    ProblemTooLargeError
        ``patterns="exact"`` and the arrangement is above ``max_patterns``.

    Examples
    --------
    >>> import numpy as np, cvxlens
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0]])
    >>> res = cvxlens.polar(X, np.array([1.0, 1.0]))
    >>> round(res.value, 6), res.exact
    (1.414214, True)
    """
    oracle = PolarOracle(X, patterns=patterns, seed=seed, max_patterns=max_patterns,
                         method=method, free_bias=free_bias)
    return oracle(r)


def merge_atoms(atoms, alpha, Xd, free=False):
    """Merge atoms that share an activation pattern and the sign of their coefficient.

    On the closed cone of pattern D, ``(X̃ u)_+ = D X̃ u`` is linear, so atoms u_j of one cone with
    coefficients of one sign s add up to ``s D X̃ v``, ``v = sum_j |alpha_j| u_j``, which lies in the
    same (convex) cone; one atom ``v/||v||`` with coefficient ``s ||v||`` gives the same fit and a
    penalty ``beta ||v|| <= beta sum_j |alpha_j|``. (For a free bias, u = (w, b) and only the
    w-part is normalized.) Returns ``(atoms, alpha)`` or None when nothing merges.
    """
    if atoms.shape[1] < 2:
        return None
    Z = (Xd @ atoms[:-1] + atoms[-1]) if free else Xd @ atoms
    keys = np.vstack([Z >= 0, alpha[None, :] > 0])
    packed = np.packbits(keys, axis=0)
    _, inv, counts = np.unique(packed, axis=1, return_inverse=True, return_counts=True)
    inv = inv.reshape(-1)
    if counts.max() < 2:
        return None
    new_atoms, new_alpha = [], []
    for g in range(len(counts)):
        idx = np.nonzero(inv == g)[0]
        v = atoms[:, idx] @ np.abs(alpha[idx])
        nv = np.linalg.norm(v[:-1] if free else v)
        if len(idx) == 1 or nv <= 1e-12 * np.abs(alpha[idx]).sum():
            new_atoms.append(atoms[:, idx])
            new_alpha.append(alpha[idx])
            continue
        new_atoms.append((v / nv)[:, None])
        new_alpha.append(np.array([np.sign(alpha[idx[0]]) * nv]))
    return np.hstack(new_atoms), np.concatenate(new_alpha)
