"""Exact polar oracle: vectorized face enumeration vs NNLS per cone vs an SOCP per cone (cvxpy).

    /work/venv/bin/python benchmarks/bench_polar.py [--quick]

Prints, for each (n, d): the time of each method (cvxlens.polar(method="faces"|"nnls"), and one
Clarabel SOCP per enumerated cone and sign as the reference), the ratio to the SOCP measured in
the same run, and the largest disagreement of the values. BLAS is limited to one thread.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from threadpoolctl import threadpool_limits

from cvxlens import enumerate_patterns
from cvxlens.polar import PolarOracle


def socp_polar(X, r):
    import cvxpy as cp

    D = enumerate_patterns(X)
    best = 0.0
    u = cp.Variable(X.shape[1])
    g = cp.Parameter(X.shape[1])
    s = cp.Parameter(X.shape[0])
    pr = cp.Problem(cp.Maximize(g @ u), [cp.norm(u) <= 1, cp.multiply(s, X @ u) >= 0])
    for p in range(D.shape[1]):
        s.value = 2.0 * D[:, p] - 1.0
        for sign in (1.0, -1.0):
            g.value = sign * (X.T @ (D[:, p] * r))
            pr.solve(solver=cp.CLARABEL)
            best = max(best, pr.value)
    return best


def timed(f, repeat=1):
    t = time.perf_counter()
    for _ in range(repeat):
        out = f()
    return (time.perf_counter() - t) / repeat, out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller sizes")
    args = ap.parse_args()
    sizes = [(20, 2), (12, 3), (30, 3)] if args.quick else [(50, 2), (20, 3), (50, 3), (25, 4)]
    rng = np.random.default_rng(0)
    print(f"{'n':>4} {'d':>2} {'cells':>6} | {'faces build':>11} {'faces call':>10} "
          f"{'nnls':>8} {'socp':>8} | {'socp/faces':>10} {'socp/nnls':>9} | {'max |diff|':>10}")
    with threadpool_limits(limits=1):
        for n, d in sizes:
            X = rng.standard_normal((n, d))
            r = rng.standard_normal(n)
            P = enumerate_patterns(X).shape[1]
            tb, orc = timed(lambda: PolarOracle(X, patterns="exact", max_patterns=10**7))
            tf, vf = timed(lambda: orc(r).value, repeat=5)
            tn, vn = timed(lambda: PolarOracle(X, patterns="exact", method="nnls",
                                               max_patterns=10**7)(r).value)
            ts, vs = timed(lambda: socp_polar(X, r))
            diff = max(abs(vf - vn), abs(vf - vs))
            print(f"{n:>4} {d:>2} {P:>6} | {tb:>10.3f}s {tf:>9.4f}s {tn:>7.3f}s {ts:>7.2f}s | "
                  f"{ts / (tb + tf):>10.1f} {ts / tn:>9.1f} | {diff:>10.2e}")


if __name__ == "__main__":
    main()
