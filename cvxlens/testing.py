"""Conformance checks for methods: the contract every built-in and third-party method keeps.

A plugin's own test suite calls::

    from cvxlens.testing import check_method

    def test_conformance():
        check_method("my_method")                  # a tiny default problem that fits it
        check_method("my_method", width=4)         # options used for every solve

``check_method`` raises :class:`ConformanceError` (an ``AssertionError``) listing every broken
rule, and returns a report dict when all hold. The rules:

1. ``cvxlens.solve`` returns a :class:`~cvxlens.Solution` whose ``status`` is one of
   ``STATUSES`` and neither ``failed`` nor ``unsupported`` on the default problem; ``method``,
   ``options`` (complete, with ``seed``), ``time_s >= 0``, ``n_iter >= 0``, ``message`` (str),
   ``info`` (dict) are filled.
2. Finite-weight methods return a network of the declared depth (``ReLUNetwork`` for depth 2,
   ``ParallelReLUNetwork3`` for depth 3) that respects the bias convention, and the objective
   the method reported equals ``problem.objective(network)`` to 1e-9 relative. Every predictor
   gives finite predictions of shape (n,).
3. ``lower_bound`` and ``bound_kind`` come together; ``bound_kind`` is ``"global"`` or
   ``"subsampled"``; ``lower_bound <= objective`` (tolerance 1e-8 relative). A ``global`` bound
   must also lie below J of local L-BFGS descent from the returned network and from random
   initializations (cvxlens.nonconvex), an independent check that it bounds min J.
4. Same seed -> same result (objective, status and predictions to 1e-9 relative).
5. An unknown option raises :class:`~cvxlens.UnknownOptionError` naming it.
6. ``scale="mean"``: the method solved on the mean-scaled problem with ``beta / n`` gives
   ``J_mean = J_sum / n`` and ``LB_mean = LB_sum / n`` of the sum-scaled solve.
7. ``history`` is a list of ``(seconds, objective)`` pairs with finite non-decreasing
   seconds >= 0 and float or None objectives.
"""

from __future__ import annotations

import json
import math

import numpy as np

from .api import solve
from .method import UnknownOptionError
from .network import ParallelReLUNetwork3, ReLUNetwork
from .plugins import get_method
from .problem import Problem
from .solution import BOUND_KINDS, STATUSES, Solution

__all__ = ["check_method", "default_problem", "ConformanceError"]

#: Relative tolerance of "objective == problem.objective(network)" and of determinism.
OBJECTIVE_RTOL = 1e-9
#: Relative tolerance of "lower_bound <= objective".
BOUND_RTOL = 1e-8
_BOGUS_OPTION = "__cvxlens_no_such_option__"


class ConformanceError(AssertionError):
    """A method breaks the cvxlens Method contract (the message lists every broken rule)."""


def default_problem(method, n: int = 8, beta: float = 0.1, seed: int = 0, *,
                    loss: str | None = None, bias: str | None = None) -> Problem:
    """A tiny seeded problem that fits the method's capabilities.

    ``d = capabilities.input_dim`` (2 when any), labels +-1 when the method supports no
    ``squared`` loss, bias ``regularized`` when supported (else the first declared one). ``n``
    defaults to 8 (a power of two, so that ``beta / n * n == beta`` exactly for the scale check).
    Falls back over the declared losses and biases when ``unsupported_reason`` refuses the first
    choice. ``loss`` / ``bias`` force a convention (it must be one the method declares).

    Raises
    ------
    ConformanceError
        When no combination of declared loss and bias gives a problem the method accepts.
    """
    cls = get_method(method) if isinstance(method, str) else method
    caps = cls.capabilities
    d = caps.input_dim or 2
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    w1, w2 = rng.standard_normal(d), rng.standard_normal(d)
    y_reg = np.maximum(X @ w1 + 0.2, 0) - 0.5 * np.maximum(X @ w2 - 0.1, 0) \
        + 0.1 * rng.standard_normal(n)
    y_cls = np.where(X @ w1 + 0.1 * rng.standard_normal(n) >= 0, 1.0, -1.0)
    y_cls[0], y_cls[1] = 1.0, -1.0  # both classes present
    losses = [loss] if loss is not None else sorted(caps.losses, key=lambda s: s != "squared")
    biases = [bias] if bias is not None else sorted(caps.biases, key=lambda s: s != "regularized")
    reasons = []
    for loss in losses:
        for bias in biases:
            y = y_reg if loss == "squared" else y_cls
            try:
                p = Problem(X, y, beta, loss=loss, bias=bias)
            except ValueError as exc:
                reasons.append(str(exc))
                continue
            reason = cls.unsupported_reason(p)
            if not reason:
                return p
            reasons.append(reason)
    raise ConformanceError(f"no default problem fits method {cls.name!r}: "
                           f"{'; '.join(reasons)}; pass problem=...")


def _rel(a: float, b: float) -> float:
    return abs(a - b) / max(abs(b), 1e-12)


def _predict(net, X):
    return np.asarray(net.predict(X), dtype=float).reshape(-1)


def check_method(name: str, problem: Problem | None = None, *, check_scale: bool = True,
                 check_bound_by_descent: bool = True, **options) -> dict:
    """Check that method ``name`` keeps the cvxlens Method contract (see the module docstring).

    Parameters
    ----------
    name : str
        A registered method name.
    problem : Problem, optional
        The problem to solve (default: :func:`default_problem`).
    check_scale : bool
        Also run the ``scale="mean"`` consistency check (one more solve).
    check_bound_by_descent : bool
        For ``global`` bounds on two-layer problems, also check them against L-BFGS descent
        (from the returned network and from 3 random initializations).
    **options
        Method options used for every solve (e.g. a small width to keep the check fast).
        ``seed`` defaults to 0.

    Returns
    -------
    dict
        ``method, problem, solution, objective, lower_bound, bound_kind, status, checks``
        (the names of the rules checked).

    Raises
    ------
    ConformanceError
        Listing every broken rule.
    """
    cls = get_method(name)
    caps = cls.capabilities
    prob = problem if problem is not None else default_problem(cls)
    options = dict(options)
    options.setdefault("seed", 0)
    errors: list[str] = []
    checks: list[str] = []

    def fail(msg):
        errors.append(msg)

    # ---------------------------------------------------------------- 1. returns a Solution
    try:
        sol = solve(prob, name, **options)
    except Exception as exc:
        raise ConformanceError(f"{name}: solve({prob!r}) raised {type(exc).__name__}: {exc}") from exc
    if not isinstance(sol, Solution):
        raise ConformanceError(f"{name}: solve returned {type(sol).__name__}, not a Solution")
    checks.append("returns_solution")
    if sol.status not in STATUSES:
        fail(f"status {sol.status!r} is not one of {STATUSES}")
    if sol.status in ("failed", "unsupported"):
        fail(f"status {sol.status!r} on the check problem {prob!r}: {sol.message}")
    if sol.method != name:
        fail(f"solution.method is {sol.method!r}, expected {name!r}")
    if not isinstance(sol.options, dict) or sol.options.get("seed") != options["seed"]:
        fail("solution.options must hold the validated options including 'seed'")
    if not (isinstance(sol.time_s, (int, float)) and sol.time_s >= 0 and math.isfinite(sol.time_s)):
        fail(f"time_s must be a finite number >= 0, got {sol.time_s!r}")
    if not (isinstance(sol.n_iter, (int, np.integer)) and sol.n_iter >= 0):
        fail(f"n_iter must be an int >= 0, got {sol.n_iter!r}")
    if not isinstance(sol.message, str):
        fail(f"message must be a str, got {type(sol.message).__name__}")
    if not isinstance(sol.info, dict):
        fail(f"info must be a dict, got {type(sol.info).__name__}")
    else:
        try:
            json.dumps(sol.info, default=_json_numpy)
        except (TypeError, ValueError) as exc:
            fail(f"info must be JSON-serializable (numbers, strings, lists, dicts): {exc}")
    checks.append("fields")

    # ---------------------------------------------------------------- 2. network and J
    net = sol.network
    pred = None
    if net is None:
        if sol.status not in ("failed", "unsupported"):
            fail("network is None although the run did not fail")
    else:
        if not hasattr(net, "predict"):
            fail(f"network {type(net).__name__} has no predict(X)")
        else:
            try:
                pred = _predict(net, prob.X)
                if pred.shape != (prob.n,) or not np.all(np.isfinite(pred)):
                    fail(f"predict(X) must give finite values of shape ({prob.n},), got {pred.shape}")
                    pred = None
            except Exception as exc:
                fail(f"predict(X) raised {type(exc).__name__}: {exc}")
    if caps.finite_weights and net is not None:
        want = ReLUNetwork if caps.depth == 2 else ParallelReLUNetwork3
        if not isinstance(net, want):
            fail(f"capabilities say depth {caps.depth} with finite weights: expected a "
                 f"{want.__name__}, got {type(net).__name__}")
        if sol.objective is None:
            fail("objective is None although the method returns finite weights")
    if isinstance(net, (ReLUNetwork, ParallelReLUNetwork3)) and sol.objective is not None:
        # any finite network that comes with a J, whatever the capabilities say
        try:
            fresh = prob.objective(net)
        except Exception as exc:
            fresh = None
            fail(f"problem.objective(network) raised {type(exc).__name__}: {exc} "
                 "(does the network respect the bias convention?)")
        reported = sol.info.get("reported_objective", sol.objective)
        if fresh is not None:
            if _rel(reported, fresh) > OBJECTIVE_RTOL:
                fail(f"reported objective {reported!r} != problem.objective(network) "
                     f"{fresh!r} (relative difference {_rel(reported, fresh):.2e} > "
                     f"{OBJECTIVE_RTOL:g})")
            if sol.objective != fresh:
                fail("solution.objective is not J of the returned network")
    if isinstance(net, ReLUNetwork) and sol.n_neurons is not None and sol.n_neurons < 0:
        fail("n_neurons < 0")
    checks.append("objective")

    # ---------------------------------------------------------------- 3. lower bound
    if (sol.lower_bound is None) != (sol.bound_kind is None):
        fail("lower_bound and bound_kind must be given together")
    if sol.bound_kind is not None and sol.bound_kind not in BOUND_KINDS:
        fail(f"bound_kind {sol.bound_kind!r} is not one of {BOUND_KINDS}")
    if sol.lower_bound is not None:
        if not math.isfinite(sol.lower_bound):
            fail(f"lower_bound must be finite, got {sol.lower_bound}")
        elif sol.objective is not None and \
                sol.lower_bound > sol.objective + BOUND_RTOL * max(1.0, abs(sol.objective)):
            fail(f"lower_bound {sol.lower_bound!r} > objective {sol.objective!r}")
        elif sol.bound_kind == "global" and check_bound_by_descent and math.isfinite(sol.lower_bound) \
                and caps.depth == 2:
            _check_global_bound(prob, sol, fail)
    checks.append("lower_bound")

    # ---------------------------------------------------------------- 4. determinism
    try:
        sol2 = solve(prob, name, **options)
    except Exception as exc:
        fail(f"second solve with the same seed raised {type(exc).__name__}: {exc}")
        sol2 = None
    if sol2 is not None:
        if sol2.status != sol.status:
            fail(f"same seed, different status: {sol.status!r} then {sol2.status!r}")
        for field in ("objective", "lower_bound"):
            a, b = getattr(sol, field), getattr(sol2, field)
            if (a is None) != (b is None) or (a is not None and _rel(b, a) > OBJECTIVE_RTOL):
                fail(f"same seed, different {field}: {a!r} then {b!r}")
        if pred is not None and sol2.network is not None:
            p2 = _predict(sol2.network, prob.X)
            if p2.shape != pred.shape or np.max(np.abs(p2 - pred)) > \
                    OBJECTIVE_RTOL * max(1.0, float(np.max(np.abs(pred)))) * 1e3:
                fail("same seed, different predictions")
    checks.append("deterministic")

    # ---------------------------------------------------------------- 5. unknown option
    try:
        solve(prob, name, **{**options, _BOGUS_OPTION: 1})
    except UnknownOptionError as exc:
        if _BOGUS_OPTION not in str(exc):
            fail(f"UnknownOptionError does not name the option: {exc}")
    except Exception as exc:
        fail(f"an unknown option raised {type(exc).__name__} instead of UnknownOptionError: {exc}")
    else:
        fail("an unknown option was accepted silently")
    checks.append("unknown_option")

    # ---------------------------------------------------------------- 6. scale="mean"
    if check_scale and sol.status not in ("failed", "unsupported"):
        ps = prob.as_sum()
        pm = Problem(ps.X, ps.y, ps.beta / ps.n, loss=ps.loss, bias=ps.bias, scale="mean")
        exact = pm.as_sum().beta == ps.beta
        rtol = OBJECTIVE_RTOL if exact else 1e-5
        ref = sol if prob.scale == "sum" else None
        try:
            if ref is None:
                ref = solve(ps, name, **options)
            solm = solve(pm, name, **options)
        except Exception as exc:
            fail(f"solve on the mean-scaled problem raised {type(exc).__name__}: {exc}")
        else:
            for field in ("objective", "lower_bound"):
                a, b = getattr(ref, field), getattr(solm, field)
                if (a is None) != (b is None):
                    fail(f"scale='mean': {field} present in one scale only")
                elif a is not None and _rel(b * ps.n, a) > rtol:
                    fail(f"scale='mean': {field} {b!r} * n = {b * ps.n!r} differs from the "
                         f"sum-scaled {a!r}")
            if solm.objective is not None and solm.network is not None and caps.finite_weights:
                if _rel(solm.objective, pm.objective(solm.network)) > OBJECTIVE_RTOL:
                    fail("scale='mean': objective is not the mean-scaled J of the network")
            if solm.history and ref.history and len(solm.history) == len(ref.history):
                for (_, vm), (_, vs) in zip(solm.history, ref.history):
                    if vm is not None and vs is not None and _rel(vm * ps.n, vs) > max(rtol, 1e-9):
                        fail("scale='mean': history is not rescaled by 1/n")
                        break
        checks.append("scale_mean")

    # ---------------------------------------------------------------- 7. history
    hist = sol.history
    if not isinstance(hist, list):
        fail(f"history must be a list, got {type(hist).__name__}")
    else:
        last = -math.inf
        for i, item in enumerate(hist):
            try:
                t, v = item
            except (TypeError, ValueError):
                fail(f"history[{i}] is not a (seconds, objective) pair: {item!r}")
                break
            if not (isinstance(t, float) and math.isfinite(t) and t >= 0):
                fail(f"history[{i}] seconds must be a finite float >= 0, got {t!r}")
                break
            if t < last - 1e-12:
                fail(f"history seconds decrease at entry {i}")
                break
            last = t
            if v is not None and not isinstance(v, float):
                fail(f"history[{i}] objective must be a float or None, got {v!r}")
                break
    checks.append("history")

    if errors:
        raise ConformanceError(f"method {name!r} breaks the contract on {prob!r}:\n- "
                               + "\n- ".join(errors))
    return {"method": name, "problem": prob, "solution": sol, "objective": sol.objective,
            "lower_bound": sol.lower_bound, "bound_kind": sol.bound_kind, "status": sol.status,
            "checks": checks}


def _check_global_bound(prob: Problem, sol: Solution, fail) -> None:
    """A global lower bound must not exceed J of any network: try local descent."""
    from .nonconvex import fit_lbfgs, random_restarts

    ps = prob.as_sum()
    lb_sum = sol.lower_bound / prob.loss_weight
    tol = BOUND_RTOL * max(1.0, abs(lb_sum)) + 1e-10
    candidates = []
    if isinstance(sol.network, ReLUNetwork) and sol.network.width > 0:
        try:
            candidates.append(ps.objective(fit_lbfgs(ps, sol.network, max_iter=500)))
        except Exception:  # noqa: BLE001 - a descent failure is not the method's fault
            pass
    try:
        best, _, _ = random_restarts(ps, width=max(4, 2 * ps.d), n_restarts=3, seed=0, max_iter=500)
        candidates.append(best)
    except Exception:  # noqa: BLE001
        pass
    for J in candidates:
        if lb_sum > J + tol:
            fail(f"'global' lower bound {sol.lower_bound!r} exceeds J = "
                 f"{J * prob.loss_weight!r} of a network found by local descent: "
                 "it is not a lower bound on min J")
            return


def _json_numpy(o):
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(f"{type(o).__name__} is not JSON-serializable")
