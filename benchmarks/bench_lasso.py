"""Benchmark of the Pilanci–Ergen solvers: native vs cvxpy/Clarabel on the SAME patterns.

One command::

    /work/venv/bin/python benchmarks/bench_lasso.py            # default grid
    /work/venv/bin/python benchmarks/bench_lasso.py --quick    # smallest sizes only
    /work/venv/bin/python benchmarks/bench_lasso.py --sizes 1000x10x500 --clarabel-limit 600
    # with pyscnn's R-FISTA as the gated reference (an interpreter that has pyscnn; see
    # _pyscnn_gated.py for how it was run here without torch):
    PYTHONPATH=/work/scnn_stub /work/venv/bin/python benchmarks/bench_lasso.py \
        --methods lasso --sizes 1000x10x500 --pyscnn-python /work/scnnvenv/bin/python

For each size (n samples, d features, P sampled gates; synthetic regression data, bias
"regularized", beta = 1) it prints, for the exact ReLU program (``lasso``) and the gated
relaxation (``gated``): wall time and final relative duality gap of the native solver, the same
for cvxpy/Clarabel where Clarabel is run (skipped above ``--clarabel-limit`` program rows, i.e.
2·n·P cone constraints, or after ``--clarabel-timeout`` seconds in a subprocess), the time ratio,
and the peak resident memory of the native run (measured in a fresh subprocess). For ``gated``
the gap is the gated program's (its optimum vs its dual bound), and the time includes the cone
decomposition of the result into a ReLU network.
Targets (issue 3): exact program to 1e-4 relative gap >= 20x faster than Clarabel at
n=1000, d=10, P=500; n=20000, d=20, P=2000 within 4 GB.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

DEFAULT_SIZES = ["500x10x100", "1000x10x500", "5000x20x1000", "20000x20x2000"]


def _data(n, d, seed=0):
    import numpy as np
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = np.sin(X @ rng.standard_normal(d) / np.sqrt(d) * 2) + 0.1 * rng.standard_normal(n)
    return X, y


def _one(method, solver, n, d, P, tol):
    """Run one configuration in this process; print a JSON line."""
    import resource

    import cvxlens
    X, y = _data(n, d)
    prob = cvxlens.Problem(X, y, beta=1.0)
    t = time.perf_counter()
    sol = cvxlens.solve(prob, method, patterns=P, solver=solver, tol=tol, seed=0)
    dt = time.perf_counter() - t
    gap = sol.info.get("relative_gap")
    if method == "gated" and sol.lower_bound is not None:
        # the gated PROGRAM's gap (the returned network is its cone decomposition, with a larger J)
        gv = sol.info["gated_value"]
        gap = (gv - sol.lower_bound) / abs(gv)
    out = {"method": method, "solver": solver, "n": n, "d": d, "P": P,
           "n_patterns": sol.info["n_patterns"], "time_s": dt, "objective": sol.objective,
           "rel_gap": gap, "status": sol.status,
           "value": sol.info.get("gated_value", sol.info.get("program_value")),
           "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6}
    print(json.dumps(out, default=float))


def _gated_vs_pyscnn(n, d, P, python, timeout):
    """pyscnn's R-FISTA at its default tolerance (benchmarks/_pyscnn_gated.py, run by the
    interpreter ``python`` that has pyscnn), then the native gated FISTA of this package on the
    same program run to the SAME relative duality gap (our certificate on both), timed the same
    way (the solve alone: no data, gates or cone decomposition)."""
    import tempfile

    import numpy as np
    here = os.path.dirname(os.path.abspath(__file__))
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "pyscnn.npz")
        cmd = [python, os.path.join(here, "_pyscnn_gated.py"), "--n", str(n), "--d", str(d),
               "--P", str(P), "--out", out]
        try:
            cp = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return {"error": f"pyscnn timed out after {timeout:.0f} s"}
        if cp.returncode != 0 or not os.path.exists(out):
            tail = cp.stderr.strip().splitlines()[-1:] or ["no output"]
            return {"error": "pyscnn: " + tail[0]}
        f = np.load(out)
        W_ref = f["W"]
        t_ref = float(f["time_s"])
    sys.path.insert(0, os.path.join(os.path.dirname(here), "plugins"))
    from cvxlens.patterns import sample_patterns
    from cvxlens_lasso import _recover as R
    from cvxlens_lasso._native import solve_gated
    X, y = _data(n, d)
    Xa = np.hstack([X, np.ones((n, 1))])
    Dm = sample_patterns(Xa, P, seed=0)

    def value_gap(W):
        lam = y - (Dm * (Xa @ W)).sum(axis=1)
        val = 0.5 * float(lam @ lam) + float(np.linalg.norm(W, axis=0).sum())
        lb = R.lower_bound_from("squared", y, lam, 1.0, float(R.gated_polar(Xa, Dm, lam).max()))
        return val, (val - lb) / val

    v_ref, g_ref = value_gap(W_ref)
    t = time.perf_counter()
    res = solve_gated(Xa, Dm, y, 1.0, Xa.shape[1], tol=g_ref, check_every=10)
    t_nat = time.perf_counter() - t
    v_nat, g_nat = value_gap(res["U"])
    return {"pyscnn_s": t_ref, "pyscnn_value": v_ref, "pyscnn_gap": g_ref, "native_s": t_nat,
            "native_value": v_nat, "native_gap": g_nat, "ratio": t_ref / t_nat}


def _run_sub(args, timeout):
    cmd = [sys.executable, os.path.abspath(__file__), "--one", *map(str, args)]
    t = time.perf_counter()
    try:
        cp = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"timeout": True, "time_s": time.perf_counter() - t}
    for line in cp.stdout.splitlines()[::-1]:
        if line.startswith("{"):
            return json.loads(line)
    return {"error": cp.stderr.strip().splitlines()[-1] if cp.stderr.strip() else "no output"}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default=",".join(DEFAULT_SIZES),
                    help="comma-separated nxdxP list")
    ap.add_argument("--quick", action="store_true", help="only the first size")
    ap.add_argument("--tol", type=float, default=1e-4)
    ap.add_argument("--clarabel-limit", type=int, default=2_000_000,
                    help="skip Clarabel above this many cone-constraint rows (2 n P)")
    ap.add_argument("--clarabel-timeout", type=float, default=900.0)
    ap.add_argument("--native-timeout", type=float, default=1800.0)
    ap.add_argument("--methods", default="lasso,gated")
    ap.add_argument("--pyscnn-python", metavar="PYTHON",
                    help="interpreter with pyscnn installed (never a dependency of cvxlens); "
                         "adds a gated row against pyscnn's R-FISTA, see _pyscnn_gated.py")
    ap.add_argument("--one", nargs=6, metavar=("METHOD", "SOLVER", "N", "D", "P", "TOL"),
                    help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.one:
        m, s, n, d, P, tol = a.one
        _one(m, s, int(n), int(d), int(P), float(tol))
        return 0
    sizes = a.sizes.split(",")[:1] if a.quick else a.sizes.split(",")
    print(f"# load average at start: {os.getloadavg()}  (cores: {os.cpu_count()})")
    hdr = (f"{'method':6} {'n':>6} {'d':>3} {'P':>5} | {'native s':>9} {'gap':>8} {'RSS GB':>6} | "
           f"{'clarabel s':>10} {'gap':>8} | {'ratio':>6}  {'|dJ|/J':>8}")
    print(hdr)
    print("-" * len(hdr))
    for size in sizes:
        n, d, P = (int(v) for v in size.split("x"))
        for method in [m for m in a.methods.split(",") if m]:
            nat = _run_sub([method, "native", n, d, P, a.tol], a.native_timeout)
            if 2 * n * P <= a.clarabel_limit:
                ref = _run_sub([method, "cvxpy", n, d, P, a.tol], a.clarabel_timeout)
            else:
                ref = {"skipped": True}

            def f(r, k, fmt):
                v = r.get(k)
                return format(v, fmt) if isinstance(v, (int, float)) else (
                    "timeout" if r.get("timeout") else "skip" if r.get("skipped") else "err")

            ratio = (ref["time_s"] / nat["time_s"]) if ("objective" in ref and "objective" in nat) \
                else (f">{ref['time_s'] / nat['time_s']:.1f}" if ref.get("timeout") and "time_s" in nat
                      else None)
            dj = (abs(nat["value"] - ref["value"]) / abs(ref["value"])
                  if "value" in ref and "value" in nat and ref["value"] else None)
            print(f"{method:6} {n:6d} {d:3d} {P:5d} | {f(nat, 'time_s', '9.2f'):>9} "
                  f"{f(nat, 'rel_gap', '8.1e'):>8} {f(nat, 'peak_rss_gb', '6.2f'):>6} | "
                  f"{f(ref, 'time_s', '10.2f'):>10} {f(ref, 'rel_gap', '8.1e'):>8} | "
                  f"{(format(ratio, '6.1f') if isinstance(ratio, float) else str(ratio)):>6}  "
                  f"{(format(dj, '8.1e') if dj is not None else '-'):>8}", flush=True)
            if "error" in nat:
                print(f"#   native error: {nat['error']}")
            if "error" in ref:
                print(f"#   clarabel error: {ref['error']}")
    if a.pyscnn_python:
        print("\n# gated: pyscnn R-FISTA at its default tolerance vs native FISTA run to the same "
              "certified relative gap (solve time only)")
        print(f"{'n':>6} {'d':>3} {'P':>5} | {'pyscnn s':>9} {'gap':>8} {'value':>12} | "
              f"{'native s':>9} {'gap':>8} {'value':>12} | {'ratio':>6}")
        for size in sizes:
            n, d, P = (int(v) for v in size.split("x"))
            r = _gated_vs_pyscnn(n, d, P, a.pyscnn_python, a.clarabel_timeout)
            if "error" in r:
                print(f"{n:6d} {d:3d} {P:5d} | {r['error']}")
                continue
            print(f"{n:6d} {d:3d} {P:5d} | {r['pyscnn_s']:9.2f} {r['pyscnn_gap']:8.1e} "
                  f"{r['pyscnn_value']:12.6f} | {r['native_s']:9.2f} {r['native_gap']:8.1e} "
                  f"{r['native_value']:12.6f} | {r['ratio']:6.1f}", flush=True)
    print(f"# load average at end: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
