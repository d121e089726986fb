"""The arc-cosine / NTK kernels (closed forms vs Monte Carlo over millions of Gaussian neurons)
and the ``ntk`` method (kernel ridge vs scikit-learn, exact output-layer fits vs cvxpy,
Nyström, random-features and lazy realizations)."""

import cvxpy as cp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.kernel_ridge import KernelRidge

import cvxlens
from cvxlens import OptionError, Problem, ReLUNetwork
from cvxlens.kernels import (arccos0_kernel, arccos1_kernel, empirical_ntk, kernel_matrix,
                             ntk_kernel)
from cvxlens.testing import check_method
from cvxlens_ntk import _antisymmetric_init, _linearized_fit, _network

E = np.eye(3)


# ------------------------------------------------------------------ closed forms
def test_known_values():
    assert arccos1_kernel(E[:1], E[1:2])[0, 0] == pytest.approx(1 / (2 * np.pi), rel=1e-14)
    assert arccos0_kernel(E[:1], E[1:2])[0, 0] == pytest.approx(0.25, rel=1e-14)
    assert ntk_kernel(E[:1])[0, 0] == pytest.approx(1.0, rel=1e-14)
    # antiparallel: kappa0 = 0, kappa1 = 0; parallel: kappa0 = 1/2, kappa1 = |x||z|/2
    x = np.array([[1.0, 2.0, -1.0]])
    assert arccos0_kernel(x, -x)[0, 0] == pytest.approx(0.0, abs=1e-15)
    assert arccos1_kernel(x, -3 * x)[0, 0] == pytest.approx(0.0, abs=1e-12)
    assert arccos1_kernel(x, 2 * x)[0, 0] == pytest.approx(6.0 * 2 / 2, rel=1e-12)
    assert ntk_kernel(x)[0, 0] == pytest.approx(6.0, rel=1e-12)  # Theta(x, x) = |x|^2


def test_zero_norm_inputs():
    X = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 0.0]])
    k0 = arccos0_kernel(X)
    assert k0[0, 0] == 1.0 and k0[0, 2] == 1.0 and k0[0, 1] == 0.5 and k0[1, 0] == 0.5
    assert np.all(arccos1_kernel(X)[[0, 2]] == 0.0)
    assert np.all(ntk_kernel(X)[:, [0, 2]] == 0.0)
    assert np.all(np.isfinite(ntk_kernel(X)))


def test_cosine_clipping_near_parallel():
    x = np.array([[1e8, 1e-8, 3.0]])
    K = ntk_kernel(np.vstack([x, x * (1 + 1e-15)]))
    assert np.all(np.isfinite(K))
    assert K[0, 1] == pytest.approx(float((x @ x.T)[0, 0]) * (1 + 1e-15), rel=1e-12)


def test_closed_forms_match_monte_carlo():
    """E over 4 million Gaussian neurons, ties counted active as in cvxlens.patterns."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((6, 3))
    X[4] = 0.0  # zero-norm row
    X[5] = -0.5 * X[0]  # antiparallel pair
    n_total, chunk = 4_000_000, 500_000
    S0 = np.zeros((6, 6))
    S1 = np.zeros((6, 6))
    SN = np.zeros((6, 6))
    for _ in range(n_total // chunk):
        W = rng.standard_normal((3, chunk))
        a = rng.standard_normal(chunk)
        P = X @ W
        H = np.maximum(P, 0.0)
        A = (P >= 0).astype(float)
        S0 += A @ A.T
        S1 += H @ H.T
        SN += H @ H.T + (X @ X.T) * (((P > 0) * a**2) @ (P > 0).T)
    scale = np.outer(np.linalg.norm(X, axis=1), np.linalg.norm(X, axis=1)) + 1.0
    assert np.max(np.abs(S0 / n_total - arccos0_kernel(X))) < 2e-3
    assert np.max(np.abs(S1 / n_total - arccos1_kernel(X)) / scale) < 3e-3
    assert np.max(np.abs(SN / n_total - ntk_kernel(X)) / scale) < 6e-3


def test_empirical_ntk_of_wide_network_approaches_theta():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((5, 3))
    theta = ntk_kernel(X)
    errs = []
    for m in (100, 10_000, 1_000_000):
        W = rng.standard_normal((3, m))
        a = rng.standard_normal(m)
        errs.append(np.max(np.abs(empirical_ntk(X, W, a) - theta)) / np.max(np.abs(theta)))
    assert errs[2] < 0.01
    assert errs[2] < errs[1] < errs[0]


_rows = arrays(np.float64, st.tuples(st.integers(1, 7), st.just(3)),
               elements=st.floats(-10, 10, allow_nan=False, width=64))


@settings(max_examples=40, deadline=None)
@given(_rows)
def test_symmetric_and_psd(X):
    for name in ("ntk", "arccos0", "arccos1"):
        K = kernel_matrix(name, X)
        assert np.array_equal(K, K.T) or np.allclose(K, K.T, rtol=1e-12, atol=1e-12)
        ev = np.linalg.eigvalsh(0.5 * (K + K.T))
        assert ev.min() >= -1e-9 * max(1.0, ev.max())


def test_kernel_errors():
    with pytest.raises(ValueError, match="unknown kernel"):
        kernel_matrix("rbf", E)
    with pytest.raises(ValueError, match="same d"):
        ntk_kernel(E, np.ones((2, 2)))


# ------------------------------------------------------------------ the ntk method
def _data(n=20, d=2, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = np.sin(X @ np.array([1.0, -2.0][:d])) + 0.1 * rng.standard_normal(n)
    return X, y


@pytest.mark.parametrize("kernel", ["ntk", "arccos0", "arccos1"])
@pytest.mark.parametrize("bias", ["none", "regularized"])
def test_kernel_ridge_matches_sklearn(kernel, bias):
    X, y = _data()
    p = Problem(X, y, 0.3, bias=bias)
    sol = cvxlens.solve(p, "ntk", kernel=kernel)
    assert sol.objective is None and sol.network.n_neurons is None
    Xd = p.design()
    kr = KernelRidge(alpha=0.3, kernel="precomputed").fit(kernel_matrix(kernel, Xd), y)
    Xt, _ = _data(n=7, seed=5)
    Xtd = Problem(Xt, np.zeros(7), 1.0, bias=bias).design()
    np.testing.assert_allclose(sol.network.predict(Xt),
                               kr.predict(kernel_matrix(kernel, Xtd, Xd)), rtol=1e-8, atol=1e-10)


def test_kernel_ridge_free_offset_is_exact_minimizer():
    X, y = _data()
    y = y + 3.0
    p = Problem(X, y, 0.5, bias="free")
    sol = cvxlens.solve(p, "ntk")
    Xd = np.hstack([X, np.ones((len(X), 1))])
    K = ntk_kernel(Xd)
    c, c0 = cp.Variable(len(y)), cp.Variable()
    L = np.linalg.cholesky(K + 1e-12 * np.eye(len(y)))
    obj = 0.5 * cp.sum_squares(K @ c + c0 - y) + 0.25 * cp.sum_squares(L.T @ c)
    cp.Problem(cp.Minimize(obj)).solve(solver=cp.CLARABEL)
    np.testing.assert_allclose(sol.network.predict(X), K @ c.value + c0.value, atol=1e-5)
    assert sol.network.intercept == pytest.approx(float(c0.value), abs=1e-4)


def test_kernel_logistic_regression_matches_cvxpy():
    X, y = _data(n=16)
    y = np.where(y >= 0, 1.0, -1.0)
    p = Problem(X, y, 0.2, loss="logistic", bias="regularized")
    sol = cvxlens.solve(p, "ntk")
    K = ntk_kernel(p.design())
    s, U = np.linalg.eigh(K)
    F = U * np.sqrt(np.maximum(s, 0))
    a = cp.Variable(len(y))
    cp.Problem(cp.Minimize(cp.sum(cp.logistic(-cp.multiply(y, F @ a))) + 0.1 * cp.sum_squares(a))
               ).solve(solver=cp.CLARABEL)
    np.testing.assert_allclose(sol.network.predict(X), F @ a.value, atol=2e-4)  # conic solver tol


def test_nystroem_above_exact_limit_is_announced_and_exact_with_all_landmarks():
    X, y = _data(n=30)
    p = Problem(X, y, 0.3)
    exact = cvxlens.solve(p, "ntk")
    approx = cvxlens.solve(p, "ntk", exact_limit=10, n_components=30)
    assert approx.info["approximation"] == "nystroem" and "Nyström" in approx.message
    assert exact.info["approximation"] == "exact"
    # with every training point as a landmark the Nyström kernel is the exact kernel
    np.testing.assert_allclose(approx.network.predict(X), exact.network.predict(X), atol=1e-6)
    few = cvxlens.solve(p, "ntk", exact_limit=10, n_components=8)
    assert few.info["n_components"] == 8 and few.network.centers.shape[0] == 8


def test_features_output_layer_is_exact_minimizer_of_J():
    X, y = _data(n=25)
    for bias in ("none", "regularized", "free"):
        for kernel in ("arccos1", "ntk"):
            p = Problem(X, y, 0.4, bias=bias)
            sol = cvxlens.solve(p, "ntk", kernel=kernel, realize="features", width=30, seed=3)
            net = sol.network
            assert isinstance(net, ReLUNetwork) and net.width == 30
            assert sol.objective == pytest.approx(p.objective(net), rel=1e-12)
            # independent: cvxpy ridge over (alpha, c) with W, b fixed
            H = net.hidden(X)
            a = cp.Variable(30)
            c = cp.Variable() if bias == "free" else 0.0
            pen = (net.W**2).sum() + ((net.b**2).sum() if bias == "regularized" else 0.0)
            obj = 0.5 * cp.sum_squares(H @ a + c - y) + 0.2 * (cp.sum_squares(a) + pen)
            pr = cp.Problem(cp.Minimize(obj))
            pr.solve(solver=cp.CLARABEL)
            assert sol.objective == pytest.approx(pr.value, rel=1e-6)
            assert sol.objective <= pr.value + 1e-9 * abs(pr.value) + 1e-7
            if kernel == "ntk":  # the re-fit can only lower J below the lazy network's J
                assert sol.objective <= sol.info["lazy_objective"] + 1e-9


def test_features_logistic_output_layer_is_exact_minimizer():
    X, y = _data(n=25)
    y = np.where(y >= 0, 1.0, -1.0)
    p = Problem(X, y, 0.3, loss="logistic", bias="free")
    sol = cvxlens.solve(p, "ntk", kernel="arccos1", realize="features", width=20)
    net = sol.network
    J, (_, _, dalpha, dc) = p.objective_and_grad(net.W, net.b, net.alpha, net.c)
    assert np.linalg.norm(dalpha) < 1e-6 and abs(dc) < 1e-6
    H = net.hidden(X)
    a, c = cp.Variable(20), cp.Variable()
    obj = cp.sum(cp.logistic(-cp.multiply(y, H @ a + c))) + 0.15 * (cp.sum_squares(a)
                                                                     + (net.W**2).sum())
    pr = cp.Problem(cp.Minimize(obj))
    pr.solve(solver=cp.CLARABEL)
    assert J == pytest.approx(pr.value, rel=1e-6)


def test_random_features_approach_the_kernel_predictor():
    X, y = _data(n=15)
    p = Problem(X, y, 0.5, bias="regularized")
    ker = cvxlens.solve(p, "ntk", kernel="arccos1").network.predict(X)
    errs = [np.max(np.abs(cvxlens.solve(p, "ntk", kernel="arccos1", realize="features",
                                        width=m, seed=0).network.predict(X) - ker))
            for m in (50, 50_000)]
    assert errs[1] < 0.02 and errs[1] < errs[0] / 5


def _lazy(p, m, seed=0, exact_limit=10**6):
    Xd = p.design()
    W0, a0 = _antisymmetric_init(np.random.default_rng(seed), Xd.shape[1], m)
    dW, da, c, _ = _linearized_fit(Xd, p.y, p.beta, W0, a0, p.bias == "free", exact_limit)
    return W0, a0, dW, da, c


def test_lazy_network_approaches_the_ntk_predictor():
    X, y = _data(n=12)
    p = Problem(X, y, 1.0, bias="regularized")
    ker = cvxlens.solve(p, "ntk", kernel="ntk").network.predict(X)
    errs = []
    for m in (100, 40_000):
        W0, a0, dW, da, c = _lazy(p, m)
        np.testing.assert_allclose(np.maximum(p.design() @ W0, 0) @ a0, 0, atol=1e-10)  # f0 = 0
        lazy = _network(p, (W0 + dW) / np.sqrt(m), a0 + da, c)
        errs.append(np.max(np.abs(lazy.predict(X) - ker)))
    assert errs[1] < 0.02 and errs[1] < errs[0]
    # the reported lazy objective is J of exactly this network
    sol = cvxlens.solve(p, "ntk", kernel="ntk", realize="features", width=100, seed=0)
    W0, a0, dW, da, c = _lazy(p, 100)
    lazy = _network(p, (W0 + dW) / np.sqrt(100), a0 + da, c)
    assert sol.info["lazy_objective"] == pytest.approx(p.objective(lazy), rel=1e-10)


@pytest.mark.parametrize("bias", ["regularized", "free"])
def test_linearized_fit_primal_equals_dual(bias):
    X, y = _data(n=15)
    p = Problem(X, y, 0.7, bias=bias)
    dual = _lazy(p, 8, exact_limit=10**6)
    primal = _lazy(p, 8, exact_limit=0)
    for a, b in zip(dual[2:], primal[2:]):
        np.testing.assert_allclose(a, b, atol=1e-6)


def test_arccos0_features_refused_and_bad_options():
    X, y = _data(n=6)
    p = Problem(X, y, 0.5)
    with pytest.raises(OptionError, match="step functions"):
        cvxlens.solve(p, "ntk", kernel="arccos0", realize="features")
    with pytest.raises(OptionError, match="kernel"):
        cvxlens.solve(p, "ntk", kernel="rbf")
    with pytest.raises(OptionError, match="width"):
        cvxlens.solve(p, "ntk", width=0)
    with pytest.raises(cvxlens.UnsupportedProblemError, match="hinge"):
        cvxlens.solve(Problem(X, np.sign(y) + (y == 0), 0.5, loss="hinge"), "ntk")


def test_predictor_checks_shape_and_serializes():
    X, y = _data(n=6)
    net = cvxlens.solve(Problem(X, y, 0.5), "ntk").network
    with pytest.raises(ValueError, match=r"shape \(n, 2\)"):
        net.predict(np.ones((3, 3)))
    d = net.to_dict()
    assert d["type"] == "KernelPredictor" and len(d["coef"]) == 6


@pytest.mark.parametrize("opts", [{}, {"realize": "features", "width": 30},
                                  {"realize": "features", "kernel": "arccos1", "width": 30},
                                  {"exact_limit": 4, "n_components": 6, "kernel": "arccos1"}])
def test_conformance(opts):
    check_method("ntk", **opts)


def test_psd_cholesky_adds_jitter_only_when_needed():
    from cvxlens_ntk._linear import psd_cholesky
    v = np.arange(1.0, 6.0)
    info = {}
    K = np.outer(v, v) - 1e-13 * np.eye(5)  # rank one, slightly indefinite (rounding-like)
    fac = psd_cholesky(K, 0.0, info)
    assert 0 < info["jitter"] <= 1e-5 * 25
    L = np.tril(fac[0])
    np.testing.assert_allclose(L @ L.T, K + info["jitter"] * np.eye(5), atol=1e-9)
    info2 = {}
    psd_cholesky(np.outer(v, v), 1.0, info2)
    assert "jitter" not in info2
    with pytest.raises(np.linalg.LinAlgError, match="not positive semidefinite"):
        psd_cholesky(-np.eye(3), 0.0)


def test_duplicated_points_and_tiny_beta():
    X, y = _data(n=10)
    X = np.vstack([X, X])
    y = np.concatenate([y, y])
    p = Problem(X, y, 1e-12, bias="regularized")
    sol = cvxlens.solve(p, "ntk")
    assert np.all(np.isfinite(sol.network.predict(X)))
    assert sol.status == "converged"
