"""The polar oracle max_{||u||<=1} |r^T (X u)_+| against brute force and per-cone SOCPs."""

import cvxpy as cp
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import cvxlens
from cvxlens import ProblemTooLargeError, enumerate_patterns
from cvxlens.polar import PolarOracle, polar


def phi(X, r, U):
    return np.abs(r @ np.maximum(X @ U, 0.0))


def lipschitz(X, r):
    """|phi(u) - phi(v)| <= L ||u - v|| with L = sum_i |r_i| ||x_i||."""
    return float(np.abs(r) @ np.linalg.norm(X, axis=1))


def grid_2d(step):
    th = np.arange(0.0, 2 * np.pi, step)
    return np.stack([np.cos(th), np.sin(th)])


def grid_3d(step):
    """Latitude-longitude grid whose covering radius (chordal) is below ``step``."""
    pts = []
    for ph in np.arange(0.0, np.pi + step, step):
        ph = min(ph, np.pi)
        m = max(1, int(np.ceil(2 * np.pi * np.sin(ph) / step)))
        th = np.arange(m) * 2 * np.pi / m
        pts.append(np.stack([np.cos(th) * np.sin(ph), np.sin(th) * np.sin(ph),
                             np.full(m, np.cos(ph))]))
    return np.hstack(pts)


def brute(X, r, U):
    return max(phi(X, r, U[:, s:s + 20000]).max() for s in range(0, U.shape[1], 20000))


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("method", ["faces", "nnls"])
def test_exact_matches_fine_grid_d2(seed, method):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((15, 2))
    r = rng.standard_normal(15)
    step = 2e-5
    res = polar(X, r, method=method)
    assert res.exact
    g = brute(X, r, grid_2d(step))
    assert g <= res.value + 1e-12              # the grid never beats the exact value
    assert res.value <= g + lipschitz(X, r) * step  # and the exact value is within grid error
    assert abs(phi(X, r, res.u[:, None])[0] - res.value) <= 1e-12 * max(1, res.value)
    assert np.isclose(np.linalg.norm(res.u), 1.0)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("method", ["faces", "nnls"])
def test_exact_matches_fine_grid_d3(seed, method):
    rng = np.random.default_rng(10 + seed)
    X = rng.standard_normal((12, 3))
    r = rng.standard_normal(12)
    step = 2.5e-3
    res = polar(X, r, method=method)
    g = brute(X, r, grid_3d(step))
    assert g <= res.value + 1e-12
    assert res.value <= g + lipschitz(X, r) * step
    sign = np.sign(r @ np.maximum(X @ res.u, 0))
    assert sign == res.sign


def test_regularized_design_d3_grid():
    """d = 2 data with the ones column of the regularized bias convention."""
    rng = np.random.default_rng(3)
    X = np.hstack([rng.standard_normal((10, 2)), np.ones((10, 1))])
    r = rng.standard_normal(10)
    step = 2.5e-3
    res = polar(X, r)
    g = brute(X, r, grid_3d(step))
    assert g <= res.value + 1e-12 <= g + lipschitz(X, r) * step + 1e-12


def socp_polar(X, r):
    """Reference: one small SOCP per enumerated cone and sign (cvxpy / Clarabel)."""
    D = enumerate_patterns(X)
    best = 0.0
    for p in range(D.shape[1]):
        s = 2.0 * D[:, p] - 1.0
        for sign in (1.0, -1.0):
            u = cp.Variable(X.shape[1])
            pr = cp.Problem(cp.Maximize(sign * ((r * D[:, p]) @ (X @ u))),
                            [cp.norm(u) <= 1, cp.multiply(s, X @ u) >= 0])
            pr.solve(solver=cp.CLARABEL)
            best = max(best, pr.value)
    return best


def test_faces_nnls_and_socp_agree():
    rng = np.random.default_rng(7)
    X = rng.standard_normal((7, 3))
    r = rng.standard_normal(7)
    a = polar(X, r, method="faces").value
    b = polar(X, r, method="nnls").value
    c = socp_polar(X, r)
    assert a == pytest.approx(b, rel=1e-10)
    assert a == pytest.approx(c, rel=1e-6)


@pytest.mark.parametrize("case", ["duplicates", "parallel", "zero_row", "rank_deficient"])
def test_degenerate_data(case):
    rng = np.random.default_rng(5)
    X = rng.standard_normal((8, 2))
    if case == "duplicates":
        X = np.vstack([X, X[:3]])
    elif case == "parallel":
        X = np.vstack([X, 2.5 * X[:2], -0.5 * X[2:4]])
    elif case == "zero_row":
        X = np.vstack([X, np.zeros((2, 2))])
    else:  # d = 3 with a repeated column: rank 2
        X = np.hstack([X, X[:, :1]])
    r = rng.standard_normal(len(X))
    res = polar(X, r)
    ref = polar(X, r, method="nnls")
    assert res.value == pytest.approx(ref.value, rel=1e-10)
    if X.shape[1] == 2:
        step = 2e-5
        g = brute(X, r, grid_2d(step))
        assert g <= res.value + 1e-12 <= g + lipschitz(X, r) * step + 1e-12
    else:
        step = 2.5e-3
        g = brute(X, r, grid_3d(step))
        assert g <= res.value + 1e-12 <= g + lipschitz(X, r) * step + 1e-12


@pytest.mark.parametrize("d", [1, 2])
def test_free_bias_against_grid(d):
    rng = np.random.default_rng(11 + d)
    X = rng.standard_normal((9, d))
    r = rng.standard_normal(9)
    r -= r.mean()
    res = polar(X, r, free_bias=True)
    assert res.exact and res.u.shape == (d + 1,)
    w, b = res.u[:-1], res.u[-1]
    assert np.isclose(np.linalg.norm(w), 1.0)
    assert abs(r @ np.maximum(X @ w + b, 0)) == pytest.approx(res.value, rel=1e-12)
    W = np.array([[1.0, -1.0]]) if d == 1 else grid_2d(1e-3)
    best = max(np.abs(r @ np.maximum(X @ W + bb, 0)).max() for bb in np.linspace(-5, 5, 2001))
    assert best <= res.value + 1e-12
    # grid error: Lipschitz in w (step 1e-3) and in b (step 5e-3)
    assert res.value <= best + lipschitz(X, r) * 1e-3 + np.abs(r).sum() * 5e-3
    heur = polar(X, r, free_bias=True, patterns=200)
    assert not heur.exact and heur.value <= res.value + 1e-12


def test_free_bias_needs_zero_sum():
    X = np.arange(4.0).reshape(-1, 1)
    res = polar(X, np.array([1.0, 0.0, 0.0, 0.0]), free_bias=True)
    assert res.value == np.inf


def test_heuristic_flagged_and_never_above_exact():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((30, 3))
    r = rng.standard_normal(30)
    ex = polar(X, r)
    he = polar(X, r, patterns=50, seed=1)
    assert ex.exact and not he.exact
    assert he.value <= ex.value + 1e-12
    assert abs(phi(X, r, he.u[:, None])[0] - he.value) < 1e-10


def test_auto_switches_to_heuristic_and_exact_refuses():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 6))
    r = rng.standard_normal(60)
    assert not polar(X, r).exact
    with pytest.raises(ProblemTooLargeError, match="max_patterns"):
        polar(X, r, patterns="exact")


def test_oracle_reuse_and_errors():
    rng = np.random.default_rng(4)
    X = rng.standard_normal((10, 2))
    o = PolarOracle(X)
    for _ in range(3):
        r = rng.standard_normal(10)
        assert o(r).value == pytest.approx(polar(X, r, method="nnls").value, rel=1e-10)
    with pytest.raises(ValueError, match="shape"):
        o(np.ones(9))
    with pytest.raises(ValueError, match="patterns"):
        polar(X, np.ones(10), patterns="many")
    with pytest.raises(ValueError, match="method"):
        polar(X, np.ones(10), method="magic")
    assert cvxlens.polar is polar


def test_zero_residual():
    X = np.random.default_rng(0).standard_normal((5, 2))
    res = polar(X, np.zeros(5))
    assert res.value == 0.0 and np.isclose(np.linalg.norm(res.u), 1.0)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(2, 9), d=st.integers(1, 3))
def test_property_exact_dominates_every_direction(seed, n, d):
    rng = np.random.default_rng(seed)
    X = np.round(rng.standard_normal((n, d)), 1)  # rounding creates ties and parallel rows
    r = np.round(rng.standard_normal(n), 1)
    res = polar(X, r)
    U = rng.standard_normal((d, 500))
    U /= np.linalg.norm(U, axis=0)
    assert phi(X, r, U).max() <= res.value + 1e-9
    assert res.value == pytest.approx(polar(X, r, method="nnls").value, rel=1e-9, abs=1e-12)
