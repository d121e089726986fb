"""Figures of a comparison: convergence, final numbers per method, and beta sweeps.

Every function takes either a ``cvxlens`` ``Results`` object (anything with a ``records``
attribute) or a list of record dicts with the keys of the runner (DESIGN.md): ``method, dataset,
beta, seed, status, objective, lower_bound, bound_kind, train_mse, test_mse, n_neurons, time_s,
n_iter, error, history`` (``history`` a list of ``(seconds, J)`` pairs). An optional ``label`` key
overrides ``method`` as the legend entry (examples use it for e.g. ``"sgd lr=0.01"``).

matplotlib is an optional dependency (the ``plot`` extra, ``pip install "cvxlens[plot]"``) and is
imported only when a figure is drawn. Figures are built with the object-oriented API on an Agg
canvas, so nothing here touches ``matplotlib.pyplot`` or the global backend, and it works on a
machine without a display.

Which lower bound is drawn: only ``bound_kind == "global"`` bounds are lower bounds on min J over
all networks (MATH.md, "Lower bounds and certificates"); a ``subsampled`` bound holds only for the
program over the sampled activation patterns and may lie *above* min J. The convergence plot
therefore subtracts the best (largest) *global* bound of the runs on the same data and beta, and
plots J itself when no global bound exists.
"""

from __future__ import annotations

import math
import os
import re
from collections import OrderedDict
from collections.abc import Mapping

import numpy as np

__all__ = [
    "plot_convergence", "plot_bars", "plot_beta_sweep", "plot_results", "save_figure",
    "require_matplotlib", "records_of",
]

_INSTALL_HINT = 'pip install "cvxlens[plot]"'
#: Relative floor for J - LB on a log axis (a gap of exactly 0 cannot be drawn).
_GAP_FLOOR = 1e-12


def require_matplotlib():
    """Import matplotlib (Agg-safe) or raise an ImportError that says how to install it.

    Returns the ``matplotlib`` module.

    Raises
    ------
    ImportError
        matplotlib is not installed; the message gives ``pip install "cvxlens[plot]"``.
    """
    try:
        import matplotlib
        from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: F401
        from matplotlib.figure import Figure  # noqa: F401
    except ImportError as exc:  # pragma: no cover - exercised with a monkeypatched import
        raise ImportError(
            f"cvxlens plotting needs matplotlib, which is not installed ({exc}). "
            f"Install the plot extra: {_INSTALL_HINT}"
        ) from None
    return matplotlib


def new_figure(figsize=(6.4, 4.2)):
    """A matplotlib Figure on an Agg canvas (no pyplot, no display needed)."""
    require_matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _fig_ax(ax):
    """(figure, axes): a new single-axes figure, or the figure that owns ``ax``."""
    if ax is None:
        fig = new_figure()
        return fig, fig.add_subplot()
    return ax.figure, ax


def _finish(fig, ax, path, formats):
    """Grid and legend on ``ax``; write ``fig`` when ``path`` is given; return ``fig``."""
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize="small")
    if path is not None:
        save_figure(fig, path, formats)
    return fig


def save_figure(fig, path, formats=("png", "svg"), dpi=120) -> list[str]:
    """Write ``fig`` as ``path`` with each extension in ``formats``; return the paths written.

    ``path`` may carry an extension, which is replaced. Parent directories are created.
    """
    stem, _ = os.path.splitext(os.fspath(path))
    parent = os.path.dirname(stem)
    if parent:
        os.makedirs(parent, exist_ok=True)
    out = []
    for fmt in formats:
        fmt = fmt.lstrip(".").lower()
        if fmt not in ("png", "svg", "pdf"):
            raise ValueError(f"unsupported figure format {fmt!r}; use png, svg or pdf")
        p = f"{stem}.{fmt}"
        fig.savefig(p, format=fmt, dpi=dpi)
        out.append(p)
    return out


# ---------------------------------------------------------------------------- records
def records_of(results) -> list[dict]:
    """The list of record dicts of a Results object, a list of dicts, or a JSON-lines path.

    Raises
    ------
    TypeError
        ``results`` is none of these, or a record is not a mapping.
    ValueError
        A record lacks ``method``.
    """
    if isinstance(results, (str, os.PathLike)):
        import json

        with open(results) as fh:
            text = fh.read().strip()
        if text.startswith("["):
            recs = json.loads(text)
        else:
            recs = [json.loads(line) for line in text.splitlines() if line.strip()]
    elif hasattr(results, "records"):
        recs = results.records
    elif isinstance(results, Mapping):
        raise TypeError("pass a Results object or a LIST of record dicts, not a single dict")
    else:
        try:
            recs = list(results)
        except TypeError:
            raise TypeError(
                "results must be a cvxlens Results object, a list of record dicts, or the path "
                f"of a JSON/JSON-lines file of records; got {type(results).__name__}"
            ) from None
    out = []
    for i, r in enumerate(recs):
        if not isinstance(r, Mapping):
            raise TypeError(f"record {i} is a {type(r).__name__}, expected a dict with the runner's keys")
        if "method" not in r:
            raise ValueError(f"record {i} has no 'method' key (keys: {sorted(r)})")
        out.append(dict(r))
    return out


def _label(r) -> str:
    return str(r.get("label") or r["method"])


def _num(v):
    """float(v) when v is a finite number, else None."""
    if v is None or isinstance(v, bool):
        return None
    try:
        v = float(v)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _groups(recs, key):
    out: "OrderedDict[object, list]" = OrderedDict()
    for r in recs:
        out.setdefault(key(r), []).append(r)
    return out


def _colors(labels):
    require_matplotlib()
    from matplotlib import colormaps

    cmap = colormaps["tab10"] if len(labels) <= 10 else colormaps["tab20"]
    n = cmap.N
    return {lab: cmap(i % n) for i, lab in enumerate(labels)}


def _fmt_beta(beta) -> str:
    b = _num(beta)
    return "none" if b is None else f"{b:.3g}"


def _slug(text) -> str:
    """File-name-safe text; dots become ``p`` so ``save_figure`` never mistakes them for an extension."""
    return re.sub(r"[^A-Za-z0-9_-]+", "-", str(text).replace(".", "p")).strip("-") or "x"


def best_global_bound(recs) -> float | None:
    """Largest ``lower_bound`` among records with ``bound_kind == "global"`` (None if none)."""
    lbs = [_num(r.get("lower_bound")) for r in recs if r.get("bound_kind") == "global"]
    lbs = [v for v in lbs if v is not None]
    return max(lbs) if lbs else None


# ---------------------------------------------------------------------------- convergence
def plot_convergence(results, path=None, *, ax=None, title=None, formats=("png", "svg")):
    """Objective J against wall-clock seconds, one line per method (per seed).

    Uses every record with a non-empty ``history``. When some run carries a ``global`` lower
    bound, the y axis is ``J - LB*`` on a log scale with ``LB*`` the largest global bound among
    the records (a certified gap to the optimum; values are floored at ``1e-12 * max(1, |LB*|)``
    so a zero gap stays visible). Without a global bound the y axis is J itself (log scale when
    all values are positive). Records should share one dataset and one beta; mixing them raises.

    Parameters
    ----------
    results : Results or list of dict
    path : str or path-like, optional
        Where to write (extension replaced by each of ``formats``).
    ax : matplotlib Axes, optional
        Draw into this axes instead of a new figure.

    Returns
    -------
    matplotlib.figure.Figure (and writes files when ``path`` is given).

    Raises
    ------
    ValueError
        No record has a history, or the records mix datasets/betas.
    """
    recs = [r for r in records_of(results) if r.get("history")]
    if not recs:
        raise ValueError("no record has a convergence history to plot")
    keys = {(r.get("dataset"), _num(r.get("beta"))) for r in recs}
    if len(keys) > 1:
        raise ValueError(
            f"records mix {len(keys)} (dataset, beta) combinations; plot one at a time "
            "(plot_results splits them for you)"
        )
    fig, ax = _fig_ax(ax)
    lb = best_global_bound(records_of(results))
    floor = _GAP_FLOOR * max(1.0, abs(lb)) if lb is not None else None
    by_label = _groups(recs, _label)
    colors = _colors(list(by_label))
    all_pos = True
    for lab, group in by_label.items():
        for k, r in enumerate(group):
            hist = [(float(t), _num(v)) for t, v in r["history"]]
            hist = [(t, v) for t, v in hist if v is not None]
            if not hist:
                continue
            t = np.array([h[0] for h in hist])
            v = np.array([h[1] for h in hist])
            if lb is not None:
                v = np.maximum(v - lb, floor)
            all_pos &= bool(np.all(v > 0))
            ax.plot(np.maximum(t, 1e-4), v, color=colors[lab], lw=1.4 if k == 0 else 0.9,
                    alpha=1.0 if k == 0 else 0.6, label=lab if k == 0 else None,
                    marker="o" if len(t) == 1 else None)
    ax.set_xscale("log")
    ax.set_xlabel("wall-clock time [s]")
    if lb is not None:
        ax.set_yscale("log")
        ax.set_ylabel(f"J − best global lower bound ({lb:.6g})")
    else:
        if all_pos:
            ax.set_yscale("log")
        ax.set_ylabel("objective J (no global lower bound available)")
    r0 = recs[0]
    ax.set_title(title or f"convergence — {r0.get('dataset') or 'data'}, β = {_fmt_beta(r0.get('beta'))}")
    return _finish(fig, ax, path, formats)


# ---------------------------------------------------------------------------- bars
_BAR_METRICS = (("objective", "final objective J"), ("test_mse", "test MSE"), ("time_s", "time [s]"))


def plot_bars(results, path=None, *, metrics=_BAR_METRICS, title=None, formats=("png", "svg")):
    """Bar charts of final J, test MSE and time per method (mean, with ±1 std over seeds).

    One panel per metric; one bar per method label (per beta when several betas are present).
    Runs whose value is missing (failed, unsupported, kernel predictors without J) get no bar; a
    method with no value at all in a panel is written "n/a" there.

    Parameters
    ----------
    metrics : sequence of (record key, axis label)

    Returns
    -------
    matplotlib.figure.Figure
    """
    recs = records_of(results)
    if not recs:
        raise ValueError("no records to plot")
    betas = sorted({_num(r.get("beta")) for r in recs if _num(r.get("beta")) is not None})
    multi_beta = len(betas) > 1

    def key(r):
        return (_label(r), _num(r.get("beta"))) if multi_beta else (_label(r), None)

    groups = _groups(recs, key)
    names = [lab if b is None else f"{lab}\nβ={_fmt_beta(b)}" for lab, b in groups]
    colors = _colors(list(dict.fromkeys(lab for lab, _ in groups)))
    fig = new_figure(figsize=(max(6.4, 1.1 * len(groups) * len(metrics) / 1.6), 4.0))
    axes = fig.subplots(1, len(metrics), squeeze=False)[0]
    x = np.arange(len(groups))
    for ax, (mkey, mlabel) in zip(axes, metrics):
        means, stds, cols = [], [], []
        for (lab, _), group in groups.items():
            vals = [_num(r.get(mkey)) for r in group]
            vals = [v for v in vals if v is not None]
            means.append(np.mean(vals) if vals else np.nan)
            stds.append(np.std(vals) if len(vals) > 1 else 0.0)
            cols.append(colors[lab])
        means = np.array(means, dtype=float)
        ok = np.isfinite(means)
        ax.bar(x[ok], means[ok], yerr=np.array(stds)[ok], color=[c for c, o in zip(cols, ok) if o],
               capsize=3, alpha=0.9)
        for xi in x[~ok]:
            ax.annotate("n/a", (xi, 0.02), xycoords=("data", "axes fraction"), ha="center",
                        va="bottom", fontsize="small")
        if ok.any() and np.all(means[ok] > 0) and means[ok].max() / means[ok].min() > 50:
            ax.set_yscale("log")
        ax.set_xticks(x, names, rotation=45, ha="right", fontsize="small")
        ax.set_title(mlabel, fontsize="medium")
        ax.grid(True, axis="y", alpha=0.3)
    ds = recs[0].get("dataset") or "data"
    btxt = "" if multi_beta or not betas else f", β = {_fmt_beta(betas[0])}"
    fig.suptitle(title or f"{ds}{btxt}")
    if path is not None:
        save_figure(fig, path, formats)
    return fig


# ---------------------------------------------------------------------------- beta sweep
def sweep_table(results, metric="test_mse") -> dict:
    """Mean and std of ``metric`` over seeds per (method label, beta).

    Returns ``{label: {"beta": array, "mean": array, "std": array, "count": array}}`` with betas
    sorted ascending; records without a finite value of ``metric`` or ``beta`` are skipped. The
    std is the population std (ddof = 0) over the runs present.
    """
    recs = records_of(results)
    out = OrderedDict()
    for lab, group in _groups(recs, _label).items():
        per_beta: dict = {}
        for r in group:
            b, v = _num(r.get("beta")), _num(r.get(metric))
            if b is None or v is None:
                continue
            per_beta.setdefault(b, []).append(v)
        if not per_beta:
            continue
        bs = np.array(sorted(per_beta))
        out[lab] = {
            "beta": bs,
            "mean": np.array([np.mean(per_beta[b]) for b in bs]),
            "std": np.array([np.std(per_beta[b]) for b in bs]),
            "count": np.array([len(per_beta[b]) for b in bs]),
        }
    return out


def plot_beta_sweep(results, path=None, *, metric="test_mse", ylabel=None, ax=None, title=None,
                    styles=None, formats=("png", "svg")):
    """Validation (test) error against beta: mean over seeds with a ±1 std band, one line per method.

    Parameters
    ----------
    metric : str
        Record key on the y axis (default ``test_mse``, the error on the held-out set).
    styles : dict, optional
        ``{label: dict(color=..., ls=...)}`` to fix line styles (e.g. the survey's green dashed
        convex line).

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        No record has both a beta and a value of ``metric``.
    """
    table = sweep_table(results, metric)
    if not table:
        raise ValueError(f"no record has both a beta and a finite {metric!r} to plot")
    fig, ax = _fig_ax(ax)
    colors = _colors(list(table))
    styles = styles or {}
    for lab, t in table.items():
        st = {"color": colors[lab], "ls": "-"}
        st.update(styles.get(lab, {}))
        ax.plot(t["beta"], t["mean"], marker="o", ms=3, label=lab, **st)
        if np.any(t["count"] > 1):
            ax.fill_between(t["beta"], t["mean"] - t["std"], t["mean"] + t["std"],
                            color=st["color"], alpha=0.2, lw=0)
    ax.set_xscale("log")
    ax.set_xlabel("β (weight decay)")
    ax.set_ylabel(ylabel or {"test_mse": "validation MSE", "train_mse": "training MSE",
                             "objective": "objective J"}.get(metric, metric))
    recs = records_of(results)
    ds = recs[0].get("dataset") or "data"
    ax.set_title(title or f"{ds}: {metric} against β (mean ± 1 std over seeds)")
    return _finish(fig, ax, path, formats)


# ---------------------------------------------------------------------------- all
def plot_results(results, out_dir, formats=("png", "svg")) -> list[str]:
    """Write every figure that fits the records into ``out_dir``; return the paths written.

    - ``convergence_<dataset>_beta<β>.*`` for each (dataset, beta) with a history;
    - ``bars_<dataset>_beta<β>.*`` for each (dataset, beta);
    - ``beta_sweep_<dataset>.*`` (test MSE against beta) for each dataset with several betas.

    This is what ``cvxlens compare --plot`` calls. matplotlib missing → ImportError with the
    install command.
    """
    require_matplotlib()
    recs = records_of(results)
    os.makedirs(out_dir, exist_ok=True)
    paths: list[str] = []
    for ds, drecs in _groups(recs, lambda r: r.get("dataset") or "data").items():
        for beta, brecs in _groups(drecs, lambda r: _num(r.get("beta"))).items():
            tag = f"{_slug(ds)}_beta{_slug(_fmt_beta(beta))}"
            if any(r.get("history") for r in brecs):
                fig = plot_convergence(brecs)
                paths += save_figure(fig, os.path.join(out_dir, f"convergence_{tag}"), formats)
            fig = plot_bars(brecs)
            paths += save_figure(fig, os.path.join(out_dir, f"bars_{tag}"), formats)
        betas = {_num(r.get("beta")) for r in drecs} - {None}
        if len(betas) > 1 and sweep_table(drecs, "test_mse"):
            fig = plot_beta_sweep(drecs)
            paths += save_figure(fig, os.path.join(out_dir, f"beta_sweep_{_slug(ds)}"), formats)
    return paths
