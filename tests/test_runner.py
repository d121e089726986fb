"""cvxlens.compare / Results: isolation, timeouts, resume, parallel runs, serialization."""

import json
import sys
import time
from types import SimpleNamespace

import numpy as np
import pytest

import cvxlens
from cvxlens import runner
from cvxlens.results import RECORD_KEYS, Results, read_journal

import _toy_methods as toy


@pytest.fixture(scope="module", autouse=True)
def toy_plugin():
    cvxlens.register_plugin(toy.ToyPlugin(), "toy-runner")
    yield
    from cvxlens.plugins import unregister_plugin
    unregister_plugin("toy-runner")


@pytest.fixture
def prob():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((25, 2))
    y = rng.standard_normal(25)
    return cvxlens.Problem(X, y, beta=0.1)


def test_isolation_every_failure_becomes_a_record(prob):
    names = ["toy_ridge", "toy_raise", "toy_crash", "toy_1d"]
    res = cvxlens.compare(prob, methods=names, timeout=20, test=(prob.X[:5], prob.y[:5]))
    by = {r["method"]: r for r in res}
    assert [r["method"] for r in res] == names
    assert by["toy_ridge"]["status"] == "converged"
    assert by["toy_ridge"]["error"] is None
    assert by["toy_raise"]["status"] == "failed"
    assert "RuntimeError: toy boom" in by["toy_raise"]["error"]
    assert "toy boom" in by["toy_raise"]["info"]["traceback"]
    assert by["toy_crash"]["status"] == "failed"
    assert "SIGKILL" in by["toy_crash"]["error"]
    assert by["toy_1d"]["status"] == "unsupported"
    assert "d = 1" in by["toy_1d"]["error"]
    for r in res:
        assert set(RECORD_KEYS) <= set(r)
    assert not res.all_finished
    assert {r["method"] for r in res.unfinished()} == {"toy_raise", "toy_crash", "toy_1d"}


def test_record_fields_match_an_independent_evaluation(prob):
    Xt, yt = prob.X[:7] + 0.1, prob.y[:7]
    res = cvxlens.compare(prob, methods=["toy_ridge"], seeds=[3], test=(Xt, yt),
                          options={"toy_ridge": {"width": 5}})
    r = res[0]
    net = toy.ridge_fit(prob, 5, 3)  # what the toy method computes, evaluated here
    assert r["objective"] == pytest.approx(prob.objective(net), rel=1e-12)
    assert r["train_mse"] == pytest.approx(np.mean((net.predict(prob.X) - prob.y) ** 2), rel=1e-12)
    assert r["test_mse"] == pytest.approx(np.mean((net.predict(Xt) - yt) ** 2), rel=1e-12)
    assert r["n_neurons"] == net.n_neurons
    assert r["options"]["width"] == 5 and r["options"]["seed"] == 3
    assert r["options"]["time_limit"] == pytest.approx(runner.SOFT_FRACTION * 60.0)
    assert r["accuracy"] is None
    assert r["beta"] == 0.1 and r["seed"] == 3 and r["dataset"] == "problem"
    assert (r["loss"], r["bias"], r["scale"], r["n"], r["d"]) == ("squared", "regularized", "sum", 25, 2)
    net2 = res.networks[("toy_ridge", "problem", 0.1, 3)]
    assert prob.objective(net2) == pytest.approx(r["objective"], rel=1e-12)


def test_hung_solver_is_killed_and_soft_limit_keeps_the_network(prob):
    t0 = time.perf_counter()
    res = cvxlens.compare(prob, methods=["toy_hang", "toy_soft", "toy_ridge"], timeout=1.0,
                          grace=0.5)
    elapsed = time.perf_counter() - t0
    by = {r["method"]: r for r in res}
    assert by["toy_hang"]["status"] == "timeout"
    assert by["toy_hang"]["objective"] is None
    assert "killed" in by["toy_hang"]["error"]
    assert 1.4 < by["toy_hang"]["time_s"] < 4.0
    # the well-behaved one stopped at its soft limit (SOFT_FRACTION x 1 s) and kept its network
    assert by["toy_soft"]["status"] == "timeout"
    assert by["toy_soft"]["objective"] is not None
    assert by["toy_soft"]["options"]["time_limit"] == pytest.approx(runner.SOFT_FRACTION)
    assert by["toy_ridge"]["status"] == "converged"
    assert elapsed < 10


def test_user_time_limit_is_capped_by_the_timeout(prob):
    res = cvxlens.compare(prob, methods=["toy_soft"], timeout=2.0,
                          options={"toy_soft": {"time_limit": 0.2}})
    assert res[0]["options"]["time_limit"] == pytest.approx(0.2)
    assert res[0]["time_s"] < 1.5


def test_parallel_runs_overlap(prob):
    t0 = time.perf_counter()
    res = cvxlens.compare(prob, methods=["toy_hang"], seeds=[0, 1], timeout=2.0, grace=0.5,
                          n_jobs=2)
    elapsed = time.perf_counter() - t0
    assert [r["status"] for r in res] == ["timeout", "timeout"]
    assert [r["seed"] for r in res] == [0, 1]
    assert elapsed < 4.5  # sequential would take >= 5 s


def test_parallel_mixed_results_in_plan_order(prob):
    res = cvxlens.compare(prob, methods=["toy_ridge", "toy_raise"], seeds=[0, 1, 2], n_jobs=2)
    assert [(r["method"], r["seed"]) for r in res] == [
        ("toy_ridge", 0), ("toy_ridge", 1), ("toy_ridge", 2),
        ("toy_raise", 0), ("toy_raise", 1), ("toy_raise", 2)]
    assert [r["status"] for r in res] == ["converged"] * 3 + ["failed"] * 3
    objs = [r["objective"] for r in res[:3]]
    assert len(set(objs)) == 3  # seeds matter


def test_resume_skips_journaled_runs(prob, tmp_path):
    calls = []
    res1 = cvxlens.compare(prob, methods=["toy_ridge", "toy_raise"], seeds=[0, 1], out=tmp_path,
                           progress=lambda rec, k, n: calls.append((rec["method"], k, n)))
    journal = tmp_path / "results.jsonl"
    assert len(read_journal(journal)) == 4
    assert [c[1:] for c in calls] == [(1, 4), (2, 4), (3, 4), (4, 4)]

    executed = []
    real = runner._execute_run

    def spy(run, *a, **k):
        executed.append((run.method, run.seed))
        return real(run, *a, **k)

    runner._execute_run = spy
    try:
        res2 = cvxlens.compare(prob, methods=["toy_ridge", "toy_raise"], seeds=[0, 1, 2],
                               out=tmp_path)
        assert executed == [("toy_ridge", 2), ("toy_raise", 2)]
        assert len(res2) == 6
        old = {(r["method"], r["seed"]): r for r in res1}
        for r in res2:
            if r["seed"] < 2:
                assert r == old[(r["method"], r["seed"])]
        assert len(read_journal(journal)) == 6
        executed.clear()
        res3 = cvxlens.compare(prob, methods=["toy_ridge", "toy_raise"], seeds=[0, 1, 2],
                               out=tmp_path, retry_failed=True)
        assert executed == [("toy_raise", 0), ("toy_raise", 1), ("toy_raise", 2)]
        assert len(res3) == 6
    finally:
        runner._execute_run = real


def test_journal_survives_a_truncated_last_line(prob, tmp_path):
    cvxlens.compare(prob, methods=["toy_ridge"], out=tmp_path)
    journal = tmp_path / "results.jsonl"
    with journal.open("a") as fh:
        fh.write('{"method": "toy_ridge", "datas')  # killed while writing
    res = cvxlens.compare(prob, methods=["toy_ridge"], seeds=[0, 1], out=tmp_path)
    assert [r["seed"] for r in res] == [0, 1]
    assert all(r["status"] == "converged" for r in res)


def test_json_and_csv_round_trip(prob, tmp_path):
    res = cvxlens.compare(prob, methods=["toy_ridge", "toy_raise", "toy_1d"], seeds=[0, 1],
                          betas=[0.1, 2.0], test=(prob.X, prob.y))
    assert len(res) == 3 * 2 * 2  # toy_1d: unsupported, one record per beta and seed
    res.to_json(tmp_path / "r.json")
    back = Results.from_json(tmp_path / "r.json")
    assert back.records == res.records
    res.to_csv(tmp_path / "r.csv")
    back = Results.from_csv(tmp_path / "r.csv")
    assert back.records == res.records
    res.to_jsonl(tmp_path / "r.jsonl")
    assert Results.from_json(tmp_path / "r.jsonl").records == res.records
    json.loads((tmp_path / "r.json").read_text())  # strict JSON


def test_beta_sweep_and_mean_scale(prob):
    pm = cvxlens.Problem(prob.X, prob.y, beta=0.01, scale="mean")
    res = cvxlens.compare(pm, methods=["toy_ridge"], betas=[0.01, 0.1])
    for r in res:
        net = res.networks[("toy_ridge", "problem", r["beta"], 0)]
        p = cvxlens.Problem(prob.X, prob.y, beta=r["beta"], scale="mean")
        assert r["objective"] == pytest.approx(p.objective(net), rel=1e-12)
        assert r["scale"] == "mean"
    assert [r["beta"] for r in res] == [0.01, 0.1]


def test_dataset_input_uses_default_beta_and_test_split():
    rng = np.random.default_rng(1)
    ds = SimpleNamespace(name="toyds", X_train=rng.standard_normal((20, 3)),
                         y_train=rng.standard_normal(20), X_test=rng.standard_normal((6, 3)),
                         y_test=rng.standard_normal(6), default_beta=0.5, description="")
    res = cvxlens.compare(ds, methods=["toy_ridge"], bias="none")
    r = res[0]
    assert r["dataset"] == "toyds" and r["beta"] == 0.5 and r["bias"] == "none"
    assert r["test_mse"] is not None


def test_classification_records_accuracy():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((30, 2))
    y = np.where(X[:, 0] > 0, 1.0, -1.0)
    p = cvxlens.Problem(X, y, beta=0.1, loss="logistic")
    res = cvxlens.compare(p, methods=["toy_ridge"], test=(X, y), options={"toy_ridge": {"width": 20}})
    r = res[0]
    net = res.networks[("toy_ridge", "problem", 0.1, 0)]
    acc = np.mean(np.where(net.predict(X) >= 0, 1, -1) == y)
    assert r["accuracy"] == pytest.approx(acc) and r["train_accuracy"] == pytest.approx(acc)
    assert acc > 0.8


def test_default_methods_skip_unsupported(prob, monkeypatch):
    infos = [m for m in cvxlens.list_methods(include_errors=False)
             if m.name in ("toy_ridge", "toy_1d")]
    monkeypatch.setattr(runner, "list_methods", lambda include_errors=False: infos)
    res = cvxlens.compare(prob)
    assert [r["method"] for r in res] == ["toy_ridge"]
    assert res.skipped and res.skipped[0][0] == "toy_1d"
    res = cvxlens.compare(prob, methods="all")
    assert [r["status"] for r in res] == ["unsupported", "converged"]


def test_bad_arguments_raise_before_running(prob):
    with pytest.raises(cvxlens.UnknownMethodError, match="available methods"):
        cvxlens.compare(prob, methods=["nope"])
    with pytest.raises(cvxlens.UnknownOptionError, match="widht"):
        cvxlens.compare(prob, methods=["toy_ridge"], options={"toy_ridge": {"widht": 3}})
    with pytest.raises(cvxlens.OptionError, match="width"):
        cvxlens.compare(prob, methods=["toy_ridge"], options={"toy_ridge": {"width": -1}})
    with pytest.raises(ValueError, match="seeds="):
        cvxlens.compare(prob, methods=["toy_ridge"], options={"toy_ridge": {"seed": 1}})
    with pytest.raises(ValueError, match="beta must be > 0"):
        cvxlens.compare(prob, methods=["toy_ridge"], betas=[0.1, -1])
    with pytest.raises(ValueError, match="timeout"):
        cvxlens.compare(prob, methods=["toy_ridge"], timeout=0)
    with pytest.raises(ValueError, match="seeds"):
        cvxlens.compare(prob, methods=["toy_ridge"], seeds=[-1])
    with pytest.raises(ValueError, match="conflicts"):
        cvxlens.compare(prob, methods=["toy_ridge"], loss="hinge")
    with pytest.raises(ValueError, match="X_test"):
        cvxlens.compare(prob, methods=["toy_ridge"], test=(np.ones((3, 5)), np.ones(3)))
    with pytest.raises(TypeError, match="Problem or a Dataset"):
        cvxlens.compare((prob.X, prob.y), methods=["toy_ridge"])


def test_results_helpers_and_table(prob):
    recs = [
        dict(method="a", dataset="d", beta=1.0, seed=0, status="optimal", objective=2.0,
             lower_bound=2.0, bound_kind="global"),
        dict(method="b", dataset="d", beta=1.0, seed=0, status="converged", objective=2.5,
             lower_bound=2.4, bound_kind="subsampled"),
        dict(method="c", dataset="d", beta=1.0, seed=0, status="failed", objective=None,
             lower_bound=9.0, bound_kind="global", error="x"),
    ]
    res = Results(recs)
    assert res.best_lower_bound() == 2.0  # the failed run's bound is ignored
    assert res.best_lower_bound(kind="subsampled") == 2.4
    assert res.best_objective() == 2.0
    assert res.gap(recs[1]) == pytest.approx(0.25)
    assert len(res.filter(method=("a", "b"))) == 2
    from rich.console import Console
    con = Console(record=True, width=200)
    con.print(res.table())
    text = con.export_text()
    assert "subsampled" in text and "optimal" in text and "25%" in text
    assert res.summary_lines() == ["c (beta=1, seed=0): failed - x"]


# ------------------------------------------------------------------ property: CSV/JSON round trip
from hypothesis import given, settings, strategies as st  # noqa: E402

_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=20)
_num = st.one_of(st.none(), st.floats(allow_nan=False, allow_infinity=False, width=64))
_record = st.fixed_dictionaries({
    "method": st.text("abcxyz_", min_size=1, max_size=8), "dataset": st.text("abc-", min_size=1, max_size=5),
    "beta": st.floats(1e-6, 1e6), "seed": st.integers(0, 10**6),
    "status": st.sampled_from(cvxlens.STATUSES), "objective": _num, "lower_bound": _num,
    "bound_kind": st.sampled_from([None, "global", "subsampled"]),
    "n_neurons": st.one_of(st.none(), st.integers(0, 1000)), "error": st.one_of(st.none(), _text.filter(bool)),
    "message": _text, "history": st.lists(st.tuples(st.floats(0, 1e3), _num).map(list), max_size=3),
    "options": st.dictionaries(st.text("abc", min_size=1, max_size=3),
                               st.one_of(st.integers(), _text, st.lists(st.floats(0, 1), max_size=2)),
                               max_size=3),
})


@settings(max_examples=15, deadline=None)
@given(st.lists(_record, max_size=4))
def test_round_trip_property(tmp_path_factory, recs):
    path = tmp_path_factory.mktemp("rt")
    res = Results(recs)
    res.to_csv(path / "r.csv")
    assert Results.from_csv(path / "r.csv").records == [
        {**{k: None for k in RECORD_KEYS if k not in ("options", "history", "info")},
         "info": None, **r} for r in recs]
    res.to_json(path / "r.json")
    assert Results.from_json(path / "r.json").records == recs


def _ppid(pid):
    try:
        return int(open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc")
def test_children_die_with_a_killed_parent(tmp_path):
    """A run leads its own process group, so it must still exit when compare's process is
    SIGKILLed (no orphaned solvers)."""
    import subprocess
    from pathlib import Path

    tests = Path(__file__).resolve().parent
    code = (
        "import sys, numpy as np, cvxlens\n"
        f"sys.path.insert(0, {str(tests)!r})\n"
        "import _toy_methods as toy\n"
        "cvxlens.register_plugin(toy.ToyPlugin(), 'toy')\n"
        "p = cvxlens.Problem(np.random.default_rng(0).standard_normal((10, 2)), np.ones(10), 0.1)\n"
        "print('go', flush=True)\n"
        "cvxlens.compare(p, methods=['toy_hang'], timeout=None)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "go"
    kids = []
    for _ in range(100):
        time.sleep(0.1)
        kids = [d.name for d in Path("/proc").iterdir() if d.name.isdigit()
                and _ppid(d.name) == proc.pid]
        if kids:
            break
    assert kids, "no child process started"
    proc.kill()
    proc.wait()

    def alive(pid):
        try:
            state = Path(f"/proc/{pid}/stat").read_text().split()[2]
        except OSError:
            return False
        return state != "Z"

    for _ in range(50):
        if not any(alive(k) for k in kids):
            break
        time.sleep(0.1)
    assert not any(alive(k) for k in kids)


def test_summary_spread_over_seeds():
    recs = [dict(method="a", dataset="d", beta=1.0, seed=s, status=st, objective=o, test_mse=None)
            for s, st, o in ((0, "converged", 1.0), (1, "converged", 3.0), (2, "failed", None))]
    recs.append(dict(method="b", dataset="d", beta=1.0, seed=0, status="optimal", objective=2.0,
                     test_mse=0.5))
    rows = Results(recs).summary()
    assert [r["method"] for r in rows] == ["a", "b"]
    a, b = rows
    assert (a["n_runs"], a["n_finished"], a["statuses"]) == (3, 2, {"converged": 2, "failed": 1})
    assert a["objective_mean"] == 2.0 and a["objective_std"] == 1.0
    assert (a["objective_min"], a["objective_max"]) == (1.0, 3.0)
    assert a["test_mse_mean"] is None and b["test_mse_mean"] == 0.5


def test_bounds_and_gaps_never_mix_depths():
    """J of a depth-3 method is the path-regularized objective: its bound says nothing about
    the two-layer problem and vice versa."""
    recs = [
        dict(method="two", dataset="d", beta=1.0, seed=0, status="optimal", objective=2.0,
             lower_bound=2.0, bound_kind="global", depth=2),
        dict(method="three", dataset="d", beta=1.0, seed=0, status="optimal", objective=1.0,
             lower_bound=1.0, bound_kind="global", depth=3),
        dict(method="old", dataset="d", beta=1.0, seed=0, status="converged", objective=2.2),
    ]
    res = Results(recs)
    assert res.best_lower_bound() == 2.0 and res.best_lower_bound(depth=3) == 1.0
    assert res.best_objective() == 2.0 and res.best_objective(depth=3) == 1.0
    assert res.gap(recs[1]) == 0.0 and res.gap(recs[2]) == pytest.approx(0.1)
    from rich.console import Console
    con = Console(record=True, width=200)
    con.print(res.table())
    assert "depth" in con.export_text()


def test_records_carry_the_method_depth(prob):
    res = cvxlens.compare(prob, methods=["toy_ridge"])
    assert res[0]["depth"] == 2
