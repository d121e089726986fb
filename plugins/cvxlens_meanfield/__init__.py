"""cvxlens built-in plugin ``meanfield``: gradient flow of m particles in the mean-field scaling
(Mei, Montanari & Nguyen 2018; Chizat & Bach 2018; survey Table I, "convexity w.r.t. probability
measures"; MATH.md "Mean-field particles").

Particles θ_j = (w_j, a_j) (w_j includes the hidden bias for ``regularized`` and ``free``) give
``f(x) = (1/m) Σ_j a_j (x·w_j + b_j)_+ (+ c)`` and the particle energy

    E(θ) = ½‖f(X) − y‖² + (β/2)(1/m) Σ_j (‖w_j‖² + a_j²)        [b_j penalized only for ``regularized``]

which is a functional of the empirical measure (1/m) Σ δ_θj: convex in the measure, not in θ.
With ``W = w/√m, α = a/√m`` the network ``Σ α_j (x·W_j + b_j)_+ + c`` has J(W, α) = E(θ) exactly.
The gradient of E with respect to one particle is O(1/m), so the flow is ``dθ_j/dt = −m ∇_θj E``;
in the network variables this is exactly gradient flow on J. It is discretized by explicit Euler
steps of fixed size ``lr`` (flow time per step). E is not smooth (ReLU kinks, where optimal
neurons tend to sit), so a sufficient-decrease line search stalls there (the step collapses);
instead the fixed-step iterate zigzags across a kink, and every 500 steps the step is halved when
the current energy sits above the best one seen (finer zigzag, closer to the sliding flow). An
unstable step (energy non-finite or above 10x the best) restarts from the best particles with half
the step. The reported network is the best iterate; ``history`` is the best energy against
wall-clock time. The output offset c (``free``) follows the same flow.

Initialization (option ``init``): ``sphere`` draws (w_j, b_j) uniformly on the unit sphere with
zero output weights a_j = 0 (f ≡ 0 at t = 0); ``gaussian`` draws w_j ~ N(0, I/d'), a_j ~ N(0, 1).
Convergence to min J is guaranteed only as m, t → ∞ (Chizat & Bach 2018); the solution reports J
and, for the squared loss with bias ``none``/``regularized``, a global dual lower bound from the
residual: the polar value is computed exactly (cvxlens.polar) when the arrangement is small,
otherwise the always-valid crude bound of cvxlens.bounds is used (valid, usually loose).
"""

from __future__ import annotations

import numpy as np
from threadpoolctl import threadpool_limits

import cvxlens
from cvxlens import Capabilities, Deadline, Method, Option, ReLUNetwork, Solution
from cvxlens.bounds import crude_polar_bound, dual_lower_bound
from cvxlens.polar import DEFAULT_POLAR_MAX_PATTERNS, PolarOracle
from cvxlens.validators import nonneg_float, one_of, positive_float, positive_int

_CHECK = 500  # steps between step-size / tolerance checks

__all__ = ["MeanField", "particle_energy", "network_from_particles"]


def _lr(v):
    if v == "auto":
        return v
    try:
        return positive_float(v)
    except (TypeError, ValueError):
        raise ValueError(f"must be 'auto' or a number > 0, got {v!r}") from None


def particle_energy(problem, w, b, a, c=0.0) -> float:
    """Mean-field particle energy E(θ) on a (sum-scaled) problem.

    Parameters
    ----------
    w : array, shape (d, m)   particle input weights
    b : array, shape (m,)     particle hidden biases (zeros for ``none``)
    a : array, shape (m,)     particle output weights
    c : float                 output offset (``free`` only)

    Returns ``loss((1/m) Σ a_j (X w_j + b_j)_+ + c) + (β/2)(1/m) Σ (‖w_j‖² [+ b_j²] + a_j²)``,
    with b_j² only for ``regularized`` (MATH.md conventions).
    """
    m = w.shape[1]
    f = np.maximum(problem.X @ w + b, 0.0) @ a / m + c
    sq = (w**2).sum() + (a**2).sum()
    if problem.bias == "regularized":
        sq += (b**2).sum()
    return problem.loss_value(f) + 0.5 * problem.beta * sq / m


def network_from_particles(w, b, a, c=0.0) -> ReLUNetwork:
    """``W = w/√m, b/√m, α = a/√m``: the ReLU network whose J equals the particle energy."""
    m = w.shape[1]
    s = np.sqrt(m)
    return ReLUNetwork(w / s, b / s, a / s, c)


class MeanField(Method):
    name = "meanfield"
    summary = ("mean-field particle gradient flow (m-scaled steps) on the two-layer ReLU "
               "energy; reported J equals the particle energy")
    capabilities = Capabilities(losses=("squared", "logistic", "hinge"),
                                biases=("none", "regularized", "free"),
                                depth=2, finite_weights=True, lower_bound=True, input_dim=None)
    options = {
        "width": Option(100, "number of particles m", positive_int),
        "steps": Option(5000, "maximum number of gradient steps", positive_int),
        "lr": Option("auto", "Euler step in flow time ('auto' = 1/(||X~||_2^2 + beta)); halved "
                             "when the iterate zigzags above its best energy or is unstable", _lr),
        "init": Option("sphere", "sphere (uniform on the unit sphere, zero output weights) | "
                                 "gaussian (w ~ N(0, I/d'), a ~ N(0, 1))",
                       one_of("sphere", "gaussian")),
        "tol": Option(1e-7, "stop when the best energy improves by less than tol (relative) "
                            "over 500 steps", nonneg_float),
    }

    def solve(self, problem, **o):
        # the matrix products are skinny (d' x m): BLAS threads only add overhead (10-20x slower
        # on a loaded machine), so run single-threaded
        with threadpool_limits(limits=1, user_api="blas"):
            return self._solve(problem, **o)

    def _solve(self, problem, **o):
        dl = Deadline(o["time_limit"])
        rng = np.random.default_rng(o["seed"])
        m, d = o["width"], problem.d
        has_b = problem.bias != "none"
        dp = d + (1 if has_b else 0)
        if o["init"] == "sphere":
            U = rng.standard_normal((dp, m))
            U /= np.linalg.norm(U, axis=0, keepdims=True)
            a = np.zeros(m)
        else:
            U = rng.standard_normal((dp, m)) / np.sqrt(dp)
            a = rng.standard_normal(m)
        c = float(np.mean(problem.y)) if problem.bias == "free" and problem.loss == "squared" \
            else 0.0
        # network variables: gradient flow on J == m-scaled particle flow
        sm = np.sqrt(m)
        V = U / sm  # (d', m): rows of W, then the bias row
        al = a / sm
        Xd = np.hstack([problem.X, np.ones((problem.n, 1))]) if has_b else problem.X
        mask = np.ones((dp, 1))
        if problem.bias == "free":
            mask[d] = 0.0
        free_c = problem.bias == "free"
        if o["lr"] == "auto":
            lr = 1.0 / (np.linalg.norm(Xd, 2) ** 2 + problem.beta)
        else:
            lr = o["lr"]
        energy_grad = _energy_grad_fn(problem, Xd, mask, free_c)
        J, grads = energy_grad(V, al, c)
        history = [(dl.elapsed(), J)]
        rec_every = max(1, o["steps"] // 200)
        status, k, flow_time, resets, halvings = "max_iter", 0, 0.0, 0, 0
        best = (J, V, al, c)
        last_check = J
        while k < o["steps"]:
            if dl.expired():
                status = "timeout"
                break
            dV, da, dc = grads
            V1, a1, c1 = V - lr * dV, al - lr * da, c - lr * dc
            J1, g1 = energy_grad(V1, a1, c1)
            if not np.isfinite(J1) or J1 > 10.0 * abs(best[0]) + 1e-300:
                # unstable step: restart from the best particles with half the step
                lr *= 0.5
                resets += 1
                if resets > 200:  # step underflow: nothing stable left to try
                    status = "step_underflow"
                    break
                J, V, al, c = best
                grads = energy_grad(V, al, c)[1]
                continue
            V, al, c, J, grads = V1, a1, c1, J1, g1
            flow_time += lr
            k += 1
            if J < best[0]:
                best = (J, V, al, c)
            if k % rec_every == 0:
                history.append((dl.elapsed(), best[0]))
            if k % _CHECK == 0:
                if J > best[0]:
                    # the iterate zigzags across ReLU kinks above its best value: refine the step
                    lr *= 0.5
                    halvings += 1
                if last_check - best[0] <= o["tol"] * max(abs(best[0]), 1e-300):
                    status = "converged"
                    break
                last_check = best[0]
        J, V, al, c = best
        if history[-1][1] != J:
            history.append((dl.elapsed(), J))
        W, bb = V[:d], (V[d] if has_b else np.zeros(m))
        net = ReLUNetwork(W, bb, al, c)
        # particles back: w = √m W, a = √m α; energy == J (exactly up to rounding)
        energy = particle_energy(problem, W * sm, bb * sm, al * sm, c)
        info = {"width": m, "flow_time": float(flow_time), "final_lr": float(lr),
                "step_halvings": halvings,
                "unstable_resets": resets,
                "particle_energy": float(energy), "init": o["init"]}
        lb, kind, how = _lower_bound(problem, net)
        if how:
            info["lower_bound_polar"] = how
        msg = {"converged": f"best energy improved by less than tol = {o['tol']:g} over "
                            f"{_CHECK} steps",
               "max_iter": f"stopped after steps = {o['steps']}",
               "timeout": f"time_limit reached after {k} steps",
               "step_underflow": f"stopped after {resets} unstable steps (step underflow); "
                                 "best particles returned"}[status]
        status = "max_iter" if status == "step_underflow" else status
        return Solution(net, objective=J, lower_bound=lb, bound_kind=kind, status=status,
                        n_iter=k, history=history, message=msg, info=info)


def _lower_bound(problem, net):
    """Global dual lower bound from the residual (MATH.md "Lower bounds and certificates").

    Squared loss, bias ``none``/``regularized`` only. The polar value is exact (cvxlens.polar,
    enumerated arrangement) when the arrangement is small, else the always-valid crude bound.
    Returns ``(bound, kind, how)``.
    """
    if problem.loss != "squared" or problem.bias not in ("none", "regularized"):
        return None, None, None
    Xd = problem.design()
    lam = problem.y - net.predict(problem.X)
    if PolarOracle.estimate_work(Xd) <= DEFAULT_POLAR_MAX_PATTERNS:
        res = PolarOracle(Xd, patterns="exact")(lam)
        c, how = res.value, "exact (enumerated arrangement)"
    else:
        c, how = crude_polar_bound(Xd, lam), "crude (always valid, loose)"
    return dual_lower_bound(problem.y, lam, problem.beta, c), "global", how


def _energy_grad_fn(problem, Xd, mask, free_c):
    """J and its gradient in the design variables V (d', m) = [W; b], alpha (m,), c.

    Same values as ``Problem.objective_and_grad`` (ReLU derivative 0 at 0), fused for speed.
    ``mask`` (d', 1) marks the penalized rows of V (the bias row is 0 for ``free``).
    """
    beta = problem.beta
    n = Xd.shape[0]
    buf = {}

    def fn(V, al, c):
        # preallocated (n, m) work arrays: fresh large allocations dominate the cost otherwise
        if buf.get("m") != V.shape[1]:
            buf.update(m=V.shape[1], Z=np.empty((n, V.shape[1])), H=np.empty((n, V.shape[1])),
                       A=np.empty((n, V.shape[1])))
        Z, H, A = buf["Z"], buf["H"], buf["A"]
        np.matmul(Xd, V, out=Z)
        np.maximum(Z, 0.0, out=H)
        np.sign(H, out=A)
        val, g = problem.loss_grad(H @ al + c)
        Vm = V * mask
        J = val + 0.5 * beta * (float((Vm * V).sum()) + float(al @ al))
        dV = ((Xd * g[:, None]).T @ A) * al + beta * Vm
        da = g @ H + beta * al
        dc = float(g.sum()) if free_c else 0.0
        return J, (dV, da, dc)

    return fn


@cvxlens.hookimpl
def cvxlens_register_methods(register):
    register(MeanField)
