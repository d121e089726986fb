"""Bundled and loadable data sets: ``load_dataset(name)``, ``list_datasets()``, ``Dataset``.

Every loader returns a :class:`Dataset` with a train/test split, and (where inputs are
standardized) statistics fitted on the TRAINING part only, so no test information leaks into the
training problem. See ``docs/datasets.md`` for sources, licences, splits and shapes.

================  ==============  ======================================================
name              task            source
================  ==============  ======================================================
ecg               regression      MIT-BIH record 208 (bundled, ODC-By 1.0), 3 lags -> next
ecg1d             regression      same record, 1 lag -> next (for 1-D methods)
nyse              regression      ISLP ``NYSE.csv`` (needs ``pip install --no-deps ISLP``)
diabetes          regression      scikit-learn bundled diabetes data (Efron et al. 2004)
breast-cancer     classification  scikit-learn bundled Wisconsin diagnostic data, labels +-1
synthetic         regression      planted two-layer ReLU network plus Gaussian noise
survey-example    regression      the survey's 3-point example, eq. (20)
================  ==============  ======================================================
"""

from __future__ import annotations

import csv
import importlib.util
import inspect
import os
from dataclasses import dataclass, field
from importlib import resources
from typing import Callable, NamedTuple

import numpy as np

__all__ = ["Dataset", "DatasetInfo", "load_dataset", "list_datasets", "DatasetError",
           "ECG_N_TRAIN", "NYSE_INSTALL_HINT"]

#: Training windows of the ECG set (survey Fig. 6: n = 2393).
ECG_N_TRAIN = 2393
#: ECG sampling rate (Hz) of the MIT-BIH Arrhythmia Database.
ECG_FS = 360
#: The exact command that makes the ``nyse`` data set available.
NYSE_INSTALL_HINT = "pip install --no-deps ISLP"

TASKS = ("regression", "classification")


class DatasetError(ValueError):
    """A data set cannot be loaded or built (missing file, column, package; bad values)."""


# ---------------------------------------------------------------------------- Dataset
@dataclass
class Dataset:
    """A train/test split ready to become a :class:`cvxlens.Problem`.

    Attributes
    ----------
    X_train : ndarray, shape (n_train, d)
    y_train : ndarray, shape (n_train,)
    X_test : ndarray, shape (n_test, d)
        ``n_test`` may be 0 (``survey-example`` has no held-out data).
    y_test : ndarray, shape (n_test,)
    name, description : str
    default_beta : float
        Suggested weight-decay strength for the ``sum``-scaled objective
        ``J = loss + (beta/2)(||W||_F^2 + ||alpha||^2)`` (the ``Problem`` default). For the
        ``mean``-scaled objective use ``default_beta / n_train``.
    default_bias : {"none", "regularized", "free"}
        Bias convention used when the caller gives none (``free`` for the 1-D sets, whose
        exact methods - the reflection Lasso of Zeger et al. 2024 - are stated with free biases).
    task : {"regression", "classification"}
        Classification targets are labels in {-1, +1}.
    feature_names : list of str, length d
    info : dict
        Provenance and preprocessing facts (source, licence, split, standardization statistics).
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    name: str = "data"
    description: str = ""
    default_beta: float = 1e-3
    default_bias: str = "regularized"
    task: str = "regression"
    feature_names: list = field(default_factory=list)
    info: dict = field(default_factory=dict)

    def __post_init__(self):
        self.X_train = np.ascontiguousarray(np.asarray(self.X_train, dtype=float))
        self.y_train = np.ascontiguousarray(np.asarray(self.y_train, dtype=float)).reshape(-1)
        d = self.X_train.shape[1] if self.X_train.ndim == 2 else None
        if self.X_train.ndim != 2:
            raise ValueError(f"X_train must be 2-D (n, d), got shape {self.X_train.shape}")
        X_test = np.asarray(self.X_test, dtype=float)
        if X_test.size == 0:
            X_test = X_test.reshape(0, d)
        self.X_test = np.ascontiguousarray(X_test)
        self.y_test = np.ascontiguousarray(np.asarray(self.y_test, dtype=float)).reshape(-1)
        if self.X_test.ndim != 2 or self.X_test.shape[1] != d:
            raise ValueError(f"X_test must have shape (n_test, {d}), got {self.X_test.shape}")
        if self.y_train.shape[0] != self.X_train.shape[0]:
            raise ValueError(f"X_train has {self.X_train.shape[0]} rows, y_train has "
                             f"{self.y_train.shape[0]} entries")
        if self.y_test.shape[0] != self.X_test.shape[0]:
            raise ValueError(f"X_test has {self.X_test.shape[0]} rows, y_test has "
                             f"{self.y_test.shape[0]} entries")
        if self.task not in TASKS:
            raise ValueError(f"task must be one of {TASKS}, got {self.task!r}")
        if not self.feature_names:
            self.feature_names = [f"x{j}" for j in range(d)]
        if len(self.feature_names) != d:
            raise ValueError(f"{len(self.feature_names)} feature names for d = {d} features")
        self.feature_names = [str(f) for f in self.feature_names]

    # -------------------------------------------------------------- facts
    @property
    def n_train(self) -> int:
        return self.X_train.shape[0]

    @property
    def n_test(self) -> int:
        return self.X_test.shape[0]

    @property
    def d(self) -> int:
        return self.X_train.shape[1]

    def __repr__(self) -> str:
        return (f"Dataset({self.name!r}, task={self.task!r}, n_train={self.n_train}, "
                f"n_test={self.n_test}, d={self.d}, default_beta={self.default_beta:g})")

    def problem(self, beta=None, loss=None, bias=None, scale="sum"):
        """The training :class:`cvxlens.Problem` of this data set.

        ``beta`` defaults to :attr:`default_beta` (which is for ``scale="sum"``; with
        ``scale="mean"`` and no ``beta`` given, ``default_beta / n_train`` is used so both
        describe the same minimizers). ``loss`` defaults to ``squared`` for regression and
        ``logistic`` for classification; ``bias`` defaults to :attr:`default_bias`.
        """
        from .problem import Problem

        bias = bias or self.default_bias
        if beta is None:
            beta = self.default_beta if scale == "sum" else self.default_beta / self.n_train
        if loss is None:
            loss = "squared" if self.task == "regression" else "logistic"
        return Problem(self.X_train, self.y_train, beta, loss=loss, bias=bias, scale=scale)

    # -------------------------------------------------------------- user data
    @classmethod
    def from_csv(cls, path, target, test_fraction: float = 0.2, seed: int | None = 0,
                 features=None, standardize: bool = True, standardize_target=None,
                 task: str | None = None, shuffle: bool = True, delimiter: str = ",",
                 default_beta: float | None = None, name: str | None = None) -> "Dataset":
        """Read a CSV file with a header row into a train/test :class:`Dataset`.

        Parameters
        ----------
        path : str or path-like
            CSV file whose first row names the columns.
        target : str
            Column to predict.
        test_fraction : float in [0, 1)
            Share of rows held out for testing (0 -> no test set).
        seed : int or None
            Seed of the row shuffle before the split (ignored with ``shuffle=False``).
        features : list of str, optional
            Input columns; default every column except ``target``.
        standardize : bool
            Standardize inputs with mean/std of the TRAINING rows (constant columns keep scale 1).
        standardize_target : bool, optional
            Standardize the regression target with training statistics; default = ``standardize``
            for regression, never for classification.
        task : {"regression", "classification"}, optional
            Default: ``classification`` when the target takes exactly two values (mapped to -1/+1,
            the smaller value to -1), else ``regression``.
        shuffle : bool
            ``False`` keeps the file order and holds out the LAST rows (time series).
        delimiter : str
        default_beta : float, optional
            Default ``1e-3 * n_train`` style heuristic is used when omitted (see docs/datasets.md).

        Raises
        ------
        FileNotFoundError
            The file does not exist.
        DatasetError
            Empty file, unknown target/feature column (the message lists the columns),
            non-numeric or missing values (the message gives column, row and value), a
            classification target with more than two values, or a bad ``test_fraction``.
        """
        path = os.fspath(path)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"CSV file not found: {path!r}")
        if not (0.0 <= float(test_fraction) < 1.0):
            raise DatasetError(f"test_fraction must be in [0, 1), got {test_fraction}")
        with open(path, newline="", encoding="utf-8-sig") as fh:
            rows = list(csv.reader(fh, delimiter=delimiter))
        rows = [r for r in rows if any(cell.strip() for cell in r)]
        if not rows:
            raise DatasetError(f"{path!r} is empty; a header row naming the columns is needed")
        header = [h.strip() for h in rows[0]]
        body = rows[1:]
        if not body:
            raise DatasetError(f"{path!r} has a header but no data rows")
        if target not in header:
            raise DatasetError(f"target column {target!r} not in {path!r}; columns are: "
                               f"{', '.join(header)}")
        if features is None:
            features = [h for h in header if h != target]
        else:
            features = list(features)
            missing = [f for f in features if f not in header]
            if missing:
                raise DatasetError(f"feature column(s) {', '.join(map(repr, missing))} not in "
                                   f"{path!r}; columns are: {', '.join(header)}")
            if target in features:
                raise DatasetError(f"the target {target!r} cannot also be a feature")
        if not features:
            raise DatasetError(f"{path!r} has no feature columns besides the target {target!r}")
        cols = {h: i for i, h in enumerate(header)}
        for k, r in enumerate(body):
            if len(r) != len(header):
                raise DatasetError(f"{path!r} row {k + 2} has {len(r)} fields, the header has "
                                   f"{len(header)}")

        def column(name):
            j = cols[name]
            out = np.empty(len(body))
            for k, r in enumerate(body):
                cell = r[j].strip()
                try:
                    out[k] = float(cell)
                except ValueError:
                    raise DatasetError(
                        f"non-numeric value {cell!r} in column {name!r}, row {k + 2} of {path!r};"
                        " cvxlens needs numeric features and target (encode categories or drop "
                        "the column with features=[...])") from None
                if not np.isfinite(out[k]):
                    raise DatasetError(f"missing or non-finite value {cell!r} in column {name!r}, "
                                       f"row {k + 2} of {path!r}; drop or impute it first")
            return out

        X = np.column_stack([column(f) for f in features])
        y = column(target)
        labels = np.unique(y)
        if task is None:  # only label-like targets ({0, 1} or {-1, +1}) mean classification
            binary = labels.size == 2 and (set(labels) <= {0.0, 1.0} or set(labels) <= {-1.0, 1.0})
            task = "classification" if binary else "regression"
        if task not in TASKS:
            raise DatasetError(f"task must be one of {TASKS}, got {task!r}")
        info = {"source": path, "target": target}
        if task == "classification":
            if labels.size != 2:
                raise DatasetError(f"classification needs a target with exactly two values, "
                                   f"column {target!r} has {labels.size}")
            y = np.where(y == labels[1], 1.0, -1.0)
            info["label_map"] = {str(labels[0]): -1, str(labels[1]): 1}
        n = X.shape[0]
        idx = np.arange(n)
        if shuffle:
            idx = np.random.default_rng(seed).permutation(n)
        n_test = int(round(test_fraction * n))
        if n - n_test < 1:
            raise DatasetError(f"only {n} rows: nothing left for training")
        tr, te = (idx[:n - n_test], idx[n - n_test:]) if n_test else (idx, idx[:0])
        if not shuffle:
            tr, te = np.sort(tr), np.sort(te)
        info["split"] = (f"{'random (seed ' + str(seed) + ')' if shuffle else 'last rows'}: "
                         f"{tr.size} train / {te.size} test")
        Xtr, Xte, ytr, yte = X[tr], X[te], y[tr], y[te]
        if standardize:
            Xtr, Xte, info["x_mean"], info["x_scale"] = _standardize(Xtr, Xte)
        if standardize_target is None:
            standardize_target = standardize and task == "regression"
        if standardize_target and task == "regression":
            ytr, yte, ym, ys = _standardize(ytr[:, None], yte[:, None])
            ytr, yte = ytr[:, 0], yte[:, 0]
            info["y_mean"], info["y_scale"] = ym[0], ys[0]
        if default_beta is None:
            default_beta = _heuristic_beta(Xtr.shape[0])
        return cls(Xtr, ytr, Xte, yte, name=name or os.path.splitext(os.path.basename(path))[0],
                   description=f"user data from {path} (target {target})",
                   default_beta=float(default_beta), task=task, feature_names=features, info=info)


def _heuristic_beta(n_train: int) -> float:
    """Default beta for standardized data: 1e-3 per sample (mean-scale beta 1e-3)."""
    return 1e-3 * n_train


def _standardize(A_train, A_test):
    """Standardize columns with TRAIN mean and (population) std; constant columns keep scale 1."""
    mean = A_train.mean(axis=0)
    scale = A_train.std(axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    return ((A_train - mean) / scale, (A_test - mean) / scale,
            [float(v) for v in mean], [float(v) for v in scale])


# ---------------------------------------------------------------------------- ECG
ECG_ATTRIBUTION = (
    "MIT-BIH Arrhythmia Database record 208, lead MLII, excerpt 19:35-24:35 (360 Hz). "
    "Moody & Mark, IEEE Eng. Med. Biol. 20(3):45-50, 2001; Goldberger et al., PhysioBank, "
    "PhysioToolkit, and PhysioNet, Circulation 101(23):e215-e220, 2000. Open Data Commons "
    "Attribution License v1.0; the same excerpt ships with SciPy "
    "(scipy.datasets.electrocardiogram)."
)


def ecg_signal() -> np.ndarray:
    """The bundled ECG excerpt in millivolts, shape (108000,), 360 Hz.

    ``mV = (raw - 1024) / 200`` (ADC zero 1024, gain 200 per mV; MIT-BIH header of record 208).
    """
    ref = resources.files("cvxlens").joinpath("data/ecg.npz")
    with ref.open("rb") as fh, np.load(fh) as npz:
        raw = npz["ecg"]
    return (raw.astype(float) - 1024.0) / 200.0


def _lag_windows(s: np.ndarray, lags: int):
    """Rows ``(s[t], ..., s[t+lags-1])`` and targets ``s[t+lags]`` for every full window."""
    n = s.size - lags
    X = np.lib.stride_tricks.sliding_window_view(s[:-1], lags)[:n].copy()
    return X, s[lags:].copy()


def _check_int(name, v, lo):
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo:
        raise DatasetError(f"{name} must be an integer >= {lo}, got {v!r}")
    return int(v)


def load_ecg(start: int = 0, n_train: int = ECG_N_TRAIN, n_test: int = 1000,
             lags: int = 3) -> Dataset:
    """ECG autoregression (survey Fig. 6): ``lags`` consecutive samples (mV) -> the next one.

    The excerpt is the contiguous stretch ``signal[start : start + lags + n_train + n_test]`` of the
    bundled record (default: the first 3396 samples, 9.4 s, about 10 beats including ventricular
    ectopic beats of record 208). Training windows are the first ``n_train`` (targets
    ``signal[start+lags : start+lags+n_train]``); test windows come right after, in time order,
    so every test target lies after every training target (the first test inputs are the last
    training targets, as in any chronological autoregression split). No standardization: values
    stay in millivolts (about -1.1 to 2.1 mV, train std about 0.5 mV).

    Returns X_train (n_train, lags), X_test (n_test, lags).

    Raises
    ------
    DatasetError
        If the window leaves the 108000-sample record or sizes are not positive integers.
    """
    start = _check_int("start", start, 0)
    n_train = _check_int("n_train", n_train, 1)
    n_test = _check_int("n_test", n_test, 0)
    lags = _check_int("lags", lags, 1)
    sig = ecg_signal()
    stop = start + lags + n_train + n_test
    if stop > sig.size:
        raise DatasetError(f"the ECG window [{start}, {stop}) leaves the record of {sig.size} "
                           "samples; lower start, n_train or n_test")
    X, y = _lag_windows(sig[start:stop], lags)
    names = [f"v(t-{lags - j})" for j in range(lags)]
    return Dataset(
        X[:n_train], y[:n_train], X[n_train:], y[n_train:],
        name="ecg" if lags == 3 else f"ecg-lags{lags}",
        description=(f"ECG (MIT-BIH rec. 208, mV): {lags} consecutive samples -> next; "
                     f"{n_train} train / {n_test} test windows in time order"),
        default_beta=ECG_DEFAULT_BETA, task="regression", feature_names=names,
        info={"source": ECG_ATTRIBUTION, "units": "mV",
              "window": [start, stop], "sampling_rate_hz": ECG_FS,
              "split": f"chronological: first {n_train} windows train, next {n_test} test"},
    )


#: Default beta of ``ecg`` (sum scale); see docs/datasets.md for the measurement behind it.
ECG_DEFAULT_BETA = 0.1


def load_ecg1d(start: int = 0, n_train: int = 300, n_test: int = 300) -> Dataset:
    """One-lag ECG: ``x_t -> x_{t+1}`` (mV), d = 1, for 1-D methods (reflection Lasso).

    Contiguous window ``signal[start : start + 1 + n_train + n_test]``; the first ``n_train``
    pairs train, the next ``n_test`` test (chronological). Defaults: 300 + 300 pairs (0.83 s
    each, one heartbeat each), small enough for the n x 2n reflection dictionary.
    Returns X_train (n_train, 1), X_test (n_test, 1).
    """
    start = _check_int("start", start, 0)
    n_train = _check_int("n_train", n_train, 1)
    n_test = _check_int("n_test", n_test, 0)
    ds = load_ecg(start=start, n_train=n_train, n_test=n_test, lags=1)
    ds.name = "ecg1d"
    ds.description = (f"ECG (MIT-BIH rec. 208, mV), 1-D: x_t -> x_(t+1); "
                      f"{n_train} train / {n_test} test pairs in time order")
    ds.default_beta = ECG1D_DEFAULT_BETA
    ds.default_bias = "free"
    ds.feature_names = ["v(t-1)"]
    return ds


#: Default beta of ``ecg1d`` (sum scale).
ECG1D_DEFAULT_BETA = 0.01


# ---------------------------------------------------------------------------- NYSE
NYSE_COLUMNS = ("DJ_return", "log_volume", "log_volatility")


def nyse_csv_path() -> str:
    """Path of ISLP's ``data/NYSE.csv``, found WITHOUT importing ISLP (its import needs pandas).

    Raises
    ------
    DatasetError
        ISLP is not installed (the message gives the install command) or the file is missing.
    """
    spec = importlib.util.find_spec("ISLP")
    if spec is None or not spec.submodule_search_locations:
        raise DatasetError(f"the 'nyse' data set ships with the ISLP package, which is not "
                           f"installed; install it with: {NYSE_INSTALL_HINT}")
    for loc in spec.submodule_search_locations:
        p = os.path.join(loc, "data", "NYSE.csv")
        if os.path.isfile(p):
            return p
    raise DatasetError(f"ISLP is installed but data/NYSE.csv was not found in "
                       f"{list(spec.submodule_search_locations)}; reinstall with: "
                       f"{NYSE_INSTALL_HINT}")


def load_nyse(lags: int = 5, scaler: str = "train") -> Dataset:
    """NYSE daily data (survey Fig. 5a; ISLP lab of ch. 10): predict ``log_volume``.

    Features: lags 1..``lags`` of DJ_return, log_volume, log_volatility, ordered
    ``DJ_return_1, log_volume_1, log_volatility_1, DJ_return_2, ...`` (15 for 5 lags) as in the
    ISLP lab. The three columns are standardized BEFORE lagging, as in the lab, with statistics
    of the training rows (``scaler="train"``, default: no validation information used) or of all
    6051 rows (``scaler="all"``: exactly the lab's ``StandardScaler`` on the whole frame). The
    target is the standardized same-day ``log_volume``. Rows with an incomplete lag window (the
    first ``lags``) are dropped; the split follows the ``train`` column (TRUE up to 1979-12-31):
    4276 train / 1770 validation rows for 5 lags.

    Returns X_train (4276, 15), X_test (1770, 15) for the defaults.

    Raises
    ------
    DatasetError
        ISLP missing (message: ``pip install --no-deps ISLP``) or a malformed file.
    """
    lags = _check_int("lags", lags, 1)
    if scaler not in ("train", "all"):
        raise DatasetError(f"scaler must be 'train' or 'all', got {scaler!r}")
    path = nyse_csv_path()
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    try:
        raw = np.array([[float(r[c]) for c in NYSE_COLUMNS] for r in rows])
        train = np.array([r["train"].strip().upper() == "TRUE" for r in rows])
        dates = [r["date"] for r in rows]
    except (KeyError, ValueError) as exc:
        raise DatasetError(f"{path} is not the expected NYSE table: {exc}") from None
    fit_rows = train if scaler == "train" else np.ones(len(rows), bool)
    mean = raw[fit_rows].mean(axis=0)
    std = raw[fit_rows].std(axis=0)  # population std, as sklearn's StandardScaler
    Z = (raw - mean) / std
    T = Z.shape[0]
    keep = np.arange(lags, T)
    X = np.column_stack([Z[keep - lag, j] for lag in range(1, lags + 1) for j in range(3)])
    y = Z[keep, 1]
    tr = train[keep]
    names = [f"{c}_{lag}" for lag in range(1, lags + 1) for c in NYSE_COLUMNS]
    return Dataset(
        X[tr], y[tr], X[~tr], y[~tr], name="nyse",
        description=("NYSE 1962-1986 (ISLP): lags 1-5 of DJ_return, log_volume, log_volatility "
                     "-> log_volume; 4276 train / 1770 validation"),
        default_beta=NYSE_DEFAULT_BETA, task="regression", feature_names=names,
        info={"source": f"ISLP NYSE.csv ({path}); James, Witten, Hastie, Tibshirani & Taylor, "
                        "An Introduction to Statistical Learning with Applications in Python "
                        "(2023), BSD-2-Clause package",
              "scaler": scaler, "x_mean": [float(v) for v in mean],
              "x_scale": [float(v) for v in std],
              "train_dates": [dates[keep[tr][0]], dates[keep[tr][-1]]],
              "test_dates": [dates[keep[~tr][0]], dates[keep[~tr][-1]]],
              "split": "by the train column: TRUE (to 1979-12-31) train, FALSE validation"},
    )


#: Default beta of ``nyse`` (sum scale): 1e-3 per training sample.
NYSE_DEFAULT_BETA = 1e-3 * 4276


# ---------------------------------------------------------------------------- scikit-learn sets
def _random_split(X, y, test_fraction, seed):
    if not (0.0 <= float(test_fraction) < 1.0):
        raise DatasetError(f"test_fraction must be in [0, 1), got {test_fraction}")
    idx = np.random.default_rng(seed).permutation(X.shape[0])
    n_test = int(round(test_fraction * X.shape[0]))
    te, tr = np.sort(idx[:n_test]), np.sort(idx[n_test:])
    return X[tr], y[tr], X[te], y[te]


def load_diabetes(test_fraction: float = 0.2, seed: int = 0) -> Dataset:
    """scikit-learn's bundled diabetes data (442 patients, 10 features; Efron et al. 2004).

    Random split (``seed``) into train/test; features and the target (disease progression after
    one year) standardized with TRAINING statistics. Default: 354 train / 88 test, d = 10.
    """
    from sklearn.datasets import load_diabetes as _load

    raw = _load()
    Xtr, ytr, Xte, yte = _random_split(raw.data, raw.target.astype(float), test_fraction, seed)
    Xtr, Xte, xm, xs = _standardize(Xtr, Xte)
    ytr2, yte2, ym, ys = _standardize(ytr[:, None], yte[:, None])
    return Dataset(
        Xtr, ytr2[:, 0], Xte, yte2[:, 0], name="diabetes",
        description="scikit-learn diabetes: 10 standardized features -> standardized progression",
        default_beta=_heuristic_beta(Xtr.shape[0]) * 10, task="regression",
        feature_names=list(raw.feature_names),
        info={"source": "scikit-learn load_diabetes (Efron, Hastie, Johnstone & Tibshirani, "
                        "Least Angle Regression, Ann. Statist. 2004), BSD-3-Clause package",
              "split": f"random (seed {seed}), test_fraction {test_fraction}",
              "x_mean": xm, "x_scale": xs, "y_mean": ym[0], "y_scale": ys[0]},
    )


def load_breast_cancer(test_fraction: float = 0.2, seed: int = 0) -> Dataset:
    """scikit-learn's bundled Wisconsin diagnostic breast cancer data, labels +-1.

    569 samples, 30 features standardized with training statistics; label +1 = benign,
    -1 = malignant. Random split (``seed``): 455 train / 114 test by default.
    """
    from sklearn.datasets import load_breast_cancer as _load

    raw = _load()
    y = np.where(raw.target == 1, 1.0, -1.0)
    Xtr, ytr, Xte, yte = _random_split(raw.data, y, test_fraction, seed)
    Xtr, Xte, xm, xs = _standardize(Xtr, Xte)
    return Dataset(
        Xtr, ytr, Xte, yte, name="breast-cancer",
        description="scikit-learn breast cancer (Wisconsin): 30 standardized features -> +-1",
        default_beta=1.0, task="classification", feature_names=list(raw.feature_names),
        info={"source": "scikit-learn load_breast_cancer (Street, Wolberg & Mangasarian 1993; "
                        "UCI ML repository), BSD-3-Clause package",
              "labels": {"benign": 1, "malignant": -1},
              "split": f"random (seed {seed}), test_fraction {test_fraction}",
              "x_mean": xm, "x_scale": xs},
    )


# ---------------------------------------------------------------------------- synthetic
def load_synthetic(n: int = 200, d: int = 5, width: int = 5, noise: float = 0.1,
                   seed: int = 0, n_test: int | None = None) -> Dataset:
    """Planted two-layer ReLU network plus Gaussian noise.

    ``x ~ N(0, I_d)``; planted network ``f(x) = sum_j a_j (x . w_j + b_j)_+`` with
    ``w_j ~ N(0, I_d / d)``, ``b_j ~ N(0, 1/4)``, ``a_j = s_j (1 + |N(0,1)|) / sqrt(width)``
    with signs ``s_j`` alternating; ``y = f(x) + noise * N(0, 1)``. The planted network (no output
    offset, ``c = 0``) is stored in ``info["planted"]`` as lists (W (d, width), b, alpha).
    Returns X_train (n, d) and X_test (n_test, d), ``n_test`` defaulting to ``n``. Not standardized.

    Raises
    ------
    DatasetError
        On non-positive sizes or negative noise.
    """
    n = _check_int("n", n, 1)
    d = _check_int("d", d, 1)
    width = _check_int("width", width, 1)
    n_test = n if n_test is None else _check_int("n_test", n_test, 0)
    if not (np.isfinite(noise) and noise >= 0):
        raise DatasetError(f"noise must be a finite number >= 0, got {noise!r}")
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((d, width)) / np.sqrt(d)
    b = 0.5 * rng.standard_normal(width)
    signs = np.where(np.arange(width) % 2 == 0, 1.0, -1.0)
    alpha = signs * (1.0 + np.abs(rng.standard_normal(width))) / np.sqrt(width)
    X = rng.standard_normal((n + n_test, d))
    f = np.maximum(X @ W + b, 0.0) @ alpha
    y = f + noise * rng.standard_normal(n + n_test)
    return Dataset(
        X[:n], y[:n], X[n:], y[n:], name="synthetic",
        description=f"planted ReLU network (d={d}, width={width}) + N(0, {noise:g}^2) noise",
        default_beta=_heuristic_beta(n), task="regression",
        info={"source": f"generated with seed {seed}", "noise": float(noise),
              "planted": {"W": W.tolist(), "b": b.tolist(), "alpha": alpha.tolist(), "c": 0.0},
              "split": f"{n} train / {n_test} test, independent draws"},
    )


# ---------------------------------------------------------------------------- survey example
SURVEY_EXAMPLE_X = np.array([[2.0, 2.0], [3.0, 3.0], [1.0, 0.0]])
#: Our choice of labels for the survey's eq. (20) (the survey leaves y arbitrary).
SURVEY_EXAMPLE_Y = np.array([1.0, 2.0, -1.0])


def load_survey_example() -> Dataset:
    """The survey's 3-point example, eq. (20): rows (2,2), (3,3), (1,0) (samples as rows).

    The survey leaves y arbitrary; cvxlens uses ``y = (1, 2, -1)``: x2 = 1.5 x1 with y2 = 2 y1
    is not reachable by a bias-free (positively homogeneous) network without cost, and the
    negative third label needs a negative output weight. No held-out data: X_test has shape
    (0, 2). Three nonzero activation patterns (survey Fig. 1).
    """
    return Dataset(
        SURVEY_EXAMPLE_X.copy(), SURVEY_EXAMPLE_Y.copy(), np.zeros((0, 2)), np.zeros(0),
        name="survey-example",
        description="the survey's 3-point example, X rows (2,2),(3,3),(1,0), y = (1,2,-1)",
        default_beta=0.1, task="regression", feature_names=["x1", "x2"],
        info={"source": "survey eq. (20) (Pilanci & Ergen 2020 example); y chosen by cvxlens",
              "split": "no test data"},
    )


# ---------------------------------------------------------------------------- registry
class DatasetInfo(NamedTuple):
    """One entry of :func:`list_datasets`."""

    name: str
    description: str
    task: str = "regression"
    available: bool = True
    note: str = ""


_LOADERS: dict[str, tuple[Callable[..., Dataset], str, str]] = {
    "ecg": (load_ecg, "ECG MIT-BIH rec. 208 (bundled): 3 samples -> next, 2393 train / 1000 test",
            "regression"),
    "ecg1d": (load_ecg1d, "ECG, one lag x_t -> x_(t+1) (d = 1): 300 train / 300 test",
              "regression"),
    "nyse": (load_nyse, "NYSE 1962-1986 via ISLP: 15 lag features -> log volume, 4276/1770",
             "regression"),
    "diabetes": (load_diabetes, "scikit-learn diabetes, 10 features, 354/88, standardized",
                 "regression"),
    "breast-cancer": (load_breast_cancer, "scikit-learn breast cancer, 30 features, labels +-1, "
                      "455/114", "classification"),
    "synthetic": (load_synthetic, "planted two-layer ReLU network + noise (n, d, width, noise, "
                  "seed)", "regression"),
    "survey-example": (load_survey_example, "the survey's 3-point example, eq. (20), y=(1,2,-1)",
                       "regression"),
}
_ALIASES = {"breast_cancer": "breast-cancer", "survey_example": "survey-example"}


def list_datasets() -> list[DatasetInfo]:
    """Every built-in data set: ``DatasetInfo(name, description, task, available, note)``.

    ``available`` is False for ``nyse`` when ISLP is not installed (``note`` says how to fix it).
    """
    out = []
    for name, (_, desc, task) in _LOADERS.items():
        available, note = True, ""
        if name == "nyse" and importlib.util.find_spec("ISLP") is None:
            available, note = False, f"needs ISLP: {NYSE_INSTALL_HINT}"
        out.append(DatasetInfo(name, desc, task, available, note))
    return out


def load_dataset(name: str, **kwargs) -> Dataset:
    """Load a built-in data set by name (see :func:`list_datasets`).

    Parameters
    ----------
    name : str
        ``ecg``, ``ecg1d``, ``nyse``, ``diabetes``, ``breast-cancer``, ``synthetic``,
        ``survey-example`` (underscores accepted).
    **kwargs
        Loader arguments, e.g. ``load_dataset("synthetic", n=500, d=3, seed=1)``.

    Raises
    ------
    DatasetError
        Unknown name (the message lists the available ones), unknown keyword argument (the
        message lists the valid ones), or a loader failure (e.g. ISLP missing for ``nyse``).
    """
    if not isinstance(name, str):
        raise DatasetError(f"dataset name must be a string, got {type(name).__name__}")
    key = _ALIASES.get(name.strip().lower(), name.strip().lower())
    if key not in _LOADERS:
        raise DatasetError(f"unknown dataset {name!r}; available: {', '.join(_LOADERS)} "
                           "(or Dataset.from_csv(path, target) for your own data)")
    loader = _LOADERS[key][0]
    params = inspect.signature(loader).parameters
    unknown = sorted(set(kwargs) - set(params))
    if unknown:
        valid = ", ".join(params) or "none"
        raise DatasetError(f"unknown argument(s) {', '.join(map(repr, unknown))} for dataset "
                           f"{key!r}; valid arguments: {valid}")
    return loader(**kwargs)
