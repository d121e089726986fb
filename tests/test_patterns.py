"""Hyperplane-arrangement enumeration against brute force and an LP feasibility check."""

import math

import numpy as np
import pytest
from scipy.optimize import linprog

import cvxlens
from cvxlens import ProblemTooLargeError, enumerate_patterns, sample_patterns


def as_set(D):
    return {tuple(col) for col in D.T}


def realizable(X, pattern):
    """Is there g with x_i.g > 0 where pattern is 1 and < 0 where 0 (zero rows exempt)?"""
    nz = np.abs(X).sum(axis=1) > 0
    s = np.where(pattern, 1.0, -1.0)[nz]
    res = linprog(np.zeros(X.shape[1]), A_ub=-(s[:, None] * X[nz]), b_ub=-np.ones(nz.sum()),
                  bounds=[(None, None)] * X.shape[1], method="highs")
    return res.status == 0


def brute_force(X, n_dirs=200_000, seed=0):
    G = np.random.default_rng(seed).standard_normal((X.shape[1], n_dirs))
    return {tuple(c) for c in ((X @ G) >= 0).T if c.any()}


def test_survey_three_point_example_has_three_patterns():
    X = np.array([[2.0, 2.0], [3.0, 3.0], [1.0, 0.0]])
    D = enumerate_patterns(X)
    assert as_set(D) == {(1, 1, 1), (1, 1, 0), (0, 0, 1)}


def test_one_dimensional_grid_by_hand():
    x = np.array([[0.0, 1.0], [2.0, 1.0], [6.0, 1.0], [7.0, 1.0]])  # 1-D with a bias column
    D = enumerate_patterns(x)
    # cells: thresholds between points, both orientations, minus the all-zero pattern
    expected = set()
    for t in [-1, 1, 4, 6.5, 8]:
        expected.add(tuple((x[:, 0] >= t).astype(bool)))
        expected.add(tuple((x[:, 0] <= t).astype(bool)))
    expected.discard((False,) * 4)
    assert as_set(D) == expected


@pytest.mark.parametrize("seed", range(40))
def test_enumeration_is_exact_on_random_small_sets(seed):
    rng = np.random.default_rng(seed)
    n, d = int(rng.integers(1, 9)), int(rng.integers(1, 5))
    X = rng.standard_normal((n, d))
    if seed % 3 == 0:
        X = np.round(X)  # ties, zero rows, parallel rows
    if seed % 4 == 1:
        X = np.hstack([X, np.ones((n, 1))])
    if seed % 5 == 2:
        X = np.vstack([X, 2 * X[:2]])
    if seed % 7 == 3:
        X = np.hstack([X, X.sum(axis=1, keepdims=True)])  # rank deficient
    D = enumerate_patterns(X)
    assert D.dtype == bool and D.shape[0] == X.shape[0]
    assert len(as_set(D)) == D.shape[1]  # no duplicates
    assert D.any(axis=0).all()  # no all-zero pattern
    assert all(realizable(X, c) for c in D.T)  # every pattern is a real cell
    assert brute_force(X) <= as_set(D)  # nothing sampling finds is missing
    r = np.linalg.matrix_rank(X) if np.abs(X).sum() else 0
    assert D.shape[1] <= max(1, cvxlens.pattern_count_bound(X.shape[0], r))


def test_general_position_count_matches_cover_formula():
    X = np.random.default_rng(3).standard_normal((12, 3))
    assert enumerate_patterns(X).shape[1] == 2 * sum(math.comb(11, k) for k in range(3)) - 0


def test_refuses_before_doing_the_work():
    X = np.random.default_rng(0).standard_normal((200, 6))
    with pytest.raises(ProblemTooLargeError, match="max_patterns"):
        enumerate_patterns(X)


def test_sample_patterns_removes_duplicates_and_zero():
    X = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]])
    D, G = sample_patterns(X, 500, seed=1, return_gates=True)
    assert len(as_set(D)) == D.shape[1] <= 6
    assert D.any(axis=0).all()
    np.testing.assert_array_equal((X @ G) >= 0, D)
    assert as_set(D) <= as_set(enumerate_patterns(X))
    np.testing.assert_array_equal(sample_patterns(X, 50, seed=4), sample_patterns(X, 50, seed=4))


def test_bad_inputs():
    with pytest.raises(ValueError, match="positive integer"):
        sample_patterns(np.ones((3, 2)), 0)
    with pytest.raises(ValueError, match="NaN"):
        enumerate_patterns(np.array([[np.nan, 1.0]]))


def test_tiny_nonzero_row_still_splits_cells():
    # a row of norm 1e-9 is a genuine hyperplane of 1[X g >= 0]: enumeration must contain every
    # pattern Gaussian gates produce (it used to treat the row as zero and lose half the cells)
    rng = np.random.default_rng(3)
    X = np.column_stack([-np.abs(rng.standard_normal(20)) - 0.5, rng.standard_normal(20)])
    X = np.vstack([X, [[1e-9, 0.0]]])
    D = enumerate_patterns(X)
    have = {tuple(c) for c in D.T}
    Ds = sample_patterns(X, 20000, seed=0)
    assert all(tuple(c) in have for c in Ds.T)
