"""Tests of the ``path3`` method (three-layer parallel ReLU networks, path regularization)."""

import math

import numpy as np
import pytest

import cvxlens
from cvxlens import ParallelReLUNetwork3, Problem, ProblemTooLargeError, UnsupportedProblemError

import cvxlens_path3 as P3

SURVEY_X = np.array([[2.0, 2.0], [3.0, 3.0], [1.0, 0.0]])
SURVEY_Y = np.array([1.0, 2.0, -1.0])


def _restarts(problem, m1, m2, K, n, seed, max_iter=1500):
    rng = np.random.default_rng(seed)
    d = problem.d
    out = []
    for _ in range(n):
        b1 = rng.standard_normal((K, m1)) if problem.bias == "regularized" else None
        net = ParallelReLUNetwork3(rng.standard_normal((K, d, m1)), rng.standard_normal((K, m1, m2)),
                                   rng.standard_normal((K, m2)), b1)
        out.append(problem.objective(P3.lbfgs_path3(problem, net, max_iter=max_iter)))
    return np.array(out)


def test_core_path_norm_matches_eq32():
    """Problem.objective of a ParallelReLUNetwork3 is eq. 32 with beta (not beta/2), by hand."""
    rng = np.random.default_rng(0)
    W1 = rng.standard_normal((2, 2, 3))
    W2 = rng.standard_normal((2, 3, 2))
    al = rng.standard_normal((2, 2))
    b1 = rng.standard_normal((2, 3))
    p = Problem(SURVEY_X, SURVEY_Y, 0.3, bias="regularized")
    net = ParallelReLUNetwork3(W1, W2, al, b1)
    f = np.zeros(3)
    pen = 0.0
    for k in range(2):
        h1 = np.maximum(SURVEY_X @ W1[k] + b1[k], 0)
        f += np.maximum(h1 @ W2[k], 0) @ al[k]
        s = 0.0
        for i in range(3):
            for j in range(2):
                s += (W1[k][:, i] @ W1[k][:, i] + b1[k, i] ** 2) * W2[k, i, j] ** 2 * al[k, j] ** 2
        pen += math.sqrt(s)
    assert p.objective(net) == pytest.approx(0.5 * np.sum((f - SURVEY_Y) ** 2) + 0.3 * pen)


@pytest.mark.parametrize("bias", ["none", "regularized"])
def test_gradient_matches_finite_differences(bias):
    rng = np.random.default_rng(1)
    p = Problem(SURVEY_X, SURVEY_Y, 0.2, bias=bias)
    W1 = rng.standard_normal((2, 2, 2))
    W2 = rng.standard_normal((2, 2, 2))
    al = rng.standard_normal((2, 2))
    b1 = rng.standard_normal((2, 2)) if bias == "regularized" else np.zeros((2, 2))
    J, grads = P3.objective_and_grad3(p, W1, W2, al, b1)
    params = [W1, W2, al, b1] if bias == "regularized" else [W1, W2, al]
    eps = 1e-6
    for which, arr in enumerate(params):
        for idx in np.ndindex(arr.shape):
            args = [W1.copy(), W2.copy(), al.copy(), b1.copy()]
            args[which][idx] += eps
            Jp = P3.objective_and_grad3(p, *args)[0]
            args[which][idx] -= 2 * eps
            Jm = P3.objective_and_grad3(p, *args)[0]
            assert (Jp - Jm) / (2 * eps) == pytest.approx(grads[which][idx], rel=1e-4, abs=1e-6)


def _check_exact(bias, m1, m2, n_restarts, max_iter):
    p = Problem(SURVEY_X, SURVEY_Y, 0.1, bias=bias)
    sol = cvxlens.solve(p, "path3", m1=m1, m2=m2, patterns="exact")
    assert sol.bound_kind == "global"
    assert isinstance(sol.network, ParallelReLUNetwork3)
    # the reconstructed network's path-regularized J equals the convex optimum
    assert sol.objective == pytest.approx(sol.info["program_value"], rel=1e-6, abs=1e-8)
    assert sol.lower_bound <= sol.objective + 1e-12
    assert sol.gap <= 1e-4 * sol.objective
    restarts = _restarts(p, m1, m2, K=6, n=n_restarts, seed=0, max_iter=max_iter)
    assert np.all(restarts >= sol.lower_bound - 1e-9)
    assert restarts.min() >= sol.objective - 1e-6


def test_exact_patterns_global_optimum_and_restarts_never_beat_it():
    _check_exact("none", 2, 1, n_restarts=4, max_iter=300)


@pytest.mark.slow
@pytest.mark.parametrize("bias,m1,m2", [("none", 2, 1), ("regularized", 2, 1), ("none", 2, 2),
                                        ("regularized", 3, 1)])
def test_exact_patterns_many_restarts(bias, m1, m2):
    _check_exact(bias, m1, m2, n_restarts=6, max_iter=1000)


@pytest.mark.parametrize("bias", ["none", "regularized"])
@pytest.mark.parametrize("m2", [1, 4])
def test_m1_equal_one_is_two_layer_group_lasso_with_beta_over_sqrt_m2(bias, m2):
    """With m1 = 1 each unit is alpha' (x w1)_+ with path norm |alpha'| ||w1|| / sqrt(m2) at best
    (Cauchy-Schwarz over the m2 copies), so the three-layer optimum is the two-layer weight-decay
    optimum (group Lasso, beta sum ||u||) at beta / sqrt(m2)."""
    beta = 0.1
    p = Problem(SURVEY_X, SURVEY_Y, beta, bias=bias)
    sol = cvxlens.solve(p, "path3", m1=1, m2=m2, patterns="exact")
    two = _two_layer_group_lasso(p.with_beta(beta / math.sqrt(m2)))
    assert sol.objective == pytest.approx(two, rel=1e-6)


def _two_layer_group_lasso(p):
    """Independent cvxpy group Lasso (survey eq. 18) over enumerated patterns of the design."""
    import cvxpy as cp

    Xd = p.design()
    D = cvxlens.enumerate_patterns(Xd).astype(float)
    U = cp.Variable((Xd.shape[1], D.shape[1]))
    V = cp.Variable((Xd.shape[1], D.shape[1]))
    pred = cp.sum(cp.multiply(D, Xd @ (U - V)), axis=1)
    cons = [cp.multiply(2 * D - 1, Xd @ U) >= 0, cp.multiply(2 * D - 1, Xd @ V) >= 0]
    obj = 0.5 * cp.sum_squares(pred - p.y) + p.beta * (cp.sum(cp.norm(U, 2, axis=0))
                                                       + cp.sum(cp.norm(V, 2, axis=0)))
    pr = cp.Problem(cp.Minimize(obj), cons)
    pr.solve(solver="CLARABEL")
    return pr.value


def test_lasso_plugin_agrees_for_m1_one():
    try:
        cvxlens.get_method("lasso")
    except Exception:
        pytest.skip("lasso plugin not available")
    p = Problem(SURVEY_X, SURVEY_Y, 0.1, bias="regularized")
    a = cvxlens.solve(p, "path3", m1=1, m2=1, patterns="exact")
    b = cvxlens.solve(p, "lasso")
    assert a.objective == pytest.approx(b.objective, rel=1e-5)


def test_deeper_is_no_worse_than_m1_one():
    p = Problem(SURVEY_X, SURVEY_Y, 0.1, bias="none")
    one = cvxlens.solve(p, "path3", m1=1, patterns="exact").objective
    two = cvxlens.solve(p, "path3", m1=2, patterns="exact").objective
    assert two <= one + 1e-7


def test_sampled_patterns_are_labelled_subsampled():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((12, 3))
    y = rng.standard_normal(12)
    p = Problem(X, y, 0.1, bias="regularized")
    sol = cvxlens.solve(p, "path3", m1=2, patterns=(20, 60), seed=1)
    assert sol.bound_kind == "subsampled"
    assert sol.objective == pytest.approx(p.objective(sol.network))
    assert sol.lower_bound <= sol.objective + 1e-9
    again = cvxlens.solve(p, "path3", m1=2, patterns=(20, 60), seed=1)
    assert again.objective == pytest.approx(sol.objective, rel=1e-8)


def test_exact_refuses_when_too_large():
    rng = np.random.default_rng(0)
    p = Problem(rng.standard_normal((30, 4)), rng.standard_normal(30), 0.1)
    with pytest.raises(ProblemTooLargeError, match="patterns"):
        cvxlens.solve(p, "path3", m1=3, patterns="exact")


def test_unsupported_and_bad_options():
    with pytest.raises(UnsupportedProblemError, match="free"):
        cvxlens.solve(Problem(SURVEY_X, SURVEY_Y, 0.1, bias="free"), "path3")
    with pytest.raises(Exception, match="patterns"):
        cvxlens.solve(Problem(SURVEY_X, SURVEY_Y, 0.1), "path3", patterns="many")
    with pytest.raises(Exception, match="m1"):
        cvxlens.solve(Problem(SURVEY_X, SURVEY_Y, 0.1), "path3", m1=0)


def test_conformance():
    testing = pytest.importorskip("cvxlens.testing")
    testing.check_method("path3")
