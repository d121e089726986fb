"""colgen (Bengio et al. 2005) against independent cvxpy solves of the same convex programs."""

import cvxpy as cp
import numpy as np
import pytest
from threadpoolctl import threadpool_limits

import cvxlens
from cvxlens import Problem
from cvxlens.nonconvex import random_restarts
from cvxlens.polar import merge_atoms
from cvxlens.testing import check_method

import cvxlens_colgen as C
from _reference import group_lasso_reference


def group_lasso_ref(X, y, beta, loss="squared", intercept=False):
    return group_lasso_reference(X, y, beta, loss, intercept).value


def data(seed, n=10, d=2, labels=False):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = np.sign(rng.standard_normal(n)) if labels else rng.standard_normal(n)
    if labels:
        y[y == 0] = 1.0
    return X, y


@pytest.mark.parametrize("bias", ["none", "regularized"])
@pytest.mark.parametrize("seed", [0, 1])
def test_squared_reaches_group_lasso_optimum_with_tight_certificate(bias, seed):
    X, y = data(seed)
    p = Problem(X, y, beta=0.1, bias=bias)
    sol = cvxlens.solve(p, "colgen", tol=1e-9)
    ref = group_lasso_ref(p.design(), y, 0.1)
    assert sol.status == "optimal" and sol.bound_kind == "global"
    assert abs(sol.objective - ref) <= 1e-6 * ref
    assert sol.lower_bound <= ref * (1 + 1e-8)
    assert sol.objective - sol.lower_bound <= 1e-6 * sol.objective  # tight certificate
    assert sol.objective == pytest.approx(p.objective(sol.network), rel=1e-12)
    assert "objective_mismatch" not in sol.info


def test_restarts_never_beat_the_certificate():
    X, y = data(3, n=8)
    p = Problem(X, y, beta=0.05, bias="regularized")
    sol = cvxlens.solve(p, "colgen")
    with threadpool_limits(limits=1):  # L-BFGS-B is ~70x slower with threaded BLAS under load
        best, _, allj = random_restarts(p, width=6, n_restarts=8, seed=0)
    assert np.all(allj >= sol.lower_bound - 1e-9)
    assert best >= sol.objective - 1e-6 * sol.objective


def test_free_bias_matches_known_1d_answer():
    # MATH.md: x = (0,2,6,7), y = (0,0,3,3), beta = 0.1 -> optimal value 0.1275
    X = np.array([[0.0], [2.0], [6.0], [7.0]])
    y = np.array([0.0, 0.0, 3.0, 3.0])
    sol = cvxlens.solve(Problem(X, y, beta=0.1, bias="free"), "colgen", tol=1e-9)
    assert sol.objective == pytest.approx(0.1275, rel=1e-6)
    assert sol.lower_bound == pytest.approx(0.1275, rel=1e-6)
    assert sol.bound_kind == "global"


def test_free_bias_2d_against_group_lasso_with_shifted_atoms():
    """Free bias in d = 2 equals the group Lasso over [X, 1] with the bias unpenalized; check
    via the non-convex objective: restarts never beat the certificate, and the gap is tight."""
    X, y = data(4, n=8)
    p = Problem(X, y, beta=0.1, bias="free")
    sol = cvxlens.solve(p, "colgen", tol=1e-9)
    assert sol.status == "optimal"
    assert sol.objective - sol.lower_bound <= 1e-6 * sol.objective
    with threadpool_limits(limits=1):
        _, _, allj = random_restarts(p, width=6, n_restarts=6, seed=1)
    assert np.all(allj >= sol.lower_bound - 1e-9)


@pytest.mark.parametrize("bias", ["none", "regularized"])
def test_logistic_matches_reference(bias):
    X, y = data(9, n=12, labels=True)  # (Clarabel's exponential cones fail on some seeds)
    p = Problem(X, y, beta=0.5, loss="logistic", bias=bias)
    sol = cvxlens.solve(p, "colgen", tol=1e-9)
    ref = group_lasso_ref(p.design(), y, 0.5, loss="logistic")
    assert sol.objective == pytest.approx(ref, rel=1e-6)
    assert sol.lower_bound <= ref * (1 + 1e-7)
    assert sol.objective - sol.lower_bound <= 1e-5 * sol.objective


@pytest.mark.parametrize("bias", ["none", "regularized", "free"])
def test_hinge_at_most_n_plus_one_neurons_and_optimal(bias):
    X, y = data(6, n=12, labels=True)
    p = Problem(X, y, beta=0.3, loss="hinge", bias=bias)
    sol = cvxlens.solve(p, "colgen", tol=1e-9)
    assert sol.network.n_neurons <= p.n + 1  # Bengio et al. 2005
    assert sol.status == "optimal"
    assert sol.objective - sol.lower_bound <= 1e-6 * max(1.0, sol.objective)
    if bias != "free":
        ref = group_lasso_ref(p.design(), y, 0.3, loss="hinge")
        assert sol.objective == pytest.approx(ref, rel=1e-6)


def test_heuristic_pricing_gives_no_certificate():
    X, y = data(7, n=12)
    sol = cvxlens.solve(Problem(X, y, beta=0.1), "colgen", patterns=200)
    assert sol.lower_bound is None and sol.bound_kind is None
    assert sol.status in ("converged", "max_iter")
    assert not sol.info["pricing_exact"]


def test_history_and_price_trace():
    X, y = data(8)
    sol = cvxlens.solve(Problem(X, y, beta=0.1), "colgen")
    assert len(sol.history) == len(sol.info["history_price"]) >= 2
    J = [v for _, v in sol.history]
    assert all(b <= a + 1e-9 for a, b in zip(J, J[1:]))  # re-optimizing never increases J
    assert sol.info["history_price"][-1][1] <= 0.1 * (1 + 1e-6)


def test_time_limit_is_honored():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 5))
    y = rng.standard_normal(300)
    sol = cvxlens.solve(Problem(X, y, beta=0.01), "colgen", time_limit=1.0)
    assert sol.status == "timeout"
    assert sol.time_s < 5.0
    assert np.isfinite(sol.objective)


def test_bad_options():
    X, y = data(0)
    with pytest.raises(cvxlens.OptionError, match="patterns"):
        cvxlens.solve(Problem(X, y, beta=0.1), "colgen", patterns="many")
    with pytest.raises(cvxlens.UnknownOptionError, match="valid options"):
        cvxlens.solve(Problem(X, y, beta=0.1), "colgen", width=3)


def test_master_squared_matches_cvxpy_with_dependent_columns():
    rng = np.random.default_rng(1)
    H = rng.standard_normal((8, 5))
    H = np.hstack([H, H[:, :2] @ rng.standard_normal((2, 3))])  # 8 columns, rank 5
    y = rng.standard_normal(8)
    for intercept in (False, True):
        a, c = C.master_squared(H, y, 0.3, intercept)
        v = cp.Variable(H.shape[1])
        cc = cp.Variable() if intercept else 0.0
        pr = cp.Problem(cp.Minimize(0.5 * cp.sum_squares(H @ v + cc - y) + 0.3 * cp.norm1(v)))
        pr.solve(solver=cp.CLARABEL, tol_gap_abs=1e-11, tol_gap_rel=1e-11)
        mine = 0.5 * np.sum((H @ a + c - y) ** 2) + 0.3 * np.abs(a).sum()
        assert mine == pytest.approx(pr.value, rel=1e-8)


def test_master_logistic_matches_cvxpy():
    rng = np.random.default_rng(2)
    H = np.abs(rng.standard_normal((20, 4)))
    y = np.sign(rng.standard_normal(20))
    a, c = C.master_logistic(H, y, 0.4, True)
    v, cc = cp.Variable(4), cp.Variable()
    pr = cp.Problem(cp.Minimize(cp.sum(cp.logistic(-cp.multiply(y, H @ v + cc)))
                                + 0.4 * cp.norm1(v)))
    pr.solve(solver=cp.CLARABEL)
    mine = np.logaddexp(0, -y * (H @ a + c)).sum() + 0.4 * np.abs(a).sum()
    assert mine == pytest.approx(pr.value, rel=1e-7)


def test_merge_atoms_keeps_fit_and_lowers_penalty():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((10, 2))
    u = rng.standard_normal(2)
    u /= np.linalg.norm(u)
    v = u + 1e-3 * rng.standard_normal(2)
    v /= np.linalg.norm(v)
    assert np.array_equal(X @ u >= 0, X @ v >= 0)
    atoms = np.stack([u, v], axis=1)
    alpha = np.array([0.7, 0.4])
    merged = merge_atoms(atoms, alpha, X, False)
    assert merged is not None
    A, a = merged
    assert A.shape[1] == 1
    np.testing.assert_allclose(np.maximum(X @ A, 0) @ a, np.maximum(X @ atoms, 0) @ alpha)
    assert abs(a).sum() <= abs(alpha).sum()


def test_conformance():
    with threadpool_limits(limits=1):
        check_method("colgen")


@pytest.mark.parametrize("bias", ["none", "regularized"])
def test_agrees_with_lasso_plugin_and_hv(bias):
    """colgen to 1e-6 and hv to 1e-3 of the `lasso` plugin with enumerated patterns."""
    X, y = data(12, n=10)
    p = Problem(X, y, beta=0.1, bias=bias)
    try:
        ref = cvxlens.solve(p, "lasso", patterns="exact")
    except cvxlens.UnknownMethodError:  # pragma: no cover - lasso plugin not installed
        pytest.skip("lasso plugin not available")
    cg = cvxlens.solve(p, "colgen", tol=1e-9)
    hv = cvxlens.solve(p, "hv")
    assert cg.objective == pytest.approx(ref.objective, rel=1e-6)
    assert hv.objective <= ref.objective * (1 + 1e-3)
    assert cg.lower_bound <= ref.objective * (1 + 1e-8)
