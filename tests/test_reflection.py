"""Tests of the ``reflection`` method (1-D Lasso of Zeger et al. 2024)."""

import cvxpy as cp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cvxlens
from cvxlens import Problem, UnsupportedProblemError
from cvxlens.nonconvex import random_restarts

import cvxlens_reflection as R


def _prob(x, y, beta):
    return Problem(np.asarray(x, float).reshape(-1, 1), np.asarray(y, float), beta, bias="free")


def _free_bias_group_lasso(x, y, beta):
    """Independent check: cvxpy group Lasso over the enumerated patterns of [x, 1] with free
    biases (only the w-part of each group is penalized, an unpenalized offset c; MATH.md)."""
    X1 = np.column_stack([x, np.ones_like(x)])
    D = cvxlens.enumerate_patterns(X1).astype(float)
    P = D.shape[1]
    U = cp.Variable((2, P))
    V = cp.Variable((2, P))
    c = cp.Variable()
    pred = 0
    cons = []
    for i in range(P):
        Di = D[:, i]
        pred = pred + cp.multiply(Di, X1 @ (U[:, i] - V[:, i]))
        S = (2 * Di - 1)
        cons += [cp.multiply(S, X1 @ U[:, i]) >= 0, cp.multiply(S, X1 @ V[:, i]) >= 0]
    obj = 0.5 * cp.sum_squares(pred + c - y) + beta * (cp.sum(cp.abs(U[0])) + cp.sum(cp.abs(V[0])))
    pr = cp.Problem(cp.Minimize(obj), cons)
    pr.solve(solver="CLARABEL")
    return pr.value


def test_math_md_example():
    p = _prob([0, 2, 6, 7], [0, 0, 3, 3], 0.1)
    sol = cvxlens.solve(p, "reflection")
    assert sol.objective == pytest.approx(0.1275, abs=1e-10)
    assert sol.status == "optimal"
    assert sol.bound_kind == "global"
    assert sol.lower_bound <= sol.objective + 1e-12
    assert sol.gap < 1e-9
    assert p.objective(sol.network) == pytest.approx(sol.objective, abs=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_equals_free_bias_group_lasso_and_restarts_never_beat_it(seed):
    rng = np.random.default_rng(seed)
    n = 6
    x = rng.standard_normal(n)
    y = rng.standard_normal(n)
    beta = 0.05
    p = _prob(x, y, beta)
    sol = cvxlens.solve(p, "reflection")
    ref = _free_bias_group_lasso(x, y, beta)
    assert sol.objective == pytest.approx(ref, rel=1e-6, abs=1e-8)
    # the recovered network's J is the Lasso optimum
    assert sol.objective == pytest.approx(sol.info["lasso_objective"], rel=1e-12, abs=1e-12)
    assert sol.lower_bound <= sol.objective + 1e-12 and sol.gap < 1e-8
    best, _, all_j = random_restarts(p, width=n, n_restarts=5, seed=seed, max_iter=500)
    assert np.all(all_j >= sol.lower_bound - 1e-9)
    assert best >= sol.objective - 1e-7


def test_lasso_plugin_free_bias_agrees():
    try:
        cvxlens.get_method("lasso")
    except Exception:
        pytest.skip("the lasso plugin is not available")
    rng = np.random.default_rng(5)
    x = rng.standard_normal(5)
    y = rng.standard_normal(5)
    p = _prob(x, y, 0.1)
    try:
        other = cvxlens.solve(p, "lasso", patterns="exact")
    except (UnsupportedProblemError, TypeError, ValueError) as exc:
        pytest.skip(f"lasso plugin cannot solve bias='free' with exact patterns: {exc}")
    mine = cvxlens.solve(p, "reflection")
    assert mine.objective == pytest.approx(other.objective, rel=1e-5, abs=1e-7)


def test_sklearn_solver_agrees():
    rng = np.random.default_rng(3)
    x = rng.uniform(-2, 2, 12)
    y = np.abs(x) + 0.1 * rng.standard_normal(12)
    p = _prob(x, y, 0.02)
    a = cvxlens.solve(p, "reflection")
    b = cvxlens.solve(p, "reflection", solver="sklearn")
    assert a.objective == pytest.approx(b.objective, rel=1e-7)


@settings(max_examples=15, deadline=None)
@given(st.lists(st.tuples(st.integers(-5, 5), st.floats(-3, 3)), min_size=1, max_size=7),
       st.floats(0.01, 1.0), st.randoms(use_true_random=False))
def test_invariant_to_order_and_handles_duplicates(pts, beta, rnd):
    """Duplicate x (integers in a small range), unsorted input: permuting samples leaves the
    optimum unchanged, the certificate holds, and the network's J is the reported value."""
    x = np.array([p[0] for p in pts], float)
    y = np.array([p[1] for p in pts], float)
    perm = list(range(len(x)))
    rnd.shuffle(perm)
    s1 = cvxlens.solve(_prob(x, y, beta), "reflection")
    s2 = cvxlens.solve(_prob(x[perm], y[perm], beta), "reflection")
    assert s1.objective == pytest.approx(s2.objective, rel=1e-7, abs=1e-9)
    assert s1.lower_bound <= s1.objective + 1e-9
    assert s1.gap <= 1e-7 * max(1.0, s1.objective)


def test_constant_y_and_single_sample():
    p = _prob([3.0, 1.0, 2.0], [4.0, 4.0, 4.0], 0.1)
    sol = cvxlens.solve(p, "reflection")
    assert sol.objective == pytest.approx(0.0, abs=1e-12)
    assert sol.network.n_neurons == 0
    assert sol.network.c == pytest.approx(4.0)
    p1 = _prob([1.5], [-2.0], 0.3)
    s1 = cvxlens.solve(p1, "reflection")
    assert s1.objective == pytest.approx(0.0, abs=1e-12)
    assert s1.network.predict(np.array([[1.5]]))[0] == pytest.approx(-2.0)


def test_closed_form_two_points():
    # two points: one ramp between them; J(z) = 1/2 (Δy - zΔx)^2/2 ... checked against cvxpy
    x, y, beta = np.array([0.0, 1.0]), np.array([0.0, 1.0]), 0.1
    # f = xi + z (x - 0)_+ at the data: residuals e0 = -xi, e1 = 1 - xi - z; optimal xi splits
    # the residual, so J = 1/4 (1 - z)^2 + beta z, minimized at z = 1 - 2 beta.
    z = 1 - 2 * beta
    expected = 0.25 * (1 - z) ** 2 + beta * z
    sol = cvxlens.solve(_prob(x, y, beta), "reflection")
    assert sol.objective == pytest.approx(expected, abs=1e-12)


def test_unsupported_inputs():
    X = np.random.default_rng(0).standard_normal((5, 2))
    y = np.ones(5)
    with pytest.raises(UnsupportedProblemError, match="d = 1"):
        cvxlens.solve(Problem(X, y, 0.1, bias="free"), "reflection")
    with pytest.raises(UnsupportedProblemError, match="free"):
        cvxlens.solve(Problem(X[:, :1], y, 0.1, bias="regularized"), "reflection")
    with pytest.raises(Exception, match="depth"):
        cvxlens.solve(Problem(X[:, :1], y, 0.1, bias="free"), "reflection", depth=5)


@pytest.mark.parametrize("depth", [3, 4])
def test_deeper_dictionaries(depth):
    x = np.array([0.0, 2.0, 6.0, 7.0])
    y = np.array([0.0, 0.0, 3.0, 3.0])
    p = _prob(x, y, 0.1)
    s2 = cvxlens.solve(p, "reflection")
    sd = cvxlens.solve(p, "reflection", depth=depth)
    # deeper dictionaries contain the ramps, so their Lasso value is no larger
    assert sd.info["lasso_objective"] <= s2.objective + 1e-9
    # the reported objective is the two-layer J of the returned network: never below min J
    assert sd.objective == pytest.approx(p.objective(sd.network), abs=1e-12)
    assert sd.objective >= s2.objective - 1e-9
    assert sd.lower_bound <= s2.objective + 1e-9
    # the two-layer realization reproduces the Lasso fit at the data
    A, specs = R.reflection_dictionary(x, depth)
    z, xi, primal, _, _ = R.solve_lasso(A, y, 0.1)
    assert primal == pytest.approx(sd.info["lasso_objective"], abs=1e-7)


def test_reflection_features_present_at_depth_4():
    x = np.array([0.0, 1.0, 3.0])
    _, (S, a, anchors) = R.reflection_dictionary(x, 4)
    reflections = {2 * xj - xi for xi in x for xj in x} - set(x)
    assert reflections & set(np.round(a, 12))


def test_two_layer_realization_exact():
    rng = np.random.default_rng(0)
    kinks = np.sort(rng.uniform(-3, 3, 6))
    vals = rng.standard_normal(6)
    sl, sr = 0.7, -1.3

    def f(t):
        t = np.asarray(t, float)
        out = np.interp(t, kinks, vals)
        out = np.where(t < kinks[0], vals[0] + sl * (t - kinks[0]), out)
        return np.where(t > kinks[-1], vals[-1] + sr * (t - kinks[-1]), out)

    net = R.two_layer_realization(kinks, f)
    grid = np.linspace(-6, 6, 301)
    np.testing.assert_allclose(net.predict(grid.reshape(-1, 1)), f(grid), atol=1e-9)


def test_ramp_correlations_match_dense():
    rng = np.random.default_rng(1)
    x = np.round(rng.standard_normal(20), 1)
    lam = rng.standard_normal(20)
    u = np.unique(x)
    A = np.hstack([np.maximum(x[:, None] - u[None, :], 0), np.maximum(u[None, :] - x[:, None], 0)])
    np.testing.assert_allclose(R.ramp_correlations(x, lam, u), A.T @ lam, atol=1e-10)


def test_conformance():
    testing = pytest.importorskip("cvxlens.testing")
    testing.check_method("reflection")
