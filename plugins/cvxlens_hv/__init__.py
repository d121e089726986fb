"""cvxlens built-in plugin ``hv``: local descent plus neuron expansion (Haeffele & Vidal 2017).

Haeffele & Vidal ("Global optimality in neural network training", CVPR 2017) show that a local
minimum of the weight-decay objective J is global when the polar condition holds at its residual:

    max_{||u|| <= 1} |r^T (X̃ u)_+| <= beta,        r = y - f(X)          (MATH.md; survey 25-26)

The meta-algorithm: descend on J (scipy's L-BFGS on J and its gradient, :mod:`cvxlens.nonconvex`),
check the condition with the polar oracle :func:`cvxlens.polar`; if it fails, the maximizer u*
gives a descent direction for a new neuron ``(tau u*, s tau)`` (s = sign of ``r^T (X̃ u*)_+``).
A fixed tiny tau never grows (a zero neuron is a saddle), so tau comes from an exact line search:
with ``h = (X̃ u*)_+`` and ``t = tau^2``, J along the ray is
``1/2||r||^2 - t s h^T r + t^2 ||h||^2 / 2 + beta t + const`` (a quartic in tau, quadratic in t),
minimized at ``t* = (|h^T r| - beta) / ||h||^2``. Repeat.

ReLU kinks can stall L-BFGS before a stationary point, so the method reports the duality gap: with
exact pricing, :func:`cvxlens.bounds.dual_lower_bound` at every check gives a global lower bound
(the best one is reported); with heuristic pricing, no bound.
"""

from __future__ import annotations

import numpy as np
from threadpoolctl import threadpool_limits

import cvxlens
from cvxlens import Capabilities, Deadline, Method, Option, ReLUNetwork, Solution
from cvxlens.bounds import dual_lower_bound
from cvxlens.nonconvex import fit_lbfgs
from cvxlens.polar import DEFAULT_POLAR_MAX_PATTERNS, PolarOracle, merge_atoms
from cvxlens.validators import nonneg_float, one_of, pattern_choice, positive_int

__all__ = ["HV", "line_search_t"]




def line_search_t(h, r, beta):
    """Exact minimizer ``t* = tau*^2 >= 0`` of J along the new neuron's ray (squared loss).

    ``J(t) = const - t |h^T r| + t^2 ||h||^2 / 2 + beta t`` for the neuron
    ``(tau u, sign(h^T r) tau)``, ``h = (X̃ u)_+``, ``||u|| = 1``; its weight decay is
    ``(beta/2)(tau^2 + tau^2) = beta t``. Returns 0 when ``|h^T r| <= beta`` (no descent).
    """
    hh = float(h @ h)
    if hh == 0.0:
        return 0.0
    return max(0.0, (abs(float(h @ r)) - beta) / hh)


def _balance(problem, net):
    """Rescale each neuron so that its penalized input norm equals |alpha_j| (AM-GM: J can only
    decrease; the function is unchanged by positive homogeneity)."""
    if net.width == 0:
        return net
    sq = (net.W ** 2).sum(axis=0)
    if problem.bias == "regularized":
        sq = sq + net.b ** 2
    nw = np.sqrt(sq)
    na = np.abs(net.alpha)
    ok = (nw > 0) & (na > 0)
    s = np.ones_like(nw)
    s[ok] = np.sqrt(na[ok] / nw[ok])
    return ReLUNetwork(net.W * s, net.b * s, net.alpha / s, net.c)


def _prune(net, tol=1e-12):
    size = np.abs(net.alpha) * np.sqrt((net.W ** 2).sum(axis=0) + net.b ** 2)
    keep = size > tol * max(1.0, size.max(initial=0.0))
    if not keep.any():
        keep[np.argmax(size)] = True if size.size else keep
    return ReLUNetwork(net.W[:, keep], net.b[keep], net.alpha[keep], net.c)


def _atoms(problem, net):
    """Unit atoms U (d', m) (w-part unit for a free bias) and signed sizes a (m,) of a network."""
    free = problem.bias == "free"
    Wd = np.vstack([net.W, net.b]) if problem.bias != "none" else net.W
    nrm = np.linalg.norm(net.W if free else Wd, axis=0)
    ok = nrm > 0
    U = np.zeros_like(Wd)
    U[:, ok] = Wd[:, ok] / nrm[ok]
    return U, net.alpha * nrm


def _from_atoms(problem, U, a, c):
    s = np.sqrt(np.abs(a))
    Wd = U * s
    if problem.bias == "none":
        return ReLUNetwork(Wd, None, np.sign(a) * s, 0.0)
    return ReLUNetwork(Wd[:-1], Wd[-1], np.sign(a) * s, c)


def _merge(problem, net):
    """Merge neurons with one activation pattern and one output sign
    (:func:`cvxlens.polar.merge_atoms`): same function, J never increases."""
    if net.width < 2:
        return net
    U, a = _atoms(problem, net)
    free = problem.bias == "free"
    merged = merge_atoms(U, a, problem.X if free else problem.design(), free)
    if merged is None:
        return net
    new = _from_atoms(problem, merged[0], merged[1], net.c)
    return new if problem.objective(new) <= problem.objective(net) else net


def _fixed_pattern_step(problem, net):
    """Convex step at a kink: keep each neuron's activation pattern D_j (closed cone) and output
    sign s_j, and solve the cone-constrained group Lasso over these m neurons (Pilanci & Ergen
    2020 restricted to the current patterns; cvxpy/Clarabel)::

        min 1/2 ||sum_j s_j D_j X̃ v_j (+ c) - y||^2 + beta sum_j ||v_j||   s.t. (2 D_j - I) X̃ v_j >= 0

    The current network is feasible, so J never increases; the result is the best network whose
    neurons keep their patterns (L-BFGS stalls at the kinks on these cones' faces).
    """
    import cvxpy as cp

    free = problem.bias == "free"
    U, a = _atoms(problem, net)
    Xd = problem.X if free else problem.design()
    m = net.width
    if m == 0:
        return net
    Z = problem.X @ net.W + net.b
    D = (Z >= 0).astype(float)
    sg = np.where(a >= 0, 1.0, -1.0)
    V = cp.Variable((U.shape[0], m))
    c = cp.Variable() if free else 0.0
    Xa = np.hstack([Xd, np.ones((problem.n, 1))]) if free else Xd
    pre = Xa @ V  # (n, m)
    pred = cp.sum(cp.multiply(D * sg, pre), axis=1) + c
    pen = cp.sum(cp.norm(V[:-1] if free else V, 2, axis=0))
    cons = [cp.multiply(2 * D - 1, pre) >= 0]
    prob = cp.Problem(cp.Minimize(0.5 * cp.sum_squares(pred - problem.y) + problem.beta * pen), cons)
    V.value = U * np.abs(a)
    try:
        prob.solve(solver=cp.CLARABEL)
    except cp.error.SolverError:
        return net
    if V.value is None:
        return net
    Vv = V.value
    nv = np.linalg.norm(Vv[:-1] if free else Vv, axis=0)
    keep = nv > 1e-9 * max(1.0, nv.max(initial=0.0))
    if not keep.any():
        return net
    Un = Vv[:, keep] / nv[keep]
    new = _from_atoms(problem, Un, sg[keep] * nv[keep], float(c.value) if free else 0.0)
    return new if problem.objective(new) < problem.objective(net) else net


class HV(Method):
    """Local L-BFGS descent on J plus neuron expansion by the polar oracle (Haeffele & Vidal 2017)."""

    name = "hv"
    summary = ("local descent on J plus neuron expansion from the polar condition "
               "(Haeffele & Vidal 2017); duality-gap bound when pricing is exact")
    capabilities = Capabilities(losses=("squared",), biases=("none", "regularized", "free"),
                                depth=2, finite_weights=True, lower_bound=True)
    options = {
        "max_neurons": Option(100, "stop growing at this many neurons", positive_int),
        "tol": Option(1e-6, "polar condition: stop when max_u |r^T (X u)_+| <= beta (1 + tol)",
                      nonneg_float),
        "max_iter": Option(200, "maximum expansion rounds", positive_int),
        "lbfgs_iter": Option(1000, "L-BFGS iterations per descent phase", positive_int),
        "init_width": Option(1, "neurons of the small starting network", positive_int),
        "patterns": Option("auto", "polar oracle: 'auto', 'exact', or an int = sampled gates "
                                   "(heuristic, no bound)", pattern_choice),
        "max_patterns": Option(DEFAULT_POLAR_MAX_PATTERNS, "largest arrangement (cells) "
                                                           "handled exactly", positive_int),
        "polish": Option("auto", "after each L-BFGS phase, the convex fixed-pattern step (cone-"
                                 "constrained group Lasso over the current neurons' patterns, "
                                 "cvxpy): True, False or 'auto' (when n * width <= 50000)",
                         one_of(True, False, "auto")),
    }

    def solve(self, problem, **options):
        # small dense problems: multithreaded BLAS only adds overhead, and under load it makes
        # scipy's L-BFGS-B (setulb) ~70x slower (measured)
        with threadpool_limits(limits=1):
            return self._solve(problem, **options)

    def _solve(self, problem, **options):
        dl = Deadline(options["time_limit"])
        seed = options["seed"] or 0
        rng = np.random.default_rng(seed)
        beta, y = problem.beta, problem.y
        free = problem.bias == "free"
        Xd = problem.X if free else problem.design()
        oracle = PolarOracle(Xd, patterns=options["patterns"], seed=seed,
                             max_patterns=options["max_patterns"], free_bias=free)
        exact = oracle.exact
        d = problem.d

        def atom_columns(u):
            return np.maximum(problem.X @ u[:-1] + u[-1], 0.0) if free else np.maximum(Xd @ u, 0.0)

        def add_neuron(net, u, r):
            h = atom_columns(u)
            t = line_search_t(h, r, beta)
            if t <= 0:
                return net, False
            tau = np.sqrt(t)
            s = 1.0 if h @ r >= 0 else -1.0
            if free:
                w, b = u[:-1], u[-1]
            elif problem.bias == "regularized":
                w, b = u[:-1], u[-1]
            else:
                w, b = u, 0.0
            return ReLUNetwork(np.hstack([net.W, tau * w[:, None]]), np.append(net.b, tau * b),
                               np.append(net.alpha, s * tau), net.c), True

        last_polish = [0.0]  # seconds of the last fixed-pattern step (time-limit guard)

        def descend(net):
            polish = options["polish"] is True or (
                options["polish"] == "auto" and problem.n * max(net.width, 1) <= 50_000)
            J0 = problem.objective(net)
            chunk = 200
            done = 0
            while done < options["lbfgs_iter"] and not dl.expired():
                t0 = dl.elapsed()
                new = _balance(problem, fit_lbfgs(problem, net, max_iter=chunk))
                J1 = problem.objective(new)
                done += chunk
                improved = J1 < J0 - 1e-9 * max(1.0, abs(J0))  # kinks: L-BFGS crawls
                if J1 <= J0:
                    net = new
                if not improved:
                    break
                J0 = J1
                rem = dl.remaining()
                if rem is not None and rem < 2 * (dl.elapsed() - t0):
                    break  # another chunk would overrun the time limit
            net = _merge(problem, _prune(net))
            rem = dl.remaining()
            if polish and (rem is None or rem > 3 * last_polish[0]):
                t0 = dl.elapsed()
                net = _fixed_pattern_step(problem, net)
                last_polish[0] = dl.elapsed() - t0
            return net

        def residual(net):
            r = y - net.predict(problem.X)
            return r - r.mean() if free else r

        # small starting network: init_width neurons along random directions, exact line search
        net = ReLUNetwork(np.zeros((d, 0)), np.zeros(0), np.zeros(0),
                          float(y.mean()) if free else 0.0)
        for _ in range(options["init_width"]):
            u = rng.standard_normal(Xd.shape[1] + (1 if free else 0))
            u /= np.linalg.norm(u[:-1] if free else u)
            net, ok = add_neuron(net, u, residual(net))
        if net.width == 0:  # every random direction was useless: take the oracle's
            res = oracle(residual(net))
            net, _ = add_neuron(net, res.u, residual(net))
        if net.width == 0:
            net = ReLUNetwork(np.zeros((d, 1)), np.zeros(1), np.zeros(1), net.c)
        net = descend(net)

        history, prices, best_lb = [], [], None
        status, message, k = "max_iter", "", 0
        while True:
            r = residual(net)
            st = _atoms(problem, net)[0] if net.width else None  # heuristic warm starts
            if st is not None and problem.bias == "none":
                st = st[:problem.d]
            t_or = dl.elapsed()
            res = oracle(r, starts=st)
            t_or = dl.elapsed() - t_or
            rem = dl.remaining()
            if not exact and res.value <= beta * (1 + options["tol"]) and (
                    rem is None or rem > 15 * t_or):
                res = oracle(r, n_gates=10 * oracle.n_gates, starts=st)  # confirm: 10x gates
            J = problem.objective(net)
            t = dl.elapsed()
            history.append((t, J))
            prices.append((t, res.value))
            if exact and np.isfinite(res.value):
                lb = dual_lower_bound(y, r, beta, res.value)
                best_lb = lb if best_lb is None else max(best_lb, lb)
            if res.value <= beta * (1 + options["tol"]):
                status = "converged"
                message = "polar condition holds at the residual"
                break
            if k >= options["max_iter"]:
                status, message = "max_iter", "max_iter expansion rounds reached"
                break
            if net.n_neurons >= options["max_neurons"]:
                status, message = "max_iter", f"max_neurons = {options['max_neurons']} reached"
                break
            if dl.expired():
                status, message = "timeout", "time_limit reached: best network so far"
                break
            net, ok = add_neuron(net, res.u, r)
            if not ok:
                status, message = "converged", "the new neuron gives no descent"
                break
            net = descend(net)
            k += 1

        J = problem.objective(net)
        if best_lb is not None and J - best_lb <= 1e-6 * max(1.0, abs(J)):
            status = "optimal"
        if not exact:
            message += "; heuristic polar oracle (sampled gates): no certificate"
        info = {"pricing_exact": bool(exact), "final_price": float(prices[-1][1]),
                "history_price": prices, "n_neurons": int(net.n_neurons)}
        return Solution(net, objective=J, lower_bound=best_lb,
                        bound_kind="global" if best_lb is not None else None, status=status,
                        n_iter=k, history=history, message=message.lstrip("; "), info=info)


@cvxlens.hookimpl
def cvxlens_register_methods(register):
    register(HV)
