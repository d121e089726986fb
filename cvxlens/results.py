"""``Results``: the tidy, long-format output of :func:`cvxlens.compare`.

One record (a plain, JSON-serializable dict) per run ``(method, dataset, beta, seed)``. The keys
are fixed by DESIGN.md; see :data:`RECORD_KEYS`.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Iterable, Iterator

from .solution import FINISHED_STATUSES

__all__ = ["Results", "RECORD_KEYS", "run_key", "read_journal"]

#: Keys of every record, in table/CSV column order.
RECORD_KEYS = (
    "method", "dataset", "beta", "seed", "status", "objective", "lower_bound", "bound_kind",
    "train_mse", "test_mse", "accuracy", "train_accuracy", "n_neurons", "depth", "time_s", "n_iter",
    "error", "message", "loss", "bias", "scale", "n", "d", "timeout", "options", "history",
    "info", "cvxlens_version", "finished_at",
)

#: Keys whose values are structured (JSON-encoded in CSV).
_STRUCTURED = ("options", "history", "info")
_EMPTY_STR_KEYS = ("message",)
_INT_KEYS = ("seed", "n_neurons", "depth", "n_iter", "n", "d")
_FLOAT_KEYS = ("beta", "objective", "lower_bound", "train_mse", "test_mse", "accuracy",
               "train_accuracy", "time_s", "timeout")


def run_key(record: dict) -> tuple:
    """The identity of a run: ``(method, dataset, beta, seed)``."""
    beta = record.get("beta")
    return (record.get("method"), record.get("dataset"),
            None if beta is None else float(beta), record.get("seed"))


def read_journal(path) -> list[dict]:
    """Records from a JSON-lines journal (``results.jsonl``); unreadable lines are skipped
    (a run killed while writing leaves at most one truncated last line)."""
    path = Path(path)
    out = []
    if not path.exists():
        return out
    with path.open("r", encoding="utf-8") as fh:
        for line in fh:
            line = line.strip()
            if not line:
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(rec, dict) and "method" in rec:
                out.append(rec)
    return out


def _fmt(v, spec=".4g") -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        return format(v, spec)
    return str(v)


class Results:
    """Records of a comparison, one dict per run.

    Attributes
    ----------
    records : list of dict
        One per run, keys :data:`RECORD_KEYS` (``accuracy``/``train_accuracy`` are None for
        regression). ``objective`` is J of the returned network evaluated by
        ``Problem.objective`` (None for a kernel predictor or a run without a network); ``depth``
        is the method's network depth: J of a depth-3 method is the path-regularized objective
        (survey eq. 32), a different problem, so bounds and gaps never mix depths;
        ``train_mse``/``test_mse`` are ``mean((f(X) - y)^2)`` (no 1/2); ``history`` is a list of
        ``[seconds, J]`` pairs; ``error`` is the failure message (None when the run finished).
    skipped : list of (method, reason)
        Methods left out because they do not support the problem (only when the caller did
        not name them).
    networks : dict
        ``run_key -> network`` for runs of this session (in memory only; not serialized).
    """

    def __init__(self, records: Iterable[dict] = (), skipped=(), networks=None):
        self.records = [dict(r) for r in records]
        self.skipped = list(skipped)
        self.networks = dict(networks or {})

    # ---------------------------------------------------------------- container protocol
    def __len__(self) -> int:
        return len(self.records)

    def __iter__(self) -> Iterator[dict]:
        return iter(self.records)

    def __getitem__(self, i):
        return self.records[i]

    def __repr__(self) -> str:
        counts = {}
        for r in self.records:
            counts[r.get("status")] = counts.get(r.get("status"), 0) + 1
        return f"Results({len(self.records)} runs: {counts})"

    # ---------------------------------------------------------------- queries
    def filter(self, **criteria) -> "Results":
        """Records whose fields equal the given values, e.g. ``res.filter(method="lasso")``.
        A value may also be a tuple/list/set of accepted values."""
        def ok(r):
            for k, v in criteria.items():
                if isinstance(v, (tuple, list, set, frozenset)):
                    if r.get(k) not in v:
                        return False
                elif r.get(k) != v:
                    return False
            return True
        recs = [r for r in self.records if ok(r)]
        keys = {run_key(r) for r in recs}
        return Results(recs, self.skipped, {k: n for k, n in self.networks.items() if k in keys})

    @property
    def all_finished(self) -> bool:
        """True when every run ended with a status in ``FINISHED_STATUSES``."""
        return all(r.get("status") in FINISHED_STATUSES for r in self.records)

    def unfinished(self) -> list[dict]:
        """Records whose status is not in ``FINISHED_STATUSES`` (failed, timeout, unsupported)."""
        return [r for r in self.records if r.get("status") not in FINISHED_STATUSES]

    def best_lower_bound(self, dataset=None, beta=None, kind: str = "global",
                         depth: int = 2) -> float | None:
        """Largest lower bound of the given kind (default ``global``: certified for min J) over
        the runs matching ``dataset``/``beta`` (None matches all) whose networks have ``depth``
        layers (records without a depth count as 2); None if there is none.

        A ``subsampled`` bound is only valid for its own sampled-pattern program; the maximum of
        such bounds is reported for information only and certifies nothing about min J.
        """
        vals = [r["lower_bound"] for r in self._match(dataset, beta, depth)
                if r.get("lower_bound") is not None and r.get("bound_kind") == kind
                and r.get("status") not in ("failed", "unsupported")]
        return max(vals) if vals else None

    def best_objective(self, dataset=None, beta=None, depth: int = 2) -> float | None:
        """Smallest J of a returned network over the matching runs (None if there is none)."""
        vals = [r["objective"] for r in self._match(dataset, beta, depth)
                if r.get("objective") is not None and r.get("status") not in ("failed", "unsupported")]
        return min(vals) if vals else None

    def gap(self, record: dict) -> float | None:
        """Relative gap ``(J - LB*) / max(1, |LB*|)`` of a record to the best global lower bound
        of its (dataset, beta, depth); None when J or a global bound is missing. Certified: the
        true relative suboptimality is at most this."""
        if record.get("objective") is None:
            return None
        lb = self.best_lower_bound(record.get("dataset"), record.get("beta"),
                                   depth=record.get("depth") or 2)
        if lb is None:
            return None
        return (record["objective"] - lb) / max(1.0, abs(lb))

    def summary(self, by=("method", "dataset", "beta"),
                metrics=("objective", "test_mse", "train_mse", "time_s", "n_neurons")) -> list[dict]:
        """Spread over seeds: one dict per group of ``by`` with ``n_runs``, ``n_finished``
        (status in ``FINISHED_STATUSES``), ``statuses`` ({status: count}) and, for each metric,
        ``<metric>_mean``, ``<metric>_std`` (population), ``<metric>_min``, ``<metric>_max`` over
        the runs where it is not None (None when no run has it). Groups keep first-seen order."""
        groups: dict = {}
        for r in self.records:
            groups.setdefault(tuple(r.get(k) for k in by), []).append(r)
        out = []
        for key, recs in groups.items():
            row = dict(zip(by, key))
            row["n_runs"] = len(recs)
            row["n_finished"] = sum(r.get("status") in FINISHED_STATUSES for r in recs)
            statuses: dict = {}
            for r in recs:
                statuses[r.get("status")] = statuses.get(r.get("status"), 0) + 1
            row["statuses"] = statuses
            for m in metrics:
                vals = [float(r[m]) for r in recs if r.get(m) is not None]
                if vals:
                    mean = sum(vals) / len(vals)
                    row[f"{m}_mean"] = mean
                    row[f"{m}_std"] = math.sqrt(sum((v - mean) ** 2 for v in vals) / len(vals))
                    row[f"{m}_min"], row[f"{m}_max"] = min(vals), max(vals)
                else:
                    for suffix in ("mean", "std", "min", "max"):
                        row[f"{m}_{suffix}"] = None
            out.append(row)
        return out

    def _match(self, dataset, beta, depth=None):
        for r in self.records:
            if depth is not None and (r.get("depth") or 2) != depth:
                continue
            if dataset is not None and r.get("dataset") != dataset:
                continue
            if beta is not None and (r.get("beta") is None or
                                     not math.isclose(float(r["beta"]), float(beta), rel_tol=1e-12)):
                continue
            yield r

    # ---------------------------------------------------------------- output
    def to_json(self, path=None, indent: int | None = 1) -> str:
        """Write the records as a JSON list to ``path`` (if given); return the JSON text."""
        text = json.dumps(self.records, indent=indent, default=_json_default, allow_nan=True)
        if path is not None:
            Path(path).write_text(text + "\n", encoding="utf-8")
        return text

    def to_jsonl(self, path) -> None:
        """Write the records as JSON lines (the journal format of ``compare(out=...)``)."""
        with Path(path).open("w", encoding="utf-8") as fh:
            for r in self.records:
                fh.write(json.dumps(r, default=_json_default) + "\n")

    def to_csv(self, path) -> None:
        """Write one row per record; ``options``, ``history`` and ``info`` as JSON text."""
        keys = list(RECORD_KEYS)
        for r in self.records:
            keys += [k for k in r if k not in keys]
        with Path(path).open("w", encoding="utf-8", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=keys)
            w.writeheader()
            for r in self.records:
                row = {}
                for k in keys:
                    v = r.get(k)
                    if k in _STRUCTURED or isinstance(v, (dict, list)):
                        row[k] = json.dumps(v, default=_json_default)
                    elif v is None:
                        row[k] = ""
                    else:
                        row[k] = v
                w.writerow(row)

    @classmethod
    def from_json(cls, path) -> "Results":
        """Read records written by :meth:`to_json` (a JSON list) or a JSON-lines journal."""
        text = Path(path).read_text(encoding="utf-8")
        stripped = text.lstrip()
        if stripped.startswith("["):
            return cls(json.loads(text))
        return cls(read_journal(path))

    @classmethod
    def from_csv(cls, path) -> "Results":
        """Read records written by :meth:`to_csv` (types restored)."""
        out = []
        with Path(path).open("r", encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                rec = {}
                for k, v in row.items():
                    if k in _STRUCTURED:
                        rec[k] = json.loads(v) if v else None
                    elif v == "":
                        rec[k] = "" if k in _EMPTY_STR_KEYS else None
                    elif k in _INT_KEYS:
                        rec[k] = int(v)
                    elif k in _FLOAT_KEYS:
                        rec[k] = float(v)
                    else:
                        rec[k] = v
                out.append(rec)
        return cls(out)

    def table(self, title: str | None = "cvxlens compare"):
        """A ``rich.table.Table``: method, status, J, lower bound and its kind, certified gap
        (to the best global bound of the same data, beta and depth), train/test MSE (accuracy
        for classification), neurons, seconds. Dataset, beta, seed and depth columns appear
        when they vary."""
        from rich.markup import escape
        from rich.table import Table

        classification = any(r.get("accuracy") is not None or r.get("train_accuracy") is not None
                             for r in self.records)
        multi_ds = len({r.get("dataset") for r in self.records}) > 1
        multi_beta = len({r.get("beta") for r in self.records}) > 1
        multi_seed = len({r.get("seed") for r in self.records}) > 1
        multi_depth = len({r.get("depth") or 2 for r in self.records}) > 1
        t = Table(title=title)
        t.add_column("method", style="bold")
        if multi_ds:
            t.add_column("dataset")
        if multi_beta:
            t.add_column("beta", justify="right")
        if multi_seed:
            t.add_column("seed", justify="right")
        if multi_depth:
            t.add_column("depth", justify="right")
        t.add_column("status")
        t.add_column("J", justify="right")
        t.add_column("lower bound", justify="right")
        t.add_column("bound", justify="left")
        t.add_column("gap", justify="right")
        t.add_column("train MSE", justify="right")
        t.add_column("test MSE", justify="right")
        if classification:
            t.add_column("test acc", justify="right")
        t.add_column("neurons", justify="right")
        t.add_column("s", justify="right")
        styles = {"optimal": "green", "converged": "green", "max_iter": "yellow",
                  "timeout": "yellow", "failed": "red", "unsupported": "dim"}
        for r in self.records:
            status = r.get("status") or "-"
            row = [escape(str(r.get("method")))]
            if multi_ds:
                row.append(escape(str(r.get("dataset"))))
            if multi_beta:
                row.append(_fmt(r.get("beta"), ".3g"))
            if multi_seed:
                row.append(_fmt(r.get("seed")))
            if multi_depth:
                row.append(_fmt(r.get("depth") or 2))
            gap = self.gap(r)
            row += [f"[{styles[status]}]{status}[/]" if status in styles else escape(status),
                    _fmt(r.get("objective"), ".6g"), _fmt(r.get("lower_bound"), ".6g"),
                    escape(str(r.get("bound_kind") or "-")),
                    "-" if gap is None else f"{100 * gap:.3g}%",
                    _fmt(r.get("train_mse")), _fmt(r.get("test_mse"))]
            if classification:
                row.append(_fmt(r.get("accuracy"), ".3f"))
            row += [_fmt(r.get("n_neurons")), _fmt(r.get("time_s"), ".2f")]
            t.add_row(*row)
        return t

    def summary_lines(self) -> list[str]:
        """One line per unfinished run (why), for printing under the table."""
        lines = []
        for r in self.unfinished():
            why = r.get("error") or r.get("message") or ""
            lines.append(f"{r.get('method')} (beta={_fmt(r.get('beta'), '.3g')}, seed={r.get('seed')}): "
                         f"{r.get('status')}" + (f" - {why}" if why else ""))
        return lines


def _json_default(o):
    try:
        import numpy as np
        if isinstance(o, np.integer):
            return int(o)
        if isinstance(o, np.floating):
            return float(o)
        if isinstance(o, np.ndarray):
            return o.tolist()
        if isinstance(o, np.bool_):
            return bool(o)
    except ImportError:  # pragma: no cover
        pass
    if isinstance(o, (set, frozenset, tuple)):
        return list(o)
    return repr(o)
