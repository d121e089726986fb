"""Measure how the ``lp`` program grows: ``python -m cvxlens_lp [--solve]``.

Prints the first-round MILP size (``estimate_size``, equal to the built model's counts) as the
number of samples n, the number of parameters (width m, input dimension d) and 1/eps grow, next
to the number of grid networks ``K^P`` that exhaustive search would visit. With ``--solve`` it
also times CBC on the first n ECG windows (m = 1, eps = 0.5, 30 s budget each).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import cvxlens

from . import estimate_size, quantized_spec


def _row(n, d, m, step, bias="regularized", seed=0):
    rng = np.random.default_rng(seed)
    prob = cvxlens.Problem(rng.uniform(-1, 1, size=(n, d)), rng.normal(size=n), beta=0.1,
                           bias=bias)
    spec, _ = quantized_spec(prob, m, step, rescale=False)
    s = estimate_size(spec)
    return (n, d, m, step, spec.n_params, spec.K, s["variables"], s["binaries"],
            s["constraints"], s["nonzeros"], f"{float(spec.K) ** spec.n_params:.3g}")


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m cvxlens_lp", description=__doc__)
    ap.add_argument("--solve", action="store_true", help="also time CBC on ECG subsets")
    args = ap.parse_args(argv)
    head = ("n", "d", "m", "eps", "params P", "K", "variables", "binaries", "constraints",
            "nonzeros", "grid nets K^P")
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    rows = [_row(n, 2, 1, 0.5) for n in (10, 100, 1000, 10000)]
    rows += [_row(100, 2, m, 0.5) for m in (2, 4, 8)]
    rows += [_row(100, d, 1, 0.5) for d in (1, 4, 8)]
    rows += [_row(100, 2, 1, s) for s in (2.0, 1.0, 0.25, 0.125, 0.0625)]
    for r in rows:
        print("| " + " | ".join(str(v) for v in r) + " |")
    if args.solve:
        ds = cvxlens.load_dataset("ecg")
        print("\n| n (ECG windows) | m | eps | status | J | MILP rounds | seconds |")
        print("|---|---|---|---|---|---|---|")
        for n in (10, 25, 50, 100, 200):
            prob = cvxlens.Problem(ds.X_train[:n], ds.y_train[:n], beta=ds.default_beta)
            t0 = time.perf_counter()
            sol = cvxlens.solve(prob, "lp", width=1, step=0.5, timeout=30, relax=False)
            print(f"| {n} | 1 | 0.5 | {sol.status} | {sol.objective:.5g} | "
                  f"{sol.info['oa_rounds']} | {time.perf_counter() - t0:.1f} |")


if __name__ == "__main__":
    main()
