"""cvxlens built-in plugin 'baselines': SGD with momentum and Adam on the non-convex J itself.

Both methods train a two-layer ReLU network of fixed ``width`` by first-order descent on exactly
the objective every cvxlens method is judged on (MATH.md, survey eq. 16 with beta/2)::

    J(W, b, alpha, c) = loss(f(X), y) + (beta/2)(||W||_F^2 + ||alpha||^2) [+ (beta/2)||b||^2]

for every loss (squared, logistic, hinge) and bias convention (none, regularized, free). They
are what a practitioner would otherwise use, so they are made strong rather than straw men
(the survey's experiments: several random initializations and a grid of step sizes, best run by
training objective):

- **Step-size grid.** ``lr`` is one value or a list; every value is run from the same
  initializations, and the run with the lowest training J wins. The default grids span several
  decades (7 values, as in the survey's Fig. 5b protocol: 3 initializations x 7 step sizes).
- **Scale-free step size.** Updates use the gradient of ``J / n`` (the ``mean``-scaled objective
  with ``beta / n``; same minimizers as J), so step sizes mean the same thing for any n.
- **Minibatch gradients consistent with J.** For a batch B, the data part of the gradient is
  ``(1/|B|) sum_{i in B} grad loss_i`` (an unbiased estimate of ``(1/n) grad loss``) and the
  weight-decay part ``(beta/n) theta`` is added in full, so the expected step is exactly the
  gradient of ``J / n``.
- **Weight decay on exactly J.** Adam receives the gradient of J (coupled L2), not the decoupled
  AdamW decay, which would minimize a different objective.
- **Initialization.** He initialization ``W ~ N(0, 2/d)``; hidden biases (``regularized``,
  ``free``) put each neuron's hyperplane through a random training point (``b_j = -x_k . w_j``)
  so kinks spread over the data (important for d = 1); output weights ``alpha ~ N(0, 1/m)``;
  then each neuron is balanced (``|alpha_j| = ||w_j||``, with b included when it is penalized),
  which leaves the function unchanged and lowers the weight decay, as at any optimum of J.
  For ``free`` the output offset starts at mean(y) (squared loss) or 0.
- **Best iterate.** J on the full training set is evaluated after every epoch; each run keeps its
  best iterate, and the step-size schedule ``cosine`` (default) anneals the step to 1% of ``lr``.

Statuses: ``converged`` when the tolerance test fired in the winning run (``PATIENCE``
consecutive epochs with ``|J_k - J_(k-1)| <= tol |J_k|``), ``max_iter`` when it ran all ``epochs``,
``timeout`` when ``time_limit`` stopped the grid (best network so far). No lower bound (local
methods certify nothing). ``info`` holds the chosen step size and initialization, the final J of
every run, and the spread of final J across initializations.
"""

from __future__ import annotations

import contextlib
import math
import time

import numpy as np

try:  # scikit-learn's dependency; limits BLAS threads (tiny matrices: threads only cost time)
    from threadpoolctl import threadpool_limits
except ImportError:  # pragma: no cover - threadpoolctl ships with scikit-learn
    threadpool_limits = None

import cvxlens
from cvxlens import Capabilities, Deadline, Method, Option, ReLUNetwork, Solution
from cvxlens.problem import _loss, _loss_and_grad
from cvxlens.validators import (bool_, nonneg_float, one_of, optional, positive_float,
                                positive_int, unit_interval)

__all__ = ["SGD", "Adam", "PATIENCE", "DIVERGENCE_FACTOR", "MIN_EPOCHS", "MIN_STEPS",
           "auto_epochs", "initial_network", "batch_grad"]

#: A run stops as "converged" after this many consecutive epochs whose J changed by at most
#: ``tol`` relative to the previous epoch.
PATIENCE = 3
#: Default (``epochs=None``) lower bounds on the epochs and on the optimizer steps per run.
MIN_EPOCHS = 200
MIN_STEPS = 2000
#: A run whose J exceeds this factor times its initial J (or becomes non-finite) is "diverged".
DIVERGENCE_FACTOR = 1e6


# ------------------------------------------------------------------ option validators
def _lr(v):
    vals = list(v) if isinstance(v, (list, tuple, np.ndarray)) else [v]
    if not vals:
        raise ValueError("lr grid is empty; give one step size > 0 or a list of them")
    return [positive_float(x) for x in vals]


def _betas(v):
    try:
        b1, b2 = v
    except (TypeError, ValueError):
        raise ValueError(f"must be a pair (beta1, beta2) in [0, 1), got {v!r}") from None
    return (unit_interval(b1), unit_interval(b2))


def auto_epochs(n, batch_size, epochs=None):
    """Epochs per run: ``epochs`` if given, else ``max(MIN_EPOCHS, ceil(MIN_STEPS / batches))``
    with ``batches = ceil(n / batch_size)`` optimizer steps per epoch (small data sets get more
    epochs, so every run makes at least ``MIN_STEPS`` steps)."""
    if epochs is not None:
        return epochs
    bs = n if batch_size is None else min(batch_size, n)
    per_epoch = -(-n // bs)
    return max(MIN_EPOCHS, -(-MIN_STEPS // per_epoch))


# ------------------------------------------------------------------ numerics
def initial_network(problem, width: int, rng: np.random.Generator):
    """Random starting weights ``(W (d, m), b (m,), alpha (m,), c)`` (see module docstring).

    He initialization of W, hyperplanes through random training points for the hidden biases
    (bias conventions ``regularized`` and ``free``), ``alpha ~ N(0, 1/m)``, then per-neuron
    balancing ``|alpha_j| = ||w_j||`` (b counted when penalized), which keeps f unchanged.
    """
    X, n, d, m = problem.X, problem.n, problem.d, width
    W = rng.standard_normal((d, m)) * np.sqrt(2.0 / d)
    if problem.bias == "none":
        b = np.zeros(m)
    else:
        b = -np.einsum("jk,kj->j", X[rng.integers(0, n, size=m)], W)
    alpha = rng.standard_normal(m) / np.sqrt(m)
    norm_sq = (W**2).sum(axis=0) + (b**2 if problem.bias == "regularized" else 0.0)
    norm = np.sqrt(norm_sq)
    ok = (norm > 0) & (alpha != 0)
    t = np.ones(m)
    t[ok] = np.sqrt(np.abs(alpha[ok]) / norm[ok])  # scale w by t, alpha by 1/t
    W, b, alpha = W * t, b * t, alpha / t
    c = float(problem.y.mean()) if (problem.bias == "free" and problem.loss == "squared") else 0.0
    return W, b, alpha, c


def batch_grad(problem, idx, W, b, alpha, c):
    """Stochastic gradient of ``J / n`` on the rows ``idx`` (all rows: the exact gradient).

    Returns ``(dW, db, dalpha, dc)``: the loss part averaged over the batch (unbiased for
    ``(1/n) grad loss``) plus the full weight-decay gradient ``(beta/n) theta``; parameters the
    bias convention fixes get zero gradient. Matches ``problem.objective_and_grad / n`` exactly
    when ``idx`` holds every row once (tested).
    """
    Xb = problem.X[idx]
    Z = Xb @ W + b
    act = Z > 0
    H = np.where(act, Z, 0.0)
    pred = H @ alpha + c
    _, g = _loss_and_grad(problem.loss, pred, problem.y[idx])
    g = g / len(idx)
    G = (g[:, None] * act) * alpha
    k = problem.beta / problem.n
    dW = Xb.T @ G + k * W
    dalpha = H.T @ g + k * alpha
    if problem.bias == "none":
        db, dc = np.zeros_like(b), 0.0
    elif problem.bias == "regularized":
        db, dc = G.sum(axis=0) + k * b, 0.0
    else:
        db, dc = G.sum(axis=0), float(g.sum())
    return dW, db, dalpha, dc


class _Params:
    """Flat parameter vector ``theta = (W.ravel(), b, alpha, c)`` with views W, b, alpha, c."""

    def __init__(self, d, m, values=None):
        self.theta = np.zeros(d * m + 2 * m + 1)
        t = self.theta
        self.W = t[:d * m].reshape(d, m)
        self.b = t[d * m:d * m + m]
        self.alpha = t[d * m + m:d * m + 2 * m]
        self.c = t[d * m + 2 * m:]
        if values is not None:
            self.W[...], self.b[...], self.alpha[...], self.c[0] = values

    def unpack(self):
        return self.W.copy(), self.b.copy(), self.alpha.copy(), float(self.c[0])


def _grad_into(problem, Xb, yb, P, G, k):
    """Write the stochastic gradient of ``J / n`` on the batch (Xb, yb) into the views of G.

    Same formula as :func:`batch_grad` (flat-array version used in the training loop).
    """
    Z = Xb @ P.W
    Z += P.b
    act = Z > 0
    H = np.multiply(Z, act, out=Z)
    pred = H @ P.alpha
    pred += P.c[0]
    if problem.loss == "squared":
        g = pred - yb
    else:
        g = _loss_and_grad(problem.loss, pred, yb)[1]
    g *= 1.0 / len(yb)
    Gz = act * g[:, None]
    Gz *= P.alpha
    np.matmul(Xb.T, Gz, out=G.W)
    G.W += k * P.W
    np.matmul(g, H, out=G.alpha)
    G.alpha += k * P.alpha
    if problem.bias == "regularized":
        np.sum(Gz, axis=0, out=G.b)
        G.b += k * P.b
    elif problem.bias == "free":
        np.sum(Gz, axis=0, out=G.b)
        G.c[0] = g.sum()


class _SGDState:
    """Heavy-ball momentum (PyTorch convention): ``v = mu v + g; theta -= lr v``."""

    def __init__(self, size, momentum, **_):
        self.mu = momentum
        self.v = np.zeros(size)

    def step(self, theta, grad, lr):
        v = self.v
        v *= self.mu
        v += grad
        theta -= lr * v


class _AdamState:
    """Adam (Kingma & Ba 2015, Alg. 1) on the gradient of J (coupled weight decay)."""

    def __init__(self, size, betas, eps, **_):
        self.b1, self.b2 = betas
        self.eps = eps
        self.t = 0
        self.m = np.zeros(size)
        self.v = np.zeros(size)

    def step(self, theta, grad, lr):
        self.t += 1
        c1 = 1.0 - self.b1**self.t
        c2 = 1.0 - self.b2**self.t
        m, v = self.m, self.v
        m *= self.b1
        m += (1.0 - self.b1) * grad
        v *= self.b2
        v += (1.0 - self.b2) * (grad * grad)
        denom = np.sqrt(v * (1.0 / c2))
        denom += self.eps
        theta -= (lr / c1) * m / denom


def _full_J(problem, P):
    """J of the current weights on the full training set (value only; same formula as
    ``Problem.objective``, checked in the tests)."""
    Z = problem.X @ P.W
    Z += P.b
    np.maximum(Z, 0.0, out=Z)
    pred = Z @ P.alpha
    pred += P.c[0]
    sq = P.W.ravel() @ P.W.ravel() + P.alpha @ P.alpha
    if problem.bias == "regularized":
        sq += P.b @ P.b
    return _loss(problem.loss, pred, problem.y) + 0.5 * problem.beta * float(sq)


def _one_run(problem, init, lr, opts, optimizer_cls, rng, deadline):
    """One descent run from ``init`` with step size ``lr``; returns a dict (best iterate)."""
    d, m = init[0].shape
    P = _Params(d, m, init)
    G = _Params(d, m)
    state = optimizer_cls(P.theta.size, **opts)
    n = problem.n
    X, y = problem.X, problem.y
    k = problem.beta / n
    bs = n if opts["batch_size"] is None else min(opts["batch_size"], n)
    epochs, tol, schedule = opts["epochs"], opts["tol"], opts["schedule"]
    t0 = time.perf_counter()
    with np.errstate(over="ignore", invalid="ignore"):
        J0 = _full_J(problem, P)
    best_J, best_theta = J0, P.theta.copy()
    trace = [J0]
    history = [(0.0, J0)]
    status, diverged, steps, epoch, calm = "max_iter", False, 0, 0, 0
    for epoch in range(1, epochs + 1):
        if schedule == "cosine":
            frac = (epoch - 1) / max(epochs - 1, 1)
            lr_e = lr * (0.01 + 0.99 * 0.5 * (1.0 + math.cos(math.pi * frac)))
        else:
            lr_e = lr
        if bs == n:
            Xp, yp = X, y
        else:
            order = rng.permutation(n)
            Xp, yp = X[order], y[order]
        with np.errstate(over="ignore", invalid="ignore"):
            for start in range(0, n, bs):
                _grad_into(problem, Xp[start:start + bs], yp[start:start + bs], P, G, k)
                state.step(P.theta, G.theta, lr_e)
            steps += -(-n // bs)
            J = _full_J(problem, P)
        if not np.isfinite(J) or J > DIVERGENCE_FACTOR * max(abs(J0), 1.0):
            diverged = True
            status = "diverged"
            break
        rel = abs(trace[-1] - J) / max(abs(J), 1e-300)
        trace.append(J)
        history.append((time.perf_counter() - t0, J))
        if J < best_J:
            best_J, best_theta = J, P.theta.copy()
        calm = calm + 1 if (tol > 0 and rel <= tol) else 0
        if calm >= PATIENCE:
            status = "converged"
            break
        if deadline.expired():
            status = "timeout"
            break
    P.theta[...] = best_theta
    W, b, alpha, c = P.unpack()
    return {"J": best_J, "W": W, "b": b, "alpha": alpha, "c": c,
            "status": status, "diverged": diverged, "epochs": epoch, "steps": steps,
            "history": history, "trace": trace, "seconds": time.perf_counter() - t0}


class _GradientBaseline(Method):
    """Shared driver: grid over initializations x step sizes, best run by training J."""

    capabilities = Capabilities(losses=("squared", "logistic", "hinge"),
                                biases=("none", "regularized", "free"), depth=2,
                                finite_weights=True, lower_bound=False, input_dim=None)
    _optimizer = None

    def _optimizer_opts(self, options):
        raise NotImplementedError

    def solve(self, problem, **options):
        # The matrices are tiny (batch x d times d x width): multithreaded BLAS only adds
        # synchronization cost, up to 40x on a loaded 2-core machine (measured), so use one thread.
        limit = (threadpool_limits(limits=1, user_api="blas") if threadpool_limits is not None
                 else contextlib.nullcontext())
        with limit:
            return self._solve(problem, **options)

    def _solve(self, problem, **options):
        deadline = Deadline(options["time_limit"])
        t_start = time.perf_counter()
        seed = options["seed"]
        ss = np.random.SeedSequence(seed)
        init_seqs = ss.spawn(options["n_init"])
        opts = {"batch_size": options["batch_size"],
                "epochs": auto_epochs(problem.n, options["batch_size"], options["epochs"]),
                "tol": options["tol"], "schedule": options["schedule"],
                **self._optimizer_opts(options)}
        lrs = options["lr"]
        runs, best, timed_out = [], None, False
        for i, iseq in enumerate(init_seqs):
            init_rng, order_seq = np.random.default_rng(iseq.spawn(1)[0]), iseq.spawn(len(lrs))
            init = initial_network(problem, options["width"], init_rng)
            for k, lr in enumerate(lrs):
                res = _one_run(problem, init, lr, opts, self._optimizer,
                               np.random.default_rng(order_seq[k]), deadline)
                res.update(init=i, lr=lr)
                runs.append(res)
                if not res["diverged"] and (best is None or res["J"] < best["J"]):
                    best = res
                if res["status"] == "timeout" or deadline.expired():
                    timed_out = True
                    break
            if timed_out:
                break
        if best is None:  # every run diverged: keep the best initial network
            best = min(runs, key=lambda r: r["trace"][0])
            init = initial_network(problem, options["width"],
                                   np.random.default_rng(init_seqs[best["init"]].spawn(1)[0]))
            W, b, alpha, c = init
            best = dict(best, W=W, b=b, alpha=alpha, c=c, J=best["trace"][0],
                        history=[(0.0, best["trace"][0])])
        net = ReLUNetwork(best["W"], best["b"], best["alpha"], best["c"])
        J = problem.objective(net)
        # spread across initializations: each init's best run over the step-size grid
        per_init = {}
        for r in runs:
            if not r["diverged"]:
                per_init[r["init"]] = min(per_init.get(r["init"], np.inf), r["J"])
        init_J = np.array(sorted(per_init.values()))
        if timed_out:
            status = "timeout"
        elif best["status"] == "converged":
            status = "converged"
        else:
            status = "max_iter"
        n_div = sum(r["diverged"] for r in runs)
        info = {
            "width": options["width"], "best_lr": best["lr"], "best_init": best["init"],
            "lr_grid": list(lrs), "n_runs": len(runs), "n_diverged": n_div,
            "runs": [{"init": r["init"], "lr": r["lr"], "J": None if r["diverged"] else r["J"],
                      "status": r["status"], "epochs": r["epochs"],
                      "seconds": round(r["seconds"], 4)} for r in runs],
            "init_J": init_J.tolist(),
            "init_J_spread": {"min": float(init_J.min()), "median": float(np.median(init_J)),
                              "max": float(init_J.max()), "std": float(init_J.std())}
                             if init_J.size else None,
            "total_steps": int(sum(r["steps"] for r in runs)),
            "history_note": "history is the winning run's J after every epoch, seconds from "
                            "that run's start; time_s covers the whole grid",
        }
        if options["record_traces"]:
            info["traces"] = [{"init": r["init"], "lr": r["lr"], "status": r["status"],
                               "seconds": [float(t) for t, _ in r["history"]],
                               "J": [float(v) for _, v in r["history"]]} for r in runs]
        msg = (f"best of {len(runs)} runs ({len(set(r['init'] for r in runs))} init(s) x "
               f"{len(lrs)} step size(s)): lr={best['lr']:g}, init {best['init']}")
        if n_div:
            msg += f"; {n_div} run(s) diverged"
        if timed_out:
            msg += "; time limit reached, best network so far"
        return Solution(net, objective=J, status=status, n_iter=best["epochs"],
                        history=[(float(t), float(v)) for t, v in best["history"]],
                        time_s=time.perf_counter() - t_start, message=msg, info=info)


def _common_options(lr_default):
    return {
        "width": Option(50, "number of hidden neurons m", positive_int),
        "lr": Option(lr_default, "step size on J/n, or a list (grid; best run by training J)",
                     _lr),
        "epochs": Option(None, f"passes over the training data per run; None = auto: at least "
                               f"{MIN_EPOCHS} epochs and {MIN_STEPS} steps",
                         optional(positive_int)),
        "batch_size": Option(100, "minibatch size; None = full batch (gradient descent)",
                             optional(positive_int)),
        "n_init": Option(3, "random initializations (every step size runs from each)",
                         positive_int),
        "tol": Option(1e-6, f"stop a run after {PATIENCE} consecutive epochs whose J changed by "
                            f"at most tol (relative); 0 disables", nonneg_float),
        "schedule": Option("cosine", "'cosine' (anneal the step to 1% of lr) or 'constant'",
                           one_of("constant", "cosine")),
        "record_traces": Option(False, "store (seconds, J) after every epoch of every run in "
                                       "info['traces'] (survey Fig. 6a: one curve per step size)",
                                bool_),
    }


class SGD(_GradientBaseline):
    """Minibatch SGD with heavy-ball momentum on J (the non-convex baseline)."""

    name = "sgd"
    summary = ("SGD with momentum on the non-convex J: He init, several inits x step-size grid, "
               "best by training J (no bound)")
    options = {
        **_common_options([1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1, 1.0]),
        "momentum": Option(0.9, "heavy-ball momentum in [0, 1)", unit_interval),
    }
    _optimizer = _SGDState

    def _optimizer_opts(self, options):
        return {"momentum": options["momentum"]}


class Adam(_GradientBaseline):
    """Adam on the gradient of J (weight decay as the L2 term of J, not AdamW)."""

    name = "adam"
    summary = ("Adam on the non-convex J (weight decay exactly as in J): He init, several "
               "inits x step-size grid, best by training J (no bound)")
    options = {
        **_common_options([1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1]),
        "betas": Option((0.9, 0.999), "Adam moment decay rates (beta1, beta2)", _betas),
        "eps": Option(1e-8, "Adam denominator offset", positive_float),
    }
    _optimizer = _AdamState

    def _optimizer_opts(self, options):
        return {"betas": options["betas"], "eps": options["eps"]}


@cvxlens.hookimpl
def cvxlens_register_methods(register):
    register(SGD)
    register(Adam)
