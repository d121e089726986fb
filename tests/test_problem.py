"""Problem validation, the common objective J by hand for each bias convention, scale equivalence."""

import numpy as np
import pytest

import cvxlens
from cvxlens import Problem, ReLUNetwork

X = np.array([[1.0, 2.0], [-1.0, 0.5], [0.0, -1.0]])
y = np.array([1.0, -2.0, 0.5])


def test_objective_by_hand_none():
    net = ReLUNetwork(W=[[1.0, -1.0], [0.0, 2.0]], alpha=[2.0, -1.0])
    # pre-activations: x1: (1, 3) x2: (-1, 2) x3: (0, -2)
    f = np.array([2 * 1 - 3, 0 - 2, 0 - 0])  # (-1, -2, 0)
    loss = 0.5 * np.sum((f - y) ** 2)
    pen = 0.5 * 0.3 * (1 + 1 + 0 + 4 + 4 + 1)
    assert Problem(X, y, 0.3, bias="none").objective(net) == pytest.approx(loss + pen, rel=1e-14)


def test_objective_by_hand_regularized_penalizes_b():
    net = ReLUNetwork(W=[[1.0], [0.0]], b=[0.5], alpha=[2.0])
    f = 2 * np.maximum(X[:, 0] + 0.5, 0)
    J = 0.5 * np.sum((f - y) ** 2) + 0.5 * 0.3 * (1 + 0.25 + 4)
    assert Problem(X, y, 0.3, bias="regularized").objective(net) == pytest.approx(J, rel=1e-14)


def test_objective_by_hand_free_does_not_penalize_b_or_c():
    net = ReLUNetwork(W=[[1.0], [0.0]], b=[0.5], alpha=[2.0], c=-0.25)
    f = 2 * np.maximum(X[:, 0] + 0.5, 0) - 0.25
    J = 0.5 * np.sum((f - y) ** 2) + 0.5 * 0.3 * (1 + 4)
    assert Problem(X, y, 0.3, bias="free").objective(net) == pytest.approx(J, rel=1e-14)


def test_bias_conventions_reject_networks_outside_the_class():
    with pytest.raises(ValueError, match="no biases"):
        Problem(X, y, 1.0, bias="none").objective(ReLUNetwork([[1.0], [0.0]], [1.0], [1.0]))
    with pytest.raises(ValueError, match="output offset"):
        Problem(X, y, 1.0, bias="regularized").objective(
            ReLUNetwork([[1.0], [0.0]], [1.0], [1.0], c=1.0))


@pytest.mark.parametrize("loss", ["logistic", "hinge"])
def test_classification_losses_by_hand(loss):
    yc = np.array([1.0, -1.0, 1.0])
    net = ReLUNetwork(W=[[1.0], [1.0]], alpha=[0.5])
    f = 0.5 * np.maximum(X.sum(axis=1), 0)
    if loss == "logistic":
        data = np.sum(np.log1p(np.exp(-yc * f)))
    else:
        data = np.sum(np.maximum(0, 1 - yc * f))
    J = data + 0.5 * 0.1 * (1 + 1 + 0.25)
    assert Problem(X, yc, 0.1, loss=loss, bias="none").objective(net) == pytest.approx(J, rel=1e-13)


def test_mean_scale_equals_sum_scale_with_n_beta():
    net = ReLUNetwork(W=[[1.0, 0.3], [0.2, -1.0]], b=[0.1, 0.2], alpha=[1.0, -0.5])
    beta = 0.01
    pm = Problem(X, y, beta, scale="mean")
    ps = Problem(X, y, beta * len(y), scale="sum")
    assert pm.objective(net) == pytest.approx(ps.objective(net) / len(y), rel=1e-14)
    assert pm.as_sum().beta == pytest.approx(ps.beta)


@pytest.mark.parametrize("bias", ["none", "regularized", "free"])
@pytest.mark.parametrize("loss", ["squared", "logistic", "hinge"])
def test_gradient_matches_finite_differences(bias, loss):
    rng = np.random.default_rng(1)
    Xr = rng.standard_normal((7, 3))
    yr = np.sign(rng.standard_normal(7)) if loss != "squared" else rng.standard_normal(7)
    p = Problem(Xr, yr, 0.2, loss=loss, bias=bias)
    W, b, a = rng.standard_normal((3, 4)), rng.standard_normal(4), rng.standard_normal(4)
    c = 0.3 if bias == "free" else 0.0
    if bias == "none":
        b = np.zeros(4)
    J, (dW, db, da, dc) = p.objective_and_grad(W, b, a, c)
    assert J == pytest.approx(p.objective(ReLUNetwork(W, b, a, c)), rel=1e-13)
    eps = 1e-6
    E = np.zeros_like(W); E[1, 2] = eps
    num = (p.objective_and_grad(W + E, b, a, c)[0] - p.objective_and_grad(W - E, b, a, c)[0]) / (2 * eps)
    assert dW[1, 2] == pytest.approx(num, rel=1e-5, abs=1e-7)
    e = np.zeros(4); e[0] = eps
    num = (p.objective_and_grad(W, b, a + e, c)[0] - p.objective_and_grad(W, b, a - e, c)[0]) / (2 * eps)
    assert da[0] == pytest.approx(num, rel=1e-5, abs=1e-7)
    if bias != "none":
        num = (p.objective_and_grad(W, b + e, a, c)[0] - p.objective_and_grad(W, b - e, a, c)[0]) / (2 * eps)
        assert db[0] == pytest.approx(num, rel=1e-5, abs=1e-7)


@pytest.mark.parametrize("kwargs, match", [
    (dict(X=[[np.nan, 1.0]], y=[1.0], beta=1.0), "NaN or inf"),
    (dict(X=[[1.0, 1.0]], y=[np.inf], beta=1.0), "NaN or inf"),
    (dict(X=np.ones((3, 2)), y=np.ones(4), beta=1.0), "3 rows, y has 4"),
    (dict(X=np.ones((0, 2)), y=np.ones(0), beta=1.0), "n = 0"),
    (dict(X=np.ones(3), y=np.ones(3), beta=1.0), "reshape"),
    (dict(X=np.ones((3, 2)), y=np.ones((3, 2)), beta=1.0), r"\(n,\) or \(n, 1\)"),
    (dict(X=np.ones((3, 2)), y=np.ones(3), beta=0.0), "beta must be > 0, got 0"),
    (dict(X=np.ones((3, 2)), y=np.ones(3), beta=-1), "beta must be > 0, got -1"),
    (dict(X=np.ones((3, 2)), y=np.ones(3), beta=np.nan), "beta must be > 0"),
    (dict(X=np.ones((3, 2)), y=np.ones(3), beta=1.0, loss="l1"), "unknown loss 'l1'"),
    (dict(X=np.ones((3, 2)), y=np.ones(3), beta=1.0, bias="yes"), "unknown bias"),
    (dict(X=np.ones((3, 2)), y=np.ones(3), beta=1.0, scale="avg"), "unknown scale"),
    (dict(X=np.ones((3, 2)), y=[0.0, 1.0, 1.0], beta=1.0, loss="logistic"), "2\\*y - 1"),
])
def test_bad_input_gets_a_clear_error(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Problem(**kwargs)


def test_non_numeric_input_is_a_type_error():
    with pytest.raises(TypeError, match="numeric"):
        Problem([["a", "b"]], [1.0], 1.0)
    with pytest.raises(TypeError, match="beta"):
        Problem(np.ones((2, 1)), np.ones(2), "big")


def test_column_y_is_accepted():
    p = Problem(np.ones((3, 2)), np.ones((3, 1)), 1.0)
    assert p.y.shape == (3,)


def test_network_validation_and_pruning():
    with pytest.raises(ValueError, match="must be"):
        ReLUNetwork(np.ones((2, 3)), np.zeros(2), np.ones(3))
    net = ReLUNetwork(np.array([[1.0, 0.0, 2.0]]), alpha=[1.0, 5.0, 0.0])
    assert net.width == 3 and net.n_neurons == 1
    assert net.pruned().width == 1
    back = ReLUNetwork.from_dict(net.to_dict())
    np.testing.assert_array_equal(back.W, net.W)


def test_three_layer_path_norm_by_hand():
    W1 = np.array([[[1.0, 2.0]]])  # K=1, d=1, m1=2
    W2 = np.array([[[3.0], [0.5]]])  # m2=1
    alpha = np.array([[2.0]])
    net = cvxlens.ParallelReLUNetwork3(W1, W2, alpha)
    x = np.array([[1.0], [-1.0], [2.0]])
    f = np.maximum(np.maximum(x @ W1[0], 0) @ W2[0], 0) @ alpha[0]
    np.testing.assert_allclose(net.predict(x), f)
    path = np.sqrt(1 * 9 * 4 + 4 * 0.25 * 4)
    p = Problem(x, np.zeros(3), 0.5, bias="none")
    assert p.objective(net) == pytest.approx(0.5 * np.sum(f**2) + 0.5 * path)
