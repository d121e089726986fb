"""``cvxlens.compare``: run many methods on one problem, each run isolated, nothing ever lost.

Every run ``(method, dataset, beta, seed)`` executes in its own child process (``fork`` start
method where available), so

- an exception inside a method becomes a record with status ``failed`` and its message;
- a method that does not return by ``timeout`` seconds (plus a small ``grace``) is killed
  together with any process it started, and recorded with status ``timeout``. Before that, the
  method receives the soft option ``time_limit = 0.8 * timeout`` so a well-behaved method
  returns its best network so far with status ``timeout`` (its J and bound are then kept);
- a method that does not support the problem is recorded as ``unsupported`` with the reason
  (no process is started) - or skipped altogether when the caller did not name it;
- records are appended to ``<out>/results.jsonl`` as runs finish; re-running with the same
  ``out`` reuses the journaled runs instead of running them again.

``n_jobs > 1`` runs several child processes at once, driven by joblib's threading backend.
"""

from __future__ import annotations

import json
import math
import multiprocessing
import os
import signal
import sys
import threading
import time
import traceback
import warnings
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import numpy as np

from .method import ProblemTooLargeError, UnsupportedProblemError
from .plugins import get_method, list_methods
from .problem import Problem, validate_beta
from .results import Results, _json_default, read_journal, run_key

__all__ = ["compare", "JOURNAL_NAME", "DEFAULT_GRACE"]

#: Name of the JSON-lines journal inside ``out``.
JOURNAL_NAME = "results.jsonl"
#: Seconds a run may overstay ``timeout`` before it is killed.
DEFAULT_GRACE = 5.0
#: Fraction of ``timeout`` passed to the method as its soft ``time_limit``.
SOFT_FRACTION = 0.8  # solvers that check the clock between inner solves overshoot (measured: ~10 s at 60 s)

_ACTIVE: set = set()          # child processes currently running (killed on interrupt)
_ACTIVE_LOCK = threading.Lock()


# ====================================================================== public entry point
def compare(prob_or_dataset, methods=None, seeds=(0,), betas=None, timeout: float | None = 60.0,
            n_jobs: int = 1, test=None, options: dict | None = None, out=None,
            progress: Callable | None = None, *, on_start: Callable | None = None,
            dataset_name: str | None = None,
            loss: str | None = None, bias: str | None = None, scale: str | None = None,
            retry_failed: bool = False, grace: float = DEFAULT_GRACE) -> Results:
    """Run several methods on one problem (or dataset) and collect comparable records.

    Parameters
    ----------
    prob_or_dataset : Problem or Dataset
        A :class:`cvxlens.Problem`, or a Dataset (``X_train, y_train, X_test, y_test, name,
        default_beta``) from which a Problem is built with ``loss``/``bias``/``scale``.
    methods : None, "all" or list of str
        ``None``: every registered method that supports the problem (the others are listed in
        ``Results.skipped``). ``"all"``: every registered method; unsupported ones get a record
        with status ``unsupported``. A list: exactly those methods (unknown names raise
        :class:`UnknownMethodError` before anything runs).
    seeds : iterable of int
        One run per seed (the method's ``seed`` option).
    betas : None, float or list of float
        Weight-decay values to sweep (``None``: the problem's beta, or the dataset's
        ``default_beta``). Same scale as the problem (``sum`` unless ``scale="mean"``).
    timeout : float or None
        Hard wall-clock limit per run in seconds (None: no limit). The method gets the soft
        option ``time_limit = 0.8 * timeout`` unless ``options`` sets one; a run still alive at
        ``timeout + grace`` is killed and recorded as ``timeout``.
    n_jobs : int
        Runs executed at the same time (joblib semantics: -1 means one per CPU).
    test : (X_test, y_test) or None
        Held-out data for ``test_mse`` (and ``accuracy``); default: the dataset's test split.
    options : dict, optional
        ``{method_name: {option: value}}``. Validated before anything runs
        (:class:`UnknownOptionError`, :class:`OptionError`). ``seed`` is set from ``seeds``.
    out : path, optional
        Directory for the journal ``results.jsonl`` (created if needed). Each finished run is
        appended at once; runs already journaled (same method, dataset, beta, seed) are reused,
        not re-run (``retry_failed=True`` re-runs journaled ``failed``/``timeout`` runs).
    progress : callable, optional
        Called as ``progress(record, n_done, n_total)`` after each run (from worker threads
        when ``n_jobs > 1``; calls are serialized). Runs reused from the journal are reported
        first, with ``n_done=None``.
    on_start : callable, optional
        Called as ``on_start({"method", "dataset", "beta", "seed"})`` when a run starts.
    dataset_name : str, optional
        Name recorded in the ``dataset`` field (default: the dataset's name, or ``"problem"``).
    loss, bias, scale : str, optional
        Problem conventions when ``prob_or_dataset`` is a Dataset (defaults: ``"logistic"`` for
        a classification dataset, else ``"squared"``; ``"regularized"``; ``"sum"``). With
        ``scale="mean"`` and no ``betas`` the beta is ``default_beta / n_train`` (same
        minimizers as the sum-scaled default).
    retry_failed : bool
        Re-run journaled runs whose status is ``failed`` or ``timeout``.
    grace : float
        Seconds past ``timeout`` before the hard kill.

    Returns
    -------
    Results
        One record per run, in the order beta, method, seed (see :data:`RECORD_KEYS`).

    Raises
    ------
    UnknownMethodError, UnknownOptionError, OptionError, ValueError, TypeError
        On bad arguments; raised before any run starts. Failures inside runs never raise.
    """
    problem, name, test = _resolve_problem(prob_or_dataset, betas, test, dataset_name,
                                           loss, bias, scale)
    beta_list = _resolve_betas(betas, problem)
    seed_list = _resolve_seeds(seeds)
    if timeout is not None:
        timeout = float(timeout)
        if not timeout > 0:
            raise ValueError(f"timeout must be > 0 seconds or None, got {timeout}")
    grace = float(grace)
    options = _resolve_options(options)
    method_names, mode = _resolve_methods(methods)
    test = _resolve_test(test, problem)

    # ---------------------------------------------------------------- plan
    plan, skipped = [], []
    problems = {b: (problem if b == problem.beta else problem.with_beta(b)) for b in beta_list}
    for b in beta_list:
        prob_b = problems[b]
        for m in method_names:
            cls = get_method(m)
            reason = cls.unsupported_reason(prob_b)
            if reason and mode == "supported":
                if (m, reason) not in skipped:
                    skipped.append((m, reason))
                continue
            for s in seed_list:
                plan.append(_Run(m, name, b, s, prob_b, reason))

    # ---------------------------------------------------------------- resume
    journal = None
    done: dict = {}
    if out is not None:
        out_dir = Path(out)
        out_dir.mkdir(parents=True, exist_ok=True)
        journal = out_dir / JOURNAL_NAME
        for rec in read_journal(journal):
            done[run_key(rec)] = rec
    records: dict = {}
    pending = []
    for run in plan:
        prev = done.get(run.key)
        if prev is not None and not (retry_failed and prev.get("status") in ("failed", "timeout")):
            records[run.key] = prev
        else:
            pending.append(run)

    # ---------------------------------------------------------------- execute
    lock = threading.Lock()
    networks: dict = {}
    counter = {"done": len(records)}
    total = len(plan)
    stop = threading.Event()

    if progress is not None:
        for run in plan:
            if run.key in records:
                progress(records[run.key], None, total)

    def execute(run: _Run) -> None:
        if stop.is_set():
            return
        if on_start is not None:
            with lock:
                on_start({"method": run.method, "dataset": run.dataset, "beta": run.beta,
                          "seed": run.seed})
        rec, network = _execute_run(run, options.get(run.method, {}), test, timeout, grace, stop)
        with lock:
            records[run.key] = rec
            if network is not None:
                networks[run.key] = network
            if journal is not None:
                with journal.open("a", encoding="utf-8") as fh:
                    fh.write(json.dumps(rec, default=_json_default) + "\n")
                    fh.flush()
            counter["done"] += 1
            if progress is not None:
                progress(rec, counter["done"], total)

    try:
        if n_jobs == 1 or len(pending) <= 1:
            for run in pending:
                execute(run)
        else:
            from joblib import Parallel, delayed
            Parallel(n_jobs=n_jobs, backend="threading")(delayed(execute)(r) for r in pending)
    except BaseException:
        stop.set()
        _kill_all()
        raise
    ordered = [records[r.key] for r in plan if r.key in records]
    return Results(ordered, skipped, networks)


# ====================================================================== argument handling
def _is_dataset(obj) -> bool:
    return all(hasattr(obj, a) for a in ("X_train", "y_train"))


def _resolve_problem(obj, betas, test, dataset_name, loss, bias, scale):
    if isinstance(obj, Problem):
        given = {k: v for k, v in (("loss", loss), ("bias", bias), ("scale", scale))
                 if v is not None and v != getattr(obj, k)}
        if given:
            raise ValueError(
                f"{', '.join(f'{k}={v!r}' for k, v in given.items())} conflicts with the Problem "
                f"given ({obj!r}); build the Problem with the conventions you want")
        return obj, dataset_name or "problem", test
    if _is_dataset(obj):
        scale = scale or "sum"
        if betas is None:
            beta = getattr(obj, "default_beta", None)
            if beta is None:
                raise ValueError(f"dataset {getattr(obj, 'name', '?')!r} has no default_beta; "
                                 "pass betas=[...]")
            if scale == "mean":  # default_beta is for the sum-scaled objective
                beta = beta / len(obj.y_train)
        else:
            beta = _resolve_betas(betas, None)[0]
        if loss is None:
            loss = getattr(obj, "loss", None) or (
                "logistic" if getattr(obj, "task", "regression") == "classification" else "squared")
        bias = bias or getattr(obj, "default_bias", None) or "regularized"
        prob = Problem(obj.X_train, obj.y_train, beta, loss=loss, bias=bias,
                       scale=scale)
        if test is None:
            Xt, yt = getattr(obj, "X_test", None), getattr(obj, "y_test", None)
            if Xt is not None and yt is not None and len(yt) > 0:
                test = (Xt, yt)
        return prob, dataset_name or getattr(obj, "name", None) or "dataset", test
    raise TypeError("compare() needs a cvxlens.Problem or a Dataset (with X_train, y_train), "
                    f"got {type(obj).__name__}")


def _resolve_betas(betas, problem) -> list:
    if betas is None:
        return [problem.beta]
    if isinstance(betas, (int, float, np.floating, np.integer)) and not isinstance(betas, bool):
        betas = [betas]
    out = []
    for b in betas:
        b = validate_beta(b)
        if b not in out:
            out.append(b)
    if not out:
        raise ValueError("betas is empty; give at least one beta > 0 or None")
    return out


def _resolve_seeds(seeds) -> list:
    if isinstance(seeds, (int, np.integer)) and not isinstance(seeds, bool):
        seeds = [seeds]
    out = []
    for s in seeds:
        if isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 0:
            raise ValueError(f"seeds must be non-negative integers, got {s!r}")
        if int(s) not in out:
            out.append(int(s))
    if not out:
        raise ValueError("seeds is empty; give at least one seed, e.g. seeds=[0]")
    return out


def _resolve_methods(methods):
    available = [m.name for m in list_methods(include_errors=False)]
    if methods is None:
        return available, "supported"
    if isinstance(methods, str):
        if methods == "all":
            return available, "all"
        methods = [m.strip() for m in methods.split(",") if m.strip()]
    out = []
    for m in methods:
        get_method(m)  # raises UnknownMethodError listing the available ones
        if m not in out:
            out.append(m)
    if not out:
        raise ValueError("methods is empty; give method names, 'all', or None")
    return out, "explicit"


def _resolve_options(options) -> dict:
    if options is None:
        return {}
    if not isinstance(options, dict):
        raise TypeError("options must be a dict {method_name: {option: value}}")
    out = {}
    for m, opts in options.items():
        cls = get_method(m)
        if not isinstance(opts, dict):
            raise TypeError(f"options[{m!r}] must be a dict of option values, got {type(opts).__name__}")
        if "seed" in opts:
            raise ValueError(f"options[{m!r}] sets 'seed'; use compare(seeds=[...]) instead")
        cls.validate_options(**opts)  # UnknownOptionError / OptionError now, not in a child
        out[m] = dict(opts)
    return out


def _resolve_test(test, problem):
    if test is None:
        return None
    try:
        Xt, yt = test
    except (TypeError, ValueError):
        raise TypeError("test must be a pair (X_test, y_test)") from None
    Xt = np.asarray(Xt, dtype=float)
    yt = np.asarray(yt, dtype=float).reshape(-1)
    if Xt.ndim != 2 or Xt.shape[1] != problem.d:
        raise ValueError(f"X_test must have shape (n_test, {problem.d}), got {Xt.shape}")
    if yt.shape[0] != Xt.shape[0]:
        raise ValueError(f"X_test has {Xt.shape[0]} rows but y_test has {yt.shape[0]} entries")
    if not (np.all(np.isfinite(Xt)) and np.all(np.isfinite(yt))):
        raise ValueError("X_test / y_test contain NaN or inf")
    if len(yt) == 0:
        return None
    return Xt, yt


# ====================================================================== one run
class _Run:
    __slots__ = ("method", "dataset", "beta", "seed", "problem", "unsupported")

    def __init__(self, method, dataset, beta, seed, problem, unsupported):
        self.method, self.dataset, self.beta, self.seed = method, dataset, float(beta), seed
        self.problem, self.unsupported = problem, unsupported

    @property
    def key(self):
        return (self.method, self.dataset, self.beta, self.seed)


def _base_record(run: _Run, timeout) -> dict:
    from . import __version__
    p = run.problem
    return {
        "method": run.method, "dataset": run.dataset, "beta": run.beta, "seed": run.seed,
        "status": None, "objective": None, "lower_bound": None, "bound_kind": None,
        "train_mse": None, "test_mse": None, "accuracy": None, "train_accuracy": None,
        "n_neurons": None, "depth": get_method(run.method).capabilities.depth, "time_s": 0.0,
        "n_iter": None, "error": None, "message": "",
        "loss": p.loss, "bias": p.bias, "scale": p.scale, "n": p.n, "d": p.d,
        "timeout": timeout, "options": {}, "history": [], "info": {},
        "cvxlens_version": __version__, "finished_at": None,
    }


def _execute_run(run: _Run, user_opts: dict, test, timeout, grace, stop):
    """Run one (method, beta, seed) and return (record, network or None). Never raises."""
    rec = _base_record(run, timeout)
    opts = dict(user_opts)
    opts["seed"] = run.seed
    if timeout is not None:
        soft = SOFT_FRACTION * timeout
        opts["time_limit"] = min(float(opts["time_limit"]), soft) if opts.get("time_limit") else soft
    rec["options"] = _jsonable(opts)
    network = None
    if run.unsupported:
        rec.update(status="unsupported", error=run.unsupported, message=run.unsupported)
    else:
        try:
            outcome, wall = _run_isolated(run.problem, run.method, opts, test, timeout, grace, stop)
        except Exception as exc:  # the runner's own trouble (e.g. cannot fork): still a record
            outcome, wall = ("failed", f"could not start the run: {type(exc).__name__}: {exc}",
                             traceback.format_exc()), 0.0
        kind = outcome[0]
        rec["time_s"] = wall
        if kind == "ok":
            _, fields, network = outcome
            rec.update(fields)
        elif kind == "unsupported":
            rec.update(status="unsupported", error=outcome[1], message=outcome[1])
        elif kind == "timeout":
            rec.update(status="timeout", error=outcome[1], message=outcome[1])
        else:
            rec.update(status="failed", error=outcome[1], message=outcome[1])
            if len(outcome) > 2 and outcome[2]:
                rec["info"] = {"traceback": outcome[2]}
    rec["finished_at"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    return rec, network


def _mp_context():
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


def _run_isolated(problem, method, opts, test, timeout, grace, stop):
    """Run ``cvxlens.solve`` in a child process; return (outcome, wall seconds).

    outcome is ("ok", fields, network) | ("failed", msg, tb) | ("unsupported", msg)
    | ("timeout", msg).
    """
    ctx = _mp_context()
    recv_end, send_end = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child_main, args=(send_end, problem, method, opts, test),
                       name=f"cvxlens-{method}")
    with warnings.catch_warnings():
        # Python >= 3.12 warns about fork() in a multi-threaded process (n_jobs > 1 drives
        # children from threads); the child only runs the method and exits.
        warnings.simplefilter("ignore", DeprecationWarning)
        t0 = time.perf_counter()
        proc.start()
    send_end.close()
    with _ACTIVE_LOCK:
        _ACTIVE.add(proc)
    hard = None if timeout is None else timeout + grace
    outcome = None
    try:
        while outcome is None:
            if recv_end.poll(0.1):
                try:
                    outcome = recv_end.recv()
                except (EOFError, OSError):
                    outcome = _died(proc)
                break
            if not proc.is_alive():
                if recv_end.poll(0):
                    try:
                        outcome = recv_end.recv()
                        break
                    except (EOFError, OSError):
                        pass
                outcome = _died(proc)
                break
            if stop.is_set():
                outcome = ("failed", "interrupted")
                break
            if hard is not None and time.perf_counter() - t0 > hard:
                outcome = ("timeout", f"killed after {hard:.3g} s: no result within the timeout "
                                      f"of {timeout:.3g} s (the soft time_limit was "
                                      f"{opts.get('time_limit'):.3g} s)")
                break
    finally:
        wall = time.perf_counter() - t0
        if outcome is not None and outcome[0] != "timeout":
            proc.join(2.0)
        _kill(proc)
        recv_end.close()
        with _ACTIVE_LOCK:
            _ACTIVE.discard(proc)
    if outcome[0] == "ok" and outcome[1].get("time_s"):
        wall = outcome[1]["time_s"]
    return outcome, wall


def _died(proc):
    proc.join(1.0)
    code = proc.exitcode
    if code is not None and code < 0:
        try:
            sig = signal.Signals(-code).name
        except ValueError:
            sig = str(-code)
        return ("failed", f"the run's process died from signal {sig} (e.g. a crash in native "
                          "code or the out-of-memory killer)", None)
    return ("failed", f"the run's process exited with code {code} without a result", None)


def _kill(proc) -> None:
    """Kill the child and every process it started (it leads its own process group)."""
    if hasattr(os, "killpg") and proc.pid is not None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError, OSError):
            pass
    if proc.is_alive():
        proc.kill()
    proc.join(5.0)


def _kill_all() -> None:
    with _ACTIVE_LOCK:
        procs = list(_ACTIVE)
    for p in procs:
        _kill(p)


# ====================================================================== inside the child
def _child_main(conn, problem, method, opts, test):  # pragma: no cover - runs in a child
    if hasattr(os, "setpgrp"):
        try:
            os.setpgrp()  # so the parent can kill the whole tree (solvers' subprocesses)
        except OSError:
            pass
    _die_with_parent()
    try:  # keep stdout clean for `cvxlens compare --json`: solver chatter goes to stderr
        sys.stdout.flush()
        os.dup2(2, 1)
    except (OSError, ValueError, AttributeError):
        pass
    sys.stdout = sys.stderr
    from .api import solve
    try:
        sol = solve(problem, method, **opts)
        fields = _solution_fields(sol, problem, test)
        payload = ("ok", fields, sol.network)
    except (UnsupportedProblemError, ProblemTooLargeError) as exc:
        payload = ("unsupported", f"{type(exc).__name__}: {exc}")
    except BaseException as exc:  # noqa: BLE001 - every failure becomes a record
        msg = f"{type(exc).__name__}: {exc}"
        payload = ("failed", msg, traceback.format_exc(limit=20))
    try:
        conn.send(payload)
    except Exception:  # the network could not be pickled: send the record alone
        if payload[0] == "ok":
            conn.send(("ok", payload[1], None))
        else:
            conn.send(("failed", str(payload[1]), None))
    conn.close()


def _die_with_parent():  # pragma: no cover - runs in a child
    """A child that leads its own process group does not get the terminal's Ctrl-C or a kill of
    the parent: make it exit when the parent dies (Linux prctl, plus a polling thread)."""
    parent = os.getppid()
    if sys.platform.startswith("linux"):
        try:
            import ctypes
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
        except Exception:
            pass

    def watch():
        while True:
            time.sleep(0.5)
            if os.getppid() != parent:
                os._exit(3)

    threading.Thread(target=watch, name="cvxlens-parent-watch", daemon=True).start()


def _finite(v):
    if v is None:
        return None
    v = float(v)
    return v if math.isfinite(v) else None


def _solution_fields(sol, problem, test) -> dict:
    """Record fields of a Solution (computed in the child)."""
    f = {
        "status": sol.status,
        "objective": _finite(sol.objective),
        "lower_bound": _finite(sol.lower_bound),
        "bound_kind": sol.bound_kind if _finite(sol.lower_bound) is not None else None,
        "time_s": float(sol.time_s or 0.0),
        "n_iter": int(sol.n_iter or 0),
        "message": sol.message or "",
        "options": _jsonable(sol.options),
        "history": [[_finite(t), _finite(v)] for t, v in (sol.history or [])],
        "info": _jsonable(sol.info),
        "n_neurons": sol.n_neurons,
        "error": (sol.message or sol.status) if sol.status in ("failed", "unsupported") else None,
    }
    net = sol.network
    if net is not None and hasattr(net, "predict"):
        classification = problem.loss in ("logistic", "hinge")
        try:
            pred = np.asarray(net.predict(problem.X), dtype=float).reshape(-1)
            f["train_mse"] = _finite(np.mean((pred - problem.y) ** 2))
            if classification:
                f["train_accuracy"] = float(np.mean(np.where(pred >= 0, 1.0, -1.0) == problem.y))
            if test is not None:
                Xt, yt = test
                pt = np.asarray(net.predict(Xt), dtype=float).reshape(-1)
                f["test_mse"] = _finite(np.mean((pt - yt) ** 2))
                if classification:
                    f["accuracy"] = float(np.mean(np.where(pt >= 0, 1.0, -1.0) == yt))
            elif classification:
                f["accuracy"] = None
        except Exception as exc:  # a predictor that cannot predict: keep the rest
            f["message"] = (f["message"] + "; " if f["message"] else "") + \
                f"predict failed: {type(exc).__name__}: {exc}"
    return f


def _jsonable(obj):
    """A JSON-safe copy: numpy scalars/arrays to Python, non-finite floats to None, other
    objects to their repr."""
    if obj is None or isinstance(obj, (str, bool, int)):
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, np.generic):
        return _jsonable(obj.item())
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set, frozenset)):
        return [_jsonable(v) for v in obj]
    return repr(obj)
