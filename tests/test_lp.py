"""Tests of the ``lp`` method (quantized training by MILP, Bienstock, Muñoz & Pokutta 2023).

Independent checks: exhaustive enumeration of the weight grid (vectorized brute force written
here, not using the plugin's code), a closed-form continuous optimum for the eps -> 0 limit, and
the program-size estimate against the built PuLP model.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import cvxlens
from cvxlens import OptionError, ProblemTooLargeError

lp = pytest.importorskip("cvxlens_lp")

# the size test builds PuLP models directly; PuLP 3.x announces its 4.0 API on every variable
pytestmark = pytest.mark.filterwarnings("ignore:.*PuLP 4.0:DeprecationWarning")


# --------------------------------------------------------------------------- brute force
def _losses(kind, F, y):
    if kind == "squared":
        return 0.5 * (F - y) ** 2
    if kind == "logistic":
        return np.logaddexp(0.0, -y * F)
    if kind == "hinge":
        return np.maximum(0.0, 1.0 - y * F)
    if kind == "absolute":
        return np.abs(F - y)
    raise AssertionError(kind)


def brute_force(X, y, beta, bias, m, step, loss="squared", scales=None, chunk=20000):
    """min J over every network with W, b, alpha, c on the grid {-1, ..., 1} (times ``scales``).

    Parameters per neuron: d weights, a bias unless bias='none', an output weight; plus the
    output offset c for bias='free'. J = sum loss + beta/2 (|W|^2 + |alpha|^2 [+ |b|^2 for
    'regularized']). Returns (min value, number of networks enumerated).
    """
    sc = scales or {"w": 1.0, "b": 1.0, "alpha": 1.0, "c": 1.0}
    n, d = X.shape
    g = np.linspace(-1, 1, int(round(2 / step)) + 1)
    hb = bias != "none"
    kinds = (["w"] * d + (["b"] if hb else []) + ["alpha"]) * m + (["c"] if bias == "free" else [])
    P = len(kinds)
    mult = np.array([sc[k] for k in kinds])
    K = len(g)
    total = K ** P
    best = np.inf
    for start in range(0, total, chunk):
        idx = np.arange(start, min(total, start + chunk))
        digits = (idx[:, None] // K ** np.arange(P)[None, :]) % K  # (N, P)
        T = g[digits] * mult  # parameter values
        per = d + int(hb) + 1
        pred = np.zeros((len(idx), n))
        pen = np.zeros(len(idx))
        for j in range(m):
            Wj = T[:, j * per: j * per + d]  # (N, d)
            bj = T[:, j * per + d] if hb else 0.0
            aj = T[:, j * per + per - 1]
            pred += aj[:, None] * np.maximum(Wj @ X.T + np.asarray(bj)[..., None], 0.0)
            pen += (Wj ** 2).sum(axis=1) + aj ** 2
            if bias == "regularized":
                pen += bj ** 2
        if bias == "free":
            pred += T[:, -1][:, None]
        J = _losses(loss, pred, y[None, :]).sum(axis=1) + 0.5 * beta * pen
        best = min(best, float(J.min()))
    return best, total


def _data(n, d, seed, loss="squared"):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, size=(n, d))
    if loss == "squared":
        y = np.sin(2 * X[:, 0]) + 0.3 * rng.normal(size=n)
    else:
        y = np.where(X.sum(axis=1) + 0.3 * rng.normal(size=n) > 0, 1.0, -1.0)
    return X, y


BRUTE_CASES = [
    # (n, d, m, bias, step, loss, beta)
    (5, 1, 2, "regularized", 0.5, "squared", 0.1),
    (5, 1, 2, "none", 0.25, "squared", 0.05),
    (6, 1, 1, "free", 0.25, "squared", 0.1),
    (4, 2, 1, "none", 0.25, "squared", 0.1),
    (5, 2, 1, "free", 0.5, "squared", 0.2),
    (6, 2, 1, "regularized", 0.5, "hinge", 0.1),
    (5, 1, 1, "free", 0.5, "logistic", 0.1),
]


@pytest.mark.parametrize("n,d,m,bias,step,loss,beta", BRUTE_CASES)
def test_lp_equals_brute_force(n, d, m, bias, step, loss, beta):
    X, y = _data(n, d, seed=n * 10 + d + m, loss=loss)
    prob = cvxlens.Problem(X, y, beta=beta, bias=bias, loss=loss)
    sol = cvxlens.solve(prob, "lp", width=m, step=step, rescale=False, relax=True)
    best, count = brute_force(X, y, beta, bias, m, step, loss)
    assert sol.status == "optimal", sol.message
    assert sol.objective == pytest.approx(best, rel=1e-6, abs=1e-9), (sol.objective, best, count)
    # the LP relaxation and the MILP value bound the quantized optimum from below
    assert sol.info["lp_relaxation"] <= best + 1e-7
    assert sol.info["quantized_lower_bound"] <= best + 1e-9
    assert sol.info["quantized_optimum"] == pytest.approx(sol.objective, rel=1e-9)
    assert sol.lower_bound is None and sol.bound_kind is None
    assert sol.info["program_size"]["variables"] == sol.info["program_size_estimate"]["variables"]


@pytest.mark.parametrize("case", ["zero_row", "grid_without_zero", "targets_outside_box"])
def test_lp_equals_brute_force_edge_cases(case):
    """A sample at the origin (no ReLU rows for it), a grid without 0 (step 2/3), |y| > 1."""
    X, y = _data(5, 2 if case == "zero_row" else 1, seed=1)
    bias, m, step = "none", 1, 0.5
    if case == "zero_row":
        X[2] = 0.0
    elif case == "grid_without_zero":
        bias, step = "regularized", 2 / 3
    else:
        y, m, step = 5 * y, 2, 1.0
    prob = cvxlens.Problem(X, y, beta=0.1, bias=bias)
    sol = cvxlens.solve(prob, "lp", width=m, step=step, rescale=False, relax=False)
    best, _ = brute_force(X, y, 0.1, bias, m, step)
    assert sol.status == "optimal"
    assert sol.objective == pytest.approx(best, rel=1e-6, abs=1e-9)


def test_lp_highs_equals_brute_force():
    X, y = _data(5, 1, seed=3)
    prob = cvxlens.Problem(X, y, beta=0.1, bias="free")
    sol = cvxlens.solve(prob, "lp", width=1, step=0.5, rescale=False, solver="highs")
    best, _ = brute_force(X, y, 0.1, "free", 1, 0.5)
    assert sol.status == "optimal"
    assert sol.objective == pytest.approx(best, rel=1e-6, abs=1e-9)


def test_lp_rescale_is_exact_over_the_scaled_grid():
    """rescale=True minimizes the caller's J over the grid scaled by sqrt(sy/s), sqrt(sy s)."""
    rng = np.random.default_rng(7)
    X = rng.uniform(-3, 3, size=(5, 1))
    y = 4.0 * np.maximum(X[:, 0], 0) - 1.0 + 0.2 * rng.normal(size=5)
    for bias in ("regularized", "free"):
        prob = cvxlens.Problem(X, y, beta=0.1, bias=bias)
        sol = cvxlens.solve(prob, "lp", width=1, step=0.5)
        s, sy = np.abs(X).max(), np.abs(y).max()
        scales = {"w": np.sqrt(sy / s), "alpha": np.sqrt(sy / s), "b": np.sqrt(sy * s), "c": sy}
        best, _ = brute_force(X, y, 0.1, bias, 1, 0.5, scales=scales)
        assert sol.status == "optimal"
        assert sol.objective == pytest.approx(best, rel=1e-6)
        # the method's own objective is J of the returned network (no mismatch)
        assert "objective_mismatch" not in sol.info
        g = np.linspace(-1, 1, 5)
        net = sol.network
        for arr, key in ((net.W.ravel(), "w"), (net.alpha, "alpha"), (net.b, "b")):
            assert np.all(np.min(np.abs(arr[:, None] / scales[key] - g[None, :]), axis=1) < 1e-9)


def test_absolute_fit_loss_is_the_l1_grid_optimum():
    X, y = _data(5, 1, seed=11)
    prob = cvxlens.Problem(X, y, beta=0.1, bias="free")
    sol = cvxlens.solve(prob, "lp", width=1, step=0.5, rescale=False, fit_loss="absolute")
    best_abs, _ = brute_force(X, y, 0.1, "free", 1, 0.5, loss="absolute")
    net = sol.network
    got = np.abs(net.predict(X) - y).sum() + 0.05 * ((net.W**2).sum() + (net.alpha**2).sum())
    assert got == pytest.approx(best_abs, rel=1e-6)
    assert sol.status == "converged"  # optimal for the surrogate, not for J
    assert sol.objective == pytest.approx(prob.objective(net))
    assert sol.info["quantized_optimum"] == pytest.approx(best_abs, rel=1e-6)


# --------------------------------------------------------------------------- grid membership
@pytest.mark.parametrize("bias,m,d,step", [("none", 2, 1, 0.5), ("regularized", 1, 2, 0.25),
                                           ("free", 1, 2, 0.5)])
def test_weights_lie_on_the_grid(bias, m, d, step):
    X, y = _data(5, d, seed=5)
    prob = cvxlens.Problem(X, y, beta=0.05, bias=bias)
    sol = cvxlens.solve(prob, "lp", width=m, step=step, rescale=False, relax=False)
    net = sol.network
    vals = np.concatenate([net.W.ravel(), net.b, net.alpha, [net.c]])
    k = (vals + 1) / step
    assert np.all(np.abs(k - np.round(k)) < 1e-9) and np.all(np.abs(vals) <= 1 + 1e-12)
    if bias == "none":
        assert np.all(net.b == 0) and net.c == 0
    if bias == "regularized":
        assert net.c == 0
    assert sol.objective == pytest.approx(prob.objective(net), rel=1e-12)


# --------------------------------------------------------------------------- eps -> 0
def test_quantized_optimum_approaches_continuous_optimum_from_above():
    """m = 1, no bias, x > 0: f = alpha (w x)_+ and the continuous box optimum is in closed form.

    With w > 0 the network is the linear model v x (v = alpha w, any sign of alpha), and
    min (beta/2)(w^2 + alpha^2) subject to alpha w = v is beta |v| (|w| = |alpha| = sqrt|v|);
    w <= 0 gives f = 0. So min J = min_v 1/2 ||v x - y||^2 + beta |v| (soft thresholding), inside
    the box when |v*| <= 1. The quantized optimum q(eps) is sandwiched
    J* <= q(eps) <= J(round_eps(theta*)), and nested grids (eps halves) make q non-increasing.
    """
    x = np.array([0.2, 0.45, 0.7, 0.95])
    y = np.array([0.1, 0.3, 0.35, 0.55])
    beta = 0.05
    xy, xx = x @ y, x @ x
    v = np.sign(xy) * max(abs(xy) - beta, 0.0) / xx
    J_star = 0.5 * np.sum((v * x - y) ** 2) + beta * abs(v)
    assert 0 < abs(v) < 1  # interior of the box
    J_zero = 0.5 * y @ y
    assert J_star < J_zero
    prob = cvxlens.Problem(x.reshape(-1, 1), y, beta=beta, bias="none")
    theta_star = np.array([np.sqrt(abs(v)), np.sign(v) * np.sqrt(abs(v))])  # (w, alpha)
    gaps = []
    for step in (0.5, 0.25, 0.125, 0.0625):
        sol = cvxlens.solve(prob, "lp", width=1, step=step, rescale=False, relax=False)
        assert sol.status == "optimal"
        q = sol.objective
        r = np.round((theta_star + 1) / step) * step - 1  # nearest grid point
        J_round = 0.5 * np.sum((r[1] * np.maximum(r[0] * x, 0) - y) ** 2) \
            + 0.5 * beta * (r @ r)
        assert J_star - 1e-12 <= q <= J_round + 1e-9
        gaps.append(q - J_star)
    assert all(a >= b - 1e-12 for a, b in zip(gaps, gaps[1:])), gaps
    assert gaps[-1] < 0.25 * gaps[0] and gaps[-1] < 2e-3, gaps


# --------------------------------------------------------------------------- program size
def test_size_estimate_matches_the_built_model_and_grows_linearly_in_n():
    from cvxlens_lp._milp import _Model
    rows = []
    for n in (4, 8, 16):
        X, y = _data(n, 2, seed=n)
        X[0, 1] = 0.0  # a zero entry (the estimate counts nonzeros exactly)
        for bias, m, step in (("none", 1, 0.5), ("regularized", 2, 0.25), ("free", 3, 1.0)):
            prob = cvxlens.Problem(X, y, beta=0.1, bias=bias)
            spec, _ = lp.quantized_spec(prob, m, step, rescale=False)
            est = lp.estimate_size(spec)
            built = _Model(spec).counts()
            assert est == built, (n, bias, m, step, est, built)
            if bias == "regularized":
                rows.append(est["variables"] + est["constraints"])
    # linear in n: equal increments for n = 4 -> 8 -> 16 (per sample cost constant)
    assert (rows[2] - rows[1]) == 2 * (rows[1] - rows[0])


def test_too_large_is_refused_before_building_with_advice():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(3000, 3))
    y = rng.normal(size=3000)
    prob = cvxlens.Problem(X, y, beta=0.1)
    with pytest.raises(ProblemTooLargeError) as exc:
        cvxlens.solve(prob, "lp", width=2, step=0.5)
    msg = str(exc.value)
    assert "fewer samples" in msg and "coarser step" in msg and "width" in msg


def test_ecg_is_refused_or_runs_within_the_timeout():
    ds = cvxlens.load_dataset("ecg")
    prob = ds.problem()
    try:
        sol = cvxlens.solve(prob, "lp", timeout=60)
    except ProblemTooLargeError as exc:
        assert "fewer samples" in str(exc)
    else:  # pragma: no cover - only if the default size limit is raised
        assert sol.status in ("optimal", "timeout") and sol.time_s < 75


# --------------------------------------------------------------------------- timeout, options
def test_timeout_returns_best_incumbent_on_the_grid():
    rng = np.random.default_rng(1)
    X = rng.uniform(-1, 1, size=(150, 2))
    y = np.sin(3 * X[:, 0]) * X[:, 1] + 0.1 * rng.normal(size=150)
    prob = cvxlens.Problem(X, y, beta=0.01)
    sol = cvxlens.solve(prob, "lp", width=2, step=0.25, rescale=False, timeout=2.0)
    assert sol.status in ("timeout", "optimal")
    assert sol.time_s < 10
    assert sol.network is not None and np.isfinite(sol.objective)
    vals = np.concatenate([sol.network.W.ravel(), sol.network.b, sol.network.alpha])
    k = (vals + 1) / 0.25
    assert np.all(np.abs(k - np.round(k)) < 1e-9)
    assert sol.objective <= 0.5 * y @ y + 1e-9  # at least as good as the zero network


def test_common_time_limit_is_honored():
    rng = np.random.default_rng(2)
    X = rng.uniform(-1, 1, size=(150, 2))
    y = rng.normal(size=150)
    prob = cvxlens.Problem(X, y, beta=0.01)
    sol = cvxlens.solve(prob, "lp", width=2, step=0.25, rescale=False, timeout=None,
                        time_limit=2.0)
    assert sol.status in ("timeout", "optimal") and sol.time_s < 10


@pytest.mark.parametrize("opts,needle", [
    ({"step": 0.3}, "2/step must be an integer"),
    ({"step": 0.0}, "(0, 2]"),
    ({"width": 0}, "positive integer"),
    ({"solver": "gurobi"}, "cbc"),
    ({"rescale": "maybe"}, "true or false"),
    ({"fit_loss": "huber"}, "absolute"),
])
def test_bad_options_are_explained(opts, needle):
    prob = cvxlens.Problem(np.array([[0.5], [-0.5]]), np.array([1.0, 0.0]), beta=0.1)
    with pytest.raises(OptionError) as exc:
        cvxlens.solve(prob, "lp", **opts)
    assert needle in str(exc.value)


def test_data_outside_box_without_rescale_is_an_error():
    prob = cvxlens.Problem(np.array([[2.0], [-0.5]]), np.array([1.0, 0.0]), beta=0.1)
    with pytest.raises(ValueError, match="rescale=True"):
        cvxlens.solve(prob, "lp", rescale=False)


def test_step_normalization_and_grid():
    assert lp.grid_values(0.5).tolist() == [-1.0, -0.5, 0.0, 0.5, 1.0]
    assert len(lp.grid_values(2.0)) == 2


def test_mean_scale_reports_the_callers_J():
    X, y = _data(5, 1, seed=1)
    p_sum = cvxlens.Problem(X, y, beta=0.1, bias="free")
    p_mean = cvxlens.Problem(X, y, beta=0.1 / 5, bias="free", scale="mean")
    s1 = cvxlens.solve(p_sum, "lp", width=1, step=0.5, rescale=False, relax=False)
    s2 = cvxlens.solve(p_mean, "lp", width=1, step=0.5, rescale=False, relax=False)
    assert s2.objective == pytest.approx(s1.objective / 5, rel=1e-9)
    assert s2.objective == pytest.approx(p_mean.objective(s2.network), rel=1e-12)


# --------------------------------------------------------------------------- integration
def test_conformance_suite():
    testing = pytest.importorskip("cvxlens.testing")
    testing.check_method("lp", width=1)


def test_cli_compare_survey_example(tmp_path):
    cli = pytest.importorskip("cvxlens.cli")
    try:
        cvxlens.get_method("lasso")
    except cvxlens.UnknownMethodError:
        pytest.skip("lasso is not registered yet")
    code = cli.main(["compare", "--dataset", "survey-example", "--methods", "lp,lasso",
                     "--out", str(tmp_path), "--json"])
    assert code == 0


# --------------------------------------------------------------------------- slow checks
@pytest.mark.slow
def test_quantized_optimum_above_lbfgsb_box_optimum_free_bias():
    """Continuous box optimum from 60 L-BFGS-B restarts (m = 1, d = 1, free biases): the
    quantized optima for eps = 1/2, 1/4, 1/8 never go below it and never increase."""
    from scipy.optimize import minimize

    x = np.array([-0.8, -0.3, 0.1, 0.5, 0.9])
    y = np.array([0.05, 0.0, 0.1, 0.35, 0.6])
    beta = 0.05
    prob = cvxlens.Problem(x.reshape(-1, 1), y, beta=beta, bias="free")

    def fg(th):
        J, (dW, db, da, dc) = prob.objective_and_grad(th[:1].reshape(1, 1), th[1:2], th[2:3],
                                                      th[3])
        return J, np.concatenate([dW.ravel(), db, da, [dc]])

    rng = np.random.default_rng(0)
    best = min(minimize(fg, rng.uniform(-1, 1, 4), jac=True, method="L-BFGS-B",
                        bounds=[(-1, 1)] * 4).fun for _ in range(60))
    qs = []
    for step in (0.5, 0.25, 0.125):
        sol = cvxlens.solve(prob, "lp", width=1, step=step, rescale=False, relax=False,
                            timeout=120)
        assert sol.status == "optimal"
        qs.append(sol.objective)
    print("L-BFGS-B box optimum", best, "quantized", qs)
    assert all(q >= best - 1e-9 for q in qs), (qs, best)
    assert qs[0] >= qs[1] - 1e-12 >= qs[2] - 2e-12, qs
    assert qs[-1] - best < 0.2 * (qs[0] - best), (qs, best)  # measured 0.0017 vs 0.022


@pytest.mark.slow
def test_lp_equals_brute_force_random_property():
    """Property: on random tiny 1-D problems the lp optimum is the brute-force grid minimum."""
    hyp = pytest.importorskip("hypothesis")
    st = pytest.importorskip("hypothesis.strategies")

    @hyp.settings(max_examples=6, deadline=None, derandomize=True)
    @hyp.given(seed=st.integers(0, 10_000), bias=st.sampled_from(["none", "regularized", "free"]),
               beta=st.sampled_from([0.01, 0.1, 1.0]))
    def check(seed, bias, beta):
        X, y = _data(4, 1, seed=seed)
        prob = cvxlens.Problem(X, y, beta=beta, bias=bias)
        sol = cvxlens.solve(prob, "lp", width=1, step=0.5, rescale=False, relax=False)
        best, _ = brute_force(X, y, beta, bias, 1, 0.5)
        assert sol.status == "optimal"
        assert sol.objective == pytest.approx(best, rel=1e-6, abs=1e-9)

    check()
