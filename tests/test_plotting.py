"""Tests of cvxlens.plotting: figures are written, well formed, and honest about bounds."""

import builtins
import importlib
import json

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from cvxlens import plotting  # noqa: E402


def _records(methods=("lasso", "adam"), seeds=(0, 1, 2), betas=(1e-3, 1e-2), dataset="toy"):
    recs = []
    for m in methods:
        for s in seeds:
            for b in betas:
                hist = [(0.01 * (k + 1), 2.0 + np.exp(-k / 3.0) + 0.1 * s * (m != "lasso"))
                        for k in range(20)]
                recs.append(dict(
                    method=m, dataset=dataset, beta=b, seed=s, status="converged",
                    objective=hist[-1][1], lower_bound=2.0 if m == "lasso" else None,
                    bound_kind="global" if m == "lasso" else None, train_mse=0.1,
                    test_mse=0.2 + b + 0.01 * s, n_neurons=4, time_s=0.2, n_iter=20, error=None,
                    history=hist,
                ))
    return recs


def _is_png(path):
    with open(path, "rb") as fh:
        return fh.read(8) == b"\x89PNG\r\n\x1a\n"


def _is_svg(path):
    with open(path) as fh:
        head = fh.read(2000)
    return "<svg" in head


def test_plot_results_writes_png_and_svg(tmp_path):
    paths = plotting.plot_results(_records(), tmp_path)
    names = sorted(p.rsplit("/", 1)[-1] for p in paths)
    assert names == sorted([
        "convergence_toy_beta0p001.png", "convergence_toy_beta0p001.svg",
        "convergence_toy_beta0p01.png", "convergence_toy_beta0p01.svg",
        "bars_toy_beta0p001.png", "bars_toy_beta0p001.svg",
        "bars_toy_beta0p01.png", "bars_toy_beta0p01.svg",
        "beta_sweep_toy.png", "beta_sweep_toy.svg",
    ])
    for p in paths:
        assert (_is_png if p.endswith(".png") else _is_svg)(p)


def test_plot_results_accepts_results_like_object_and_jsonl(tmp_path):
    class FakeResults:
        records = _records(betas=(0.1,))

    paths = plotting.plot_results(FakeResults(), tmp_path / "a")
    assert len(paths) == 4  # one beta: convergence + bars, no sweep
    jl = tmp_path / "runs.jsonl"
    jl.write_text("\n".join(json.dumps(r) for r in FakeResults.records))
    paths = plotting.plot_results(str(jl), tmp_path / "b")
    assert len(paths) == 4


def test_convergence_uses_only_global_bounds():
    recs = _records(betas=(0.1,))
    fig = plotting.plot_convergence(recs)
    ax = fig.axes[0]
    assert ax.get_yscale() == "log"
    assert "lower bound" in ax.get_ylabel()
    # the plotted lasso line is J - 2.0 (the global bound), floored at a positive value
    line = ax.get_lines()[0]
    y = line.get_ydata()
    expected = np.array([v for _, v in recs[0]["history"]]) - 2.0
    np.testing.assert_allclose(y, np.maximum(expected, 1e-12 * 2.0))

    # a subsampled bound is NOT subtracted: it may lie above min J
    for r in recs:
        if r["bound_kind"] == "global":
            r["bound_kind"] = "subsampled"
            r["lower_bound"] = 100.0
    fig = plotting.plot_convergence(recs)
    ax = fig.axes[0]
    assert "no global lower bound" in ax.get_ylabel()
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(),
                               [v for _, v in recs[0]["history"]])


def test_convergence_rejects_mixed_betas_and_empty():
    with pytest.raises(ValueError, match="beta"):
        plotting.plot_convergence(_records())
    recs = _records(betas=(0.1,))
    for r in recs:
        r["history"] = []
    with pytest.raises(ValueError, match="history"):
        plotting.plot_convergence(recs)


def test_sweep_table_mean_std():
    table = plotting.sweep_table(_records())
    t = table["adam"]
    np.testing.assert_allclose(t["beta"], [1e-3, 1e-2])
    vals = 0.2 + 1e-3 + 0.01 * np.arange(3)
    np.testing.assert_allclose(t["mean"][0], vals.mean())
    np.testing.assert_allclose(t["std"][0], vals.std())
    assert list(t["count"]) == [3, 3]


def test_sweep_skips_failed_runs_and_band_drawn():
    recs = _records()
    recs.append(dict(method="broken", dataset="toy", beta=1e-3, seed=0, status="failed",
                     objective=None, test_mse=None, error="boom"))
    table = plotting.sweep_table(recs)
    assert "broken" not in table
    fig = plotting.plot_beta_sweep(recs)
    ax = fig.axes[0]
    assert ax.get_xscale() == "log"
    assert len(ax.collections) == 2  # one ±std band per method with several seeds


def test_bars_handle_missing_values(tmp_path):
    recs = _records(betas=(0.1,))
    recs.append(dict(method="ntk", dataset="toy", beta=0.1, seed=0, status="converged",
                     objective=None, test_mse=0.3, time_s=1.0))
    fig = plotting.plot_bars(recs, tmp_path / "bars.png")
    assert len(fig.axes) == 3
    assert (tmp_path / "bars.png").exists() and (tmp_path / "bars.svg").exists()
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert "n/a" in texts  # ntk has no J


def test_label_key_overrides_method():
    recs = _records(methods=("sgd",), betas=(0.1,))
    for r in recs:
        r["label"] = f"sgd seed{r['seed']}"
    fig = plotting.plot_convergence(recs)
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels == ["sgd seed0", "sgd seed1", "sgd seed2"]


def test_bad_input_errors():
    with pytest.raises(TypeError, match="(?i)list of record dicts"):
        plotting.records_of({"method": "x"})
    with pytest.raises(TypeError, match="record 0"):
        plotting.records_of([1])
    with pytest.raises(ValueError, match="'method'"):
        plotting.records_of([{"beta": 1}])
    with pytest.raises(TypeError):
        plotting.records_of(3)
    with pytest.raises(ValueError, match="format"):
        fig = plotting.plot_bars(_records(betas=(0.1,)))
        plotting.save_figure(fig, "/tmp/x", formats=("gif",))


def test_missing_matplotlib_error_names_install_command(monkeypatch):
    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name == "matplotlib" or name.startswith("matplotlib."):
            raise ImportError("No module named 'matplotlib'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(ImportError, match=r'pip install "cvxlens\[plot\]"'):
        plotting.plot_results(_records(), "/tmp/never-written")


def test_import_does_not_import_matplotlib():
    import subprocess
    import sys

    code = "import sys, cvxlens.plotting; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    importlib.import_module("cvxlens.plotting")
