"""Toy methods for the runner / CLI / registry tests (not shipped).

Registered in-process with ``cvxlens.register_plugin(ToyPlugin(), "toy")`` or, for subprocess
tests, through an entry point of a throwaway ``*.dist-info`` (see :func:`write_dist_info`).

- ``toy_ridge``: honest random-features fit: fixed random first layer (seeded), output weights by
  ridge regression in closed form; J evaluated by the problem.
- ``toy_raise``: raises RuntimeError("toy boom").
- ``toy_soft``: keeps working until its soft ``time_limit`` expires, then returns the ridge
  network with status "timeout".
- ``toy_hang``: sleeps for ``sleep`` seconds ignoring ``time_limit`` (must be killed).
- ``toy_crash``: kills its own process with SIGKILL.
- ``toy_1d``: needs d = 1 (capabilities.input_dim).
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import numpy as np

import cvxlens
from cvxlens import Capabilities, Deadline, Method, Option, Solution


def _pos_int(v):
    if isinstance(v, bool) or not isinstance(v, int) or v < 1:
        raise ValueError(f"must be a positive integer, got {v!r}")
    return v


def ridge_fit(problem, width, seed):
    rng = np.random.default_rng(seed)
    A = problem.design()
    G = rng.standard_normal((A.shape[1], width)) / np.sqrt(A.shape[1])
    H = np.maximum(A @ G, 0.0)
    beta = problem.beta_sum
    w = problem.loss_weight
    alpha = np.linalg.solve(w * H.T @ H + beta * np.eye(width), w * H.T @ problem.y)
    if problem.bias == "free":
        return cvxlens.ReLUNetwork(G, np.zeros(width), alpha, 0.0)
    return problem.network_from_design(G, alpha)


class ToyRidge(Method):
    name = "toy_ridge"
    summary = "random ReLU features + ridge on the output weights (test method)"
    capabilities = Capabilities(losses=("squared", "logistic"), biases=("none", "regularized"))
    options = {"width": Option(8, "number of random neurons", _pos_int)}

    def solve(self, problem, **o):
        net = ridge_fit(problem, o["width"], o["seed"])
        J = problem.objective(net)
        return Solution(net, J, status="converged", n_iter=1, history=[(0.0, J)],
                        info={"width": o["width"]})


class ToyRaise(Method):
    name = "toy_raise"
    summary = "always raises (test method)"
    capabilities = Capabilities(losses=("squared", "logistic", "hinge"))

    def solve(self, problem, **o):
        raise RuntimeError("toy boom")


class ToySoft(Method):
    name = "toy_soft"
    summary = "works until its soft time_limit, then returns its best network (test method)"
    capabilities = Capabilities(losses=("squared",), biases=("none", "regularized"))

    def solve(self, problem, **o):
        dl = Deadline(o["time_limit"] if o["time_limit"] is not None else 0.2)
        k = 0
        while not dl.expired():
            time.sleep(0.01)
            k += 1
        net = ridge_fit(problem, 4, o["seed"])
        return Solution(net, problem.objective(net), status="timeout", n_iter=k,
                        message="stopped at time_limit")


class ToyHang(Method):
    name = "toy_hang"
    summary = "hangs, ignoring time_limit (test method)"
    capabilities = Capabilities(losses=("squared", "logistic", "hinge"))
    options = {"sleep": Option(1000.0, "seconds to sleep")}

    def solve(self, problem, **o):
        time.sleep(o["sleep"])
        net = ridge_fit(problem, 2, o["seed"])
        return Solution(net, problem.objective(net), status="converged")


class ToyCrash(Method):
    name = "toy_crash"
    summary = "kills its own process (test method)"
    capabilities = Capabilities(losses=("squared",))

    def solve(self, problem, **o):
        os.kill(os.getpid(), signal.SIGKILL)


class Toy1D(Method):
    name = "toy_1d"
    summary = "needs one input dimension (test method)"
    capabilities = Capabilities(losses=("squared",), biases=("none", "regularized"), input_dim=1)

    def solve(self, problem, **o):
        net = ridge_fit(problem, 3, o["seed"])
        return Solution(net, problem.objective(net), status="converged")


ALL = (ToyRidge, ToyRaise, ToySoft, ToyHang, ToyCrash, Toy1D)


class ToyPlugin:
    """In-process plugin object registering the toy methods."""

    @cvxlens.hookimpl
    def cvxlens_register_methods(self, register):
        for cls in ALL:
            register(cls)


@cvxlens.hookimpl
def cvxlens_register_methods(register):
    """Module-level hook (for the entry-point route)."""
    for cls in ALL:
        register(cls)


def write_dist_info(root: Path, dist: str, entry_points: dict, modules: dict | None = None) -> Path:
    """Create a minimal installed distribution under ``root`` (to be put on sys.path /
    PYTHONPATH): ``<dist>-0.0.dist-info/{METADATA,entry_points.txt}`` plus module files.

    entry_points: ``{entry_point_name: "module"}`` in the ``cvxlens`` group.
    modules: ``{module_name: source}``.
    """
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    info = root / f"{dist}-0.0.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.0\n")
    lines = ["[cvxlens]"] + [f"{k} = {v}" for k, v in entry_points.items()]
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n")
    for mod, src in (modules or {}).items():
        (root / f"{mod}.py").write_text(src)
    return root
