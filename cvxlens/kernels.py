"""Arc-cosine kernels and the two-layer ReLU neural tangent kernel, in closed form.

Normalization (MATH.md "NTK and random features"; Cho & Saul 2009; Jacot et al. 2018). With θ the
angle between x and z and w ~ N(0, I_d)::

    κ0(x, z) = E[1[w·x >= 0] 1[w·z >= 0]]   = (π − θ) / (2π)
    κ1(x, z) = E[(w·x)_+ (w·z)_+]          = ‖x‖‖z‖ (sin θ + (π − θ) cos θ) / (2π)
    Θ(x, z)  = κ1(x, z) + (x·z) κ0(x, z)

Θ is the limit of the empirical NTK of ``f(x) = (1/√m) Σ_j a_j (w_j·x)_+`` with
``w_j ~ N(0, I)``, ``a_j ~ N(0, 1)`` when both layers are trained (the κ1 term comes from the output
weights, the (x·z)κ0 term from the first layer). Cho & Saul's ``k_n`` equal ``2 κ_n``; the
"c_σ = 2" convention of the NTK literature doubles Θ. Checks: ``κ1(e1, e2) = 1/(2π)``,
``κ0(e1, e2) = 1/4``, ``Θ(e1, e1) = 1``.

Zero-norm inputs: the angle is undefined. κ1 and Θ vanish there (factor ‖x‖‖z‖, resp. x·z). For
κ0 we follow the expectation above with the cvxlens tie convention (ties count as active, as in
:mod:`cvxlens.patterns`): ``1[w·0 >= 0] = 1``, so ``κ0(0, z) = 1/2`` for z ≠ 0 and
``κ0(0, 0) = 1``. This keeps κ0 positive semidefinite. Cosines are clipped to [−1, 1].
"""

from __future__ import annotations

import numpy as np

__all__ = ["arccos0_kernel", "arccos1_kernel", "ntk_kernel", "kernel_matrix", "KERNELS",
           "empirical_ntk"]

_ZERO = 0.0  # a row counts as zero when its norm is exactly 0


def _prepare(X, Z):
    X = np.asarray(X, dtype=float)
    if X.ndim == 1:
        X = X[None, :]
    Z = X if Z is None else np.asarray(Z, dtype=float)
    if Z.ndim == 1:
        Z = Z[None, :]
    if X.ndim != 2 or Z.ndim != 2 or X.shape[1] != Z.shape[1]:
        raise ValueError(f"X and Z must have shapes (n, d) and (k, d) with the same d, got "
                         f"{X.shape} and {Z.shape}")
    nx = np.linalg.norm(X, axis=1)
    nz = np.linalg.norm(Z, axis=1)
    dots = X @ Z.T
    # cosines from row-normalized inputs (robust for tiny or huge norms, where x.z / (|x||z|)
    # under- or overflows); zero rows get cosine 0 (their kernel values are set explicitly)
    Xn = X / np.where(nx > _ZERO, nx, 1.0)[:, None]
    Zn = Z / np.where(nz > _ZERO, nz, 1.0)[:, None]
    cos = Xn @ Zn.T
    np.clip(cos, -1.0, 1.0, out=cos)
    return nx, nz, dots, cos


def _fix_zero_rows(k0, nx, nz):
    zx, zz = nx <= _ZERO, nz <= _ZERO
    if zx.any() or zz.any():
        k0[zx, :] = 0.5
        k0[:, zz] = 0.5
        k0[np.ix_(zx, zz)] = 1.0
    return k0


def _pi_minus_theta(cos):
    t = np.arccos(cos)
    np.subtract(np.pi, t, out=t)
    return t


def _kappa0_from(nx, nz, cos, pmt=None):
    k0 = _pi_minus_theta(cos) if pmt is None else pmt.copy()
    k0 *= 1.0 / (2 * np.pi)
    return _fix_zero_rows(k0, nx, nz)


def _kappa1_from(nx, nz, cos, pmt=None):
    pmt = _pi_minus_theta(cos) if pmt is None else pmt
    k1 = np.multiply(cos, cos)           # in-place chain: few (n, k) temporaries
    np.subtract(1.0, k1, out=k1)
    np.maximum(k1, 0.0, out=k1)
    np.sqrt(k1, out=k1)                  # sin(theta)
    k1 += pmt * cos
    k1 *= np.outer(nx, nz)
    k1 *= 1.0 / (2 * np.pi)
    return k1


def arccos0_kernel(X, Z=None) -> np.ndarray:
    """Arc-cosine kernel of degree 0, ``κ0(x, z) = (π − θ)/(2π)``.

    Parameters
    ----------
    X : array, shape (n, d)
    Z : array, shape (k, d), optional (defaults to X)

    Returns
    -------
    K : array, shape (n, k)
        Values in [0, 1]; ``κ0(x, x) = 1/2`` for x ≠ 0. Zero rows: see the module docstring.

    Raises
    ------
    ValueError
        If X and Z do not have the same number of columns.
    """
    nx, nz, _, cos = _prepare(X, Z)
    return _kappa0_from(nx, nz, cos)


def arccos1_kernel(X, Z=None) -> np.ndarray:
    """Arc-cosine kernel of degree 1, ``κ1(x, z) = ‖x‖‖z‖(sin θ + (π − θ) cos θ)/(2π)``.

    It is ``E[(w·x)_+ (w·z)_+]`` for ``w ~ N(0, I)``: the kernel of an infinitely wide ReLU layer
    with a frozen Gaussian first layer (random features). Shapes as :func:`arccos0_kernel`;
    ``κ1(x, x) = ‖x‖²/2``.
    """
    nx, nz, _, cos = _prepare(X, Z)
    return _kappa1_from(nx, nz, cos)


def ntk_kernel(X, Z=None) -> np.ndarray:
    """Two-layer ReLU neural tangent kernel ``Θ(x, z) = κ1(x, z) + (x·z) κ0(x, z)``.

    Both layers trained, NTK parametrization ``f = (1/√m) Σ a_j (w_j·x)_+`` (Jacot et al. 2018);
    ``Θ(x, x) = ‖x‖²``. Shapes as :func:`arccos0_kernel`.
    """
    nx, nz, dots, cos = _prepare(X, Z)
    pmt = _pi_minus_theta(cos)
    out = _kappa1_from(nx, nz, cos, pmt)
    out += dots * _kappa0_from(nx, nz, cos, pmt)
    return out


#: name -> kernel function ``k(X, Z=None) -> (n, k)``.
KERNELS = {"ntk": ntk_kernel, "arccos0": arccos0_kernel, "arccos1": arccos1_kernel}


def kernel_matrix(name: str, X, Z=None) -> np.ndarray:
    """Kernel matrix of the kernel called ``name`` (one of :data:`KERNELS`).

    Raises
    ------
    ValueError
        For an unknown kernel name.
    """
    try:
        fn = KERNELS[name]
    except KeyError:
        raise ValueError(f"unknown kernel {name!r}; choose one of {', '.join(KERNELS)}") from None
    return fn(X, Z)


def empirical_ntk(X, W, a, Z=None) -> np.ndarray:
    """Finite-width NTK of ``f(x) = (1/√m) Σ_j a_j (w_j·x)_+`` at weights (W, a).

    ``Θ_m(x, z) = ∇_θ f(x) · ∇_θ f(z) = (1/m) Σ_j [(w_j·x)_+ (w_j·z)_+ + a_j² 1[w_j·x > 0]
    1[w_j·z > 0] (x·z)]`` (ReLU derivative at 0 taken as 0, as in ``Problem.objective_and_grad``).

    Parameters
    ----------
    X : array, shape (n, d)
    W : array, shape (d, m)
    a : array, shape (m,)
    Z : array, shape (k, d), optional (defaults to X)

    Returns
    -------
    array, shape (n, k)
        Converges to :func:`ntk_kernel` as m → ∞ for ``W ~ N(0, 1)``, ``a ~ N(0, 1)`` entries.
    """
    X = np.asarray(X, dtype=float)
    Z = X if Z is None else np.asarray(Z, dtype=float)
    W = np.asarray(W, dtype=float)
    a = np.asarray(a, dtype=float)
    m = W.shape[1]
    PX, PZ = X @ W, Z @ W
    HX, HZ = np.maximum(PX, 0.0), np.maximum(PZ, 0.0)
    SX, SZ = (PX > 0).astype(float), (PZ > 0).astype(float)
    return (HX @ HZ.T + (X @ Z.T) * ((SX * a**2) @ SZ.T)) / m
