"""The ``meanfield`` method: particle energy == J, approach to the exact group-Lasso optimum
(cvxpy over enumerated activation patterns), more particles never worse on average, honest
bounds and statuses."""

import numpy as np
import pytest

import cvxlens
from cvxlens import OptionError, Problem
from cvxlens.nonconvex import fit_lbfgs
from cvxlens.testing import check_method
from cvxlens_meanfield import network_from_particles, particle_energy
from _reference import group_lasso_reference


def group_lasso_optimum(Xd, y, beta):
    return group_lasso_reference(Xd, y, beta).value


def _data(n=8, d=2, seed=1):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)), rng.standard_normal(n)


@pytest.mark.parametrize("bias", ["none", "regularized", "free"])
@pytest.mark.parametrize("loss", ["squared", "logistic"])
def test_J_equals_particle_energy(bias, loss):
    X, y = _data(n=12, d=3)
    if loss == "logistic":
        y = np.where(y >= 0, 1.0, -1.0)
    p = Problem(X, y, 0.2, loss=loss, bias=bias)
    sol = cvxlens.solve(p, "meanfield", width=30, steps=300, init="gaussian")
    net = sol.network
    m = net.width
    sm = np.sqrt(m)
    # independent evaluation of E(theta) with f = (1/m) sum a_j (x.w_j + b_j)_+ + c
    w, b, a = net.W * sm, net.b * sm, net.alpha * sm
    f = np.maximum(X @ w + b, 0) @ a / m + net.c
    sq = (w**2).sum() + (a**2).sum() + ((b**2).sum() if bias == "regularized" else 0.0)
    energy = p.loss_value(f) + 0.5 * p.beta * sq / m
    assert sol.objective == pytest.approx(energy, rel=1e-12)
    assert sol.objective == pytest.approx(p.objective(net), rel=1e-12)
    assert sol.info["particle_energy"] == pytest.approx(energy, rel=1e-12)
    if bias == "none":
        assert np.all(net.b == 0) and net.c == 0
    if bias == "regularized":
        assert net.c == 0


def test_particle_map_roundtrip():
    rng = np.random.default_rng(0)
    X, y = _data(n=9, d=2)
    p = Problem(X, y, 0.3, bias="regularized")
    w, b, a = rng.standard_normal((2, 7)), rng.standard_normal(7), rng.standard_normal(7)
    assert p.objective(network_from_particles(w, b, a)) == pytest.approx(
        particle_energy(p, w, b, a), rel=1e-13)


@pytest.mark.parametrize("beta", [0.1, 0.3])
def test_approaches_the_group_lasso_optimum(beta):
    X, y = _data()
    p = Problem(X, y, beta, bias="regularized")
    opt = group_lasso_optimum(p.design(), y, beta)
    sol = cvxlens.solve(p, "meanfield", width=50, steps=20000, tol=0.0, seed=1)
    assert opt * (1 - 1e-6) <= sol.objective <= opt * 1.01
    # the global dual bound (exact polar on this small arrangement) is below the optimum
    assert sol.bound_kind == "global" and sol.info["lower_bound_polar"].startswith("exact")
    assert sol.lower_bound <= opt * (1 + 1e-6)


def test_more_particles_never_worse_on_average():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((10, 2))
    y = np.maximum(X @ [1.0, -1.0], 0) - np.maximum(X @ [0.5, 1.0] - 0.3, 0) \
        + 0.1 * rng.standard_normal(10)
    p = Problem(X, y, 0.05, bias="regularized")
    means = [np.mean([cvxlens.solve(p, "meanfield", width=w, steps=3000, seed=s).objective
                      for s in range(5)]) for w in (2, 5, 20, 80)]
    assert all(b <= a * (1 + 1e-3) for a, b in zip(means, means[1:])), means


def test_restarts_never_beat_optimum_and_meanfield_is_a_near_stationary_point():
    X, y = _data()
    p = Problem(X, y, 0.3, bias="regularized")
    opt = group_lasso_optimum(p.design(), y, 0.3)
    sol = cvxlens.solve(p, "meanfield", width=40, steps=5000)
    polished = p.objective(fit_lbfgs(p, sol.network, max_iter=3000))
    assert opt * (1 - 1e-6) <= polished <= sol.objective + 1e-12


def test_history_time_and_monotone_best():
    X, y = _data(n=20)
    p = Problem(X, y, 0.2, bias="free")
    sol = cvxlens.solve(p, "meanfield", width=20, steps=2000)
    ts = [t for t, _ in sol.history]
    vs = [v for _, v in sol.history]
    assert ts == sorted(ts) and all(np.diff(vs) <= 1e-15)
    assert vs[-1] == pytest.approx(sol.objective, rel=1e-12)
    assert sol.lower_bound is None  # no bound for the free convention


def test_statuses():
    X, y = _data(n=20)
    p = Problem(X, y, 0.2)
    assert cvxlens.solve(p, "meanfield", width=10, steps=200, tol=0.0).status == "max_iter"
    assert cvxlens.solve(p, "meanfield", width=10, steps=10**6, tol=1e-2).status == "converged"
    t = cvxlens.solve(p, "meanfield", width=10, steps=10**8, tol=0.0, time_limit=0.2)
    assert t.status == "timeout" and t.objective is not None and t.n_iter > 0


def test_step_and_init_options():
    X, y = _data(n=15)
    p = Problem(X, y, 0.2)
    a = cvxlens.solve(p, "meanfield", width=10, steps=500, lr=1e-3, init="gaussian")
    assert a.info["init"] == "gaussian" and np.isfinite(a.objective)
    # an absurd step is caught: unstable steps restart from the best particles with half the step
    b = cvxlens.solve(p, "meanfield", width=10, steps=200, lr=1e6, init="gaussian")
    assert b.info["unstable_resets"] > 0 and np.isfinite(b.objective)
    for bad in ({"width": 0}, {"init": "uniform"}, {"lr": -1.0}, {"tol": -1}, {"steps": 1.5}):
        with pytest.raises(OptionError):
            cvxlens.solve(p, "meanfield", **bad)


@pytest.mark.parametrize("bias", ["free", "none"])
def test_conformance(bias):
    """The default problem (bias regularized) is checked by tests/test_conformance.py."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((8, 2))
    y = np.maximum(X @ [1.0, 0.5] + 0.2, 0) + 0.1 * rng.standard_normal(8)
    check_method("meanfield", Problem(X, y, 0.1, bias=bias), width=30, steps=600)


@pytest.mark.slow
@pytest.mark.parametrize("bias", ["regularized", "none"])
def test_approaches_the_optimum_in_three_dimensions(bias):
    rng = np.random.default_rng(3)
    X = rng.standard_normal((12, 3))
    y = np.maximum(X @ [1.0, -0.5, 0.3] + 0.2, 0) - np.maximum(X @ [0.2, 1.0, -1.0], 0) \
        + 0.1 * rng.standard_normal(12)
    p = Problem(X, y, 0.05, bias=bias)
    opt = group_lasso_optimum(p.design(), y, 0.05)
    sol = cvxlens.solve(p, "meanfield", width=100, steps=40000, tol=0.0, seed=0)
    assert opt * (1 - 1e-6) <= sol.objective <= opt * 1.01
    assert sol.lower_bound <= opt * (1 + 1e-6)
