"""Tests of the ``lasso`` method (Pilanci–Ergen exact ReLU program, survey eq. 18)."""

import cvxpy as cp
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cvxlens
from cvxlens import OptionError, Problem, ReLUNetwork
from cvxlens.nonconvex import random_restarts

from cvxlens_lasso import _recover as R


def _independent_program(X, y, beta, bias):
    """Independent check: the program of MATH.md written group by group in cvxpy over the
    enumerated patterns of the design (none: X; regularized: [X, 1])."""
    Xa = np.column_stack([X, np.ones(len(X))]) if bias == "regularized" else X
    D = cvxlens.enumerate_patterns(Xa).astype(float)
    P = D.shape[1]
    U = cp.Variable((Xa.shape[1], P))
    V = cp.Variable((Xa.shape[1], P))
    pred, cons, reg = 0, [], 0
    for i in range(P):
        S = 2 * D[:, i] - 1
        pred = pred + cp.multiply(D[:, i], Xa @ (U[:, i] - V[:, i]))
        cons += [cp.multiply(S, Xa @ U[:, i]) >= 0, cp.multiply(S, Xa @ V[:, i]) >= 0]
        reg = reg + cp.norm(U[:, i]) + cp.norm(V[:, i])
    pr = cp.Problem(cp.Minimize(0.5 * cp.sum_squares(pred - y) + beta * reg), cons)
    pr.solve(solver="CLARABEL", tol_gap_abs=1e-10, tol_gap_rel=1e-10, tol_feas=1e-10)
    return pr.value


def _rand(n, d, seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = np.sin(2 * X[:, 0]) + 0.3 * rng.standard_normal(n)
    return X, y


SURVEY_X = np.array([[2.0, 2.0], [3.0, 3.0], [1.0, 0.0]])  # survey eq. (20), samples as rows


def test_survey_three_point_example():
    # eq. (20): 3 nonzero hyperplane-arrangement patterns
    assert cvxlens.enumerate_patterns(SURVEY_X).shape[1] == 3
    y = np.array([1.0, -1.0, 2.0])
    prob = Problem(SURVEY_X, y, beta=0.1, bias="none")
    ref = _independent_program(SURVEY_X, y, 0.1, "none")
    for solver in ("native", "cvxpy"):
        sol = cvxlens.solve(prob, "lasso", patterns="exact", solver=solver, tol=1e-9)
        assert sol.bound_kind == "global"
        assert abs(sol.objective - ref) <= 1e-7 * ref
        assert sol.lower_bound <= sol.objective + 1e-12
        assert (sol.objective - sol.lower_bound) <= 1e-6 * sol.objective
        # the network's J is the program's value at the returned point
        assert abs(sol.objective - sol.info["program_value"]) <= 1e-10 * sol.objective
    best, _, _ = random_restarts(prob, width=4, n_restarts=15, seed=1)
    assert best >= ref * (1 - 1e-8)


def test_one_d_free_bias_matches_reflection_lasso_value():
    # MATH.md: x = (0,2,6,7), y = (0,0,3,3), beta = 0.1 -> 0.1275
    prob = Problem(np.array([[0.0], [2.0], [6.0], [7.0]]), [0.0, 0.0, 3.0, 3.0], 0.1, bias="free")
    sol = cvxlens.solve(prob, "lasso", patterns="exact")
    assert sol.objective == pytest.approx(0.1275, rel=1e-8)
    assert sol.bound_kind == "global"  # exact 1-D polar
    assert 0.1275 * (1 - 1e-6) <= sol.lower_bound + 1e-9 <= 0.1275 + 1e-9
    assert sol.network.c != 0.0 or np.any(sol.network.b != 0.0)


@pytest.mark.parametrize("bias", ["none", "regularized"])
def test_enumerated_optimum_equals_cvxpy_and_beats_restarts(bias):
    X, y = _rand(7, 2, seed=3)
    prob = Problem(X, y, beta=0.2, bias=bias)
    ref = _independent_program(X, y, 0.2, bias)
    nat = cvxlens.solve(prob, "lasso", patterns="exact", tol=1e-10)
    cvx = cvxlens.solve(prob, "lasso", patterns="exact", solver="cvxpy")
    for sol in (nat, cvx):
        assert sol.objective == pytest.approx(ref, rel=1e-8)
        assert sol.bound_kind == "global"
        assert sol.network.n_neurons <= prob.n + 1
        assert abs(sol.objective - sol.info["program_value"]) <= 1e-10 * sol.objective
    best, _, _ = random_restarts(prob, width=6, n_restarts=20, seed=0)
    assert best >= nat.objective * (1 - 1e-8)


def test_init_network_patterns_bound_its_objective():
    X, y = _rand(40, 3, seed=5)
    prob = Problem(X, y, beta=0.5)
    rng = np.random.default_rng(0)
    net = ReLUNetwork(rng.standard_normal((3, 6)), rng.standard_normal(6),
                      rng.standard_normal(6))
    j0 = prob.objective(net)
    for solver in ("native", "cvxpy"):
        sol = cvxlens.solve(prob, "lasso", patterns=5, init_network=net, solver=solver)
        assert sol.objective <= j0 + 1e-9 * abs(j0)
        assert sol.bound_kind == "subsampled"
        assert sol.info["n_patterns"] >= 6


def test_sampled_patterns_label_bounds_subsampled_and_keep_global_in_info():
    X, y = _rand(30, 3, seed=2)
    prob = Problem(X, y, beta=0.3)
    sol = cvxlens.solve(prob, "lasso", patterns=40)
    assert sol.bound_kind == "subsampled"
    assert sol.info["pattern_kind"] == "sampled"
    assert sol.lower_bound <= sol.objective + 1e-10
    # the crude global bound is always below the subsampled optimum... and is kept aside
    assert sol.info["global_lower_bound"] <= sol.objective + 1e-10


def test_native_matches_cvxpy_on_sampled_patterns():
    X, y = _rand(50, 3, seed=7)
    prob = Problem(X, y, beta=0.4)
    a = cvxlens.solve(prob, "lasso", patterns=60, tol=1e-9)
    b = cvxlens.solve(prob, "lasso", patterns=60, solver="cvxpy")
    assert a.objective == pytest.approx(b.objective, rel=1e-7)
    assert a.status == "converged"


def test_logistic_through_cvxpy_has_valid_bound():
    X, _ = _rand(8, 2, seed=4)
    y = np.where(X[:, 0] * X[:, 1] > 0, 1.0, -1.0)
    prob = Problem(X, y, beta=0.2, loss="logistic")
    sol = cvxlens.solve(prob, "lasso", patterns="exact")
    assert "cvxpy" in sol.message
    assert sol.bound_kind == "global"
    assert sol.lower_bound <= sol.objective + 1e-9
    assert sol.objective - sol.lower_bound <= 1e-5 * sol.objective
    best, _, _ = random_restarts(prob, width=6, n_restarts=8, seed=0)
    assert best >= sol.lower_bound - 1e-9


def test_reduction_keeps_value_and_caps_neurons():
    X, y = _rand(5, 2, seed=11)
    prob = Problem(X, y, beta=0.01)
    Xa = prob.design()
    D = cvxlens.enumerate_patterns(Xa)
    rng = np.random.default_rng(0)
    cols, signs, pats = [], [], []
    for i in range(D.shape[1]):  # one feasible group per cone and sign: many more than n + 1
        g = R.interior_direction(Xa, D[:, i])
        for s in (1.0, -1.0):
            cols.append(g * rng.uniform(0.1, 1.0))
            signs.append(s)
            pats.append(i)
    G = R.Groups(np.array(cols).T, signs, pats)
    before = R.program_value(Xa, D, y, 0.01, G, Xa.shape[1])
    red = R.reduce_groups(Xa, G, Xa.shape[1], False)
    assert G.m > prob.n + 1 >= red.m
    after = R.program_value(Xa, D, y, 0.01, red, Xa.shape[1])
    assert after == pytest.approx(before, rel=1e-9)
    assert prob.objective(R.groups_to_network(prob, red)) == pytest.approx(before, rel=1e-9)


def test_bad_options_are_explained():
    prob = Problem(*_rand(6, 2, seed=0), beta=0.1)
    with pytest.raises(OptionError, match="patterns"):
        cvxlens.solve(prob, "lasso", patterns="all")
    with pytest.raises(OptionError, match="patterns"):
        cvxlens.solve(prob, "lasso", patterns=np.ones((6, 3)))  # not boolean
    with pytest.raises(OptionError, match="rows"):
        cvxlens.solve(prob, "lasso", patterns=np.ones((5, 3), dtype=bool))
    with pytest.raises(OptionError, match="init_network"):
        cvxlens.solve(prob, "lasso", init_network="net")


def test_conformance():
    from cvxlens.testing import check_method
    check_method("lasso")


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), beta=st.floats(0.05, 2.0),
       bias=st.sampled_from(["none", "regularized"]))
def test_bounds_are_honest_property(seed, beta, bias):
    X, y = _rand(6, 2, seed)
    prob = Problem(X, y, beta=beta, bias=bias)
    sol = cvxlens.solve(prob, "lasso", patterns="exact", tol=1e-8)
    assert sol.lower_bound <= sol.objective + 1e-10 * max(1.0, sol.objective)
    ref = _independent_program(X, y, beta, bias)  # the true min J (Theorem 1)
    assert sol.lower_bound <= ref + 1e-7 * max(1.0, ref)
    # a sampled program's subsampled bound is below its own objective as well
    sub = cvxlens.solve(prob, "lasso", patterns=4, seed=seed)
    assert sub.lower_bound <= sub.objective + 1e-10 * max(1.0, sub.objective)
    assert sub.objective >= ref * (1 - 1e-7)
