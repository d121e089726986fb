"""Tests of the non-convex baselines `sgd` and `adam` (plugins/cvxlens_baselines).

Also an independent check of the core ``Problem.objective_and_grad`` against central finite
differences for every loss and bias convention.
"""

import itertools

import numpy as np
import pytest

import cvxlens
from cvxlens import Problem, ReLUNetwork
from cvxlens_baselines import (
    PATIENCE, _full_J, _grad_into, _Params, batch_grad, initial_network,
)

LOSSES = ("squared", "logistic", "hinge")
BIASES = ("none", "regularized", "free")
FAST = dict(width=8, epochs=40, n_init=2, lr=[1e-2, 1e-1], batch_size=5)


def _problem(loss, bias, n=12, d=3, beta=0.1, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = X[:, 0] - np.abs(X[:, 1]) + 0.1 * rng.standard_normal(n)
    if loss != "squared":
        y = np.where(y > np.median(y), 1.0, -1.0)
    return Problem(X, y, beta, loss=loss, bias=bias)


def _random_weights(prob, m=5, seed=1):
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((prob.d, m))
    b = rng.standard_normal(m) if prob.bias != "none" else np.zeros(m)
    alpha = rng.standard_normal(m)
    c = 0.3 if prob.bias == "free" else 0.0
    return W, b, alpha, c


def _free_mask(prob, W, b, alpha):
    """Which entries of theta = (W, b, alpha, c) are free under the bias convention."""
    d, m = W.shape
    return np.concatenate([np.ones(d * m + 0, bool), np.full(m, prob.bias != "none"),
                           np.ones(m, bool), [prob.bias == "free"]])


def _pack(W, b, alpha, c):
    return np.concatenate([W.ravel(), b, alpha, [c]])


def _unpack(theta, d, m):
    return (theta[:d * m].reshape(d, m), theta[d * m:d * m + m], theta[d * m + m:d * m + 2 * m],
            float(theta[-1]))


def test_registered():
    infos = {i.name: i for i in cvxlens.list_methods()}
    for name in ("sgd", "adam"):
        assert name in infos and infos[name].error is None
        caps = infos[name].capabilities
        assert set(caps.losses) == set(LOSSES) and set(caps.biases) == set(BIASES)
        assert not caps.lower_bound


@pytest.mark.parametrize("loss,bias", list(itertools.product(LOSSES, BIASES)))
def test_core_gradient_matches_finite_differences(loss, bias):
    """Problem.objective_and_grad against central differences (away from ReLU/hinge kinks)."""
    prob = _problem(loss, bias)
    W, b, alpha, c = _random_weights(prob)
    d, m = W.shape
    Z = prob.X @ W + b
    assert np.abs(Z).min() > 1e-4  # no point sits on a kink
    if loss == "hinge":
        pred = np.maximum(Z, 0) @ alpha + c
        assert np.abs(1 - prob.y * pred).min() > 1e-4
    J, (dW, db, dalpha, dc) = prob.objective_and_grad(W, b, alpha, c)
    assert J == pytest.approx(prob.objective(ReLUNetwork(W, b, alpha, c)), rel=1e-12)
    theta = _pack(W, b, alpha, c)
    grad = _pack(dW, db, dalpha, dc)
    mask = _free_mask(prob, W, b, alpha)
    h = 1e-6
    fd = np.zeros_like(theta)
    for k in np.flatnonzero(mask):
        e = np.zeros_like(theta)
        e[k] = h
        fd[k] = (prob.objective_and_grad(*_unpack(theta + e, d, m))[0]
                 - prob.objective_and_grad(*_unpack(theta - e, d, m))[0]) / (2 * h)
    np.testing.assert_allclose(grad[mask], fd[mask], rtol=1e-6, atol=1e-6)
    # parameters fixed by the convention get a zero gradient
    assert np.all(grad[~mask] == 0)


@pytest.mark.parametrize("loss,bias", list(itertools.product(LOSSES, BIASES)))
def test_minibatch_gradients_are_consistent_with_J(loss, bias):
    """Full batch = grad(J)/n exactly; the mean over a partition into equal batches too."""
    prob = _problem(loss, bias)
    n = prob.n
    W, b, alpha, c = _random_weights(prob)
    _, full = prob.objective_and_grad(W, b, alpha, c)
    full = _pack(*full) / n
    got = _pack(*batch_grad(prob, np.arange(n), W, b, alpha, c))
    np.testing.assert_allclose(got, full, rtol=1e-12, atol=1e-14)
    perm = np.random.default_rng(3).permutation(n)
    avg = np.mean([_pack(*batch_grad(prob, perm[i:i + 4], W, b, alpha, c))
                   for i in range(0, n, 4)], axis=0)
    np.testing.assert_allclose(avg, full, rtol=1e-10, atol=1e-14)
    # the flat in-place version used in the training loop agrees with batch_grad
    d, m = W.shape
    P, G = _Params(d, m, (W, b, alpha, c)), _Params(d, m)
    idx = perm[:5]
    _grad_into(prob, prob.X[idx], prob.y[idx], P, G, prob.beta / n)
    np.testing.assert_allclose(G.theta, _pack(*batch_grad(prob, idx, W, b, alpha, c)),
                               rtol=1e-12, atol=1e-14)
    assert _full_J(prob, P) == pytest.approx(prob.objective(ReLUNetwork(W, b, alpha, c)),
                                             rel=1e-12)


@pytest.mark.parametrize("bias", BIASES)
def test_initialization_is_balanced_and_respects_convention(bias):
    prob = _problem("squared", bias, n=30)
    W, b, alpha, c = initial_network(prob, 20, np.random.default_rng(0))
    norms = (W**2).sum(axis=0) + (b**2 if bias == "regularized" else 0)
    np.testing.assert_allclose(np.sqrt(norms), np.abs(alpha), rtol=1e-12)
    prob.objective(ReLUNetwork(W, b, alpha, c))  # raises if the convention is broken
    if bias == "none":
        assert np.all(b == 0) and c == 0
    else:  # every hyperplane passes through a training point
        Z = prob.X @ W + b
        assert np.all(np.min(np.abs(Z), axis=0) < 1e-12)


@pytest.mark.parametrize("method", ["sgd", "adam"])
@pytest.mark.parametrize("loss,bias", list(itertools.product(LOSSES, BIASES)))
def test_every_loss_and_bias_decreases_J(method, loss, bias):
    prob = _problem(loss, bias, n=20)
    sol = cvxlens.solve(prob, method, seed=0, **FAST)
    assert sol.status in ("converged", "max_iter")
    assert sol.lower_bound is None and sol.bound_kind is None
    assert "objective_mismatch" not in sol.info
    J0 = sol.history[0][1]
    assert sol.objective < 0.9 * J0
    assert sol.objective == pytest.approx(min(v for _, v in sol.history), rel=1e-12)
    assert sol.network.n_neurons == FAST["width"]
    spread = sol.info["init_J_spread"]
    assert spread["min"] == pytest.approx(sol.objective, rel=1e-12)
    assert spread["min"] <= spread["median"] <= spread["max"]
    assert sol.info["n_runs"] == 4


@pytest.mark.parametrize("method", ["sgd", "adam"])
def test_deterministic_for_a_seed(method):
    prob = _problem("squared", "regularized", n=20)
    a = cvxlens.solve(prob, method, seed=3, **FAST)
    b = cvxlens.solve(prob, method, seed=3, **FAST)
    c = cvxlens.solve(prob, method, seed=4, **FAST)
    assert a.objective == b.objective
    np.testing.assert_array_equal(a.network.W, b.network.W)
    np.testing.assert_array_equal(a.network.alpha, b.network.alpha)
    assert c.objective != a.objective


def _certified_optimum(prob):
    """min J by the exact group Lasso (survey eq. 18) over ALL activation patterns (cvxpy)."""
    cp = pytest.importorskip("cvxpy")
    Xd = prob.design()
    D = cvxlens.enumerate_patterns(Xd).astype(float)
    n, p = Xd.shape
    P = D.shape[1]
    U, V = cp.Variable((p, P)), cp.Variable((p, P))
    pred = 0
    cons = []
    for i in range(P):
        DX = D[:, i:i + 1] * Xd
        pred = pred + DX @ (U[:, i] - V[:, i])
        S = (2 * D[:, i:i + 1] - 1) * Xd
        cons += [S @ U[:, i] >= 0, S @ V[:, i] >= 0]
    obj = 0.5 * cp.sum_squares(pred - prob.y) + prob.beta * (
        cp.sum(cp.norm(U, 2, axis=0)) + cp.sum(cp.norm(V, 2, axis=0)))
    val = cp.Problem(cp.Minimize(obj), cons).solve(solver=cp.CLARABEL)
    return float(val)


@pytest.mark.parametrize("method", ["sgd", "adam"])
def test_close_to_certified_optimum_on_tiny_problem(method):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((8, 2))
    y = np.abs(X[:, 0]) - X[:, 1] + 0.05 * rng.standard_normal(8)
    prob = Problem(X, y, beta=0.1, bias="regularized")
    opt = _certified_optimum(prob)
    sol = cvxlens.solve(prob, method, seed=0, width=20, epochs=400, n_init=3,
                        lr=[3e-3, 1e-2, 3e-2, 1e-1], batch_size=None)
    assert sol.objective >= opt - 1e-6 * max(1.0, opt)  # never below the certified optimum
    assert sol.objective <= 1.03 * opt


def test_time_limit_returns_best_so_far_with_timeout():
    ds = cvxlens.load_dataset("synthetic", n=2000, d=5, seed=0)
    prob = ds.problem()
    sol = cvxlens.solve(prob, "adam", seed=0, epochs=100000, n_init=3, time_limit=0.3)
    assert sol.status == "timeout"
    assert np.isfinite(sol.objective) and sol.objective <= sol.history[0][1]
    assert sol.time_s < 5.0
    assert "time limit" in sol.message


def test_tol_stops_as_converged():
    prob = _problem("squared", "regularized", n=20)
    sol = cvxlens.solve(prob, "adam", seed=0, width=8, epochs=20000, n_init=1, lr=1e-2,
                        batch_size=None, tol=1e-4, schedule="constant")
    assert sol.status == "converged"
    assert sol.n_iter < 20000 and sol.n_iter >= PATIENCE
    off = cvxlens.solve(prob, "adam", seed=0, width=8, epochs=30, n_init=1, lr=1e-2, tol=0)
    assert off.status == "max_iter" and off.n_iter == 30


def test_divergent_step_sizes_are_reported_not_returned():
    prob = _problem("squared", "regularized", n=20)
    sol = cvxlens.solve(prob, "sgd", seed=0, width=8, epochs=50, n_init=1,
                        lr=[1e-2, 1e6], batch_size=None, record_traces=True)
    assert sol.info["n_diverged"] == 1 and "diverged" in sol.message
    assert sol.info["best_lr"] == 1e-2
    assert [r["J"] is None for r in sol.info["runs"]] == [False, True]
    assert len(sol.info["traces"]) == 2
    tr = sol.info["traces"][0]
    assert tr["lr"] == 1e-2 and len(tr["seconds"]) == len(tr["J"]) == 51
    assert tr["J"][0] == sol.history[0][1] and min(tr["J"]) == sol.objective
    assert sol.info["traces"][1]["status"] == "diverged"
    allbad = cvxlens.solve(prob, "sgd", seed=0, width=8, epochs=5, n_init=1, lr=1e8)
    assert np.isfinite(allbad.objective) and allbad.info["n_diverged"] == 1


def test_option_validation():
    prob = _problem("squared", "regularized")
    with pytest.raises(cvxlens.UnknownOptionError, match="valid options: .*momentum"):
        cvxlens.solve(prob, "sgd", learning_rate=0.1)
    with pytest.raises(cvxlens.UnknownOptionError):
        cvxlens.solve(prob, "adam", momentum=0.9)  # adam has betas, not momentum
    for bad in (dict(lr=-1.0), dict(lr=[]), dict(lr=[0.1, "x"]), dict(width=0),
                dict(batch_size=0), dict(epochs=1.5), dict(momentum=1.0), dict(tol=-1),
                dict(schedule="step"), dict(n_init=True)):
        with pytest.raises(cvxlens.OptionError):
            cvxlens.solve(prob, "sgd", **bad)
    for bad in (dict(betas=(0.9,)), dict(betas=(0.9, 1.0)), dict(eps=0)):
        with pytest.raises(cvxlens.OptionError):
            cvxlens.solve(prob, "adam", **bad)
    # a scalar lr and batch_size larger than n are fine
    sol = cvxlens.solve(prob, "sgd", lr=0.05, batch_size=1000, epochs=3, n_init=1, width=4)
    assert sol.info["lr_grid"] == [0.05]


def test_mean_scale_gives_the_same_network():
    prob = _problem("squared", "free", n=20)
    mean = Problem(prob.X, prob.y, prob.beta / prob.n, bias="free", scale="mean")
    a = cvxlens.solve(prob, "adam", seed=0, **FAST)
    b = cvxlens.solve(mean, "adam", seed=0, **FAST)
    assert b.objective == pytest.approx(a.objective / prob.n, rel=1e-9)


@pytest.mark.parametrize("method", ["sgd", "adam"])
def test_conformance(method):
    testing = pytest.importorskip("cvxlens.testing")
    testing.check_method(method, width=6, epochs=20, n_init=2, lr=[1e-2, 1e-1])


try:
    from hypothesis import given, settings
    from hypothesis import strategies as st
except ImportError:  # pragma: no cover
    given = None

if given is not None:
    @settings(max_examples=25, deadline=None)
    @given(n=st.integers(2, 12), d=st.integers(1, 4), m=st.integers(1, 6),
           loss=st.sampled_from(LOSSES), bias=st.sampled_from(BIASES),
           seed=st.integers(0, 10_000), bs=st.integers(1, 12))
    def test_property_batch_gradients_average_to_the_gradient_of_J(n, d, m, loss, bias, seed,
                                                                     bs):
        """For any partition into batches, sum_B |B|/n * grad_B = grad(J)/n (unbiasedness)."""
        rng = np.random.default_rng(seed)
        X = rng.standard_normal((n, d))
        y = rng.standard_normal(n) if loss == "squared" else rng.choice([-1.0, 1.0], n)
        prob = Problem(X, y, 0.3, loss=loss, bias=bias)
        # Gaussian weights: no sample sits exactly on a kink (initial_network puts one there on
        # purpose, where the ReLU subgradient depends on the rounding of X @ W)
        W, alpha = rng.standard_normal((d, m)), rng.standard_normal(m)
        b = rng.standard_normal(m) if bias != "none" else np.zeros(m)
        c = 0.5 if bias == "free" else 0.0
        full = _pack(*prob.objective_and_grad(W, b, alpha, c)[1]) / n
        perm = rng.permutation(n)
        parts = [perm[i:i + bs] for i in range(0, n, bs)]
        avg = sum(len(p) / n * _pack(*batch_grad(prob, p, W, b, alpha, c)) for p in parts)
        np.testing.assert_allclose(avg, full, rtol=1e-9, atol=1e-12)


def test_auto_epochs():
    from cvxlens_baselines import MIN_EPOCHS, MIN_STEPS, auto_epochs

    assert auto_epochs(2393, 100) == MIN_EPOCHS          # 24 steps per epoch: 4800 steps
    assert auto_epochs(3, 100) == MIN_STEPS              # one full-batch step per epoch
    assert auto_epochs(20, 5) == MIN_STEPS // 4
    assert auto_epochs(20, None) == MIN_STEPS
    assert auto_epochs(20, 5, epochs=7) == 7
    prob = _problem("squared", "none", n=6)
    sol = cvxlens.solve(prob, "adam", width=3, n_init=1, lr=1e-2, tol=0)
    assert sol.n_iter == MIN_STEPS
