"""Speed of the ``ntk`` and ``meanfield`` inner loops against references measured in the same run.

    /work/venv/bin/python benchmarks/bench_kernels_meanfield.py [--quick]

1. Mean-field energy + gradient: the fused, buffer-reusing evaluation of ``cvxlens_meanfield``
   vs ``Problem.objective_and_grad`` (the core's reference), at ECG size (n = 2393, d' = 4),
   single-threaded and with the default BLAS threads. Values must agree to 1e-10.
2. NTK kernel ridge (n x n kernel + Cholesky) vs scikit-learn ``KernelRidge(kernel="precomputed")``
   on the same kernel matrix, and the Nyström path vs the exact one.
Prints seconds and ratios (reference / ours: > 1 means ours is faster).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from sklearn.kernel_ridge import KernelRidge
from threadpoolctl import threadpool_limits

import cvxlens
from cvxlens.datasets import load_dataset
from cvxlens.kernels import ntk_kernel
from cvxlens_meanfield import _energy_grad_fn


def timed(f, repeat):
    best = np.inf
    for _ in range(repeat):
        t = time.perf_counter()
        out = f()
        best = min(best, time.perf_counter() - t)
    return best, out


def bench_energy(repeat, m):
    ds = load_dataset("ecg")
    p = ds.problem()
    Xd = p.design()
    rng = np.random.default_rng(0)
    V = rng.standard_normal((Xd.shape[1], m)) / np.sqrt(m)
    al = rng.standard_normal(m) / np.sqrt(m)
    fn = _energy_grad_fn(p, Xd, np.ones((Xd.shape[1], 1)), False)
    for label, lim in (("1 thread", 1), ("default threads", None)):
        with threadpool_limits(limits=lim, user_api="blas"):
            t_ours, (J1, g1) = timed(lambda: fn(V, al, 0.0), repeat)
            t_ref, (J2, g2) = timed(lambda: p.objective_and_grad(V[:-1], V[-1], al, 0.0), repeat)
        err = max(abs(J1 - J2) / J2, np.max(np.abs(g1[0][:-1] - g2[0])), np.max(np.abs(g1[1] - g2[2])))
        print(f"energy+grad n={p.n} m={m} {label:15s}: ours {t_ours * 1e3:8.2f} ms, "
              f"Problem.objective_and_grad {t_ref * 1e3:8.2f} ms, ratio {t_ref / t_ours:5.2f}, "
              f"max diff {err:.1e}")


def bench_kernel(n):
    ds = load_dataset("ecg")
    X, y = ds.X_train[:n], ds.y_train[:n]
    p = cvxlens.Problem(X, y, 1.0)
    cvxlens.solve(cvxlens.Problem(X[:5], y[:5], 1.0), "ntk")  # warm-up: plugin discovery
    with threadpool_limits(limits=1, user_api="blas"):
        t_ours, sol = timed(lambda: cvxlens.solve(p, "ntk"), 1)
        t_k, K = timed(lambda: ntk_kernel(p.design()), 1)
        t_sk, kr = timed(lambda: KernelRidge(alpha=1.0, kernel="precomputed").fit(K, y), 1)
        t_ny, ny = timed(lambda: cvxlens.solve(p, "ntk", exact_limit=100, n_components=500), 1)
    diff = np.max(np.abs(sol.network.predict(X) - kr.predict(K)))
    print(f"ntk kernel ridge n={n}: ours {t_ours:.2f} s (kernel alone {t_k:.2f} s), "
          f"kernel + sklearn KernelRidge {t_k + t_sk:.2f} s, ratio {(t_k + t_sk) / t_ours:.2f}, "
          f"max diff {diff:.1e}; Nystroem 500 landmarks {t_ny:.2f} s "
          f"(ratio exact/Nystroem {t_ours / t_ny:.2f})")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer repeats, smaller n")
    a = ap.parse_args()
    bench_energy(repeat=5 if a.quick else 30, m=100)
    bench_kernel(1000 if a.quick else 2393)


if __name__ == "__main__":
    main()
