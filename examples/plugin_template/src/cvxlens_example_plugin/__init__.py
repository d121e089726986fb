"""Example cvxlens plugin: ``example_rf``, random ReLU features with ridge output weights.

The first layer ``W`` (shape (d', m), d' = d + 1 with the ones column of ``bias="regularized"``)
is drawn once from N(0, 1/d') and frozen; the output weights solve the ridge problem

    min_alpha  1/2 ||H alpha - y||^2 + (beta/2) ||alpha||^2,     H = (X' W)_+  (n, m),

in closed form, ``alpha = (H^T H + beta I)^{-1} H^T y``. This is the random-features view of a
two-layer ReLU network (Rahimi & Recht 2007; the survey's NTK/random-features discussion). The
returned network is an ordinary ``cvxlens.ReLUNetwork``; its J (which also charges
``(beta/2)||W||_F^2`` for the frozen layer) is evaluated by ``problem.objective``. No lower
bound: the method optimizes only part of the weights, so nothing certifies min J.
"""

from __future__ import annotations

import numpy as np

import cvxlens
from cvxlens import Capabilities, Deadline, Method, Option, Solution

__all__ = ["ExampleRandomFeatures"]
__version__ = "0.1.0"


def _positive_int(v):
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
        raise ValueError(f"must be a positive integer, got {v!r}")
    return int(v)


def _positive_float(v):
    try:
        v = float(v)
    except (TypeError, ValueError):
        raise ValueError(f"must be a number > 0, got {v!r}") from None
    if not v > 0:
        raise ValueError(f"must be > 0, got {v}")
    return v


class ExampleRandomFeatures(Method):
    """Random ReLU features, ridge-fitted output weights (closed form)."""

    name = "example_rf"
    summary = "random ReLU features + ridge output weights (example third-party plugin)"
    capabilities = Capabilities(losses=("squared",), biases=("none", "regularized"), depth=2,
                                finite_weights=True, lower_bound=False, input_dim=None)
    options = {
        "width": Option(50, "number of random neurons m", _positive_int),
        "scale": Option(1.0, "standard deviation multiplier of the random first layer",
                        _positive_float),
    }

    def solve(self, problem, **options):
        # problem is sum-scaled; options are validated and complete (seed, time_limit included)
        dl = Deadline(options["time_limit"])
        rng = np.random.default_rng(options["seed"])
        A = problem.design()                                  # (n, d) or (n, d + 1)
        m = options["width"]
        W = rng.standard_normal((A.shape[1], m)) * options["scale"] / np.sqrt(A.shape[1])
        H = np.maximum(A @ W, 0.0)                            # (n, m), ties count as 0
        alpha = np.linalg.solve(H.T @ H + problem.beta * np.eye(m), H.T @ problem.y)
        network = problem.network_from_design(W, alpha)       # splits off the bias row
        J = problem.objective(network)
        return Solution(network, objective=J, status="optimal" if not dl.expired() else "timeout",
                        n_iter=1, history=[(dl.elapsed(), J)],
                        message="closed-form ridge on the output weights (first layer frozen)",
                        info={"width": m})


@cvxlens.hookimpl
def cvxlens_register_methods(register):
    register(ExampleRandomFeatures)
