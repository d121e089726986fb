"""Conformance: every registered built-in method keeps the Method contract
(cvxlens.testing.check_method), and the checker itself catches broken methods."""

import time

import numpy as np
import pytest

import cvxlens
from cvxlens import Capabilities, Method, Solution
from cvxlens.plugins import unregister_plugin
from cvxlens.testing import ConformanceError, check_method, default_problem

import _toy_methods as toy

#: Options that keep each method's check fast on the tiny default problem (only the options a
#: method declares are passed; unknown methods run with their defaults).
FAST_OPTIONS = {
    "adam": {"width": 8, "epochs": 40, "n_init": 1, "lr": [0.01]},
    "sgd": {"width": 8, "epochs": 40, "n_init": 1, "lr": [0.01]},
    "meanfield": {"width": 40, "steps": 400},
    "ntk": {"width": 50, "n_components": 8},
    "hv": {"max_iter": 50},
    "path3": {},
    "lp": {"width": 1},
}


def _builtin_methods():
    return sorted(m.name for m in cvxlens.list_methods(include_errors=False)
                  if m.plugin != "toy" and not m.name.startswith("toy_"))


def _fast_options(name):
    specs = cvxlens.get_method(name).option_specs()
    return {k: v for k, v in FAST_OPTIONS.get(name, {}).items() if k in specs}


def test_every_entry_point_plugin_loads():
    broken = [(m.name, m.error) for m in cvxlens.list_methods() if m.error]
    assert not broken, broken


@pytest.mark.parametrize("name", _builtin_methods())
def test_builtin_method_conformance(name):
    t0 = time.perf_counter()
    report = check_method(name, **_fast_options(name))
    assert report["status"] in cvxlens.STATUSES
    assert time.perf_counter() - t0 < 120


#: Variants of built-in methods whose own code paths deserve the contract check too.
#: (method, options, slow)
VARIANTS = [
    ("ntk", {"realize": "features", "width": 50}, False),
    ("reflection", {"depth": 3}, False),
    ("gated", {"solver": "native"}, False),
    ("lasso", {"solver": "native"}, True),
    ("lasso", {"patterns": 20}, True),
]


def _variants():
    out = []
    for name, opts, slow in VARIANTS:
        try:
            specs = cvxlens.get_method(name).option_specs()
        except cvxlens.UnknownMethodError:
            continue
        if set(opts) <= set(specs):
            out.append(pytest.param(name, opts, marks=[pytest.mark.slow] if slow else [],
                                    id=f"{name}-" + "-".join(f"{k}={v}" for k, v in opts.items())))
    return out


@pytest.mark.parametrize("name, opts", _variants())
def test_builtin_variant_conformance(name, opts):
    check_method(name, **{**_fast_options(name), **opts})


def _conventions():
    out = []
    for name in _builtin_methods():
        caps = cvxlens.get_method(name).capabilities
        out += [(name, loss, bias) for loss in caps.losses for bias in caps.biases]
    return out


@pytest.mark.slow
@pytest.mark.parametrize("name, loss, bias", _conventions())
def test_builtin_method_conformance_every_convention(name, loss, bias):
    """Every (loss, bias convention) a built-in method declares keeps the contract."""
    try:
        prob = default_problem(name, loss=loss, bias=bias)
    except ConformanceError as exc:  # the method refuses this tiny problem for its own reason
        pytest.skip(str(exc))
    check_method(name, prob, check_bound_by_descent=False, **_fast_options(name))


def test_default_problem_fits_capabilities():
    class OneD(Method):
        name = "x_1d_cls"
        capabilities = Capabilities(losses=("hinge",), biases=("free",), input_dim=1)

        def solve(self, problem, **o):  # pragma: no cover - not called
            raise NotImplementedError

    p = default_problem(OneD)
    assert (p.n, p.d, p.loss, p.bias) == (8, 1, "hinge", "free")
    assert set(np.unique(p.y)) == {-1.0, 1.0}
    p = default_problem(toy.ToyRidge)
    assert (p.d, p.loss, p.bias) == (2, "squared", "regularized")


# ------------------------------------------------------------------ the checker catches bugs
def _net(problem, seed=0, width=3):
    return toy.ridge_fit(problem, width, seed)


class LiesAboutJ(Method):
    name = "bad_lies"
    capabilities = Capabilities()

    def solve(self, problem, **o):
        net = _net(problem)
        return Solution(net, problem.objective(net) * 0.9, status="converged")


class BoundAboveJ(Method):
    name = "bad_bound"
    capabilities = Capabilities(lower_bound=True)

    def solve(self, problem, **o):
        net = _net(problem)
        J = problem.objective(net)
        return Solution(net, J, lower_bound=J * 1.1 + 1, bound_kind="global", status="converged")


class FakeCertificate(Method):
    """Claims its (poor) network is certified optimal: J itself as a 'global' bound."""
    name = "bad_certificate"
    capabilities = Capabilities(lower_bound=True)

    def solve(self, problem, **o):
        net = _net(problem, width=1)
        J = problem.objective(net)
        return Solution(net, J, lower_bound=J, bound_kind="global", status="optimal")


class NotDeterministic(Method):
    name = "bad_random"
    capabilities = Capabilities()

    def solve(self, problem, **o):
        net = _net(problem, seed=int(time.perf_counter_ns() % 1000))
        return Solution(net, problem.objective(net), status="converged")


class BadHistory(Method):
    name = "bad_history"
    capabilities = Capabilities()

    def solve(self, problem, **o):
        net = _net(problem)
        J = problem.objective(net)
        return Solution(net, J, status="converged", history=[(1.0, J), (0.5, J)])


class Fails(Method):
    name = "bad_fails"
    capabilities = Capabilities()

    def solve(self, problem, **o):
        return Solution(None, None, status="failed", message="nope")


class BadPlugin:
    @cvxlens.hookimpl
    def cvxlens_register_methods(self, register):
        for cls in (LiesAboutJ, BoundAboveJ, FakeCertificate, NotDeterministic, BadHistory,
                    Fails):
            register(cls)


@pytest.fixture(scope="module")
def bad_plugin():
    cvxlens.register_plugin(BadPlugin(), "bad-conformance")
    cvxlens.register_plugin(toy.ToyPlugin(), "toy")
    yield
    unregister_plugin("bad-conformance")
    unregister_plugin("toy")


def test_checker_passes_an_honest_method(bad_plugin):
    report = check_method("toy_ridge")
    assert {"objective", "deterministic", "unknown_option", "scale_mean", "history"} <= set(
        report["checks"])


@pytest.mark.parametrize("name, needle", [
    ("bad_lies", "problem.objective(network)"),
    ("bad_bound", "lower_bound"),
    ("bad_certificate", "local descent"),
    ("bad_random", "same seed"),
    ("bad_history", "history seconds decrease"),
    ("bad_fails", "status 'failed'"),
])
def test_checker_catches(bad_plugin, name, needle):
    with pytest.raises(ConformanceError, match=needle.replace("(", r"\(").replace(")", r"\)")):
        check_method(name)
