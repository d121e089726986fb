"""hv (Haeffele & Vidal 2017): reaches the convex optimum on small data, honest bounds."""

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

import cvxlens
from cvxlens import Problem, ReLUNetwork
from cvxlens.testing import check_method

import cvxlens_hv as H
from _reference import group_lasso_reference


def group_lasso_ref(X, y, beta):
    return group_lasso_reference(X, y, beta).value


@pytest.mark.parametrize("bias", ["none", "regularized"])
@pytest.mark.parametrize("seed", [0, 1])
def test_reaches_group_lasso_optimum(bias, seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((10, 2))
    y = rng.standard_normal(10)
    p = Problem(X, y, beta=0.1, bias=bias)
    sol = cvxlens.solve(p, "hv", seed=seed)
    ref = group_lasso_ref(p.design(), y, 0.1)
    assert sol.objective <= ref * (1 + 1e-3)
    assert sol.bound_kind == "global"
    assert sol.lower_bound <= ref * (1 + 1e-8)
    assert sol.objective >= sol.lower_bound
    assert sol.objective == pytest.approx(p.objective(sol.network), rel=1e-12)


def test_free_bias_known_1d_answer():
    X = np.array([[0.0], [2.0], [6.0], [7.0]])
    y = np.array([0.0, 0.0, 3.0, 3.0])
    sol = cvxlens.solve(Problem(X, y, beta=0.1, bias="free"), "hv")
    assert sol.objective == pytest.approx(0.1275, rel=1e-3)
    assert sol.lower_bound <= 0.1275 + 1e-9


def test_line_search_is_the_exact_minimizer_along_the_ray():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((9, 2))
    y = rng.standard_normal(9)
    p = Problem(X, y, beta=0.2, bias="none")
    net = ReLUNetwork(rng.standard_normal((2, 2)), None, rng.standard_normal(2))
    r = y - net.predict(X)
    res = cvxlens.polar(X, r)
    assert res.value > 0.2
    h = np.maximum(X @ res.u, 0)
    t = H.line_search_t(h, r, 0.2)
    s = np.sign(h @ r)

    def J(tau):
        return p.objective(ReLUNetwork(np.hstack([net.W, tau * res.u[:, None]]), None,
                                       np.append(net.alpha, s * tau)))

    taus = np.linspace(0, 3 * np.sqrt(t), 3001)
    vals = np.array([J(x) for x in taus])
    assert J(np.sqrt(t)) <= vals.min() + 1e-12
    assert J(np.sqrt(t)) < J(0.0)  # the expansion strictly decreases J
    # J along the ray is the quartic const - t|h.r| + t^2 ||h||^2 / 2 + beta t, t = tau^2
    tt = taus ** 2
    quartic = J(0.0) - tt * abs(h @ r) + 0.5 * tt ** 2 * (h @ h) + 0.2 * tt
    np.testing.assert_allclose(vals, quartic, rtol=1e-10, atol=1e-10)


def test_heuristic_oracle_gives_no_bound():
    rng = np.random.default_rng(4)
    X = rng.standard_normal((12, 2))
    y = rng.standard_normal(12)
    sol = cvxlens.solve(Problem(X, y, beta=0.1), "hv", patterns=100)
    assert sol.lower_bound is None and sol.bound_kind is None
    assert not sol.info["pricing_exact"]


def test_time_limit_is_honored():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 5))
    y = rng.standard_normal(300)
    sol = cvxlens.solve(Problem(X, y, beta=0.01), "hv", time_limit=1.5)
    assert sol.status == "timeout"
    assert sol.time_s < 6.0
    assert np.isfinite(sol.objective) and sol.network.n_neurons >= 1


def test_max_neurons_caps_growth():
    rng = np.random.default_rng(5)
    X = rng.standard_normal((15, 2))
    y = rng.standard_normal(15)
    sol = cvxlens.solve(Problem(X, y, beta=0.01), "hv", max_neurons=2, polish=False)
    assert sol.network.n_neurons <= 3
    assert sol.status in ("max_iter", "converged", "optimal")


def test_merge_and_fixed_pattern_step_never_increase_J():
    rng = np.random.default_rng(6)
    X = rng.standard_normal((10, 2))
    y = rng.standard_normal(10)
    p = Problem(X, y, beta=0.1, bias="regularized")
    net = ReLUNetwork(rng.standard_normal((2, 4)), rng.standard_normal(4), rng.standard_normal(4))
    J0 = p.objective(net)
    m = H._merge(p, net)
    assert p.objective(m) <= J0 + 1e-12
    f = H._fixed_pattern_step(p, m)
    assert p.objective(f) <= p.objective(m) + 1e-12


def test_conformance():
    with threadpool_limits(limits=1):  # L-BFGS-B is ~70x slower with threaded BLAS under load
        check_method("hv", max_iter=50)
