"""cvxlens built-in plugin ``ntk``: kernel regression with the two-layer ReLU NTK or an
arc-cosine kernel, the infinite-width "lazy" / random-features view of a ReLU network
(Jacot et al. 2018; Cho & Saul 2009; survey Table I, "convexity w.r.t. probability measures").

Kernels (normalization of :mod:`cvxlens.kernels`, MATH.md): ``ntk`` Θ = κ1 + (x·z)κ0 (both layers
trained), ``arccos1`` κ1 (first layer frozen, ReLU random features), ``arccos0`` κ0 (step
features). The kernel acts on the design of the bias convention: x for ``none``, (x, 1) for
``regularized`` and ``free``; ``free`` adds an unpenalized output offset c0.

Realizations (option ``realize``):

``kernel`` (default)
    The exact kernel predictor. Squared loss: kernel ridge ``f = K(·, X)(K + βI)⁻¹(y − c0)`` by a
    Cholesky factorization (β is the sum-scaled weight decay of J, so this is the infinite-width
    limit, at the same β, of the random-features fit below). Logistic loss: kernel logistic
    regression ``min Σ log(1 + e^{−y f}) + (β/2)‖f‖²_K`` by trust-region Newton-CG on the
    features L of a Cholesky factorization ``L Lᵀ = K + εI`` (ε = 1e-12 · max diag K, a nugget
    on the training points).
    No finite weights: ``objective=None``; the returned predictor has ``predict(X)`` and
    ``n_neurons = None``. Above ``exact_limit`` samples the kernel is replaced by a Nyström
    approximation with ``n_components`` landmarks (said in ``Solution.message`` and ``info``).

``features``
    A finite ReLU network of ``width`` m whose J is defined.
    - ``arccos1``: first layer frozen at W0/√m, W0 ~ N(0, 1) entries (on the design, so the
      hidden biases of ``regularized``/``free`` are the last row); the output weights α (and c
      for ``free``) are the exact minimizer of J over α (and c) with W fixed. As m → ∞ its
      predictor tends to the ``arccos1`` kernel predictor with the same β.
    - ``ntk``: the lazily trained network of width m. Start at the antisymmetric NTK
      initialization ``f0 = (1/√m) Σ a_j (w_j·x)_+ ≡ 0`` (pairs w_{j'} = w_j, a_{j'} = −a_j),
      solve the ridge problem of the *linearized* network with weight β on ‖δθ‖² (whose kernel is
      the width-m empirical NTK, → Θ), move the first layer to W = (W0 + δW)/√m, then re-fit the
      output layer exactly (α = argmin J over α with W fixed). The network at the lazy output
      weights a0 + δa is reported in ``info["lazy_objective"]``. For the logistic loss the
      linearized step is a ridge fit to the ±1 labels (documented approximation); the output
      re-fit uses the logistic loss exactly.
    - ``arccos0``: refused (its features 1[w·x >= 0] are step functions, not ReLU units).
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import solve_triangular
from scipy.sparse.linalg import LinearOperator, lsqr
from threadpoolctl import threadpool_limits

import cvxlens
from cvxlens import Capabilities, Deadline, Method, Option, OptionError, ReLUNetwork, Solution
from cvxlens.kernels import KERNELS, empirical_ntk, kernel_matrix
from cvxlens.validators import one_of, positive_int

from ._linear import fit_linear, kernel_ridge, logistic_ridge, psd_cholesky

__all__ = ["NTK", "KernelPredictor"]

_CHUNK = 4096


class KernelPredictor:
    """A kernel predictor ``f(x) = Σ_k coef_k K(x̃, center_k) + intercept`` (no finite weights).

    Parameters
    ----------
    kernel : {"ntk", "arccos0", "arccos1"}
    centers : array, shape (k, d')
        Training points (exact kernel) or Nyström landmarks, on the design (x, or (x, 1)).
    coef : array, shape (k,)
    intercept : float
        Unpenalized output offset (``free`` bias), else 0.
    append_ones : bool
        Whether predict() appends the ones column to X (bias ``regularized`` / ``free``).

    ``n_neurons`` is None: this is not a finite network, and J is not defined for it.
    """

    n_neurons = None

    def __init__(self, kernel, centers, coef, intercept=0.0, append_ones=False):
        self.kernel = kernel
        self.centers = np.asarray(centers, dtype=float)
        self.coef = np.asarray(coef, dtype=float)
        self.intercept = float(intercept)
        self.append_ones = bool(append_ones)

    @property
    def d(self) -> int:
        return self.centers.shape[1] - (1 if self.append_ones else 0)

    def predict(self, X) -> np.ndarray:
        """Predictions for X of shape (n, d); returns shape (n,).

        Raises
        ------
        ValueError
            If X does not have d columns.
        """
        X = np.asarray(X, dtype=float)
        if X.ndim == 1 and self.d == 1:
            X = X.reshape(-1, 1)
        if X.ndim != 2 or X.shape[1] != self.d:
            raise ValueError(f"X must have shape (n, {self.d}), got {X.shape}")
        if self.append_ones:
            X = np.hstack([X, np.ones((X.shape[0], 1))])
        out = np.empty(X.shape[0])
        with threadpool_limits(limits=1, user_api="blas"):  # matrix-vector products only
            for s in range(0, X.shape[0], _CHUNK):
                out[s:s + _CHUNK] = kernel_matrix(self.kernel, X[s:s + _CHUNK],
                                                  self.centers) @ self.coef
        return out + self.intercept

    def to_dict(self) -> dict:
        return {"type": "KernelPredictor", "kernel": self.kernel, "centers": self.centers.tolist(),
                "coef": self.coef.tolist(), "intercept": self.intercept,
                "append_ones": self.append_ones}

    def __repr__(self) -> str:
        return (f"KernelPredictor(kernel={self.kernel!r}, centers={self.centers.shape[0]}, "
                f"d={self.d}, intercept={self.intercept:g})")


def _design(problem):
    """Kernel design: X for ``none``, (X, 1) for ``regularized`` and ``free``."""
    if problem.bias == "none":
        return problem.X
    return np.hstack([problem.X, np.ones((problem.n, 1))])


class NTK(Method):
    name = "ntk"
    summary = ("kernel regression with the two-layer ReLU NTK or arc-cosine kernels "
               "(infinite-width lazy / random-features view); optional finite random-features net")
    capabilities = Capabilities(losses=("squared", "logistic"),
                                biases=("none", "regularized", "free"),
                                depth=2, finite_weights=False, lower_bound=False, input_dim=None)
    options = {
        "kernel": Option("ntk", "ntk (Θ = κ1 + (x·z)κ0, both layers trained) | arccos1 (κ1, "
                                "frozen first layer) | arccos0 (κ0)", one_of(*KERNELS)),
        "realize": Option("kernel", "kernel (exact kernel predictor, no J) | features (finite "
                                    "ReLU network of `width` neurons, J defined)",
                          one_of("kernel", "features")),
        "width": Option(1000, "number of neurons m of the features realization", positive_int),
        "n_components": Option(1000, "Nyström landmarks when n > exact_limit", positive_int),
        "exact_limit": Option(5000, "largest n for the exact n x n kernel; above it Nyström",
                              positive_int),
    }

    def solve(self, problem, **options):
        dl = Deadline(options["time_limit"])
        # single-threaded BLAS: on the shared 2-core machines threaded BLAS measured 4x slower
        # (ECG kernel ridge, n = 2393: 8.8 s threaded vs 2.1 s single-threaded under load)
        with threadpool_limits(limits=1, user_api="blas"):
            if options["realize"] == "features":
                sol = self._features(problem, options)
            else:
                sol = self._kernel(problem, options)
        sol.time_s = dl.elapsed()
        sol.history = [(sol.time_s, sol.objective)] if sol.objective is not None else []
        return sol

    # ----------------------------------------------------------------- kernel predictor
    def _kernel(self, problem, o):
        kern, beta, y = o["kernel"], problem.beta, problem.y
        free = problem.bias == "free"
        Xd = _design(problem)
        n = problem.n
        info = {"kernel": kern, "realize": "kernel", "n_train": n}
        status = "converged"
        if n <= o["exact_limit"]:
            K = kernel_matrix(kern, Xd)
            info["approximation"] = "exact"
            if problem.loss == "squared":
                coef, c0 = kernel_ridge(K, y, beta, free, info)
                msg = f"exact kernel ridge with the {kern} kernel (n = {n})"
            else:
                # features F = L with L Lᵀ = K + εI (ε = 1e-12·max diag K, a nugget on the
                # training points only): F α = K_ε c with c = L⁻ᵀ α and ‖α‖² = cᵀ K_ε c
                info["nugget"] = 1e-12 * max(float(np.max(np.diag(K))), 1e-300)
                L = psd_cholesky(K, info["nugget"], info)[0]
                L = np.tril(L)
                alpha, c0, li = logistic_ridge(L, y, beta, free)
                coef = solve_triangular(L, alpha, lower=True, trans="T", check_finite=False)
                info.update(newton=li)
                if not li["success"]:
                    status = "max_iter"
                msg = f"exact kernel logistic regression with the {kern} kernel (n = {n})"
            train = K @ coef + c0
            pred = KernelPredictor(kern, Xd, coef, c0, problem.bias != "none")
        else:
            k = min(o["n_components"], n)
            rng = np.random.default_rng(o["seed"])
            idx = np.sort(rng.choice(n, size=k, replace=False))
            L = Xd[idx]
            s, V = np.linalg.eigh(kernel_matrix(kern, L))
            keep = s > 1e-12 * max(s.max(), 0.0)
            N = V[:, keep] / np.sqrt(s[keep])  # Nyström normalization (k, r)
            F = np.empty((n, N.shape[1]))
            for a in range(0, n, _CHUNK):
                F[a:a + _CHUNK] = kernel_matrix(kern, Xd[a:a + _CHUNK], L) @ N
            alpha, c0, li = fit_linear(F, y, beta, problem.loss, free)
            coef = N @ alpha
            train = F @ alpha + c0
            pred = KernelPredictor(kern, L, coef, c0, problem.bias != "none")
            info.update(approximation="nystroem", n_components=int(k), rank=int(N.shape[1]))
            if li:
                info["newton"] = li
                if not li["success"]:
                    status = "max_iter"
            msg = (f"n = {n} > exact_limit = {o['exact_limit']}: the {kern} kernel was replaced "
                   f"by a Nyström approximation with {k} landmarks (option n_components)")
        info["train_loss"] = problem.loss_value(train)
        return Solution(pred, objective=None, status=status, n_iter=1, message=msg, info=info)

    # ----------------------------------------------------------------- finite network
    def _features(self, problem, o):
        kern, m, beta = o["kernel"], o["width"], problem.beta
        if kern == "arccos0":
            raise OptionError(
                "realize='features' needs a ReLU realization, but the arccos0 kernel's features "
                "1[w·x >= 0] are step functions, not ReLU units; use realize='kernel', or "
                "kernel='arccos1' / 'ntk'")
        free = problem.bias == "free"
        Xd = _design(problem)
        dp = Xd.shape[1]
        rng = np.random.default_rng(o["seed"])
        info = {"kernel": kern, "realize": "features", "width": m}
        if kern == "arccos1":
            W0 = rng.standard_normal((dp, m))
            Wd = W0 / np.sqrt(m)
            msg = (f"random-features ReLU network of width {m}: first layer frozen at W0/sqrt(m), "
                   "W0 ~ N(0, 1); output layer = exact minimizer of J with W fixed")
        else:
            W0, a0 = _antisymmetric_init(rng, dp, m)
            dW, da, c_lin, how = _linearized_fit(Xd, problem.y, beta, W0, a0, free,
                                                 o["exact_limit"])
            Wd = (W0 + dW) / np.sqrt(m)
            lazy = _network(problem, Wd, a0 + da, c_lin)
            info.update(lazy_objective=problem.objective(lazy), linearized_solver=how)
            msg = (f"lazily trained ReLU network of width {m}: first layer moved by the ridge "
                   "solution of the linearized network (width-m empirical NTK) from an "
                   "antisymmetric Gaussian init, W = (W0 + dW)/sqrt(m); output layer re-fitted "
                   "as the exact minimizer of J with W fixed (info['lazy_objective'] is J at the "
                   "lazy output weights)")
            if problem.loss == "logistic":
                msg += "; the linearized step fits the ±1 labels by ridge (squared loss)"
        H = np.maximum(Xd @ Wd, 0.0)
        alpha, c0, li = fit_linear(H, problem.y, beta, problem.loss, free)
        status = "converged"
        if li:
            info["newton"] = li
            if not li["success"]:
                status = "max_iter"
        net = _network(problem, Wd, alpha, c0)
        J = problem.objective(net)
        return Solution(net, objective=J, status=status, n_iter=1, message=msg, info=info)


def _network(problem, Wd, alpha, c0):
    if problem.bias == "none":
        return ReLUNetwork(Wd, None, alpha, 0.0)
    if problem.bias == "regularized":
        return problem.network_from_design(Wd, alpha)
    return ReLUNetwork(Wd[:-1], Wd[-1], alpha, c0)


def _antisymmetric_init(rng, dp, m):
    """W0 (dp, m) with N(0, 1) entries and a0 (m,) such that f0 ≡ 0: neuron pairs (w, a), (w, −a);
    an odd last neuron gets a = 0."""
    h = m // 2
    G = rng.standard_normal((dp, h))
    g = rng.standard_normal(h)
    W0 = np.hstack([G, G])
    a0 = np.concatenate([g, -g])
    if m % 2:
        W0 = np.hstack([W0, rng.standard_normal((dp, 1))])
        a0 = np.append(a0, 0.0)
    return W0, a0


def _linearized_fit(Xd, y, beta, W0, a0, free, exact_limit):
    """Ridge fit of the linearization of f = (1/√m) Σ a_j (w_j·x)_+ at (W0, a0) (f0 = 0).

    Minimizes ``½‖Φ δ + c 1 − y‖² + (β/2)‖δ‖²``, Φ the parameter Jacobian (ΦΦᵀ = empirical NTK).
    Returns ``(dW (dp, m), da (m,), c, solver)``.
    """
    n, dp = Xd.shape
    m = W0.shape[1]
    P = Xd @ W0
    H = np.maximum(P, 0.0)
    S = (P > 0).astype(float)
    sm = np.sqrt(m)
    if n <= exact_limit:
        K = empirical_ntk(Xd, W0, a0)
        coef, c = kernel_ridge(K, y, beta, free)
        da = H.T @ coef / sm
        dW = Xd.T @ (S * coef[:, None]) * (a0 / sm)
        return dW, da, c, "dual (n x n empirical NTK)"
    # primal: δ = (δa (m), δW (dp*m)) with an implicit Jacobian, LSQR with damping sqrt(beta)
    ymean = y.mean() if free else 0.0

    def mv(v):
        va, vW = v[:m], v[m:].reshape(dp, m)
        out = (H @ va + (S * (Xd @ vW)) @ a0) / sm
        return out - out.mean() if free else out

    def rmv(u):
        u = u - u.mean() if free else u
        ga = H.T @ u / sm
        gW = Xd.T @ (S * u[:, None]) * (a0 / sm)
        return np.concatenate([ga, gW.ravel()])

    A = LinearOperator((n, m * (dp + 1)), matvec=mv, rmatvec=rmv)
    sol = lsqr(A, y - ymean, damp=np.sqrt(beta), atol=1e-10, btol=1e-10, iter_lim=2000)[0]
    da, dW = sol[:m], sol[m:].reshape(dp, m)
    c = 0.0
    if free:
        va = (H @ da + (S * (Xd @ dW)) @ a0) / sm
        c = float(np.mean(y - va))
    return dW, da, c, "primal (LSQR on the parameter Jacobian)"


@cvxlens.hookimpl
def cvxlens_register_methods(register):
    register(NTK)
