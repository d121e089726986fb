"""``cvxlens.solve``: run one method on one problem through the Method contract."""

from __future__ import annotations

import time

import numpy as np

from .method import UnsupportedProblemError
from .plugins import get_method
from .problem import Problem
from .solution import Solution

__all__ = ["solve"]


def solve(problem: Problem, method: str, **options) -> Solution:
    """Solve ``problem`` with the registered method ``method``.

    The method receives the ``sum``-scaled problem; the returned Solution is in the caller's
    scale: ``objective`` is J of the returned network evaluated by ``problem.objective`` (the
    method's own value is kept in ``info["reported_objective"]``), and the lower bound and history
    are rescaled for ``scale="mean"``.

    Parameters
    ----------
    problem : Problem
    method : str
        A name from :func:`cvxlens.list_methods`.
    **options
        The method's options (see ``cvxlens methods``), plus ``seed`` and ``time_limit``.

    Raises
    ------
    UnknownMethodError
        Unknown method name (the message lists the available ones).
    UnknownOptionError, OptionError
        Undeclared option or invalid option value.
    UnsupportedProblemError
        The method cannot solve this kind of problem.
    """
    if not isinstance(problem, Problem):
        raise TypeError(f"problem must be a cvxlens.Problem, got {type(problem).__name__}")
    cls = get_method(method)
    reason = cls.unsupported_reason(problem)
    if reason:
        raise UnsupportedProblemError(reason)
    opts = cls.validate_options(**options)
    sum_problem = problem.as_sum()
    t0 = time.perf_counter()
    sol = cls().solve(sum_problem, **opts)
    elapsed = time.perf_counter() - t0
    if not isinstance(sol, Solution):
        raise TypeError(f"method {method!r} returned {type(sol).__name__}, not a Solution")
    return _finalize(sol, problem, cls.name, opts, elapsed)


def _finalize(sol: Solution, problem: Problem, name: str, opts: dict, elapsed: float) -> Solution:
    w = problem.loss_weight
    sol.method = name
    sol.options = dict(opts)
    if not sol.time_s:
        sol.time_s = elapsed
    if sol.objective is not None:
        sol.info["reported_objective"] = sol.objective * w
        if sol.network is not None and sol.status not in ("failed", "unsupported"):
            true_j = problem.objective(sol.network)
            rel = abs(true_j - sol.objective * w) / max(1.0, abs(true_j))
            if rel > 1e-6:
                sol.info["objective_mismatch"] = rel
            sol.objective = true_j
        else:
            sol.objective = sol.objective * w
    if sol.lower_bound is not None:
        sol.lower_bound = sol.lower_bound * w
    if w != 1.0 and sol.history:
        sol.history = [(t, v * w if v is not None else None) for t, v in sol.history]
    sol.history = [(float(t), float(v) if v is not None and np.isfinite(v) else None)
                   for t, v in sol.history]
    return sol
