"""cvxlens built-in plugin: the Pilanci–Ergen convex programs (survey Theorem 1, eq. 18).

Registers two methods:

``lasso``
    The exact ReLU program: group Lasso over activation patterns with cone constraints,
    ``min ½||sum_i D_i Xa (u_i - v_i) - y||² + beta sum_i (||u_i|| + ||v_i||)`` s.t.
    ``(2D_i - I) Xa u_i >= 0``, ``(2D_i - I) Xa v_i >= 0`` (Pilanci & Ergen, ICML 2020). With all
    patterns enumerated its optimum is min J (global); with sampled patterns it is the optimum of
    the restricted program (an upper bound on min J realized by a ReLU network).
``gated``
    The gated ReLU relaxation (cone constraints dropped; Mishkin, Sahiner & Pilanci, ICML 2022).
    Its optimum with all patterns enumerated is a global lower bound on min J; the network returned
    is the cone decomposition of the gated solution, a true ReLU network whose J is reported.

Design ``Xa = problem.design()`` (a ones column for bias ``regularized``); for ``free`` the design
is ``[X, 1]`` with only the first d entries of each group penalized and a free output offset
(MATH.md). Ties: a pattern is ``1[Xa g >= 0]`` (ties count as active), as in ``cvxlens.patterns``.
"""

from __future__ import annotations

import numbers
import time

import numpy as np

import cvxlens
from cvxlens import Capabilities, Deadline, Method, Option, Solution
from cvxlens.method import OptionError

from . import _recover as R
from ._patterns import (build_patterns, design, validate_network,
                        validate_patterns)

__all__ = ["Lasso", "Gated"]


def _positive_float(v):
    if isinstance(v, bool) or not isinstance(v, numbers.Real) or not (v > 0) or not np.isfinite(v):
        raise ValueError(f"must be a finite number > 0, got {v!r}")
    return float(v)


def _positive_int(v):
    if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 1:
        raise ValueError(f"must be a positive integer, got {v!r}")
    return int(v)


def _solver(v):
    if v not in ("native", "cvxpy", "fista"):
        raise ValueError(f"solver must be 'native', 'fista' (gated only) or 'cvxpy', got {v!r}")
    return v


def _cvxpy_solver(v):
    if not isinstance(v, str):
        raise ValueError(f"cvxpy_solver must be a solver name such as 'CLARABEL', got {v!r}")
    import cvxpy as cp
    if v.upper() not in cp.installed_solvers():
        raise ValueError(f"cvxpy solver {v!r} is not installed; installed: "
                         f"{', '.join(cp.installed_solvers())}")
    return v.upper()


def _bool(v):
    if not isinstance(v, (bool, np.bool_)):
        raise ValueError(f"must be True or False, got {v!r}")
    return bool(v)


_COMMON = {
    "patterns": Option("auto", "activation patterns: 'auto' (enumerate when the arrangement has "
                       "<= 512 cells, else sample), 'exact' (enumerate all), an int (number of "
                       "Gaussian gates to sample; default of 'auto' is clip(n/2, 100, 2000)), or an "
                       "(n, P) bool array", validate_patterns),
    "solver": Option("native", "'native' (working set over patterns: numpy pricing and a "
                     "structured interior-point method on the restricted program), 'fista' "
                     "(gated only: restarted FISTA on all patterns, fastest at loose tol) or "
                     "'cvxpy' (whole program)",
                     _solver),
    "cvxpy_solver": Option("CLARABEL", "cvxpy solver used when solver='cvxpy'", _cvxpy_solver),
    "tol": Option(1e-6, "target relative duality gap over the patterns used", _positive_float),
    "max_iter": Option(20000, "maximum iterations of the native solvers (working-set rounds; "
                       "FISTA iterations for solver='fista')", _positive_int),
    "max_patterns": Option(20000, "refuse exact enumeration above this many patterns",
                           _positive_int),
    "init_network": Option(None, "two-layer ReLUNetwork whose activation patterns are added (its J "
                           "then bounds the restricted optimum from above)", validate_network),
    "prune": Option(True, "reduce to at most n+1 neurons (Mishkin & Pilanci 2023) without "
                    "changing J", _bool),
}


class _Base(Method):
    capabilities = Capabilities(losses=("squared", "logistic"),
                                biases=("none", "regularized", "free"), depth=2,
                                finite_weights=True, lower_bound=True)
    options = dict(_COMMON)
    gated = False

    @classmethod
    def unsupported_reason(cls, problem):
        reason = super().unsupported_reason(problem)
        if reason:
            return reason
        return None

    def solve(self, problem, **opts):
        dl = Deadline(opts["time_limit"])
        t0 = time.perf_counter()
        Xa, pen, free = design(problem)
        Dm, gates, kind = build_patterns(problem, Xa, opts["patterns"], opts["seed"],
                                         opts["max_patterns"], opts["init_network"])
        solver = opts["solver"]
        message = []
        if solver == "fista" and not self.gated:
            raise OptionError("solver='fista' solves the gated relaxation only (it has no cone "
                              "constraints); use solver='native' or 'cvxpy' for lasso")
        if solver in ("native", "fista") and problem.loss != "squared":
            solver = "cvxpy"
            message.append(f"the native solver handles the squared loss only; used cvxpy/"
                           f"{opts['cvxpy_solver']} for the {problem.loss} loss")
        if solver == "native" and free and not self.gated:
            solver = "cvxpy"
            message.append("the native solver prices patterns with the cone dual of bias "
                           "'none'/'regularized' only; used cvxpy for bias 'free'")
        y, beta = problem.y, problem.beta
        init = None
        if opts["init_network"] is not None:
            init = _init_from_network(problem, Xa, Dm, opts["init_network"], self.gated)
        info = {"n_patterns": int(Dm.shape[1]), "pattern_kind": kind, "solver": solver}
        history = []
        if solver == "cvxpy":
            from ._cvxpy import solve_cvxpy
            res = solve_cvxpy(Xa, Dm, y, beta, pen, loss=problem.loss, free_offset=free,
                              gated=self.gated, solver=opts["cvxpy_solver"])
            U, V, c = res["U"], res["V"], res["c"]
            info["cvxpy_value"] = res["value"]
            info["cvxpy_status"] = res["status"]
            n_iter = 0
            status = "converged"
            history.append((time.perf_counter() - t0, res["value"]))
        else:
            from threadpoolctl import threadpool_limits

            from ._native import solve_exact_ws, solve_gated, solve_gated_ws
            fn = solve_exact_ws if not self.gated else \
                solve_gated if solver == "fista" else solve_gated_ws
            # one BLAS thread: the products here are mid-sized, and on the 2-core reference
            # machine 2 OpenBLAS threads made the n=1000, d=10, P=500 lasso solve 30% slower
            # (40.5 s against 31.3 s, docs/performance.md)
            with threadpool_limits(limits=1, user_api="blas"):
                res = fn(Xa, Dm, y, beta, pen=pen, free_offset=free, tol=opts["tol"],
                         max_iter=opts["max_iter"], deadline=dl, init=init, t0=t0)
            U, V, c = res["U"], res["V"], res["c"]
            n_iter = res["n_iter"]
            status = res["status"]
            history.extend(res["history"])
            info.update(res.get("info", {}))
        return self._finish(problem, Xa, Dm, gates, kind, pen, free, U, V, c, opts, dl, t0,
                            status, n_iter, history, info, message)

    # ------------------------------------------------------------------ post-processing
    def _finish(self, problem, Xa, Dm, gates, kind, pen, free, U, V, c, opts, dl, t0, status,
                n_iter, history, info, message):
        y, beta, loss = problem.y, problem.beta, problem.loss
        t_post = time.perf_counter()
        info["solve_s"] = t_post - t0
        if self.gated:
            gated_groups = R.groups_from_UV(U, np.zeros_like(U), c, rel_tol=1e-9, pen=pen)
            info["gated_value"] = R.program_value(Xa, Dm, y, beta, gated_groups, pen, loss)
            groups = _decompose(Xa, Dm, gates, gated_groups, dl)
        else:
            groups = R.groups_from_UV(U, V, c, rel_tol=1e-9, pen=pen)
            groups = R.project_groups(Xa, Dm, groups)
        if free and loss == "squared" and groups.m:
            # re-fit the free offset exactly (keeps the optimum, removes solver round-off)
            groups.c = float(np.mean(y - R.predict_groups_relu(Xa, groups) + groups.c))
        info["n_groups_before_reduction"] = int(groups.m)
        if opts["prune"] and groups.m > 1:
            groups = R.reduce_groups(Xa, groups, pen, free)
        net = R.groups_to_network(problem, groups)
        J = problem.objective(net)
        info["program_value"] = R.program_value(Xa, Dm, y, beta, groups, pen, loss)
        pred = net.predict(problem.X)
        lam = R.dual_direction(loss, pred, y)
        fl, flb = info.pop("final_lambda", None), info.pop("final_lower_bound", None)
        more = [(fl, flb)] if (loss == "squared" and fl is not None) else []
        lb, kind_b, extra = _certificate(problem, Xa, Dm, kind, lam, pen, self.gated, dl, more)
        info.update(extra)
        if lb is not None:
            gap = (J - lb) / max(abs(J), 1e-300)
            info["relative_gap"] = gap
            if status == "max_iter" and gap <= opts["tol"] and not self.gated:
                status = "converged"  # the certificate of the returned network reaches tol
            if status == "converged" and kind_b == "global" and gap <= max(opts["tol"], 1e-12) \
                    and not self.gated:
                status = "optimal"
        history.append((time.perf_counter() - t0, J))
        info["postprocess_s"] = time.perf_counter() - t_post
        if self.gated:
            message.append("gated ReLU relaxation; the network is its cone decomposition (a ReLU "
                           "network whose J can exceed the gated optimum in info['gated_value'])")
        if kind == "sampled":
            message.append(f"{Dm.shape[1]} sampled activation patterns: the program is a "
                           "restriction of the exact one")
        return Solution(net, objective=J, lower_bound=lb, bound_kind=kind_b, status=status,
                        n_iter=n_iter, history=history, message="; ".join(message), info=info)


def _init_from_network(problem, Xa, Dm, network, gated):
    """Warm start (U, V, c) on the pattern set from a network's groups."""
    from ._patterns import pattern_index
    Ug, sign, Dn, c = R.groups_from_network(problem, Xa, network)
    idx = pattern_index(Dm, Dn)
    dd, P = Xa.shape[1], Dm.shape[1]
    U = np.zeros((dd, P))
    V = np.zeros((dd, P))
    for j, i in enumerate(idx):
        if i < 0:
            continue
        if gated:
            U[:, i] += sign[j] * Ug[:, j]
        elif sign[j] > 0:
            U[:, i] += Ug[:, j]
        else:
            V[:, i] += Ug[:, j]
    return U, V, float(c)


def _decompose(Xa, Dm, gates, gated_groups, dl=None):
    """Cone decomposition of each gated group w_i = u_i - v_i (u_i, v_i in K_i)."""
    cols, signs, pats = [], [], []

    def add(u, v, i, thr):
        """Neurons +u and -v of pattern i (those with norm above thr)."""
        for vec, sgn in ((u, 1.0), (v, -1.0)):
            if np.linalg.norm(vec) > thr:
                cols.append(vec)
                signs.append(sgn)
                pats.append(i)

    def done():
        U = np.array(cols).T if cols else np.zeros((Xa.shape[1], 0))
        return R.Groups(U, signs, pats, gated_groups.c)

    socp = None if (dl is not None and dl.expired()) else \
        R.decompose_socp(Xa, Dm, gated_groups.U, gated_groups.pat)
    if socp is not None:
        Uo, Vo = socp
        for j in range(gated_groups.m):
            i = gated_groups.pat[j]
            u = R.project_cone(Xa, Dm[:, i], Uo[:, j])
            v = R.project_cone(Xa, Dm[:, i], Vo[:, j])
            # exactness: u - v must equal w; repair the tiny defect along the cone
            add(u, v, i, 1e-12 * max(1.0, np.linalg.norm(gated_groups.U[:, j])))
        return done()
    for j in range(gated_groups.m):
        i = gated_groups.pat[j]
        gate = None
        if gates is not None and np.all(np.isfinite(gates[:, i])):
            gate = gates[:, i]
        out = R.cone_decompose(Xa, Dm[:, i], gated_groups.U[:, j], gate)
        if out is None:
            continue  # cone with empty interior: this group cannot be realized; dropped
        add(*out, i, 0.0)
    return done()


def _certificate(problem, Xa, Dm, kind, lam, pen, gated, dl, more_lams=()):
    """``more_lams``: extra (lambda, bound or None) pairs; any lambda gives a valid bound."""
    """Lower bound, its kind, and facts for ``info`` (MATH.md "Lower bounds and certificates")."""
    loss, y, beta = problem.loss, problem.y, problem.beta
    extra = {}
    if loss == "logistic" and problem.bias == "free":
        return None, None, {"bound_note": "no bound for logistic loss with free biases"}
    glob_polar, glob_exact = R.global_polar_bound(problem, Xa, lam)
    glob_lb = None
    if glob_polar is not None:
        mu = lam - lam.mean() if problem.bias == "free" else lam
        glob_lb = R.lower_bound_from(loss, y, mu, beta, glob_polar)
        extra["global_lower_bound"] = glob_lb
        extra["global_bound_exact_polar"] = bool(glob_exact)
    if problem.bias == "free":
        # cone maxima with a free bias are not computed; the global bound is the statement
        if glob_lb is None:
            return None, None, extra
        return glob_lb, "global", extra
    lb = -np.inf
    # the dual bound holds for ANY lambda: the returned network's residual, and the solver's
    # last one (dropping negligible groups moves lambda by ~1e-9, and the polar value, a sum
    # over n rows, can move by 1e-5 with it)
    for lam_c, lb_c in [(lam, None)] + [v for v in more_lams if v[0].shape == lam.shape]:
        if lb_c is not None:  # certified by the solver already (same program, all patterns)
            lb = max(lb, lb_c)
            continue
        if gated:
            polar = float(R.gated_polar(Xa, Dm, lam_c).max())
            extra["polar_kind"] = "gated"
        else:
            polar, count = R.cone_polar(Xa, Dm, lam_c, deadline=dl)
            extra["polar_kind"] = "cones"
            extra["n_cone_projections"] = extra.get("n_cone_projections", 0) + int(count)
        lb = max(lb, R.lower_bound_from(loss, y, lam_c, beta, polar))
    extra["restricted_lower_bound"] = lb
    if kind == "exact":
        best = lb if glob_lb is None else max(lb, glob_lb)
        return best, "global", extra
    return lb, "subsampled", extra


class Lasso(_Base):
    """Exact ReLU program with cone constraints (survey eq. 18)."""

    name = "lasso"
    summary = ("Pilanci–Ergen convex group Lasso with cone constraints (exact ReLU program; global "
               "optimum with enumerated patterns)")
    gated = False


class Gated(_Base):
    """Gated ReLU relaxation (no cone constraints) + cone decomposition into a ReLU network."""

    name = "gated"
    summary = ("gated ReLU group Lasso (relaxation of the Pilanci–Ergen program; global lower "
               "bound with enumerated patterns), realized by cone decomposition")
    capabilities = Capabilities(losses=("squared", "logistic"), biases=("none", "regularized"),
                                depth=2, finite_weights=True, lower_bound=True)
    gated = True


@cvxlens.hookimpl
def cvxlens_register_methods(register):
    register(Lasso)
    register(Gated)
