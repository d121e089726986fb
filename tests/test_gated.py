"""Tests of the ``gated`` method (gated ReLU relaxation + cone decomposition)."""

import numpy as np
import pytest

import cvxlens
from cvxlens import Problem, UnsupportedProblemError

from cvxlens_lasso import _recover as R


def _rand(n, d, seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    return X, np.sin(2 * X[:, 0]) + 0.3 * rng.standard_normal(n)


@pytest.mark.parametrize("bias", ["none", "regularized"])
def test_enumerated_gated_optimum_is_a_global_lower_bound(bias):
    X, y = _rand(7, 2, seed=1)
    prob = Problem(X, y, beta=0.2, bias=bias)
    exact = cvxlens.solve(prob, "lasso", patterns="exact", solver="cvxpy")
    for solver in ("native", "cvxpy"):
        g = cvxlens.solve(prob, "gated", patterns="exact", solver=solver, tol=1e-9)
        assert g.bound_kind == "global"
        # relaxation: gated optimum <= ReLU optimum; its dual bound is below both
        assert g.info["gated_value"] <= exact.objective * (1 + 1e-8)
        assert g.lower_bound <= g.info["gated_value"] * (1 + 1e-8)
        # the returned network is a true ReLU network whose J is at least the gated optimum
        assert g.objective >= g.info["gated_value"] * (1 - 1e-8)
        assert g.objective >= exact.objective * (1 - 1e-8)
        assert abs(g.objective - g.info["program_value"]) <= 1e-9 * g.objective


def test_native_gated_matches_cvxpy_value():
    X, y = _rand(40, 3, seed=2)
    prob = Problem(X, y, beta=0.5)
    a = cvxlens.solve(prob, "gated", patterns=50, tol=1e-9)
    b = cvxlens.solve(prob, "gated", patterns=50, solver="cvxpy")
    assert a.info["gated_value"] == pytest.approx(b.info["gated_value"], rel=1e-6)
    assert a.bound_kind == b.bound_kind == "subsampled"
    assert a.lower_bound <= b.info["gated_value"] * (1 + 1e-9)


@pytest.mark.parametrize("seed", [3, 4])
def test_gated_working_set_and_fista_agree_with_cvxpy(seed):
    # the default native solver (working set + interior point) and FISTA, same program
    X, y = _rand(60, 3, seed=seed)
    prob = Problem(X, y, beta=0.3)
    ref = cvxlens.solve(prob, "gated", patterns=80, solver="cvxpy").info["gated_value"]
    ws = cvxlens.solve(prob, "gated", patterns=80, tol=1e-9)
    fi = cvxlens.solve(prob, "gated", patterns=80, solver="fista", tol=1e-7)
    assert ws.info["gated_value"] == pytest.approx(ref, rel=1e-7)
    assert fi.info["gated_value"] == pytest.approx(ref, rel=1e-5)
    assert ws.info["relative_gap"] >= 0 and fi.info["gated_value"] >= ref * (1 - 1e-9)


def test_fista_is_refused_for_the_exact_program():
    X, y = _rand(20, 2, seed=0)
    with pytest.raises(cvxlens.OptionError, match="gated relaxation only"):
        cvxlens.solve(Problem(X, y, beta=0.3), "lasso", patterns=10, solver="fista")


def test_cone_decomposition_is_exact():
    X, _ = _rand(12, 2, seed=3)
    Xa = np.column_stack([X, np.ones(12)])
    D = cvxlens.enumerate_patterns(Xa)
    rng = np.random.default_rng(0)
    for i in range(0, D.shape[1], 5):
        w = rng.standard_normal(3)
        u, v = R.cone_decompose(Xa, D[:, i], w)
        S = np.where(D[:, i], 1.0, -1.0)
        assert np.all(S * (Xa @ u) >= -1e-12) and np.all(S * (Xa @ v) >= -1e-12)
        # same masked output as the gated group, now as two ReLU neurons
        np.testing.assert_allclose(np.maximum(Xa @ u, 0) - np.maximum(Xa @ v, 0),
                                   D[:, i] * (Xa @ w), atol=1e-10)


def test_free_bias_is_refused_clearly():
    X, y = _rand(6, 1, seed=0)
    with pytest.raises(UnsupportedProblemError, match="bias"):
        cvxlens.solve(Problem(X, y, 0.1, bias="free"), "gated")


def test_conformance():
    from cvxlens.testing import check_method
    check_method("gated")
