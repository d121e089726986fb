"""The cvxlens command line: subcommands, --json output, exit codes 0 / 1 / 2."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import cvxlens
from cvxlens import cli

import _toy_methods as toy

TESTS = Path(__file__).resolve().parent


@pytest.fixture(scope="module", autouse=True)
def toy_plugin():
    cvxlens.register_plugin(toy.ToyPlugin(), "toy-cli")
    yield
    from cvxlens.plugins import unregister_plugin
    unregister_plugin("toy-cli")


@pytest.fixture(scope="module")
def csv_file(tmp_path_factory):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 2))
    y = np.maximum(X @ [1.0, -0.5], 0) + 0.1 * rng.standard_normal(40)
    path = tmp_path_factory.mktemp("data") / "toy.csv"
    lines = ["x1,x2,target"] + [f"{a:.6f},{b:.6f},{c:.6f}" for (a, b), c in zip(X, y)]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def toy_env(tmp_path_factory):
    """Environment for a subprocess that sees the toy methods through an entry point."""
    root = toy.write_dist_info(tmp_path_factory.mktemp("site"), "cvxlens_toy_cli",
                               {"toy": "_toy_methods"})
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(root), str(TESTS), env.get("PYTHONPATH", "")])
    return env


def run_cli(args, env):
    return subprocess.run([sys.executable, "-m", "cvxlens", *args], capture_output=True,
                          text=True, env=env, timeout=120)


# ---------------------------------------------------------------- in-process
def test_methods_and_datasets_json(capsys):
    assert cli.main(["methods", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    by = {m["name"]: m for m in out}
    assert by["toy_ridge"]["error"] is None
    assert by["toy_ridge"]["options"]["width"]["default"] == 8
    assert "seed" in by["toy_ridge"]["options"] and "time_limit" in by["toy_ridge"]["options"]
    assert by["toy_1d"]["capabilities"]["input_dim"] == 1
    assert cli.main(["datasets", "--json"]) == 0
    names = [d["name"] for d in json.loads(capsys.readouterr().out)]
    assert "ecg" in names


def test_methods_table(capsys):
    assert cli.main(["methods"]) == 0
    err = capsys.readouterr().err
    assert "toy_ridge" in err and "summary" in err


def test_compare_json_exit_0(csv_file, tmp_path, capsys):
    rc = cli.main(["compare", "--csv", str(csv_file), "--target", "target", "--methods",
                   "toy_ridge", "--beta", "0.1,1", "--seeds", "0-1", "--json", "--out",
                   str(tmp_path), "--option", "toy_ridge.width=6"])
    cap = capsys.readouterr()
    assert rc == 0, cap.err
    recs = json.loads(cap.out)
    assert [(r["beta"], r["seed"]) for r in recs] == [(0.1, 0), (0.1, 1), (1.0, 0), (1.0, 1)]
    assert all(r["status"] == "converged" and r["options"]["width"] == 6 for r in recs)
    assert all(r["dataset"] == "toy" and r["test_mse"] is not None for r in recs)
    for f in ("results.jsonl", "results.json", "results.csv"):
        assert (tmp_path / f).is_file()
    assert "toy_ridge" in cap.err  # the table


def test_compare_failures_exit_1_and_results_written(csv_file, tmp_path, capsys):
    rc = cli.main(["compare", "--csv", str(csv_file), "--target", "target", "--methods",
                   "toy_ridge,toy_raise", "--out", str(tmp_path), "--json"])
    cap = capsys.readouterr()
    assert rc == 1
    recs = json.loads(cap.out)
    assert [r["status"] for r in recs] == ["converged", "failed"]
    assert "toy boom" in cap.err
    assert len(cvxlens.Results.from_json(tmp_path / "results.jsonl")) == 2


def test_compare_timeout_exit_1(csv_file, capsys):
    rc = cli.main(["compare", "--csv", str(csv_file), "--target", "target", "--methods",
                   "toy_hang", "--timeout", "1s", "--json", "-q"])
    cap = capsys.readouterr()
    assert rc == 1
    assert json.loads(cap.out)[0]["status"] == "timeout"


def test_explicit_unsupported_method_exit_1(csv_file, capsys):
    rc = cli.main(["compare", "--csv", str(csv_file), "--target", "target", "--methods",
                   "toy_ridge,toy_1d", "--json", "-q"])
    recs = json.loads(capsys.readouterr().out)
    assert rc == 1
    assert [r["status"] for r in recs] == ["converged", "unsupported"]


@pytest.mark.parametrize("args, needle", [
    (["--methods", "nope"], "unknown method 'nope'"),
    (["--methods", "toy_ridge", "--option", "toy_ridge.widht=3"], "widht"),
    (["--methods", "toy_ridge", "--option", "toy_ridge.width=-3"], "width"),
    (["--methods", "toy_ridge", "--option", "width=3"], "METHOD.KEY=VALUE"),
    (["--methods", "toy_ridge", "--option", "toy_raise.width=3"], "not in --methods"),
    (["--methods", "toy_ridge", "--beta", "-1"], "beta"),
    (["--methods", "toy_ridge", "--beta", "abc"], "beta"),
    (["--methods", "toy_ridge", "--seeds", "x"], "seeds"),
    (["--methods", "toy_ridge", "--timeout", "soon"], "timeout"),
    (["--methods", "toy_ridge", "--jobs", "0"], "jobs"),
])
def test_usage_errors_exit_2(csv_file, capsys, args, needle):
    rc = cli.main(["compare", "--csv", str(csv_file), "--target", "target", *args])
    err = capsys.readouterr().err
    assert rc == 2
    assert needle in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("args, needle", [
    (["--dataset", "nope"], "unknown dataset"),
    (["--csv", "/nonexistent/file.csv", "--target", "y"], "no such file"),
    (["--csv", "CSV"], "--target"),
    (["--target", "y"], "--csv"),
    (["--csv", "CSV", "--target", "missing_column"], "missing_column"),
])
def test_data_errors_exit_2(csv_file, capsys, args, needle):
    args = [str(csv_file) if a == "CSV" else a for a in args]
    rc = cli.main(["compare", *args, "--methods", "toy_ridge"])
    err = capsys.readouterr().err
    assert rc == 2
    assert needle in err and "Traceback" not in err


def test_out_is_a_file_exit_2(csv_file, tmp_path, capsys):
    f = tmp_path / "file"
    f.write_text("x")
    rc = cli.main(["compare", "--csv", str(csv_file), "--target", "target", "--methods",
                   "toy_ridge", "--out", str(f)])
    err = capsys.readouterr().err
    assert rc == 2 and "--out" in err and "Traceback" not in err


def test_bad_csv_content_exit_2(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,x\n2,3\n")
    rc = cli.main(["compare", "--csv", str(bad), "--target", "b", "--methods", "toy_ridge"])
    err = capsys.readouterr().err
    assert rc == 2 and "Traceback" not in err and err.strip()


def test_argparse_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["compare", "--jobs", "many"])
    assert e.value.code == 2
    with pytest.raises(SystemExit) as e:
        cli.main(["compare", "--dataset", "ecg", "--csv", "x.csv"])
    assert e.value.code == 2
    assert cli.main([]) == 2


def test_value_parsers():
    assert cli.parse_timeout("60") == 60 and cli.parse_timeout("2m") == 120
    assert cli.parse_timeout("1.5h") == 5400 and cli.parse_timeout("none") is None
    assert cli.parse_seeds("0,2,5-7") == [0, 2, 5, 6, 7]
    assert cli.parse_betas("1e-3, 0.1") == [1e-3, 0.1]
    assert cli.parse_option("adam.lr=[0.01,0.1]") == ("adam", "lr", [0.01, 0.1])
    assert cli.parse_option("lasso.solver=clarabel") == ("lasso", "solver", "clarabel")
    assert cli.parse_option("x.flag=true") == ("x", "flag", True)
    assert cli.parse_option("x.t=None") == ("x", "t", None)
    assert cli.parse_option("x.n=200") == ("x", "n", 200)


def test_plot_without_matplotlib_is_a_usage_error(csv_file, monkeypatch, capsys):
    from cvxlens import plotting

    def missing():
        raise ImportError('cvxlens plotting needs matplotlib; pip install "cvxlens[plot]"')

    monkeypatch.setattr(plotting, "require_matplotlib", missing)
    rc = cli.main(["compare", "--csv", str(csv_file), "--target", "target", "--methods",
                   "toy_ridge", "--plot"])
    err = capsys.readouterr().err
    assert rc == 2 and "cvxlens[plot]" in err and "Traceback" not in err


@pytest.mark.slow
def test_plot_writes_figures(csv_file, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    rc = cli.main(["compare", "--csv", str(csv_file), "--target", "target", "--methods",
                   "toy_ridge", "--out", str(tmp_path), "--plot", "-q"])
    assert rc == 0, capsys.readouterr().err
    assert any((tmp_path / "figures").iterdir())


# ---------------------------------------------------------------- real processes
def test_subprocess_json_stdout_is_pure_and_exit_1(csv_file, toy_env):
    p = run_cli(["compare", "--csv", str(csv_file), "--target", "target", "--methods",
                 "toy_ridge,toy_soft", "--timeout", "2s", "--json"], toy_env)
    # toy_soft stops at its soft limit with status timeout -> exit 1, but stdout is JSON
    assert p.returncode == 1, p.stderr
    recs = json.loads(p.stdout)
    assert [r["status"] for r in recs] == ["converged", "timeout"]
    assert recs[1]["objective"] is not None


@pytest.mark.slow
def test_subprocess_exit_0_and_2(csv_file, toy_env, tmp_path):
    p = run_cli(["compare", "--csv", str(csv_file), "--target", "target", "--methods",
                 "toy_ridge", "--json", "--out", str(tmp_path)], toy_env)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)[0]["status"] == "converged"

    p = run_cli(["compare", "--dataset", "no-such-data"], toy_env)
    assert p.returncode == 2
    assert "unknown dataset" in p.stderr and "Traceback" not in p.stderr
    assert p.stdout == ""


def test_huge_seed_range_is_refused_before_any_work():
    from cvxlens.cli import UsageError, parse_seeds
    with pytest.raises(UsageError, match="at most"):
        parse_seeds("0-100000000")
    assert parse_seeds("0-2,5") == [0, 1, 2, 5]


def test_two_valued_csv_target_is_regression_unless_label_like(tmp_path):
    from cvxlens import Dataset
    p = tmp_path / "two.csv"
    p.write_text("a,price\n" + "\n".join(f"{i},{1.78 if i % 2 else 0.118}" for i in range(10)))
    assert Dataset.from_csv(p, "price").task == "regression"
    q = tmp_path / "labels.csv"
    q.write_text("a,label\n" + "\n".join(f"{i},{i % 2}" for i in range(10)))
    assert Dataset.from_csv(q, "label").task == "classification"
