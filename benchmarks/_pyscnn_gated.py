"""pyscnn's R-FISTA on OUR gated ReLU group Lasso program (reference for bench_lasso's gated row).

Measures pyscnn 0.0.10 (import name ``scnn``; Mishkin, Sahiner & Pilanci 2022) on the program

    min_W  1/2 ||sum_i D_i Xa w_i - y||^2 + beta sum_i ||w_i||_2,     beta = 1,

with bench_lasso.py's data (``_data(n, d, seed=0)``), Xa = [X, 1] (bias "regularized": the ones
column is an ordinary, penalized feature) and the gates of
``cvxlens.patterns.sample_patterns(Xa, P, seed=0, return_gates=True)`` (re-implemented below,
since cvxlens does not import in the pyscnn venv; ``--evaluate`` asserts they are identical).
pyscnn gets our gates on Xa via ``ConvexGatedReLU(G)`` (no extra bias, ``unitize_data=False``:
pyscnn's default column unitization would change both the patterns and the penalty), the
``NeuronGL1`` regularizer and ``RFISTA`` at its defaults (``max_iters=10000``, ``tol=1e-6`` on
the squared norm of the minimum-norm subgradient of its own objective F; scnn/solvers.py:64,
private/interface/solvers.py:122), dtype float32 and seed 778 as in ``optimize_model``.

Scaling map: pyscnn minimizes F(W) = 1/(2n) ||r||^2 + lam sum_i ||w_i|| (convex_mlp.py:120-121
divides the squared error by 2 * _scaling = 2 * n * c, model.py:69 and model.py:225 with c = 1;
loss_functions.py:91 ``lam * sum ||w_i||``), so OUR objective = n * F with lam = beta / n.

Timing: ``time_s`` is the R-FISTA procedure alone (its default metric logging every 25
iterations included); ``time_setup_s`` is pyscnn's set_device + process_data +
build_internal_model (float conversion, pattern computation) before it. These are the steps of
``scnn.optimize.optimize_model(..., return_convex=True)`` (optimize.py:205-249), called one by
one so the solve can be timed and the iteration count read. Data and gate sampling are excluded.

Run (torch is not installed here and lab imports it at top level, so an import-only stub lives
OUTSIDE this repository, in /work/scnn_stub/torch: its names are placeholder classes that raise
when called, except the no-op seeding calls lab.set_seeds makes; nothing else of torch runs on
lab's numpy backend)::

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 PYTHONPATH=/work/scnn_stub \\
        /work/scnnvenv/bin/python benchmarks/_pyscnn_gated.py --n 1000 --d 10 --P 500 \\
        --out /tmp/s.npz
    /work/venv/bin/python benchmarks/_pyscnn_gated.py --evaluate /tmp/s.npz   # our duality gap

The run writes W (dd, P') in our pattern order, the gates, times and settings to ``--out`` and
prints one JSON line {"time_s", "objective_ours", "n_patterns", ...}. ``--evaluate`` (cvxlens
venv) recomputes the gates with cvxlens, checks them, and prints the relative duality gap of W
by our certificate (plugins/cvxlens_lasso/_recover.py: gated_polar, lower_bound_from).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_lasso import _data  # noqa: E402


def _problem(n, d, P):
    """Xa (n, d+1), y (n,), mask Dm (n, P'), gates G (d+1, P'): as cvxlens samples them."""
    X, y = _data(n, d)
    Xa = np.hstack([X, np.ones((n, 1))])
    G = np.random.default_rng(0).standard_normal((Xa.shape[1], P))  # = patterns.sample_patterns
    D = (Xa @ G) >= 0
    _, idx = np.unique(np.packbits(D, axis=0), axis=1, return_index=True)
    idx = np.sort(idx)
    idx = idx[D[:, idx].any(axis=0)]
    return Xa, y, D[:, idx], G[:, idx]


def _objective(Xa, y, Dm, W, beta):
    r = ((Xa @ W) * Dm).sum(axis=1) - y
    return 0.5 * float(r @ r) + beta * float(np.linalg.norm(W, axis=0).sum()), -r


def run(n, d, P, beta, dtype, out):
    from importlib.metadata import version

    from scnn.metrics import Metrics
    from scnn.models import ConvexGatedReLU
    from scnn.private.interface import (build_internal_model, build_metrics_tuple, build_optimizer,
                                        get_logger, process_data, set_device)
    from scnn.regularizers import NeuronGL1
    from scnn.solvers import RFISTA

    Xa, y, Dm, G = _problem(n, d, P)
    model, reg, metrics = ConvexGatedReLU(G), NeuronGL1(beta / n), Metrics()
    solver = RFISTA(model)
    t0 = time.perf_counter()
    set_device("cpu", dtype, 778)
    (Xt, yt), test, _ = process_data(Xa, y, None, None, unitize_data=False, bias=False)
    im = build_internal_model(model, reg, Xt)
    proc = build_optimizer(solver, reg, metrics)
    t1 = time.perf_counter()
    status, im, _ = proc(get_logger("scnn"), im, lambda m: m, (Xt, yt), test,
                         build_metrics_tuple(metrics))
    t2 = time.perf_counter()
    # pyscnn sorts/dedups the patterns itself (activations.py:244): map its columns to ours
    ours = {np.packbits(c).tobytes(): i for i, c in enumerate(Dm.T)}
    perm = [ours[np.packbits(c > 0).tobytes()] for c in np.asarray(im.D).T]
    assert len(perm) == Dm.shape[1] and sorted(perm) == list(range(Dm.shape[1])), \
        "pyscnn's patterns differ from ours"
    W = np.zeros((Xa.shape[1], Dm.shape[1]))
    W[:, perm] = np.asarray(im.weights[0], dtype=float).T
    obj, _ = _objective(Xa, y, Dm, W, beta)
    settings = dict(pyscnn=version("pyscnn"), solver="RFISTA", max_iters=solver.max_iters,
                    tol=solver.tol, stop="sum(min-norm subgradient of F)^2 <= tol",
                    regularizer="NeuronGL1", lam=beta / n, dtype=dtype, unitize_data=False,
                    seed=778, backend="numpy", metric_freq=metrics.metric_freq,
                    threads=os.environ.get("OPENBLAS_NUM_THREADS", "unset"))
    res = dict(time_s=t2 - t1, time_setup_s=t1 - t0, objective_ours=obj,
               objective_pyscnn_times_n=n * float(im.objective(Xt, yt)),
               n_patterns=int(Dm.shape[1]), iterations=int(status["iterations"]),
               success=bool(status["success"]), n=n, d=d, P=P, beta=beta)
    np.savez(out, W=W, G=G, settings=json.dumps(settings), **res)
    print(json.dumps(res))


def evaluate(path):
    from cvxlens.patterns import sample_patterns
    from plugins.cvxlens_lasso._recover import gated_polar, lower_bound_from

    f = np.load(path)
    n, d, P, beta = int(f["n"]), int(f["d"]), int(f["P"]), float(f["beta"])
    Xa, y, Dm, G = _problem(n, d, P)
    Dc, Gc = sample_patterns(Xa, P, seed=0, return_gates=True)
    assert np.array_equal(Dc, Dm) and np.array_equal(Gc, G) and np.array_equal(f["G"], G)
    primal, lam = _objective(Xa, y, Dm, f["W"], beta)
    lb = lower_bound_from("squared", y, lam, beta, float(gated_polar(Xa, Dm, lam).max()))
    print(json.dumps(dict(time_s=float(f["time_s"]), iterations=int(f["iterations"]),
                          objective_ours=primal, lower_bound=lb, rel_gap=(primal - lb) / primal,
                          n_patterns=int(Dm.shape[1]), settings=json.loads(str(f["settings"])))))


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--d", type=int, default=10)
    ap.add_argument("--P", type=int, default=500)
    ap.add_argument("--beta", type=float, default=1.0)
    ap.add_argument("--dtype", choices=("float32", "float64"), default="float32",
                    help="pyscnn's dtype (its default: float32)")
    ap.add_argument("--out", default="pyscnn_gated.npz")
    ap.add_argument("--evaluate", metavar="NPZ", help="(cvxlens venv) duality gap of a saved run")
    a = ap.parse_args()
    if a.evaluate:
        sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        evaluate(a.evaluate)
    else:
        run(a.n, a.d, a.P, a.beta, a.dtype, a.out)
