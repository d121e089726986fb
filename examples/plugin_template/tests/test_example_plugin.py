"""The plugin's own tests: the cvxlens conformance check plus one closed-form fact."""

import numpy as np
import pytest

import cvxlens
from cvxlens.testing import check_method


def test_registered_through_the_entry_point():
    names = [m.name for m in cvxlens.list_methods()]
    assert "example_rf" in names


def test_conformance():
    check_method("example_rf")
    check_method("example_rf", width=5, scale=0.5)


def test_output_weights_are_the_ridge_optimum():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((20, 3)), rng.standard_normal(20)
    prob = cvxlens.Problem(X, y, beta=0.3, bias="none")
    sol = cvxlens.solve(prob, "example_rf", width=7, seed=1)
    net = sol.network
    # perturbing the output weights never lowers J (first-order optimality of the ridge)
    for _ in range(20):
        d = 1e-4 * rng.standard_normal(7)
        other = cvxlens.ReLUNetwork(net.W, net.b, net.alpha + d, net.c)
        assert prob.objective(other) >= sol.objective - 1e-12
    with pytest.raises(cvxlens.OptionError, match="width"):
        cvxlens.solve(prob, "example_rf", width=0)
