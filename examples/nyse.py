"""NYSE log-volume forecasting: convex two-layer ReLU training against SGD and Adam (survey Fig. 5a).

Zeger & Pilanci's survey ("Unveiling hidden convexity in deep learning", Fig. 5a): predict the
standardized log trading volume of the New York Stock Exchange from the previous 5 days' log
volume, Dow Jones return and log volatility (15 inputs; ISLP's ``NYSE`` data, 4276 training and
1770 validation days, split by ISLP's ``train`` column). For each beta of a grid, two-layer ReLU
networks are trained on the same objective
``J = 1/2 ||f(X) - y||^2 + beta/2 (||W||_F^2 + ||alpha||^2 + ||b||^2)`` (bias ``regularized``,
MATH.md) by

* the convex group Lasso (``lasso``: exact ReLU program with cone constraints over sampled
  activation patterns; survey Theorem 1, eq. 18) and its gated-ReLU relaxation turned back into a
  ReLU network (``gated``), one run per seed (the seed draws the activation patterns);
* SGD with momentum (``sgd``) and Adam (``adam``), one random initialization per seed, each over
  a grid of step sizes with the step size picked by the lowest *training* objective (never by
  validation error).

Five seeds per (method, beta); the figure plots validation MSE against beta, mean ± 1 std over
the seeds (the survey's shaded bands). Outputs in ``--out``: ``nyse_runs.json``/``.csv`` (one
record per run, runner keys), ``nyse_sweep.csv`` (mean/std per method and beta),
``nyse_summary.json`` (grid, machine, best beta per method, the comparison), and the figures
``nyse_validation_mse`` and ``nyse_objective`` (PNG + SVG).

Usage::

    python examples/nyse.py --out results/nyse            # full grid
    python examples/nyse.py --out /tmp/nyse --quick       # reduced grid (a few minutes)

Needs ISLP's data file: ``pip install --no-deps ISLP``.
"""

from __future__ import annotations

import csv
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common  # noqa: E402

import cvxlens  # noqa: E402

LABELS = {"lasso": "convex lasso", "gated": "convex gated → ReLU", "sgd": "SGD (momentum)",
          "adam": "Adam"}
#: Survey Fig. 5a draws the convex network as a green dashed line.
STYLES = {"convex lasso": {"color": "tab:green", "ls": "--"},
          "convex gated → ReLU": {"color": "tab:olive", "ls": ":"},
          "SGD (momentum)": {"color": "tab:blue", "ls": "-"},
          "Adam": {"color": "tab:orange", "ls": "-"}}

#: Grids (beta on the sum scale of cvxlens.Problem; lr grids of the baseline plugins).
FULL = dict(
    betas=[10.0, 30.0, 100.0, 300.0, 1000.0],
    seeds=[0, 1, 2, 3, 4],
    # the convex programs have no initialization; their seed only draws the sampled patterns
    seeds_per_method={"lasso": [0, 1, 2], "gated": [0, 1, 2]},
    methods={
        "lasso": dict(patterns=20, time_limit=30.0),
        "gated": dict(patterns=20, time_limit=30.0),
        "sgd": dict(width=100, epochs=100, lr=[1e-3, 1e-2, 1e-1], n_init=1, momentum=0.9),
        "adam": dict(width=100, epochs=100, lr=[1e-4, 1e-3, 1e-2], n_init=1),
    },
)
QUICK = dict(
    betas=[30.0, 300.0],
    seeds=[0, 1],
    methods={
        "lasso": dict(patterns=10),
        "gated": dict(patterns=20),
        "sgd": dict(width=30, epochs=10, lr=[1e-2, 1e-1], n_init=1, momentum=0.9),
        "adam": dict(width=30, epochs=10, lr=[1e-3, 1e-2], n_init=1),
    },
)


def sweep_rows(records):
    """Mean/std over seeds of test MSE, J and time per (label, beta), as CSV-ready dicts."""
    from collections import defaultdict

    acc = defaultdict(list)
    for r in records:
        acc[(r["label"], r["beta"])].append(r)
    rows = []
    for (label, beta), rs in acc.items():
        row = {"label": label, "method": rs[0]["method"], "beta": beta, "runs": len(rs),
               "finished": sum(r["status"] not in ("failed", "unsupported") for r in rs)}
        for key in ("test_mse", "train_mse", "objective", "time_s", "n_neurons"):
            vals = np.array([r[key] for r in rs if r.get(key) is not None], dtype=float)
            row[f"{key}_mean"] = float(vals.mean()) if vals.size else None
            row[f"{key}_std"] = float(vals.std()) if vals.size else None
        rows.append(row)
    rows.sort(key=lambda r: (list(LABELS.values()).index(r["label"])
                             if r["label"] in LABELS.values() else 99, r["beta"]))
    return rows


def write_sweep_csv(rows, path):
    keys = list(rows[0]) if rows else ["label"]
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=keys)
        w.writeheader()
        for r in rows:
            w.writerow({k: ("" if v is None else v) for k, v in r.items()})
    return path


def compare_claims(rows):
    """The survey's claims, measured: convex best validation MSE and spread vs the baselines."""
    by = {}
    for r in rows:
        if r["test_mse_mean"] is not None:
            by.setdefault(r["label"], []).append(r)
    best = {lab: min(rs, key=lambda r: r["test_mse_mean"]) for lab, rs in by.items()}
    out = {"best_beta_by_validation": {lab: {"beta": b["beta"], "test_mse_mean": b["test_mse_mean"],
                                             "test_mse_std": b["test_mse_std"]}
                                       for lab, b in best.items()}}
    convex, nonconvex = LABELS["lasso"], [LABELS["sgd"], LABELS["adam"]]
    if convex in best and all(n in best for n in nonconvex):
        out["convex_best_mse_below_every_baseline_best"] = all(
            best[convex]["test_mse_mean"] <= best[n]["test_mse_mean"] for n in nonconvex)
        # per beta: is the convex mean below each baseline's mean, and its std smaller?
        per_beta = {}
        for r in by.get(convex, []):
            b = r["beta"]
            others = {n: next((o for o in by.get(n, []) if o["beta"] == b), None) for n in nonconvex}
            per_beta[str(b)] = {
                "convex_mse": r["test_mse_mean"], "convex_std": r["test_mse_std"],
                **{f"{n}_mse": (o["test_mse_mean"] if o else None) for n, o in others.items()},
                **{f"{n}_std": (o["test_mse_std"] if o else None) for n, o in others.items()},
                "convex_J": r["objective_mean"],
                **{f"{n}_J": (o["objective_mean"] if o else None) for n, o in others.items()},
            }
        out["per_beta"] = per_beta
        out["betas_where_convex_mse_lowest"] = [
            b for b, v in per_beta.items()
            if all(v[f"{n}_mse"] is None or v["convex_mse"] <= v[f"{n}_mse"] for n in nonconvex)]
        out["betas_where_convex_J_lowest"] = [
            b for b, v in per_beta.items()
            if v["convex_J"] is not None
            and all(v[f"{n}_J"] is None or v["convex_J"] <= v[f"{n}_J"] for n in nonconvex)]
    return out


def figures(records, lin_mse, out):
    from cvxlens import plotting

    paths = []
    fig = plotting.new_figure(figsize=(7, 4.5))
    ax = fig.add_subplot()
    plotting.plot_beta_sweep(records, ax=ax, metric="test_mse", styles=STYLES,
                             title="NYSE log volume: validation MSE (mean ± 1 std over seeds)")
    ax.axhline(lin_mse, color="0.4", lw=0.9, ls="-.", label=f"linear regression ({lin_mse:.3f})")
    ax.legend(fontsize="small")
    paths += plotting.save_figure(fig, os.path.join(out, "nyse_validation_mse"))
    fig = plotting.plot_beta_sweep(records, metric="objective", styles=STYLES,
                                   ylabel="training objective J",
                                   title="NYSE: training objective J (mean ± 1 std over seeds)")
    fig.axes[0].set_yscale("log")
    paths += plotting.save_figure(fig, os.path.join(out, "nyse_objective"))
    return paths


def main(argv=None):
    args = _common.parse_args(__doc__.splitlines()[0], "results/nyse", argv)
    grid = QUICK if args.quick else FULL
    t_start = time.perf_counter()
    ds = cvxlens.load_dataset("nyse")
    print(f"NYSE: n_train={ds.n_train}, n_val={ds.n_test}, d={ds.d} "
          f"({'quick' if args.quick else 'full'} grid: {len(grid['betas'])} betas x "
          f"{len(grid['seeds'])} seeds x {len(grid['methods'])} methods)", file=sys.stderr)
    available = {m.name for m in cvxlens.list_methods() if m.error is None}

    records = []
    for beta in grid["betas"]:
        prob = ds.problem(beta=beta, bias="regularized")
        for method, opts in grid["methods"].items():
            if method not in available:
                print(f"  {method}: not installed, skipped", file=sys.stderr)
                continue
            for seed in grid.get("seeds_per_method", {}).get(method, grid["seeds"]):
                rec, _ = _common.solve_record(prob, method, label=LABELS[method],
                                              dataset=ds.name, X_test=ds.X_test,
                                              y_test=ds.y_test, seed=seed,
                                              **_common.with_time_limit(opts, args.time_limit))
                records.append(rec)
        _common.write_results(records, args.out, "nyse_runs")  # partial results survive a kill

    # linear regression (least squares with intercept) on the same features: a reference line
    A = np.hstack([ds.X_train, np.ones((ds.n_train, 1))])
    w, *_ = np.linalg.lstsq(A, ds.y_train, rcond=None)
    lin_mse = _common.mse(np.hstack([ds.X_test, np.ones((ds.n_test, 1))]) @ w, ds.y_test)
    var_val = float(np.var(ds.y_test))

    rows = sweep_rows(records)
    paths = _common.write_results(records, args.out, "nyse_runs")
    paths.append(write_sweep_csv(rows, os.path.join(args.out, "nyse_sweep.csv")))
    if not args.no_plot and records:
        paths += figures(records, lin_mse, args.out)
    summary = {
        "experiment": "survey Fig. 5a: NYSE log volume, validation MSE against beta",
        "command": "python examples/nyse.py" + (" --quick" if args.quick else "")
                   + f" --out {args.out}",
        "quick": args.quick, "grid": grid, "bias": "regularized", "scale": "sum",
        "dataset": {"name": ds.name, "n_train": ds.n_train, "n_val": ds.n_test, "d": ds.d,
                    "description": ds.description},
        "machine": _common.machine(),
        "linear_regression_val_mse": lin_mse,
        "linear_regression_val_r2": 1.0 - lin_mse / var_val,
        "validation_variance": var_val,
        "sweep": rows,
        "comparison": compare_claims(rows),
        "failed_runs": [{k: r[k] for k in ("label", "beta", "seed", "error")}
                        for r in records if r["status"] == "failed"],
    }
    _common.finish(summary, paths, args.out, "nyse_summary.json", t_start)
    return summary


if __name__ == "__main__":
    main()
