"""ECG autoregression with a two-layer ReLU network: convex group Lasso against SGD (survey Fig. 6).

Zeger & Pilanci's survey ("Unveiling hidden convexity in deep learning", Fig. 6, after Pilanci's
experiment [31]): each sample holds d = 3 consecutive ECG voltages and the target is the next
one; n = 2393 training windows. A two-layer ReLU network is trained by the convex Lasso program
(survey Theorem 1, eq. 18; plugin ``lasso``) and by SGD with batch size 100 over a grid of
learning rates (plugin ``sgd``), all on the same objective
``J = 1/2 ||f(X) - y||^2 + beta/2 (||W||_F^2 + ||alpha||^2)`` (bias ``regularized``, MATH.md).

Figures (PNG + SVG in ``--out``):
  (a) ``ecg_a_objective``: training objective J against wall-clock seconds (all runs) and
      against epochs (SGD, with the convex optimum as a line);
  (b) ``ecg_b_predictions``: test predictions of the convex network and of the SGD networks
      against the true signal;
  (c) ``ecg_c_linear``: least-squares linear autoregression against the convex network;
  (d) ``ecg_d_local_linear``: the network is piecewise linear; on each activation region (the set
      of active neurons, i.e. the activation pattern of the test point) it is the linear model
      ``x -> (sum_{j active} alpha_j w_j) . x + sum_{j active} alpha_j b_j``. The figure colours
      each test point by its region and shows the coefficients of each region's linear model
      next to the single linear autoregression.
Numbers: ``ecg_runs.json`` / ``ecg_runs.csv`` (one record per run, runner keys) and
``ecg_summary.json`` (test MSEs, the linear model, the regions, the machine, the grid).

Usage::

    python examples/ecg.py --out results/ecg            # full grid
    python examples/ecg.py --out /tmp/ecg --quick       # reduced grid (about a minute)
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common  # noqa: E402

import cvxlens  # noqa: E402

#: Grids. ``lr`` values are those of the ``sgd`` plugin (see ``cvxlens methods``).
FULL = dict(
    lasso=dict(patterns=1000, time_limit=900.0),
    sgd_lrs=[1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1, 1.0],
    sgd=dict(width=100, epochs=1000, batch_size=100, momentum=0.9, n_init=1),
    n_regions_shown=6,
)
QUICK = dict(
    lasso=dict(patterns=20),
    sgd_lrs=[1e-2, 1e-1],
    sgd=dict(width=50, epochs=20, batch_size=100, momentum=0.9, n_init=1),
    n_regions_shown=6,
)


# ---------------------------------------------------------------------------- models
def linear_autoregression(X, y):
    """Least-squares ``y ~ X a + a0`` (numpy lstsq); returns (coef (d,), intercept)."""
    A = np.hstack([X, np.ones((X.shape[0], 1))])
    sol, *_ = np.linalg.lstsq(A, y, rcond=None)
    return sol[:-1], float(sol[-1])


def local_linear_models(network, X):
    """Activation regions of ``network`` met by the rows of X, and each region's linear model.

    A two-layer ReLU network ``f(x) = sum_j alpha_j (x . w_j + b_j)_+ + c`` is linear on each set
    of inputs with the same activation pattern ``s = 1[X W + b >= 0]`` (ties count as active, the
    cvxlens convention): ``f(x) = (W[:, s] @ alpha[s]) . x + (b[s] @ alpha[s] + c)``.

    Returns
    -------
    region : int array, shape (n,)
        Region index of each row, regions sorted by decreasing number of rows.
    regions : list of dict
        ``{"pattern": list of active neuron indices, "count": rows in it, "coef": (d,) list,
        "intercept": float}`` in the same order.
    """
    network = network.pruned()  # neurons contributing nothing would only split regions
    S = network.activation_patterns(X)  # (n, m) bool
    uniq, inv, counts = np.unique(S, axis=0, return_inverse=True, return_counts=True)
    inv = np.asarray(inv).reshape(-1)
    order = np.argsort(-counts, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    region = rank[inv]
    regions = []
    for k in order:
        s = uniq[k]
        coef = network.W[:, s] @ network.alpha[s]
        intercept = float(network.b[s] @ network.alpha[s] + network.c)
        regions.append({"pattern": np.flatnonzero(s).tolist(), "count": int(counts[k]),
                        "coef": coef.tolist(), "intercept": intercept})
    return region, regions


def check_local_linear(network, X, region, regions) -> float:
    """Largest |f(x) - local linear model(x)| over the rows of X (should be ~1e-12)."""
    network = network.pruned()
    coef = np.array([r["coef"] for r in regions])[region]
    icpt = np.array([r["intercept"] for r in regions])[region]
    return float(np.max(np.abs(network.predict(X) - (np.sum(X * coef, axis=1) + icpt))))


# ---------------------------------------------------------------------------- figures
def shown_sgd_runs(sgd_runs):
    """SGD runs drawn in (b): lowest, median and highest training J among the non-diverged
    runs (J within 10x of the best); every run is in the JSON/CSV."""
    if not sgd_runs:
        return []
    best = min(r["objective"] for r in sgd_runs)
    ok = sorted((r for r in sgd_runs if r["objective"] <= 10 * best), key=lambda r: r["objective"])
    picks = [ok[0], ok[len(ok) // 2], ok[-1]]
    return list({id(r): r for r in picks}.values())


def _time_axis(n, fs):
    return np.arange(n) / fs


def figure_objective(records, lasso_rec, out):
    from cvxlens import plotting

    fig = plotting.new_figure(figsize=(11, 4.2))
    ax1, ax2 = fig.subplots(1, 2)
    plotting.plot_convergence([r for r in records if r["history"]], ax=ax1,
                              title="(a) training objective against time")
    for r in records:
        if r["method"] != "sgd" or not r["history"]:
            continue
        h = np.array([v for _, v in r["history"] if v is not None], dtype=float)
        epochs = np.linspace(0, r["options"].get("epochs", len(h)), len(h))
        ax2.plot(epochs, h, label=r["label"])
    if lasso_rec is not None and lasso_rec["objective"] is not None:
        ax2.axhline(lasso_rec["objective"], color="k", ls="--", label="convex lasso (final J)")
    ax2.set_yscale("log")
    ax2.set_xlabel("epoch (SGD, batch 100)")
    ax2.set_ylabel("objective J")
    ax2.set_title("(a) training objective against epochs")
    ax2.grid(True, which="both", alpha=0.3)
    ax2.legend(fontsize="small")
    return plotting.save_figure(fig, os.path.join(out, "ecg_a_objective"))


def figure_predictions(ds, preds, out, fs, n_show):
    from cvxlens import plotting

    fig = plotting.new_figure(figsize=(11, 4.2))
    ax = fig.add_subplot()
    t = _time_axis(n_show, fs)
    ax.plot(t, ds.y_test[:n_show], color="k", lw=2.2, alpha=0.35, label="true signal")
    for lab, (p, e) in preds.items():
        ax.plot(t, p[:n_show], lw=1.0, label=f"{lab} (test MSE {e:.3g})")
    ax.set_xlabel("time after the training window [s]")
    ax.set_ylabel("voltage [mV]")
    ax.set_title("(b) one-step-ahead test predictions (SGD: lowest, median and highest training J "
                 "of the non-diverged step sizes)", fontsize="medium")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small", ncol=2)
    return plotting.save_figure(fig, os.path.join(out, "ecg_b_predictions"))


def figure_linear(ds, lin_pred, net_pred, lin_mse, net_mse, out, fs, n_show):
    from cvxlens import plotting

    fig = plotting.new_figure(figsize=(11, 5.5))
    ax, axr = fig.subplots(2, 1, sharex=True, height_ratios=[2, 1])
    t = _time_axis(n_show, fs)
    y = ds.y_test[:n_show]
    ax.plot(t, y, color="k", lw=2.2, alpha=0.35, label="true signal")
    ax.plot(t, lin_pred[:n_show], lw=1.0, label=f"linear AR(3) (test MSE {lin_mse:.3g})")
    ax.plot(t, net_pred[:n_show], lw=1.0, label=f"ReLU network, convex (test MSE {net_mse:.3g})")
    ax.set_ylabel("voltage [mV]")
    ax.set_title("(c) linear autoregression against the network")
    ax.legend(fontsize="small")
    ax.grid(True, alpha=0.3)
    axr.plot(t, lin_pred[:n_show] - y, lw=0.9, label="linear AR residual")
    axr.plot(t, net_pred[:n_show] - y, lw=0.9, label="network residual")
    axr.set_xlabel("time after the training window [s]")
    axr.set_ylabel("error [mV]")
    axr.grid(True, alpha=0.3)
    axr.legend(fontsize="small")
    return plotting.save_figure(fig, os.path.join(out, "ecg_c_linear"))


def figure_regions(ds, region, regions, lin, out, fs, n_show, k_shown):
    from cvxlens import plotting

    fig = plotting.new_figure(figsize=(11, 7.5))
    ax, axc = fig.subplots(2, 1, height_ratios=[1.3, 1])
    from matplotlib import colormaps

    cmap = colormaps["tab10"]
    t = _time_axis(n_show, fs)
    y = ds.y_test[:n_show]
    reg = region[:n_show]
    ax.plot(t, y, color="0.7", lw=0.8, zorder=1)
    k_shown = min(k_shown, len(regions))
    for k in range(k_shown):
        sel = reg == k
        if sel.any():
            ax.scatter(t[sel], y[sel], s=7, color=cmap(k), zorder=2,
                       label=f"region {k + 1} ({regions[k]['count']} test pts)")
    other = reg >= k_shown
    if other.any():
        ax.scatter(t[other], y[other], s=7, color="0.4", marker="x", zorder=2,
                   label=f"{len(regions) - k_shown} other regions")
    ax.set_xlabel("time after the training window [s]")
    ax.set_ylabel("voltage [mV]")
    ax.set_title(f"(d) activation region of each test point ({len(regions)} regions met on the "
                 "test set)")
    ax.legend(fontsize="x-small", ncol=2, loc="upper right")
    ax.grid(True, alpha=0.3)

    names = [f"a{j + 1} (v(t-{3 - j}))" for j in range(len(lin[0]))] + ["intercept"]
    x = np.arange(len(names))
    width = 0.8 / (k_shown + 1)
    for k in range(k_shown):
        vals = list(regions[k]["coef"]) + [regions[k]["intercept"]]
        axc.bar(x + k * width, vals, width, color=cmap(k), label=f"region {k + 1}")
    axc.bar(x + k_shown * width, list(lin[0]) + [lin[1]], width, color="white", edgecolor="k",
            hatch="//", label="linear AR(3)")
    axc.set_xticks(x + 0.4 - width / 2, names)
    axc.axhline(0, color="k", lw=0.6)
    axc.set_ylabel("coefficient")
    axc.set_title("each region's local linear model  f(x) = Σ_active α_j (w_j·x + b_j)  vs the "
                  "global linear model")
    axc.legend(fontsize="x-small", ncol=4)
    axc.grid(True, axis="y", alpha=0.3)
    return plotting.save_figure(fig, os.path.join(out, "ecg_d_local_linear"))


# ---------------------------------------------------------------------------- main
def main(argv=None):
    args = _common.parse_args(__doc__.splitlines()[0], "results/ecg", argv)
    grid = QUICK if args.quick else FULL
    t_start = time.perf_counter()
    ds = cvxlens.load_dataset("ecg")
    beta = ds.default_beta
    prob = ds.problem(beta=beta, bias="regularized")
    fs = float(ds.info.get("sampling_rate_hz", 360.0))
    print(f"ECG: n_train={ds.n_train}, n_test={ds.n_test}, d={ds.d}, beta={beta:g} "
          f"({'quick' if args.quick else 'full'} grid)", file=sys.stderr)
    common = dict(dataset=ds.name, X_test=ds.X_test, y_test=ds.y_test, seed=0)

    records, nets = [], {}
    rec, net = _common.solve_record(prob, "lasso", label="convex lasso", **common,
                                    **_common.with_time_limit(grid["lasso"], args.time_limit))
    records.append(rec)
    nets[rec["label"]] = net
    for lr in grid["sgd_lrs"]:
        rec, net = _common.solve_record(prob, "sgd", label=f"sgd lr={lr:g}", **common, lr=lr,
                                        **_common.with_time_limit(grid["sgd"], args.time_limit))
        records.append(rec)
        nets[rec["label"]] = net

    coef, icpt = linear_autoregression(ds.X_train, ds.y_train)
    lin_test = ds.X_test @ coef + icpt
    lin_train_mse = _common.mse(ds.X_train @ coef + icpt, ds.y_train)
    lin_test_mse = _common.mse(lin_test, ds.y_test)

    lasso_rec = records[0] if records[0]["status"] != "failed" else None
    lasso_net = nets.get("convex lasso")
    sgd_ok = [r for r in records if r["method"] == "sgd" and r["objective"] is not None]
    best_sgd = min(sgd_ok, key=lambda r: r["objective"]) if sgd_ok else None

    summary = {
        "experiment": "survey Fig. 6: ECG autoregression, convex lasso vs SGD (batch 100)",
        "command": "python examples/ecg.py" + (" --quick" if args.quick else "")
                   + f" --out {args.out}",
        "quick": args.quick, "grid": grid, "beta": beta, "bias": "regularized",
        "dataset": {"name": ds.name, "n_train": ds.n_train, "n_test": ds.n_test, "d": ds.d,
                    "description": ds.description},
        "machine": _common.machine(),
        "linear_autoregression": {"coef": coef.tolist(), "intercept": icpt,
                                  "train_mse": lin_train_mse, "test_mse": lin_test_mse},
        "runs": [{k: r[k] for k in ("label", "status", "objective", "lower_bound", "bound_kind",
                                    "train_mse", "test_mse", "n_neurons", "time_s", "error")}
                 for r in records],
        "best_sgd_by_training_J": best_sgd["label"] if best_sgd else None,
    }
    if lasso_rec is not None and best_sgd is not None:
        summary["claims"] = {
            "convex_J_below_every_sgd_J": all(lasso_rec["objective"] <= r["objective"]
                                              for r in sgd_ok),
            "convex_test_mse_below_best_sgd": lasso_rec["test_mse"] <= best_sgd["test_mse"],
            "convex_test_mse_below_linear": lasso_rec["test_mse"] <= lin_test_mse,
        }
    region = regions = None
    if lasso_net is not None:
        region, regions = local_linear_models(lasso_net, ds.X_test)
        summary["regions"] = {
            "n_regions_on_test": len(regions),
            "max_abs_local_linear_error": check_local_linear(lasso_net, ds.X_test, region,
                                                             regions),
            "regions": regions[:20],
        }

    paths = _common.write_results(records, args.out, "ecg_runs")
    if not args.no_plot:
        from cvxlens import plotting

        plotting.require_matplotlib()
        n_show = min(ds.n_test, 1000)
        paths += figure_objective(records, lasso_rec, args.out)
        preds = {}
        for r in [lasso_rec] + shown_sgd_runs(sgd_ok):
            n = nets.get(r["label"]) if r is not None else None
            if n is not None:
                preds[r["label"]] = (n.predict(ds.X_test), r["test_mse"])
        if preds:
            paths += figure_predictions(ds, preds, args.out, fs, n_show)
        if lasso_net is not None:
            paths += figure_linear(ds, lin_test, lasso_net.predict(ds.X_test), lin_test_mse,
                                   lasso_rec["test_mse"], args.out, fs, n_show)
            paths += figure_regions(ds, region, regions, (coef, icpt), args.out, fs, n_show,
                                    grid["n_regions_shown"])
    _common.finish(summary, paths, args.out, "ecg_summary.json", t_start)
    return summary


if __name__ == "__main__":
    main()
