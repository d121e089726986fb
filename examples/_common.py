"""Shared plumbing of the example experiments (examples/nyse.py, examples/ecg.py).

Each run goes through ``cvxlens.solve`` and becomes one record with the runner's keys (DESIGN.md)
plus ``label`` (legend entry, e.g. ``"sgd lr=0.01"``) and ``options``. The examples call
``cvxlens.solve`` directly instead of ``cvxlens.compare`` because they need several runs of the
same (method, dataset, beta, seed) with different step sizes (the runner's run identity would
merge them) and the trained networks themselves (for prediction and pattern-region figures).
A failing run becomes status ``failed`` with its message; it never stops the experiment.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import traceback

import numpy as np

import cvxlens


def parse_args(description: str, default_out: str, argv=None):
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--out", default=default_out, metavar="DIR",
                   help=f"directory for JSON, CSV and figures (default: {default_out})")
    p.add_argument("--quick", action="store_true",
                   help="reduced grid (a few minutes on 2 cores); the full grid otherwise")
    p.add_argument("--time-limit", type=float, default=None, metavar="S",
                   help="per-run time limit in seconds passed to every method (default: grid's own)")
    p.add_argument("--no-plot", action="store_true", help="write JSON/CSV only, no figures")
    return p.parse_args(argv)


def with_time_limit(options, time_limit):
    """``options`` with ``time_limit`` overridden when the command line gives one."""
    return dict(options) if time_limit is None else dict(options, time_limit=time_limit)


def mse(pred, y) -> float:
    """``mean((pred - y)^2)`` (no 1/2), as in the runner's records."""
    return float(np.mean((np.asarray(pred, float) - np.asarray(y, float)) ** 2))


def solve_record(problem, method, *, dataset, X_test, y_test, seed, label=None, log=True,
                 **options):
    """Run ``cvxlens.solve(problem, method, seed=seed, **options)``; return (record, network).

    The network is None for a failed run. ``history`` is the solution's list of (seconds, J).
    """
    rec = dict(method=method, label=label or method, dataset=dataset, beta=problem.beta,
               seed=seed, status="failed", objective=None, lower_bound=None, bound_kind=None,
               train_mse=None, test_mse=None, n_neurons=None, time_s=None, n_iter=None,
               error=None, message="", history=[], n=problem.n, d=problem.d, bias=problem.bias,
               scale=problem.scale,
               options={k: v for k, v in options.items() if _jsonable(v)})
    t0 = time.perf_counter()
    net = None
    try:
        sol = cvxlens.solve(problem, method, seed=seed, **options)
        net = sol.network
        rec.update(status=sol.status, objective=sol.objective, lower_bound=sol.lower_bound,
                   bound_kind=sol.bound_kind, n_iter=sol.n_iter, time_s=sol.time_s,
                   message=sol.message, history=[list(h) for h in sol.history],
                   n_neurons=sol.n_neurons)
        if net is not None:
            rec["train_mse"] = mse(net.predict(problem.X), problem.y)
            rec["test_mse"] = mse(net.predict(X_test), y_test)
        info = {k: v for k, v in (sol.info or {}).items() if _jsonable(v)}
        if info:
            rec["info"] = info
    except Exception as exc:  # one failure never stops the experiment
        rec.update(status="failed", error=f"{type(exc).__name__}: {exc}",
                   time_s=time.perf_counter() - t0)
        if os.environ.get("CVXLENS_DEBUG"):
            traceback.print_exc()
    if log:
        j = rec["objective"]
        te = rec["test_mse"]
        print(f"  {rec['label']:<22} beta={problem.beta:<8.4g} seed={seed} {rec['status']:<9} "
              f"J={'-' if j is None else f'{j:.6g}'} test_mse={'-' if te is None else f'{te:.4g}'} "
              f"t={rec['time_s'] or 0:.1f}s" + (f"  [{rec['error']}]" if rec["error"] else ""),
              file=sys.stderr, flush=True)
    return rec, net


def _jsonable(v) -> bool:
    try:
        json.dumps(v)
        return True
    except (TypeError, ValueError):
        return False


def write_results(records, out_dir, stem) -> list[str]:
    """Write ``<stem>.json`` and ``<stem>.csv`` through :class:`cvxlens.Results`; return paths."""
    from cvxlens.results import Results

    os.makedirs(out_dir, exist_ok=True)
    res = Results(records)
    pj = os.path.join(out_dir, f"{stem}.json")
    pc = os.path.join(out_dir, f"{stem}.csv")
    res.to_json(pj)
    res.to_csv(pc)
    return [pj, pc]


def machine() -> dict:
    """Where the numbers were measured (goes into the summary JSON)."""
    import multiprocessing

    info = {"python": platform.python_version(), "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "cpu_count": multiprocessing.cpu_count(), "cvxlens": cvxlens.__version__,
            "numpy": np.__version__}
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return info


def write_json(obj, path) -> str:
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "w") as fh:
        json.dump(obj, fh, indent=1, default=_default)
        fh.write("\n")
    return path


def _default(o):
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, (np.floating, np.integer)):
        return o.item()
    if isinstance(o, np.bool_):
        return bool(o)
    raise TypeError(f"not JSON serializable: {type(o).__name__}")


def finish(summary, paths, out_dir, name, t_start) -> str:
    """Add elapsed time and the file list to ``summary``, write it as ``out_dir/name``."""
    summary["elapsed_s"] = time.perf_counter() - t_start
    summary["files"] = [os.path.basename(p) for p in paths] + [name]
    path = write_json(summary, os.path.join(out_dir, name))
    print(f"wrote {len(paths) + 1} files to {out_dir} in {summary['elapsed_s']:.0f} s",
          file=sys.stderr)
    return path
