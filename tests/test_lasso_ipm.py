"""The interior-point solver of the restricted exact program (plugins/cvxlens_lasso/_ipm.py):
its cone algebra against definitions, its linear algebra against dense solves, and its optimum
against an independent cvxpy/Clarabel solve of the same program."""

import cvxpy as cp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cvxlens.patterns import sample_patterns
from cvxlens_lasso import _ipm


def _interior(rng, m, k):
    x = rng.standard_normal((m, k))
    x[:, 0] = np.linalg.norm(x[:, 1:], axis=1) + rng.random(m) + 0.1
    return x


def test_nesterov_todd_scaling_maps_z_to_inverse_of_s():
    rng = np.random.default_rng(0)
    s, z = _interior(rng, 20, 6), _interior(rng, 20, 6)
    b, v = _ipm._nt_soc(s, z)
    np.testing.assert_allclose(_ipm._W_apply(b, v, z), _ipm._W_apply(b, v, s, inverse=True),
                               atol=1e-12)
    w = rng.standard_normal((20, 6))
    np.testing.assert_allclose(_ipm._W_apply(b, v, _ipm._W_apply(b, v, w, inverse=True)), w,
                               atol=1e-12)
    W2 = _ipm._W_inv2_mats(b, v)
    ref = _ipm._W_apply(b, v, _ipm._W_apply(b, v, w, inverse=True), inverse=True)
    np.testing.assert_allclose(np.einsum("jab,jb->ja", W2, w), ref, atol=1e-12)


def test_jordan_division_inverts_the_product():
    rng = np.random.default_rng(1)
    lam, v = _interior(rng, 10, 5), rng.standard_normal((10, 5))
    np.testing.assert_allclose(_ipm._jordan_soc(lam, _ipm._jordan_div_soc(lam, v)), v,
                               atol=1e-12)


def test_soc_step_reaches_the_boundary_exactly():
    rng = np.random.default_rng(2)
    x, d = _interior(rng, 50, 4), rng.standard_normal((50, 4)) * 3
    a = _ipm._soc_step(x, d)
    for j in range(50):
        def inside(t):
            p = x[j] + t * d[j]
            return p[0] >= np.linalg.norm(p[1:])
        if np.isfinite(a[j]):
            assert inside(0.999 * a[j]) and not inside(1.001 * a[j])
        else:
            assert inside(1e6)


@pytest.mark.parametrize("seed,block", [(0, 1 << 22), (1, 100)])
def test_lowrank_newton_solve_equals_dense(seed, block, monkeypatch):
    monkeypatch.setattr(_ipm, "_BLOCK_ELEMS", block)  # 100: the capacitance matrix in chunks
    rng = np.random.default_rng(seed)
    n, dd, m = 40, 4, 30
    Xa = rng.standard_normal((n, dd))
    Dw = (rng.random((n, m)) < 0.5) * np.where(rng.random(m) < 0.5, 1.0, -1.0)
    y = rng.standard_normal(n)
    A = rng.standard_normal((m, dd, dd))
    Th = A @ A.transpose(0, 2, 1) + 1e-3 * np.eye(dd)
    dense, low = _ipm._DenseGram(Xa, Dw, y), _ipm._LowRankGram(Xa, Dw, y)
    dense.factor(Th.copy())
    low.factor(Th.copy())
    R = rng.standard_normal((m, dd))
    np.testing.assert_allclose(low.solve(R), dense.solve(R), rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(low.Mty, dense.Mty, rtol=1e-12)


def _reference(Xa, Dm, sg, y, beta):
    """The same restricted program written directly in cvxpy (Clarabel, tight tolerances)."""
    dd, m = Xa.shape[1], Dm.shape[1]
    U = cp.Variable((dd, m))
    pred = cp.sum(cp.multiply(Dm * sg, Xa @ U), axis=1)
    cons = [cp.multiply(np.where(Dm, 1.0, -1.0), Xa @ U) >= 0]
    pr = cp.Problem(cp.Minimize(0.5 * cp.sum_squares(pred - y)
                                + beta * cp.sum(cp.norm(U, 2, axis=0))), cons)
    pr.solve(solver=cp.CLARABEL, tol_gap_abs=1e-10, tol_gap_rel=1e-10, tol_feas=1e-10)
    return pr.value


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 10_000), beta=st.sampled_from([0.05, 0.5, 2.0]),
       lowrank=st.booleans())
def test_restricted_optimum_equals_cvxpy(seed, beta, lowrank):
    rng = np.random.default_rng(seed)
    n, d = 30, 3
    X = rng.standard_normal((n, d))
    Xa = np.hstack([X, np.ones((n, 1))])
    y = np.maximum(X @ rng.standard_normal(d), 0) - 0.5 * np.maximum(X @ rng.standard_normal(d), 0)
    D = sample_patterns(Xa, 12, seed=seed)
    Dm = np.hstack([D, D])
    sg = np.r_[np.ones(D.shape[1]), -np.ones(D.shape[1])]
    res = _ipm.solve_restricted(Xa, Dm, sg, y, beta, tol=1e-10, feas_tol=1e-10, lowrank=lowrank)
    ref = _reference(Xa, Dm, sg, y, beta)
    assert res["status"] in ("converged", "stalled")
    assert abs(res["value"] - ref) <= 1e-6 * max(1.0, abs(ref))
    slack = np.where(Dm, 1.0, -1.0) * (Xa @ res["U"].T)
    assert slack.min() >= -1e-7 * max(1.0, np.abs(res["U"]).max())


def test_zero_target_gives_zero_network():
    rng = np.random.default_rng(3)
    Xa = np.hstack([rng.standard_normal((20, 2)), np.ones((20, 1))])
    D = sample_patterns(Xa, 5, seed=0)
    res = _ipm.solve_restricted(Xa, D, np.ones(D.shape[1]), np.zeros(20), 1.0)
    assert res["value"] <= 1e-7
    assert np.abs(res["U"]).max() <= 1e-7


def test_partial_projection_is_an_upper_bound_of_the_cone_value():
    # pricing uses a few active-set rounds: the norm is exact or larger (K subset of K_E)
    from cvxlens_lasso import _recover as R
    rng = np.random.default_rng(4)
    Xa = np.hstack([rng.standard_normal((300, 5)), np.ones((300, 1))])
    D = sample_patterns(Xa, 40, seed=1)
    Z = rng.standard_normal((6, D.shape[1])) * 3
    pats = np.arange(D.shape[1])
    exact, _ = R.project_batch(Xa, D, pats, Z)
    rough, _ = R.project_batch(Xa, D, pats, Z, max_rounds=1, exact=False)
    ex, ro = np.linalg.norm(exact, axis=0), np.linalg.norm(rough, axis=0)
    assert np.all(ro >= ex - 1e-10)
    for j in range(D.shape[1]):  # the exact ones against a full NNLS projection
        assert ex[j] == pytest.approx(np.linalg.norm(R.project_cone(Xa, D[:, j], Z[:, j])),
                                      abs=1e-9)


def test_row_generation_on_long_correlated_series_matches_cvxpy():
    # lag windows of a smooth series: thousands of nearly parallel cone rows per group, the
    # case where the interior point keeps only a working set of rows
    import cvxlens
    t = np.linspace(0, 12, 403)
    s = np.sin(t) + 0.3 * np.sin(3.1 * t)
    X = np.stack([s[i:i + 400] for i in range(3)], axis=1)
    y = s[3:403]
    prob = cvxlens.Problem(X, y, beta=0.05)
    nat = cvxlens.solve(prob, "lasso", patterns=60, tol=1e-9)
    ref = cvxlens.solve(prob, "lasso", patterns=60, solver="cvxpy")
    assert nat.objective == pytest.approx(ref.objective, rel=1e-6)
    assert nat.status in ("converged", "optimal")


def test_time_limited_lasso_is_never_worse_than_the_zero_network():
    # the solver keeps its best point: a run cut by the deadline in the middle of an
    # interior-point solve must still return an honest network no worse than f = 0
    import cvxlens
    rng = np.random.default_rng(7)
    X = rng.standard_normal((1500, 12))
    y = np.sin(X @ rng.standard_normal(12) / 2) + 0.1 * rng.standard_normal(1500)
    prob = cvxlens.Problem(X, y, beta=1.0)
    sol = cvxlens.solve(prob, "lasso", patterns=300, time_limit=2, tol=1e-8)
    assert sol.objective <= 0.5 * float(y @ y) * (1 + 1e-12)
    assert sol.objective == pytest.approx(prob.objective(sol.network), rel=1e-9)
    assert sol.lower_bound <= sol.objective


def test_projection_survives_thousands_of_nearly_parallel_rows():
    from cvxlens_lasso import _recover as R
    t = np.linspace(0, 30, 3003)
    s = np.sin(t)
    Xa = np.hstack([np.stack([s[i:i + 3000] for i in range(3)], axis=1), np.ones((3000, 1))])
    rng = np.random.default_rng(0)
    mask = Xa @ rng.standard_normal(4) >= 0
    for _ in range(5):
        z = rng.standard_normal(4)
        p = R.project_cone(Xa, mask, z)
        A = R.cone_rows(Xa, mask)
        assert np.linalg.norm(p) <= np.linalg.norm(z) * (1 + 1e-9)
        assert (A @ p).min() >= -1e-8 * np.linalg.norm(z) * np.linalg.norm(A, axis=1).max()
        # Moreau: z - p is in the polar cone, orthogonal to p
        assert abs((z - p) @ p) <= 1e-8 * np.linalg.norm(z) ** 2
