"""The ``cvxlens`` command line: a thin layer over the Python API.

    cvxlens methods [--json]
    cvxlens datasets [--json]
    cvxlens compare [--dataset NAME | --csv FILE --target COL] [--methods a,b,c | all]
                    [--beta B[,B2,...]] [--seeds 0,1,2] [--timeout 60s] [--jobs N]
                    [--out DIR] [--json] [--plot] [--option METHOD.KEY=VALUE ...]
                    [--loss L] [--bias B] [--scale S] [--retry-failed]

Progress and tables go to stderr, ``--json`` output to stdout.

Exit codes of ``cvxlens compare``:

- 0: every run finished (status ``optimal``, ``converged`` or ``max_iter``). Methods left out
  because they do not support the problem (default method selection, or ``--methods all``) do
  not count.
- 1: some run ended ``failed`` or ``timeout``, a method named in ``--methods`` does not support
  the problem (``unsupported``), or no installed method supports the problem. Results are
  still printed and written.
- 2: usage error (bad arguments, unknown method/option/dataset, unreadable CSV, bad beta):
  a one-line message on stderr, no traceback.
"""

from __future__ import annotations

import argparse
import ast
import json
import math
import re
import sys
from pathlib import Path

__all__ = ["main", "build_parser", "parse_timeout", "parse_option"]

EXIT_OK, EXIT_RUNS_FAILED, EXIT_USAGE = 0, 1, 2
DEFAULT_DATASET = "ecg"


class UsageError(Exception):
    """A bad command line (exit code 2)."""


# ====================================================================== value parsers
def parse_timeout(text: str) -> float | None:
    """``"60"``, ``"60s"``, ``"2m"``, ``"1.5h"`` -> seconds; ``"none"``/``"inf"`` -> None."""
    t = str(text).strip().lower()
    if t in ("none", "inf", "off"):
        return None
    m = re.fullmatch(r"([0-9]*\.?[0-9]+(?:e[+-]?[0-9]+)?)\s*(s|sec|m|min|h)?", t)
    if not m:
        raise UsageError(f"bad --timeout {text!r}: use seconds like 60, 60s, 2m, 1h or none")
    value = float(m.group(1)) * {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, None: 1}[m.group(2)]
    if not value > 0:
        raise UsageError(f"bad --timeout {text!r}: must be > 0 (or none for no limit)")
    return value


def parse_betas(text: str) -> list[float]:
    out = []
    for part in str(text).split(","):
        part = part.strip()
        if not part:
            continue
        try:
            b = float(part)
        except ValueError:
            raise UsageError(f"bad --beta {part!r}: expected numbers > 0 like 1e-3 or 1e-3,1e-2") from None
        if not math.isfinite(b) or b <= 0:
            raise UsageError(f"bad --beta {part!r}: beta must be a finite number > 0")
        out.append(b)
    if not out:
        raise UsageError("--beta needs at least one value, e.g. --beta 1e-3")
    return out


MAX_SEEDS = 1000
TEST_FRACTION_DEFAULT = 0.2


def parse_seeds(text: str) -> list[int]:
    out = []
    for part in str(text).split(","):
        part = part.strip()
        if not part:
            continue
        m = re.fullmatch(r"(\d+)(?:-|\.\.)(\d+)", part)
        if m:  # a range "0-4" or "0..4" (inclusive)
            lo, hi = int(m.group(1)), int(m.group(2))
            if hi < lo:
                raise UsageError(f"bad --seeds range {part!r}: end before start")
            if hi - lo + 1 + len(out) > MAX_SEEDS:
                raise UsageError(f"--seeds {part!r} asks for {hi - lo + 1:,} seeds; at most "
                                 f"{MAX_SEEDS:,} runs per method (each is its own process)")
            out += list(range(lo, hi + 1))
            continue
        if not part.isdigit():
            raise UsageError(f"bad --seeds {part!r}: expected non-negative integers like 0,1,2 or 0-4")
        out.append(int(part))
    if not out:
        raise UsageError("--seeds needs at least one seed, e.g. --seeds 0")
    return out


def _parse_value(text: str):
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def parse_option(text: str) -> tuple[str, str, object]:
    """``"lasso.patterns=200"`` -> ``("lasso", "patterns", 200)``. Values are read as JSON
    (numbers, true/false/null, lists like [0.01,0.1]), then as Python literals, else as text."""
    m = re.fullmatch(r"\s*([A-Za-z0-9_\-]+)\.([A-Za-z0-9_]+)\s*=(.*)", text, flags=re.S)
    if not m:
        raise UsageError(f"bad --option {text!r}: use METHOD.KEY=VALUE, e.g. lasso.patterns=200")
    return m.group(1), m.group(2), _parse_value(m.group(3).strip())


# ====================================================================== parser
def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    p = argparse.ArgumentParser(
        prog="cvxlens",
        description="Train ReLU networks through convex formulations and compare them on one "
                    "objective J = loss + (beta/2)(||W||_F^2 + ||alpha||^2).")
    p.add_argument("--version", action="version", version=f"cvxlens {__version__}")
    sub = p.add_subparsers(dest="command", metavar="{methods,datasets,compare}")

    m = sub.add_parser("methods", help="list installed methods (and plugins that failed to load)")
    m.add_argument("--json", action="store_true", help="print JSON on stdout")

    d = sub.add_parser("datasets", help="list built-in datasets")
    d.add_argument("--json", action="store_true", help="print JSON on stdout")

    c = sub.add_parser(
        "compare", help="run methods on a dataset and compare J, lower bounds, errors",
        description="Run methods on one problem, each run in its own process with a timeout. "
                    "Default: every installed method that supports the problem, on the bundled "
                    "ECG data with its default beta.",
        epilog="Exit codes: 0 every run finished; 1 some run failed, timed out, or a method "
               "named in --methods does not support the problem; 2 usage error.")
    src = c.add_mutually_exclusive_group()
    src.add_argument("--dataset", default=None, metavar="NAME",
                     help=f"built-in dataset (see `cvxlens datasets`; default {DEFAULT_DATASET})")
    src.add_argument("--csv", default=None, metavar="FILE", help="your own data: a CSV with a header")
    c.add_argument("--target", default=None, metavar="COL", help="target column of --csv")
    c.add_argument("--test-fraction", type=float, default=TEST_FRACTION_DEFAULT, metavar="F",
                   help="share of --csv rows held out for testing (default 0.2)")
    c.add_argument("--methods", default=None, metavar="a,b,c|all",
                   help="methods to run (default: every installed method that supports the "
                        "problem; 'all' also lists unsupported ones)")
    c.add_argument("--beta", default=None, metavar="B[,B2,...]",
                   help="weight decay beta (several: a sweep); default: the dataset's default_beta")
    c.add_argument("--seeds", default="0", metavar="0,1,2", help="seeds (default 0); ranges like 0-4")
    c.add_argument("--timeout", default="60s", metavar="60s",
                   help="wall-clock limit per run (60, 60s, 2m, none); default 60s")
    c.add_argument("--jobs", type=int, default=1, metavar="N", help="runs in parallel (default 1)")
    c.add_argument("--out", default=None, metavar="DIR",
                   help="write results.jsonl (journal; re-running resumes), results.json and "
                        "results.csv here")
    c.add_argument("--json", action="store_true", help="print the records as JSON on stdout")
    c.add_argument("--plot", action="store_true",
                   help="save figures (needs matplotlib: pip install 'cvxlens[plot]') to "
                        "DIR/figures (or ./cvxlens-figures without --out)")
    c.add_argument("--option", action="append", default=[], metavar="METHOD.KEY=VALUE",
                   help="method option, repeatable, e.g. --option lasso.patterns=200")
    c.add_argument("--loss", default=None, choices=("squared", "logistic", "hinge"),
                   help="loss (default: squared, logistic for classification data)")
    c.add_argument("--bias", default=None, choices=("none", "regularized", "free"),
                   help="bias convention (default: the data set's, regularized for most; "
                        "free for the 1-D sets)")
    c.add_argument("--scale", default="sum", choices=("sum", "mean"),
                   help="sum (default) or mean of the loss over samples")
    c.add_argument("--retry-failed", action="store_true",
                   help="with --out: re-run journaled runs that failed or timed out")
    c.add_argument("--quiet", "-q", action="store_true", help="no progress bar or table")
    return p


# ====================================================================== commands
def _console():
    from rich.console import Console

    con = Console(stderr=True)
    if not con.is_terminal:
        con = Console(stderr=True, width=160)
    return con


def cmd_methods(args) -> int:
    from .method import method_info_dict
    from .plugins import list_methods

    infos = list_methods()
    if args.json:
        out = []
        for mi in infos:
            if mi.error is None:
                d = method_info_dict(mi.cls)
                d.update(plugin=mi.plugin, error=None)
            else:
                d = {"name": mi.name, "plugin": mi.plugin, "error": mi.error}
            out.append(d)
        print(json.dumps(out, indent=1))
        return EXIT_OK
    from rich.table import Table
    from rich.text import Text

    t = Table(title="cvxlens methods")
    for col in ("method", "plugin", "losses", "biases", "depth", "finite", "bound", "d", "summary"):
        t.add_column(col)
    for mi in infos:
        if mi.error is not None:
            continue
        cap = mi.capabilities
        t.add_row(*(Text(str(v)) for v in (
            mi.name, mi.plugin, ",".join(cap.losses), ",".join(cap.biases), cap.depth,
            "yes" if cap.finite_weights else "no", "yes" if cap.lower_bound else "no",
            "any" if cap.input_dim is None else cap.input_dim, mi.summary)))
    con = _console()
    con.print(t)
    broken = [mi for mi in infos if mi.error is not None]
    from rich.markup import escape

    for mi in broken:
        con.print(f"[red]broken plugin[/red] {escape(mi.name)} ({escape(mi.plugin)}): "
                  f"{escape(mi.error)}", markup=True, highlight=False)
    if not sys.stdout.isatty():  # piped: the names, one a line, for scripts
        for mi in infos:
            print(mi.name if mi.error is None else f"{mi.name}\tERROR: {mi.error}")
    return EXIT_OK


def cmd_datasets(args) -> int:
    from .datasets import list_datasets

    infos = list_datasets()
    if args.json:
        print(json.dumps([info._asdict() for info in infos], indent=1))
        return EXIT_OK
    from rich.table import Table
    from rich.text import Text

    t = Table(title="cvxlens datasets")
    for col in ("name", "task", "available", "description"):
        t.add_column(col)
    for info in infos:
        t.add_row(*(Text(v) for v in (info.name, info.task,
                                      "yes" if info.available else f"no: {info.note}",
                                      info.description)))
    _console().print(t)
    if not sys.stdout.isatty():
        for info in infos:
            print(info.name)
    return EXIT_OK


def _load_data(args):
    from .datasets import Dataset, load_dataset

    if args.target is not None and args.csv is None:
        raise UsageError("--target goes with --csv FILE")
    if args.csv is None and args.test_fraction != TEST_FRACTION_DEFAULT:
        raise UsageError("--test-fraction goes with --csv FILE (built-in data sets have fixed splits)")
    if args.csv is not None:
        if args.target is None:
            raise UsageError("--csv needs --target COLUMN (the column to predict)")
        path = Path(args.csv)
        if not path.is_file():
            raise UsageError(f"--csv {args.csv}: no such file")
        if not 0 <= args.test_fraction < 1:
            raise UsageError(f"--test-fraction must be in [0, 1), got {args.test_fraction}")
        try:
            return Dataset.from_csv(path, args.target, test_fraction=args.test_fraction)
        except (ValueError, TypeError, OSError, KeyError) as exc:
            raise UsageError(f"cannot use --csv {args.csv}: {exc}") from None
    try:
        return load_dataset(args.dataset or DEFAULT_DATASET)
    except (ValueError, KeyError, ImportError, OSError) as exc:
        raise UsageError(str(exc).strip("'\"")) from None


def cmd_compare(args) -> int:
    from . import runner
    from .plugins import list_methods
    from .solution import FINISHED_STATUSES

    timeout = parse_timeout(args.timeout)
    betas = parse_betas(args.beta) if args.beta is not None else None
    seeds = parse_seeds(args.seeds)
    if args.jobs == 0 or args.jobs < -1:
        raise UsageError(f"--jobs must be a positive integer or -1 (all cores), got {args.jobs}")
    options: dict = {}
    for text in args.option:
        meth, key, value = parse_option(text)
        options.setdefault(meth, {})[key] = value
    methods = None
    explicit = False
    if args.methods is not None:
        if args.methods.strip() == "all":
            methods = "all"
        else:
            methods = [m.strip() for m in args.methods.split(",") if m.strip()]
            if not methods:
                raise UsageError("--methods needs names, e.g. --methods lasso,adam (or all)")
            explicit = True
    if args.plot:
        from .plotting import require_matplotlib
        try:
            require_matplotlib()
        except ImportError as exc:
            raise UsageError(str(exc)) from None
    ds = _load_data(args)
    if methods is not None and methods != "all":
        # options for a method not selected are a mistake worth reporting
        stray = sorted(set(options) - set(methods))
        if stray:
            raise UsageError(f"--option for {', '.join(stray)}, which is not in --methods")

    con = _console()
    quiet = args.quiet
    progress_bar = None
    if not quiet:
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                                   TimeElapsedColumn)
        progress_bar = Progress(TextColumn("[bold]compare[/bold] {task.description}"), BarColumn(),
                                MofNCompleteColumn(), TimeElapsedColumn(), console=con,
                                transient=False)
    task_ids = {}
    running: list = []

    def label(r):
        return f"{r['method']} (beta={r['beta']:.3g}, seed={r['seed']})"

    def on_progress(rec, done, total):
        if progress_bar is None:
            return
        if "t" not in task_ids:
            task_ids["t"] = progress_bar.add_task("", total=total)
        progress_bar.update(task_ids["t"], total=total)
        if label(rec) in running:
            running.remove(label(rec))
        desc = f"{label(rec)}: {rec['status']}" + (" [journal]" if done is None else "")
        if running:
            desc = "running " + ", ".join(running)
        progress_bar.update(task_ids["t"], advance=1, description=desc)

    def on_start(run):
        if progress_bar is None:
            return
        if "t" not in task_ids:
            task_ids["t"] = progress_bar.add_task("", total=None)
        running.append(label(run))
        progress_bar.update(task_ids["t"], description="running " + ", ".join(running))

    try:
        if progress_bar is not None:
            progress_bar.start()
        try:
            results = runner.compare(
                ds, methods=methods, seeds=seeds, betas=betas, timeout=timeout, n_jobs=args.jobs,
                options=options, out=args.out, progress=on_progress, on_start=on_start,
                loss=args.loss,
                bias=args.bias, scale=args.scale, retry_failed=args.retry_failed)
        finally:
            if progress_bar is not None:
                progress_bar.stop()
    except (ValueError, TypeError, KeyError) as exc:
        raise UsageError(_one_line(exc)) from None
    except OSError as exc:  # --out not creatable / writable (runs themselves never raise)
        raise UsageError(f"cannot write to --out {args.out}: {exc.strerror or exc}") from None

    if args.out is not None:
        out = Path(args.out)
        results.to_json(out / "results.json")
        results.to_csv(out / "results.csv")
    if not quiet:
        bias = args.bias or getattr(ds, "default_bias", "regularized")
        con.print(results.table(title=f"cvxlens compare: {getattr(ds, 'name', 'data')} "
                                      f"({bias} bias, {args.scale} loss)"))
        for m, reason in results.skipped:
            con.print(f"skipped {m}: {reason}", highlight=False, markup=False)
        for line in results.summary_lines():
            con.print(line, highlight=False, markup=False)
        if args.out is not None:
            con.print(f"results: {Path(args.out) / runner.JOURNAL_NAME} (journal), results.json, "
                      "results.csv", highlight=False)
    if args.json:
        print(results.to_json(indent=1))
    if args.plot:
        from .plotting import plot_results
        fig_dir = Path(args.out) / "figures" if args.out is not None else Path("cvxlens-figures")
        try:
            files = plot_results(results, fig_dir)
        except Exception as exc:  # a figure problem must not hide the results
            con.print(f"plotting failed: {type(exc).__name__}: {exc}", markup=False)
            return EXIT_RUNS_FAILED
        if not quiet:
            con.print(f"figures: {', '.join(map(str, files))}", highlight=False, markup=False)

    if len(results) == 0:
        names = [mi.name for mi in list_methods(include_errors=False)]
        con.print(f"no installed method supports this problem (installed: "
                  f"{', '.join(names) or 'none'})", markup=False)
        return EXIT_RUNS_FAILED
    bad = [r for r in results if r["status"] in ("failed", "timeout")
           or (r["status"] == "unsupported" and explicit)
           or (r["status"] not in FINISHED_STATUSES and r["status"] != "unsupported")]
    return EXIT_RUNS_FAILED if bad else EXIT_OK


def _one_line(exc) -> str:
    text = str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)
    return " ".join(text.split())


def main(argv=None) -> int:
    """Entry point of the ``cvxlens`` command; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)  # argparse exits with 2 on its own usage errors
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        if args.command == "methods":
            return cmd_methods(args)
        if args.command == "datasets":
            return cmd_datasets(args)
        return cmd_compare(args)
    except UsageError as exc:
        print(f"cvxlens {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("cvxlens: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # python -m cvxlens.cli
    sys.exit(main())
