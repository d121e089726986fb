"""Exact regularized linear fits used by the ``ntk`` plugin.

All solve ``min_{α, c0} loss(F α + c0 1, y) + (β/2) ‖α‖²`` for a feature matrix F (n, p), with the
offset c0 either fixed at 0 or free (unpenalized). ``loss`` is the sum-scaled squared loss
``½‖·‖²`` or the logistic loss ``Σ log(1 + exp(−y f))``.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import cho_factor, cho_solve
from scipy.optimize import minimize

from cvxlens.problem import _sigmoid

__all__ = ["ridge", "logistic_ridge", "kernel_ridge", "fit_linear", "psd_cholesky"]


def ridge(F, y, beta, free_intercept=False):
    """Closed-form ridge: returns ``(alpha (p,), c0)``; primal or dual Cholesky, whichever is smaller.

    With a free intercept the columns of F and y are centred first (the unpenalized offset).
    """
    F = np.asarray(F, dtype=float)
    y = np.asarray(y, dtype=float)
    if free_intercept:
        fm, ym = F.mean(axis=0), y.mean()
        Fc, yc = F - fm, y - ym
    else:
        Fc, yc = F, y
    n, p = Fc.shape
    if p <= n:
        A = Fc.T @ Fc
        A[np.diag_indices_from(A)] += beta
        alpha = cho_solve(cho_factor(A, lower=True, check_finite=False), Fc.T @ yc,
                          check_finite=False)
    else:
        A = Fc @ Fc.T
        A[np.diag_indices_from(A)] += beta
        alpha = Fc.T @ cho_solve(cho_factor(A, lower=True, check_finite=False), yc,
                                 check_finite=False)
    c0 = float(ym - fm @ alpha) if free_intercept else 0.0
    return alpha, c0


def psd_cholesky(K, shift, info=None):
    """Cholesky factor (scipy ``cho_factor``, lower) of ``K + shift I`` for a PSD kernel matrix.

    Closed-form kernels are PSD only up to rounding (eigenvalues around −1e-14 measured on ECG);
    if the factorization fails, a jitter ``10^k · 1e-12 · max diag K`` (k = 0..6) is added and
    recorded in ``info["jitter"]``.

    Raises
    ------
    numpy.linalg.LinAlgError
        If even the largest jitter does not make the matrix positive definite.
    """
    K = np.asarray(K, dtype=float)
    scale = max(float(np.max(np.diag(K))), 1e-300)
    jitter = 0.0
    for k in range(-1, 7):
        if k >= 0:
            jitter = scale * 1e-12 * 10.0**k
        A = K.copy()
        A[np.diag_indices_from(A)] += shift + jitter
        try:
            fac = cho_factor(A, lower=True, check_finite=False, overwrite_a=True)
        except np.linalg.LinAlgError:
            continue
        if info is not None and jitter:
            info["jitter"] = jitter
        return fac
    raise np.linalg.LinAlgError("kernel matrix is not positive semidefinite, even with jitter "
                                f"{jitter:g}; check the inputs for NaN or huge values")


def kernel_ridge(K, y, beta, free_intercept=False, info=None):
    """Kernel ridge ``f = K(·, X)(K + βI)⁻¹(y − c0)`` by a Cholesky factorization of K + βI.

    With a free offset, c0 = 1ᵀA⁻¹y / 1ᵀA⁻¹1 (A = K + βI), the exact minimizer of
    ``½‖K c + c0 1 − y‖² + (β/2) cᵀKc``. Returns ``(coef (n,), c0)``.
    """
    fac = psd_cholesky(K, beta, info)
    y = np.asarray(y, dtype=float)
    c0 = 0.0
    if free_intercept:
        ones = np.ones_like(y)
        Ay, A1 = cho_solve(fac, y, check_finite=False), cho_solve(fac, ones, check_finite=False)
        c0 = float(Ay.sum() / A1.sum())
        return Ay - c0 * A1, c0
    return cho_solve(fac, y, check_finite=False), c0


def logistic_ridge(F, y, beta, free_intercept=False, max_iter=200, tol=1e-10):
    """``min Σ log(1 + exp(−y_i (F α + c0)_i)) + (β/2)‖α‖²`` by Newton-CG (strictly convex in α).

    Returns ``(alpha (p,), c0, info)``; info has the final gradient norm and the iteration count.
    """
    F = np.asarray(F, dtype=float)
    y = np.asarray(y, dtype=float)
    n, p = F.shape
    q = p + (1 if free_intercept else 0)

    def split(t):
        return (t[:p], t[p]) if free_intercept else (t, 0.0)

    def fun(t):
        a, c = split(t)
        z = F @ a + c
        m = -y * z
        val = np.logaddexp(0.0, m).sum() + 0.5 * beta * (a @ a)
        s = -y * _sigmoid(m)
        g = F.T @ s + beta * a
        if free_intercept:
            g = np.append(g, s.sum())
        return val, g

    def hessp(t, v):
        a, c = split(t)
        z = F @ a + c
        pz = _sigmoid(z)
        w = pz * (1 - pz)
        va, vc = split(v)
        u = w * (F @ va + vc)
        out = F.T @ u + beta * va
        if free_intercept:
            out = np.append(out, u.sum())
        return out

    res = minimize(fun, np.zeros(q), jac=True, hessp=hessp, method="trust-ncg",
                   options={"gtol": tol * max(1.0, np.sqrt(n)), "maxiter": max_iter})
    a, c = split(res.x)
    return a, float(c), {"grad_norm": float(np.linalg.norm(res.jac)), "n_iter": int(res.nit),
                         "success": bool(res.success)}


def fit_linear(F, y, beta, loss, free_intercept=False):
    """Dispatch on the loss; returns ``(alpha, c0, info)``."""
    if loss == "squared":
        a, c = ridge(F, y, beta, free_intercept)
        return a, c, {}
    if loss == "logistic":
        return logistic_ridge(F, y, beta, free_intercept)
    raise ValueError(f"loss {loss!r} is not supported here (squared or logistic)")

