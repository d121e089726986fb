"""The example experiments (examples/nyse.py, examples/ecg.py) run in --quick mode and write
well-formed outputs. These tests check the files, not the survey's claims (docs/results.md
reports the full runs)."""

import csv
import importlib.util
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("matplotlib")

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
RECORD_KEYS = {"method", "label", "dataset", "beta", "seed", "status", "objective", "lower_bound",
               "bound_kind", "train_mse", "test_mse", "n_neurons", "time_s", "n_iter", "error",
               "history"}
STATUSES = {"optimal", "converged", "max_iter", "timeout", "failed", "unsupported"}


def _run(script, out):
    env = dict(os.environ, MPLBACKEND="Agg")
    proc = subprocess.run([sys.executable, str(EXAMPLES / script), "--quick", "--out", str(out)],
                          capture_output=True, text=True, env=env, timeout=600, cwd=ROOT)
    assert proc.returncode == 0, f"{script} failed:\n{proc.stderr[-4000:]}"
    return proc


def _check_image(path):
    data = path.read_bytes()
    if path.suffix == ".png":
        assert data[:8] == b"\x89PNG\r\n\x1a\n", path
        assert len(data) > 5000, f"{path} looks empty ({len(data)} bytes)"
    else:
        assert b"<svg" in data[:3000], path


def _check_records(json_path, csv_path, methods):
    recs = json.loads(json_path.read_text())
    assert isinstance(recs, list) and recs
    for r in recs:
        assert RECORD_KEYS <= set(r), sorted(RECORD_KEYS - set(r))
        assert r["status"] in STATUSES
        if r["status"] in ("optimal", "converged", "max_iter", "timeout"):
            assert math.isfinite(r["objective"]) and r["objective"] > 0
            assert math.isfinite(r["test_mse"]) and r["test_mse"] >= 0
            for t, v in r["history"]:
                assert t >= 0 and (v is None or math.isfinite(v))
        if r["bound_kind"] is not None:
            assert r["bound_kind"] in ("global", "subsampled")
            assert r["lower_bound"] is not None
    assert {r["method"] for r in recs} == set(methods)
    with open(csv_path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == len(recs)
    return recs


def test_ecg_quick(tmp_path):  # ~10 s idle, ~40 s on the loaded 2-core machine
    _run("ecg.py", tmp_path)
    recs = _check_records(tmp_path / "ecg_runs.json", tmp_path / "ecg_runs.csv", {"lasso", "sgd"})
    assert sum(r["method"] == "sgd" for r in recs) >= 2  # a grid of learning rates
    summary = json.loads((tmp_path / "ecg_summary.json").read_text())
    assert summary["quick"] is True
    assert summary["dataset"]["n_train"] == 2393 and summary["dataset"]["d"] == 3
    lin = summary["linear_autoregression"]
    assert len(lin["coef"]) == 3 and math.isfinite(lin["test_mse"])
    for stem in ("ecg_a_objective", "ecg_b_predictions", "ecg_c_linear", "ecg_d_local_linear"):
        for ext in (".png", ".svg"):
            _check_image(tmp_path / f"{stem}{ext}")
    reg = summary["regions"]
    assert reg["n_regions_on_test"] >= 1
    assert sum(r["count"] for r in reg["regions"]) <= summary["dataset"]["n_test"]
    assert reg["max_abs_local_linear_error"] < 1e-8  # the regions' linear models ARE the network
    assert set(summary["files"]) <= {p.name for p in tmp_path.iterdir()}


@pytest.mark.slow  # ~70 s CPU (lasso and gated on n = 4276), ~160 s wall on a loaded machine
@pytest.mark.skipif(importlib.util.find_spec("ISLP") is None,
                    reason="NYSE data needs ISLP: pip install --no-deps ISLP")
def test_nyse_quick(tmp_path):
    _run("nyse.py", tmp_path)
    recs = _check_records(tmp_path / "nyse_runs.json", tmp_path / "nyse_runs.csv",
                          {"lasso", "gated", "sgd", "adam"})
    summary = json.loads((tmp_path / "nyse_summary.json").read_text())
    assert summary["dataset"]["n_train"] == 4276 and summary["dataset"]["n_val"] == 1770
    grid = summary["grid"]
    per = grid.get("seeds_per_method", {})
    n_seeds = sum(len(per.get(m, grid["seeds"])) for m in grid["methods"])
    assert len(recs) == len(grid["betas"]) * n_seeds
    with open(tmp_path / "nyse_sweep.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == len(grid["betas"]) * len(grid["methods"])
    for row in rows:
        if row["test_mse_mean"]:
            assert float(row["test_mse_std"]) >= 0
    assert 0.3 < summary["linear_regression_val_r2"] < 0.5  # ISLP lab: R^2 about 0.41
    for stem in ("nyse_validation_mse", "nyse_objective"):
        for ext in (".png", ".svg"):
            _check_image(tmp_path / f"{stem}{ext}")


def test_local_linear_models_reproduce_network():
    """The region decomposition of examples/ecg.py is exact (fast, default suite)."""
    import numpy as np

    import cvxlens

    sys.path.insert(0, str(EXAMPLES))
    try:
        spec = importlib.util.spec_from_file_location("ecg_example", EXAMPLES / "ecg.py")
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
    finally:
        sys.path.remove(str(EXAMPLES))
    rng = np.random.default_rng(0)
    net = cvxlens.ReLUNetwork(rng.standard_normal((3, 7)), rng.standard_normal(7),
                              rng.standard_normal(7), 0.0)
    X = rng.standard_normal((400, 3))
    region, regions = mod.local_linear_models(net, X)
    assert mod.check_local_linear(net, X, region, regions) < 1e-12
    counts = [r["count"] for r in regions]
    assert sum(counts) == 400 and counts == sorted(counts, reverse=True)
    assert np.bincount(region).tolist() == counts
    # a single region when every neuron is active on every point: the network is linear there
    net2 = cvxlens.ReLUNetwork(np.zeros((3, 2)), np.ones(2), np.array([1.0, -2.0]), 0.0)
    region2, regions2 = mod.local_linear_models(net2, X)
    assert len(regions2) == 1 and regions2[0]["intercept"] == pytest.approx(-1.0)
    coef, icpt = mod.linear_autoregression(X, X @ [1.0, 2.0, 3.0] + 0.5)
    np.testing.assert_allclose(coef, [1, 2, 3], atol=1e-10)
    assert icpt == pytest.approx(0.5)
