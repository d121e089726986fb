"""Mixed-integer linear program of quantized two-layer ReLU training (Bienstock, Muñoz & Pokutta 2023).

Every parameter ``p`` (first-layer weights ``w_lj``, hidden biases ``b_j``, output weights
``alpha_j``, output offset ``c``) takes a value on the grid ``G = {-1, -1+eps, ..., 1}`` (``K``
points) through one-hot binaries ``z_pk`` (``sum_k z_pk = 1``, value ``v_p = sum_k g_k z_pk``).
Inputs lie in the box ``[-1, 1]^d`` (after the optional rescaling of ``cvxlens_lp``), so every
pre-activation ``a_ij = x_i . w_j + b_j`` (linear in the binaries, the data being fixed) lies in
``[-U_i, U_i]`` with ``U_i = ||x_i||_1 + [bias]`` — the big-M of the exact ReLU model

    h_ij >= a_ij,  h_ij <= a_ij + U_i (1 - delta_ij),  h_ij <= U_i delta_ij,  h_ij >= 0,
    delta_ij binary                      =>  h_ij = max(a_ij, 0).

The product ``alpha_j h_ij`` is exact through the disjunctive split ``h_ij = sum_k q_ijk`` with
``0 <= q_ijk <= U_i z_{alpha_j, k}`` (only the ``q`` of the chosen grid value can be nonzero), so
``alpha_j h_ij = sum_k g_k q_ijk``. The network output is ``f_i = sum_jk g_k q_ijk + c``.

Loss: a convex per-sample loss ``l_i(f_i)`` is replaced by an epigraph variable ``t_i`` and
tangent cuts ``t_i >= l_i(f0) + l_i'(f0)(f_i - f0)`` (outer approximation). Piecewise-linear
losses (hinge, absolute) are represented exactly by their pieces; the squared and logistic losses
get cuts added round by round at the residuals of the incumbent until the MILP value meets the
true objective (the MILP value is a lower bound on the quantized optimum at every round, the true
J of each incumbent an upper bound). Weight decay is linear in the binaries: ``g_k^2`` is a
constant per grid point.

Objective units: the MILP minimizes J of the network in the caller's coordinates (see
``cvxlens_lp.Quantized``): ``sum_i l_i(sy * f'_i) + sum_p pen_p v_p^2`` with per-type penalty
weights ``pen_p``. The program sizes are estimated in :func:`estimate_size` before anything is
built.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import time
import warnings
from dataclasses import dataclass, field

import numpy as np
import pulp

__all__ = ["QuantizedSpec", "estimate_size", "build_and_solve", "grid_values", "make_solver"]

#: Relative MIP gap requested from the solver (the MILP value is then a lower bound on the
#: round's true MILP optimum up to this factor).
MIP_GAP_REL = 1e-7
#: Outer approximation stops when best true J - MILP lower bound <= OA_TOL * max(1, |J|).
OA_TOL = 1e-6


def grid_values(step: float) -> np.ndarray:
    """The grid ``{-1, -1 + step, ..., 1}``, shape (2/step + 1,). ``2/step`` must be an integer."""
    k = int(round(2.0 / step))
    return np.linspace(-1.0, 1.0, k + 1)


@dataclass
class QuantizedSpec:
    """Everything the MILP needs, in the box coordinates.

    Xb : (n, d) inputs in [-1, 1]. yb : (n,) targets of the loss (caller units, see ``sy``).
    sy : output scale: the caller's prediction is ``sy * f'`` with ``f'`` the box network output.
    loss : "squared" | "logistic" | "hinge" | "absolute" (per-sample loss in caller units,
    ``0.5 (f - y)^2``, ``log(1 + exp(-y f))``, ``max(0, 1 - y f)``, ``|f - y|``).
    bias : "none" | "regularized" | "free". m : width. grid : (K,) grid values.
    pen_w, pen_b, pen_a, pen_c : coefficients of ``v^2`` in the objective per parameter type.
    """

    Xb: np.ndarray
    yb: np.ndarray
    sy: float
    loss: str
    bias: str
    m: int
    grid: np.ndarray
    pen_w: float
    pen_b: float
    pen_a: float
    pen_c: float = 0.0

    @property
    def n(self):
        return self.Xb.shape[0]

    @property
    def d(self):
        return self.Xb.shape[1]

    @property
    def K(self):
        return len(self.grid)

    @property
    def has_b(self):
        return self.bias != "none"

    @property
    def has_c(self):
        return self.bias == "free"

    @property
    def n_params(self):
        return self.m * (self.d + int(self.has_b) + 1) + int(self.has_c)

    @property
    def U(self) -> np.ndarray:
        """Big-M of each sample: max |x_i . w + b| over the box, shape (n,)."""
        return np.abs(self.Xb).sum(axis=1) + (1.0 if self.has_b else 0.0)

    # --------------------------------------------------------------- numpy side
    def unpack(self, theta: np.ndarray):
        """Parameter vector (n_params,) -> (W (d, m), b (m,), alpha (m,), c) in box coordinates."""
        d, m = self.d, self.m
        per = d + int(self.has_b) + 1
        T = theta[: m * per].reshape(m, per)
        W = T[:, :d].T.copy()
        b = T[:, d].copy() if self.has_b else np.zeros(m)
        alpha = T[:, -1].copy()
        c = float(theta[-1]) if self.has_c else 0.0
        return W, b, alpha, c

    def penalty_weights(self) -> np.ndarray:
        """Coefficient of v_p^2 for each parameter, shape (n_params,)."""
        per = [self.pen_w] * self.d + ([self.pen_b] if self.has_b else []) + [self.pen_a]
        out = per * self.m + ([self.pen_c] if self.has_c else [])
        return np.asarray(out, dtype=float)

    def loss_sum(self, fb: np.ndarray) -> float:
        """Sum of per-sample losses for box outputs fb (n,) (caller units)."""
        return float(loss_values(self.loss, self.sy * fb, self.yb).sum())

    def objective(self, theta: np.ndarray) -> float:
        """The MILP's true objective (loss + weight decay) of a parameter vector."""
        W, b, alpha, c = self.unpack(theta)
        fb = np.maximum(self.Xb @ W + b, 0.0) @ alpha + c
        return self.loss_sum(fb) + float(self.penalty_weights() @ (theta**2))


def loss_values(kind, f, y):
    """Per-sample loss values (caller units), shape (n,)."""
    if kind == "squared":
        return 0.5 * (f - y) ** 2
    if kind == "logistic":
        return np.logaddexp(0.0, -y * f)
    if kind == "hinge":
        return np.maximum(0.0, 1.0 - y * f)
    if kind == "absolute":
        return np.abs(f - y)
    raise ValueError(f"unknown loss {kind!r}")


def loss_derivs(kind, f, y):
    """Per-sample derivatives d loss / d f (caller units), shape (n,)."""
    if kind == "squared":
        return f - y
    if kind == "logistic":
        return -y / (1.0 + np.exp(y * f))
    raise ValueError(f"no smooth derivative for {kind!r}")


# ------------------------------------------------------------------- program size
def _initial_cut_points(spec: QuantizedSpec) -> list[np.ndarray]:
    """Box-output points f' at which each sample's loss gets a tangent cut before round 1.

    Squared/logistic: the ends of the reachable output range ``[-F_i, F_i]``, its midpoints and 0
    (the cut at the exact fit would only repeat ``t >= 0``). Piecewise-linear losses need no cuts (their pieces are exact).
    """
    if spec.loss in ("hinge", "absolute"):
        return [np.zeros(0)] * spec.n
    F = spec.m * spec.U + (1.0 if spec.has_c else 0.0)
    pts = []
    for i in range(spec.n):
        cand = [-F[i], -0.5 * F[i], 0.0, 0.5 * F[i], F[i]]
        pts.append(np.unique(np.round(np.asarray(cand), 12)))
    return pts


def estimate_size(spec: QuantizedSpec) -> dict:
    """Size of the first-round program, computed from (n, d, m, K, bias) before building it.

    Returns a dict with ``variables``, ``binaries``, ``constraints`` and ``nonzeros`` (these equal
    the built model's counts; later outer-approximation rounds add only cut rows).
    """
    P, K, m, n = spec.n_params, spec.K, spec.m, spec.n
    n_pos = int((spec.U > 0).sum())
    A = m * n_pos  # (sample, neuron) pairs with a nonconstant pre-activation
    pieces = {"hinge": 2, "absolute": 2}.get(spec.loss)
    if pieces is None:
        n_cuts = int(sum(len(p) for p in _initial_cut_points(spec)))
    else:
        n_cuts = pieces * n - (n if spec.loss == "hinge" else 0)  # hinge: t >= 0 is a bound
    nb = int(spec.has_b)
    gnz = int(np.count_nonzero(spec.grid))
    nx = np.count_nonzero(spec.Xb[spec.U > 0], axis=1)  # nonzero inputs of each active sample
    variables = P * K + P + A * (K + 2) + 2 * n
    binaries = P * K + A
    constraints = 2 * P + A * (K + 4) + n + n_cuts + max(m - 1, 0)
    nonzeros = (P * K + P * (1 + gnz)                      # one-hot and value rows
                + m * int((2 * nx + 2 * nb + 5).sum())     # three ReLU rows per pair
                + A * (2 * K + K + 1)                      # product rows and the split row
                + n * (1 + int(spec.has_c)) + A * gnz      # output rows
                + 2 * n_cuts + 2 * max(m - 1, 0))          # cuts, symmetry rows
    return {"variables": int(variables), "binaries": int(binaries),
            "constraints": int(constraints), "nonzeros": int(nonzeros)}


# ------------------------------------------------------------------- solver
def make_solver(name: str, time_limit: float | None, mip: bool = True, warm: bool = False):
    """PuLP solver object: bundled CBC or HiGHS (through highspy), single thread, quiet."""
    if name == "cbc":
        kw = dict(msg=False, mip=mip, gapRel=MIP_GAP_REL, gapAbs=1e-10, threads=1,
                  warmStart=warm and mip)
        if time_limit is not None:
            kw["timeLimit"] = max(1, int(math.ceil(time_limit)))
        return pulp.PULP_CBC_CMD(**kw)
    if name == "highs":
        kw = dict(msg=False, mip=mip, gapRel=MIP_GAP_REL, gapAbs=1e-10, threads=1)
        if time_limit is not None:
            kw["timeLimit"] = float(max(time_limit, 0.5))
        return pulp.HiGHS(**kw)
    raise ValueError(f"unknown solver {name!r}; choose 'cbc' or 'highs'")


@dataclass
class MILPResult:
    theta: np.ndarray | None  # best parameter vector (box coordinates) found, or None
    value: float  # its true objective
    status: str  # "optimal" | "timeout" | "max_iter" | "failed"
    rounds: int
    lower_bound: float | None  # valid lower bound on the quantized optimum (None if unproven)
    milp_values: list = field(default_factory=list)
    history: list = field(default_factory=list)
    size_initial: dict = field(default_factory=dict)
    size_final: dict = field(default_factory=dict)
    lp_relaxation: float | None = None
    lp_relaxation_note: str = ""
    solver_statuses: list = field(default_factory=list)
    n_cuts_added: int = 0
    message: str = ""


class _Model:
    """The PuLP model with handles to the variables needed for cuts and warm starts."""

    def __init__(self, spec: QuantizedSpec, symmetry: bool = True):
        self.spec = spec
        s = spec
        n, d, m, K, g = s.n, s.d, s.m, s.K, s.grid
        U = s.U
        prob = pulp.LpProblem("quantized_relu_training", pulp.LpMinimize)
        P = s.n_params
        self.z = [[pulp.LpVariable(f"z_{p}_{k}", cat="Binary") for k in range(K)]
                  for p in range(P)]
        self.v = [pulp.LpVariable(f"v_{p}", lowBound=-1.0, upBound=1.0) for p in range(P)]
        for p in range(P):
            prob += (pulp.lpSum(self.z[p]) == 1), f"onehot_{p}"
            prob += (pulp.LpAffineExpression([(self.v[p], 1.0)] + [(self.z[p][k], -float(g[k]))
                                                                  for k in range(K) if g[k] != 0])
                     == 0, f"value_{p}")
        per = d + int(s.has_b) + 1
        widx = lambda l, j: j * per + l  # noqa: E731
        bidx = lambda j: j * per + d  # noqa: E731
        aidx = lambda j: j * per + per - 1  # noqa: E731
        self.aidx = aidx
        self.h, self.delta, self.q = {}, {}, {}
        self.f = [pulp.LpVariable(f"f_{i}", lowBound=-(m * U[i] + s.has_c),
                                  upBound=m * U[i] + s.has_c) for i in range(n)]
        self.t = [pulp.LpVariable(f"t_{i}", lowBound=0.0)
                  for i in range(n)]
        for i in range(n):
            terms = []
            if U[i] > 0:
                for j in range(m):
                    h = pulp.LpVariable(f"h_{i}_{j}", lowBound=0.0, upBound=float(U[i]))
                    dl = pulp.LpVariable(f"delta_{i}_{j}", cat="Binary")
                    q = [pulp.LpVariable(f"q_{i}_{j}_{k}", lowBound=0.0) for k in range(K)]
                    self.h[i, j], self.delta[i, j], self.q[i, j] = h, dl, q
                    a_terms = [(self.v[widx(l, j)], float(s.Xb[i, l])) for l in range(d)
                               if s.Xb[i, l] != 0]
                    if s.has_b:
                        a_terms.append((self.v[bidx(j)], 1.0))
                    # h >= a
                    prob += (pulp.LpAffineExpression([(h, 1.0)] + [(v, -c) for v, c in a_terms])
                             >= 0), f"relu_lo_{i}_{j}"
                    # h <= a + U (1 - delta)
                    prob += (pulp.LpAffineExpression([(h, 1.0), (dl, float(U[i]))]
                                                     + [(v, -c) for v, c in a_terms])
                             <= float(U[i])), f"relu_hi_{i}_{j}"
                    # h <= U delta
                    prob += (pulp.LpAffineExpression([(h, 1.0), (dl, -float(U[i]))]) <= 0,
                             f"relu_on_{i}_{j}")
                    za = self.z[aidx(j)]
                    for k in range(K):
                        prob += (pulp.LpAffineExpression([(q[k], 1.0), (za[k], -float(U[i]))])
                                 <= 0), f"prod_{i}_{j}_{k}"
                    prob += (pulp.LpAffineExpression([(qk, 1.0) for qk in q] + [(h, -1.0)]) == 0,
                             f"split_{i}_{j}")
                    terms += [(q[k], float(g[k])) for k in range(K) if g[k] != 0]
            if s.has_c:
                terms.append((self.v[P - 1], 1.0))
            prob += (pulp.LpAffineExpression([(self.f[i], 1.0)] + [(v, -c) for v, c in terms])
                     == 0), f"out_{i}"
        self.n_cut_rows = 0
        # loss: exact pieces or initial tangent cuts
        if s.loss == "hinge":
            for i in range(n):  # t >= 1 - y sy f'
                prob += (pulp.LpAffineExpression([(self.t[i], 1.0),
                                                  (self.f[i], float(s.yb[i] * s.sy))]) >= 1.0,
                         f"hinge_{i}")
                self.n_cut_rows += 1
        elif s.loss == "absolute":
            for i in range(n):
                prob += (pulp.LpAffineExpression([(self.t[i], 1.0), (self.f[i], -s.sy)])
                         >= -float(s.yb[i])), f"abs_p_{i}"
                prob += (pulp.LpAffineExpression([(self.t[i], 1.0), (self.f[i], s.sy)])
                         >= float(s.yb[i])), f"abs_m_{i}"
                self.n_cut_rows += 2
        else:
            for i, pts in enumerate(_initial_cut_points(s)):
                for f0 in pts:
                    self.add_cut(prob, i, float(f0))
        if symmetry:  # neurons are interchangeable: order them by output weight
            for j in range(m - 1):
                prob += (pulp.LpAffineExpression([(self.v[aidx(j)], 1.0),
                                                  (self.v[aidx(j + 1)], -1.0)]) >= 0,
                         f"sym_{j}")
        pen = s.penalty_weights()
        obj = [(self.t[i], 1.0) for i in range(n)]
        for p in range(P):
            if pen[p] != 0:
                obj += [(self.z[p][k], float(pen[p] * g[k] ** 2)) for k in range(K) if g[k] != 0]
        prob += pulp.LpAffineExpression(obj)
        self.prob = prob

    def add_cut(self, prob, i, f0):
        """Tangent cut of sample i's loss at box output f0: t >= l(sy f0) + sy l'(sy f0)(f - f0)."""
        s = self.spec
        F0 = s.sy * f0
        lv = float(loss_values(s.loss, np.array([F0]), s.yb[i:i + 1])[0])
        dv = float(loss_derivs(s.loss, np.array([F0]), s.yb[i:i + 1])[0]) * s.sy
        # t - dv f >= lv - dv f0
        self.n_cut_rows += 1
        prob += (pulp.LpAffineExpression([(self.t[i], 1.0), (self.f[i], -dv)]) >= lv - dv * f0,
                 f"cut_{i}_{self.n_cut_rows}")

    def theta(self) -> np.ndarray:
        vals = np.array([[zk.varValue if zk.varValue is not None else 0.0 for zk in zp]
                         for zp in self.z])
        return self.spec.grid[np.argmax(vals, axis=1)]

    def set_start(self, theta: np.ndarray):
        """Warm start (CBC mipstart): a consistent value for every variable."""
        s = self.spec
        K = s.K
        kidx = np.argmin(np.abs(theta[:, None] - s.grid[None, :]), axis=1)
        for p, zp in enumerate(self.z):
            for k in range(K):
                zp[k].setInitialValue(1.0 if k == kidx[p] else 0.0)
            self.v[p].setInitialValue(float(s.grid[kidx[p]]))
        W, b, alpha, c = s.unpack(theta)
        A = s.Xb @ W + b
        H = np.maximum(A, 0.0)
        for (i, j), h in self.h.items():
            h.setInitialValue(float(H[i, j]))
            self.delta[i, j].setInitialValue(1.0 if A[i, j] > 0 else 0.0)
            ka = kidx[self.aidx(j)]
            for k, qk in enumerate(self.q[i, j]):
                qk.setInitialValue(float(H[i, j]) if k == ka else 0.0)
        fb = H @ alpha + c
        lv = loss_values(s.loss, s.sy * fb, s.yb)
        for i in range(s.n):
            self.f[i].setInitialValue(float(fb[i]))
            self.t[i].setInitialValue(float(lv[i]))

    def counts(self) -> dict:
        prob = self.prob
        vs = prob.variables()
        nnz = sum(len(c) for c in prob.constraints.values())
        return {"variables": len(vs), "binaries": sum(v.cat == pulp.LpBinary or
                                                      (v.cat == pulp.LpInteger) for v in vs),
                "constraints": len(prob.constraints), "nonzeros": int(nnz)}


@contextlib.contextmanager
def _stdout_silenced():
    """Silence file descriptor 1: highspy prints its banner on the first ``Highs()`` even with
    ``output_flag`` off, which would corrupt ``cvxlens compare --json`` on stdout."""
    try:
        sys.stdout.flush()
        saved = os.dup(1)
    except (OSError, ValueError, AttributeError):  # no real stdout (e.g. some notebooks)
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


def _solve_once(model: _Model, solver: str, time_limit, warm_theta=None, mip=True):
    """Solve the current model; returns (status_str, objective or None, seconds)."""
    prob = model.prob
    if warm_theta is not None and mip and solver == "cbc":
        model.set_start(warm_theta)
    t0 = time.perf_counter()
    quiet = _stdout_silenced() if solver == "highs" else contextlib.nullcontext()
    try:
        with quiet:
            prob.solve(make_solver(solver, time_limit, mip=mip, warm=warm_theta is not None))
    except pulp.PulpSolverError as exc:  # pragma: no cover - solver crash
        return f"error: {exc}", None, time.perf_counter() - t0
    dt = time.perf_counter() - t0
    sol = prob.sol_status
    val = pulp.value(prob.objective)
    if sol == pulp.LpSolutionOptimal:
        return "optimal", float(val), dt
    if sol == pulp.LpSolutionIntegerFeasible:
        return "feasible", float(val) if val is not None else None, dt
    return pulp.LpStatus.get(prob.status, str(prob.status)).lower(), None, dt


def build_and_solve(spec: QuantizedSpec, solver: str = "cbc", deadline=None,
                    max_rounds: int = 50, relax: bool = True, start_theta=None,
                    start_value=None, symmetry: bool = True) -> MILPResult:
    """Outer-approximation loop over the MILP of ``spec``.

    Parameters
    ----------
    deadline : cvxlens.Deadline or None
        Time budget for everything (each solver call gets the remaining time).
    start_theta, start_value : incumbent from a heuristic (warm start, and returned if no MILP
        round beats it).

    Returns
    -------
    MILPResult
    """
    with warnings.catch_warnings():  # PuLP 3.x announces its 4.0 API on every variable
        warnings.simplefilter("ignore", DeprecationWarning)
        return _build_and_solve(spec, solver, deadline, max_rounds, relax, start_theta,
                                start_value, symmetry)


def _build_and_solve(spec, solver, deadline, max_rounds, relax, start_theta, start_value,
                     symmetry):
    t_start = time.perf_counter()
    remaining = (lambda: None) if deadline is None else deadline.remaining
    model = _Model(spec, symmetry=symmetry)
    res = MILPResult(theta=None, value=np.inf, status="failed", rounds=0, lower_bound=None)
    res.size_initial = model.counts()
    res.size_initial["build_s"] = round(time.perf_counter() - t_start, 3)
    smooth = spec.loss in ("squared", "logistic")
    if start_theta is not None:
        res.theta, res.value = np.asarray(start_theta, float), float(start_value)
        res.history.append((time.perf_counter() - t_start, res.value))
        if smooth:  # cuts where the heuristic incumbent's outputs are
            W, b, alpha, c = spec.unpack(res.theta)
            fb = np.maximum(spec.Xb @ W + b, 0.0) @ alpha + c
            for i in range(spec.n):
                model.add_cut(model.prob, i, float(fb[i]))
                res.n_cuts_added += 1
    proven = None
    timed_out = False
    for rnd in range(1, max_rounds + 1):
        rem = remaining()
        if rem is not None and rem < 0.5:
            timed_out = True
            break
        # CBC checks its clock only between phases: keep a margin that grows with the program
        lim = None if rem is None else max(0.5, rem - (0.5 + 1e-4 * res.size_initial["nonzeros"]))
        st, val, _ = _solve_once(model, solver, lim, warm_theta=res.theta)
        res.rounds = rnd
        res.solver_statuses.append(st)
        if st not in ("optimal", "feasible"):
            if rem is not None and remaining() < 0.1 * max(rem, 1.0) + 0.5:
                timed_out = True  # stopped by the time limit before reporting a solution
            else:
                res.message = f"solver {solver} returned status {st!r} in round {rnd}"
                res.status = "failed"
            break
        theta = model.theta()
        jt = spec.objective(theta)
        if jt < res.value:
            res.theta, res.value = theta, jt
        res.history.append((time.perf_counter() - t_start, res.value))
        if st == "feasible":  # stopped by the time limit with an incumbent
            timed_out = True
            break
        lb = val - MIP_GAP_REL * abs(val) - 1e-10  # solver gap tolerance
        res.milp_values.append(val)
        proven = lb if proven is None else max(proven, lb)
        if res.value - proven <= OA_TOL * max(1.0, abs(res.value)) or not smooth:
            res.status = "optimal"
            break
        # add tangent cuts at the residuals of this round's network where the cut value is short
        W, b, alpha, c = spec.unpack(theta)
        fb = np.maximum(spec.Xb @ W + b, 0.0) @ alpha + c
        tv = np.array([tt.varValue or 0.0 for tt in model.t])
        lv = loss_values(spec.loss, spec.sy * fb, spec.yb)
        short = np.nonzero(lv - tv > 1e-9 * max(1.0, abs(res.value)) / spec.n)[0]
        if len(short) == 0:  # cannot happen unless numerical trouble: stop honestly
            res.status = "optimal" if res.value - proven <= 1e-5 * max(1.0, abs(res.value)) \
                else "max_iter"
            break
        for i in short:
            model.add_cut(model.prob, int(i), float(fb[i]))
            res.n_cuts_added += 1
    else:
        res.status = "max_iter"
    if timed_out:
        res.status = "timeout"
    # every fully solved round's MILP value bounds the quantized optimum from below (its cuts
    # under-estimate the loss), also when a later round timed out
    res.lower_bound = proven
    res.size_final = model.counts()
    if relax:
        rem = remaining()
        if rem is not None and rem < 0.5:
            res.lp_relaxation_note = "not computed: no time left"
        else:
            st, val, dt = _solve_once(model, solver, rem, mip=False)
            if st == "optimal":
                res.lp_relaxation = float(val)
                res.lp_relaxation_note = (
                    "LP relaxation of the final outer-approximation MILP (binaries in [0, 1]): a "
                    "lower bound on the quantized optimum only, NOT on the continuous min J")
            else:
                res.lp_relaxation_note = f"LP relaxation not solved (status {st})"
    return res
