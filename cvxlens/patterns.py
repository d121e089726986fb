"""Hyperplane arrangements and activation patterns.

An activation pattern of data X (n, d) is the boolean vector ``1[X g >= 0]`` for a direction g
(survey eq. 17, Pilanci & Ergen 2020). Convention used everywhere in cvxlens: **ties count as
active** (``>= 0``). Patterns are returned as boolean arrays of shape (n, P), one column per
pattern, with duplicates and the all-zero pattern removed.

``enumerate_patterns`` lists the patterns of every full-dimensional cell of the arrangement
``{g : x_i . g = 0}``: these suffice for the exact group-Lasso program, because the closed cells'
cones cover R^d and on a closed cell ``(X u)_+ = D X u`` for that cell's D. Their number is at
most ``2 sum_{k<r} C(n-1, k)``, r = rank X (Cover 1965; survey "Hyperplane Arrangement Patterns").
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from .method import ProblemTooLargeError

__all__ = ["enumerate_patterns", "sample_patterns", "pattern_count_bound", "DEFAULT_MAX_PATTERNS"]

DEFAULT_MAX_PATTERNS = 100_000
_TOL = 1e-9
_TIE = 1e-8  # |x.h| below this (unit vectors) counts as a tie at a vertex


def pattern_count_bound(n: int, r: int) -> int:
    """Upper bound ``2 sum_{k<r} C(n-1, k)`` on the number of cells of a central arrangement of
    n hyperplanes in rank r (Cover 1965)."""
    if r <= 0 or n <= 0:
        return 1
    return 2 * sum(math.comb(n - 1, k) for k in range(min(r, n)))


def _validate_X(X) -> np.ndarray:
    X = np.asarray(X, dtype=float)
    if X.ndim != 2:
        raise ValueError(f"X must have shape (n, d), got {X.shape}")
    if X.shape[0] == 0:
        raise ValueError("X has no rows")
    if not np.all(np.isfinite(X)):
        raise ValueError("X contains NaN or inf")
    return X


def _dedupe_columns(D: np.ndarray) -> np.ndarray:
    """Unique columns of a boolean (n, P) array, first-appearance order, all-zero removed."""
    if D.shape[1] == 0:
        return D
    packed = np.packbits(D, axis=0)
    _, idx = np.unique(packed, axis=1, return_index=True)
    idx = np.sort(idx)
    D = D[:, idx]
    return D[:, D.any(axis=0)]


def sample_patterns(X, n_patterns: int, seed=0, return_gates: bool = False):
    """Sample activation patterns with Gaussian gates g ~ N(0, I_d).

    Parameters
    ----------
    X : array, shape (n, d)
        Data (append a ones column first for regularized biases).
    n_patterns : int
        Number of gates drawn (the result has at most this many columns after removing
        duplicates and the all-zero pattern).
    seed : int or numpy Generator
    return_gates : bool
        Also return the gates (d, P) that produced the kept patterns.

    Returns
    -------
    D : bool array, shape (n, P)
    G : float array, shape (d, P) (only with ``return_gates``)
    """
    X = _validate_X(X)
    if isinstance(n_patterns, bool) or not isinstance(n_patterns, (int, np.integer)) or n_patterns < 1:
        raise ValueError(f"n_patterns must be a positive integer, got {n_patterns!r}")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    G = rng.standard_normal((X.shape[1], int(n_patterns)))
    D = (X @ G) >= 0
    packed = np.packbits(D, axis=0)
    _, idx = np.unique(packed, axis=1, return_index=True)
    idx = np.sort(idx)
    idx = idx[D[:, idx].any(axis=0)]
    return (D[:, idx], G[:, idx]) if return_gates else D[:, idx]


def enumerate_patterns(X, max_patterns: int = DEFAULT_MAX_PATTERNS) -> np.ndarray:
    """All distinct nonzero activation patterns of the full-dimensional cells of X's arrangement.

    Parameters
    ----------
    X : array, shape (n, d)
        Data (append a ones column first for regularized biases).
    max_patterns : int
        Refuse (before doing the work) when the bound ``2 sum_{k<r} C(n'-1, k)`` exceeds it;
        n' is the number of distinct hyperplanes, r = rank X.

    Returns
    -------
    D : bool array, shape (n, P)
        Column p is ``1[X g >= 0]`` for any g inside cell p.

    Raises
    ------
    ProblemTooLargeError
        When the enumeration would be too large (the message gives the bound and what to do).
    """
    X = _validate_X(X)
    n, d = X.shape
    norms = np.linalg.norm(X, axis=1)
    # only exactly-zero rows are always active: a tiny nonzero row still splits the cells of
    # 1[X g >= 0] (treating |x| <= 1e-9 as zero lost half the cells and made a "global" bound
    # of the exact program exceed a sampled network's J)
    nonzero = norms > 0
    # rank reduction: the arrangement lives in the row space of X
    if nonzero.any():
        _, s, Vt = np.linalg.svd(X[nonzero], full_matrices=False)
        r = int(np.sum(s > _TOL * s[0]))
    else:
        r = 0
    if r == 0:
        return np.ones((n, 1), dtype=bool)
    # full column rank: keep the original coordinates (exact zeros stay exact)
    A = X[nonzero] if r == d else X[nonzero] @ Vt[:r].T
    A = A / np.linalg.norm(A, axis=1, keepdims=True)
    # merge identical hyperplanes (x_j = t x_i): rep[j] = representative, flip[j] = sign(t)
    sign0 = np.sign(A[np.arange(len(A)), np.argmax(np.abs(A) > 1e-12, axis=1)])
    canon = A * sign0[:, None]
    key = np.round(canon, 9) + 0.0  # +0.0 folds -0.0 into 0.0 for np.unique
    _, first, inverse = np.unique(key, axis=0, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    H = canon[first]  # unrounded representatives
    bound = pattern_count_bound(len(H), r)
    if bound > max_patterns:
        raise ProblemTooLargeError(
            f"exact enumeration could produce up to {bound:,} activation patterns "
            f"(n = {n} samples, {len(H)} distinct hyperplanes, rank {r}), above "
            f"max_patterns = {max_patterns:,}; raise max_patterns if you can afford it, or sample "
            "patterns instead (sample_patterns / patterns=<int>)"
        )
    cells = _cells(H)  # (P, len(H)) of +-1
    signs = cells[:, inverse] * sign0[None, :]  # back to the rows of A
    D = np.ones((n, signs.shape[0]), dtype=bool)  # zero rows: x.g = 0 >= 0 -> active
    D[nonzero] = (signs > 0).T
    return _dedupe_columns(D)


def _cells(H: np.ndarray) -> np.ndarray:
    """Sign vectors (P, k) of the full-dimensional cells of the central arrangement with unit
    normals H (k, r), H of rank r, no two rows parallel... except inside recursion."""
    k, r = H.shape
    if r == 1:
        s = np.sign(H[:, 0]).astype(np.int8)
        return _unique_sign_rows(np.vstack([s, -s]))
    out = []
    subsets = np.array(list(itertools.combinations(range(k), r - 1)), dtype=int)
    # batched null vectors of the (r-1) x r submatrices
    for chunk in np.array_split(subsets, max(1, len(subsets) // 4096 + 1)):
        if len(chunk) == 0:
            continue
        M = H[chunk]  # (c, r-1, r)
        _, s, Vt = np.linalg.svd(M, full_matrices=True)
        indep = s[:, -1] > 1e-9 if r > 1 else np.ones(len(chunk), bool)
        h = Vt[indep, -1, :]  # (c', r)
        chunk = chunk[indep]
        if len(h) == 0:
            continue
        S = h @ H.T  # (c', k)
        tied = np.abs(S) <= _TIE
        n_tied = tied.sum(axis=1)
        simple = n_tied == (r - 1)
        combos = np.array(list(itertools.product((-1, 1), repeat=r - 1)), dtype=np.int8)  # (2^(r-1), r-1)
        for sgn in (1.0, -1.0):
            base = (np.sign(S[simple]) * sgn).astype(np.int8)
            if len(base):
                idx = chunk[simple]  # (c_s, r-1) the tied rows
                block = np.repeat(base[:, None, :], len(combos), axis=1)  # (c_s, 2^(r-1), k)
                rows = np.arange(len(base))[:, None, None]
                block[rows, np.arange(len(combos))[None, :, None], idx[:, None, :]] = combos[None]
                out.append(_unique_sign_rows(block.reshape(-1, k)))
            for i in np.nonzero(~simple)[0]:  # degenerate vertex: recurse in h-perp
                T = np.nonzero(tied[i])[0]
                hv = h[i] * sgn
                basis = np.linalg.svd(hv[None, :], full_matrices=True)[2][1:]  # (r-1, r)
                sub = H[T] @ basis.T
                sub = sub / np.linalg.norm(sub, axis=1, keepdims=True)
                local = _cells(sub)
                base_i = (np.sign(S[i]) * sgn).astype(np.int8)
                block = np.repeat(base_i[None, :], len(local), axis=0)
                block[:, T] = local
                out.append(block)
    if not out:
        raise RuntimeError("no vertices found: the arrangement is not essential")
    return _unique_sign_rows(np.vstack(out))


def _unique_sign_rows(M: np.ndarray) -> np.ndarray:
    """Unique rows of a +-1 matrix (fast: bit-packed keys)."""
    packed = np.ascontiguousarray(np.packbits(M > 0, axis=1))
    keys = packed.view(np.dtype((np.void, packed.shape[1]))).ravel()
    _, idx = np.unique(keys, return_index=True)
    return M[np.sort(idx)]
