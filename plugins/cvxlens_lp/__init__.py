"""cvxlens built-in plugin ``lp``: exact training over quantized weights by mixed-integer linear
programming (Bienstock, Muñoz & Pokutta, "Principled deep neural network training through linear
programming", Discrete Optimization 49, 2023; survey [25], section "Convexity via Quantization and
Polyhedral Representations").

What is solved
--------------
Every first-layer weight, hidden bias, output weight and output offset is restricted to the grid
``G = {-1, -1 + eps, ..., 1}`` (``eps = step``; ``2/eps`` must be an integer), the inputs to the
box ``[-1, 1]^d``, and the common objective J (MATH.md, ``beta/2`` weight decay) is minimized
EXACTLY over that finite set of networks by a MILP (see ``cvxlens_lp._milp`` for the
formulation: one-hot binaries per parameter, big-M ReLU, disjunctive product ``alpha * ReLU``,
tangent-cut outer approximation of the loss). The quantized optimum is >= the continuous
box-constrained optimum, with a gap that vanishes as ``eps -> 0`` (O(eps) for the Lipschitz J).

``rescale=True`` (default): with ``s = max |X|`` and ``sy = max |y|`` (squared loss; ``sy = 1``
for classification), the MILP runs on ``X' = X / s`` (inside the box) and ``y' = y / sy``. A box
network ``(w', b', alpha', c')`` on the grid maps to the caller's coordinates as

    w = sqrt(sy/s) w',  alpha = sqrt(sy/s) alpha',  b = sqrt(sy s) b',  c = sy c'

(then ``f(x) = sy f'(x/s)``), and the MILP objective is written so that it IS J of the mapped
network on the caller's problem: ``sum_i loss(sy f'_i, y_i) + (beta/2)(sy/s)(||W'||^2 +
||alpha'||^2) [+ (beta/2) sy s ||b'||^2 for bias='regularized']``. In other words the method
minimizes the caller's J exactly over the scaled grid ``w, alpha in sqrt(sy/s) G``,
``b in sqrt(sy s) G``, ``c in sy G``; with ``rescale=False`` (s = sy = 1) over ``G`` itself, and
inputs outside ``[-1, 1]`` are then an error. The reported objective is always the common J of the
returned network on the caller's problem.

Bounds: the MILP value is a lower bound on the QUANTIZED optimum only (min over the grid), never on
min J over all networks, so ``lower_bound``/``bound_kind`` stay None; the quantized lower bound and
the LP relaxation (also a lower bound on the quantized problem only) are in ``info``.
"""

from __future__ import annotations

import math
import time

import numpy as np

import cvxlens
from cvxlens import Capabilities, Deadline, Method, Option, ProblemTooLargeError, Solution
from cvxlens.network import ReLUNetwork
from cvxlens.validators import bool_, one_of, optional, positive_float, positive_int

from ._milp import (OA_TOL, MIP_GAP_REL, QuantizedSpec, build_and_solve, estimate_size,
                    grid_values, loss_values)

__all__ = ["Quantized", "quantized_spec", "grid_values", "estimate_size", "program_size"]

DEFAULT_MAX_SIZE = 20_000


# ----------------------------------------------------------------- option validators
def _step(v):
    try:
        x = positive_float(v)
    except (TypeError, ValueError):
        raise ValueError(f"must be a number in (0, 2] with 2/step an integer, got {v!r}") \
            from None
    if x > 2:
        raise ValueError(f"must lie in (0, 2], got {v!r}")
    k = 2.0 / x
    if abs(k - round(k)) > 1e-9 * max(1.0, k):
        raise ValueError(
            f"2/step must be an integer so that the grid {{-1, -1+step, ..., 1}} ends at 1; "
            f"got step={x} (2/step = {k:g}); try step={2 / max(1, round(k)):g}")
    return 2.0 / round(k)


def _solver(v):
    v = one_of("cbc", "highs")(v)
    if v == "highs":
        import pulp
        if not pulp.HiGHS().available():
            raise ValueError("solver 'highs' needs the highspy package (pip install highspy); "
                             "or use solver='cbc'")
    return v


# ----------------------------------------------------------------- the quantized problem
def quantized_spec(problem, width: int, step: float, rescale: bool = True,
                   fit_loss: str = "problem"):
    """The MILP data for ``problem`` (sum-scaled) and the map back to the caller's coordinates.

    Returns
    -------
    spec : QuantizedSpec
    scales : dict with ``s`` (input scale), ``sy`` (output scale) and the grid scale of each
        parameter type in the caller's coordinates (``w``, ``alpha``, ``b``, ``c``).

    Raises
    ------
    ValueError
        ``rescale=False`` with inputs outside ``[-1, 1]``.
    """
    X, y = problem.X, problem.y
    if rescale:
        s = float(np.abs(X).max())
        s = s if s > 0 else 1.0
        sy = float(np.abs(y).max()) if problem.loss == "squared" else 1.0
        sy = sy if sy > 0 else 1.0
    else:
        big = float(np.abs(X).max())
        if big > 1.0 + 1e-12:
            raise ValueError(
                f"lp with rescale=False needs inputs in the box [-1, 1]^d (the big-M bounds of "
                f"the ReLU come from it), but max |X| = {big:g}; pass rescale=True or scale X")
        s, sy = 1.0, 1.0
    loss = problem.loss
    if fit_loss == "absolute":
        if loss != "squared":
            raise ValueError("fit_loss='absolute' is an L1 surrogate of the squared loss; the "
                             f"problem's loss is {loss!r} (use fit_loss='problem')")
        loss = "absolute"
    beta = problem.beta
    spec = QuantizedSpec(
        Xb=np.clip(X / s, -1.0, 1.0), yb=y.astype(float), sy=sy, loss=loss, bias=problem.bias,
        m=int(width), grid=grid_values(step),
        pen_w=0.5 * beta * sy / s, pen_a=0.5 * beta * sy / s,
        pen_b=0.5 * beta * sy * s if problem.bias == "regularized" else 0.0, pen_c=0.0)
    r = math.sqrt(sy / s)
    scales = {"s": s, "sy": sy, "w": r, "alpha": r, "b": math.sqrt(sy * s), "c": sy}
    return spec, scales


def network_from_theta(spec: QuantizedSpec, scales: dict, theta) -> ReLUNetwork:
    """Box parameters (n_params,) -> ReLUNetwork in the caller's coordinates."""
    W, b, alpha, c = spec.unpack(np.asarray(theta, dtype=float))
    return ReLUNetwork(W * scales["w"], b * scales["b"], alpha * scales["alpha"],
                       c * scales["c"])


def program_size(problem, width: int = 2, step: float = 0.5, rescale: bool = True,
                 fit_loss: str = "problem") -> dict:
    """Size of the first-round MILP (``variables``, ``binaries``, ``constraints``,
    ``nonzeros``) for ``problem`` without building it (the paper's data-independent view:
    linear in n, linear in the number of parameters times the grid size 2/step + 1)."""
    spec, _ = quantized_spec(problem.as_sum(), width, step, rescale, fit_loss)
    return estimate_size(spec)


# ----------------------------------------------------------------- heuristic incumbent
def grid_coordinate_descent(spec: QuantizedSpec, rng, deadline=None, restarts: int = 16,
                            max_sweeps: int = 50):
    """Best grid network found by exact coordinate descent on the grid (each parameter moved to
    its best grid value, vectorized over the K values) from the grid point nearest 0 and random
    grid starts. A feasible point of the MILP (upper bound on the quantized optimum) used as a
    warm start and fallback incumbent; no optimality claim."""
    g, K, P = spec.grid, spec.K, spec.n_params
    pen = spec.penalty_weights()
    X, d, m = spec.Xb, spec.d, spec.m
    per = d + int(spec.has_b) + 1
    k0 = int(np.argmin(np.abs(g)))
    best_theta, best_val = None, np.inf
    for r in range(restarts):
        if r > 0 and deadline is not None and deadline.expired():
            break
        kid = np.full(P, k0) if r == 0 else rng.integers(0, K, size=P)
        theta = g[kid].copy()
        W, b, alpha, c = spec.unpack(theta)
        A = X @ W + b
        H = np.maximum(A, 0.0)
        fb = H @ alpha + c
        val = spec.loss_sum(fb) + float(pen @ theta**2)
        for _ in range(max_sweeps):
            improved = False
            for p in range(P):
                if spec.has_c and p == P - 1:
                    F = fb[:, None] + (g[None, :] - theta[p])
                    newH = None
                else:
                    j, l = divmod(p, per)
                    base = fb - alpha[j] * H[:, j]
                    if l == per - 1:  # output weight
                        F = base[:, None] + H[:, j][:, None] * g[None, :]
                        newH = None
                    else:
                        x = X[:, l] if l < d else np.ones(spec.n)
                        Aj = A[:, j][:, None] + x[:, None] * (g[None, :] - theta[p])
                        Hj = np.maximum(Aj, 0.0)
                        F = base[:, None] + alpha[j] * Hj
                        newH = (Aj, Hj)
                Lk = loss_values(spec.loss, spec.sy * F, spec.yb[:, None]).sum(axis=0)
                vals = Lk + pen[p] * g**2 + (float(pen @ theta**2) - pen[p] * theta[p] ** 2)
                kb = int(np.argmin(vals))
                if vals[kb] < val - 1e-12 * max(1.0, abs(val)):
                    improved = True
                    val = float(vals[kb])
                    theta[p] = g[kb]
                    fb = F[:, kb].copy()
                    if spec.has_c and p == P - 1:
                        c = theta[p]
                    elif newH is None:
                        alpha[j] = theta[p]
                    else:
                        A[:, j], H[:, j] = newH[0][:, kb], newH[1][:, kb]
            if not improved or (deadline is not None and deadline.expired()):
                break
        val = spec.objective(theta)  # recompute exactly
        if val < best_val:
            best_theta, best_val = theta.copy(), val
    return best_theta, best_val


# ----------------------------------------------------------------- the method
class Quantized(Method):
    """Exact training over a weight grid by MILP (Bienstock, Muñoz & Pokutta 2023).

    ``solve`` returns the network on the (scaled) grid minimizing J (status ``optimal`` when the
    MILP and the outer approximation are solved to their tolerances), or the best incumbent with
    status ``timeout``. ``lower_bound`` is always None: the MILP value and the LP relaxation bound
    the quantized problem only (see ``info``).

    Raises
    ------
    ProblemTooLargeError
        When the estimated program (variables + constraints) exceeds ``max_size``; the message
        says what to change (fewer samples or neurons, a coarser step).
    ValueError
        ``rescale=False`` with inputs outside ``[-1, 1]``.
    """

    name = "lp"
    summary = ("quantized weights on a grid of step eps in [-1,1]: exact MILP (PuLP: CBC/HiGHS), "
               "Bienstock-Munoz-Pokutta 2023; small networks only")
    capabilities = Capabilities(losses=("squared", "logistic", "hinge"),
                                biases=("none", "regularized", "free"), depth=2,
                                finite_weights=True, lower_bound=False, input_dim=None)
    options = {
        "width": Option(2, "number of neurons m", positive_int),
        "step": Option(0.5, "grid step eps: every weight, bias and output weight lies on "
                            "{-1, -1+eps, ..., 1} (2/eps an integer)", _step),
        "rescale": Option(True, "divide X by max|X| and y by max|y| first and return weights in "
                                "the original coordinates (J is still the caller's J); False "
                                "requires X in [-1, 1]", bool_),
        "solver": Option("cbc", "'cbc' (PuLP's bundled CBC) or 'highs' (highspy)", _solver),
        "timeout": Option(60.0, "seconds for the whole solve (the smaller of timeout and "
                                "time_limit applies); best incumbent and status 'timeout' after",
                          optional(positive_float)),
        "relax": Option(True, "also solve the LP relaxation (a lower bound on the quantized "
                              "problem only) and report it in info", bool_),
        "fit_loss": Option("problem", "'problem': the problem's own loss (squared/logistic by "
                                      "tangent-cut outer approximation, hinge exactly); "
                                      "'absolute': sum |f - y| surrogate for squared problems",
                           one_of("problem", "absolute")),
        "max_size": Option(DEFAULT_MAX_SIZE, "refuse programs with more variables + constraints "
                                             "than this (estimated before building)",
                           positive_int),
        "max_rounds": Option(50, "maximum outer-approximation rounds", positive_int),
    }

    def solve(self, problem, **options):
        t0 = time.perf_counter()
        limits = [v for v in (options["timeout"], options["time_limit"]) if v is not None]
        dl = Deadline(min(limits) if limits else None)
        spec, scales = quantized_spec(problem, options["width"], options["step"],
                                      options["rescale"], options["fit_loss"])
        size = estimate_size(spec)
        total = size["variables"] + size["constraints"]
        if total > options["max_size"]:
            raise ProblemTooLargeError(_too_large_message(problem, spec, size, total,
                                                          options["max_size"]))
        rng = np.random.default_rng(options["seed"])
        # a quick grid incumbent (warm start and fallback): at most 10% of the budget
        heur_dl = Deadline(None if dl.seconds is None else 0.1 * dl.seconds)
        h_theta, h_val = grid_coordinate_descent(spec, rng, heur_dl)
        res = build_and_solve(spec, options["solver"], dl, options["max_rounds"],
                              options["relax"], start_theta=h_theta, start_value=h_val)
        net = network_from_theta(spec, scales, res.theta)
        J = problem.objective(net)
        status = res.status
        msg = ""
        if status == "optimal" and spec.loss == "absolute":
            status = "converged"
            msg = ("optimal for the absolute-loss surrogate on the grid; J (squared loss) of that "
                   "network is reported, it is not the quantized minimizer of J")
        elif status == "timeout":
            msg = (f"time budget ({dl.seconds:g} s) reached after {res.rounds} MILP round(s); "
                   "returning the best grid network found (not proven optimal on the grid); for a "
                   "proof use fewer samples or neurons, a coarser step, or a longer timeout")
        elif status == "max_iter":
            msg = f"outer approximation not converged in {res.rounds} rounds"
        elif status == "failed":
            msg = res.message + ("; returning the heuristic grid network" if res.theta is not None
                                 else "")
        if res.theta is None:
            return Solution(None, None, status="failed", message=msg or "no network found",
                            time_s=time.perf_counter() - t0, info={"program_size": size})
        history = [(t, v) for t, v in res.history]
        info = {
            "quantized_optimum": float(res.value) if status in ("optimal", "converged") else None,
            "best_grid_objective": float(res.value),
            "quantized_lower_bound": res.lower_bound,
            "quantized_lower_bound_note": ("MILP value of the last solved outer-approximation "
                                           "round minus the MIP gap tolerance: a lower bound on "
                                           "the QUANTIZED problem only"),
            "lp_relaxation": res.lp_relaxation,
            "lp_relaxation_note": res.lp_relaxation_note,
            "program_size_estimate": size,
            "program_size": res.size_initial,
            "program_size_final": res.size_final,
            "solver": options["solver"],
            "solver_status": res.solver_statuses,
            "oa_rounds": res.rounds,
            "oa_cuts_added": res.n_cuts_added,
            "oa_tolerance": OA_TOL, "mip_gap_rel": MIP_GAP_REL,
            "milp_values": res.milp_values,
            "heuristic_objective": float(h_val),
            "grid": {"step": options["step"], "points": int(spec.K),
                     "scale_w": scales["w"], "scale_alpha": scales["alpha"],
                     "scale_b": scales["b"], "scale_c": scales["c"],
                     "input_scale": scales["s"], "output_scale": scales["sy"]},
            "n_parameters": int(spec.n_params),
            "info_units": "objective values in info are J of the sum-scaled problem (for "
                          "scale='mean' divide by n)",
            "fit_loss": spec.loss,
        }
        return Solution(net, J, status=status, n_iter=res.rounds, history=history,
                        message=msg, time_s=time.perf_counter() - t0, info=info)


def _too_large_message(problem, spec, size, total, limit):
    n, m, K = spec.n, spec.m, spec.K
    per_sample = total / max(n, 1)
    n_fit = max(1, int(limit / per_sample))
    return (
        f"lp: the quantized-training MILP would have {size['variables']:,} variables "
        f"({size['binaries']:,} binary) and {size['constraints']:,} constraints "
        f"(n={n} samples x m={m} neurons x K={K} grid points; the size grows linearly in n, in m "
        f"and in 2/step), above max_size={limit:,} variables + constraints. Use fewer samples "
        f"(about {n_fit} fit under max_size at this width and step), fewer neurons (width), a "
        f"coarser step (e.g. step=1 or 2), or raise max_size if you can wait for the solver "
        f"(measured: CBC proves optimality within 30 s only up to about n=100 samples with one "
        f"neuron; see docs/methods/lp.md).")


@cvxlens.hookimpl
def cvxlens_register_methods(register):
    register(Quantized)
