"""Tests of cvxlens.datasets: shapes, splits, provenance, standardization, errors."""

import hashlib
import importlib.util
from importlib import resources

import numpy as np
import pytest

import cvxlens
from cvxlens.datasets import (
    ECG_N_TRAIN, NYSE_INSTALL_HINT, Dataset, DatasetError, ecg_signal, list_datasets,
    load_dataset,
)

HAS_ISLP = importlib.util.find_spec("ISLP") is not None
ECG_SHA256 = "f20ad3365fb9b7f845d0e5c48b6fe67081377ee466c3a220b7f69f35c8958baf"


def test_reexports():
    assert cvxlens.load_dataset is load_dataset
    assert cvxlens.list_datasets is list_datasets
    assert cvxlens.Dataset is Dataset


def test_list_datasets_names_and_info():
    infos = list_datasets()
    names = [i.name for i in infos]
    for n in ("ecg", "ecg1d", "nyse", "diabetes", "breast-cancer", "synthetic", "survey-example"):
        assert n in names
    for i in infos:
        assert i.description and i.task in ("regression", "classification")
        assert i[0] == i.name and i[1] == i.description


@pytest.mark.parametrize("name", ["ecg", "ecg1d", "diabetes", "breast-cancer", "synthetic",
                                  "survey-example"])
def test_every_builtin_loads_and_is_consistent(name):
    ds = load_dataset(name)
    assert ds.X_train.ndim == 2 and ds.X_test.ndim == 2
    assert ds.X_train.shape[1] == ds.X_test.shape[1] == ds.d == len(ds.feature_names)
    assert ds.y_train.shape == (ds.n_train,) and ds.y_test.shape == (ds.n_test,)
    assert np.all(np.isfinite(ds.X_train)) and np.all(np.isfinite(ds.y_train))
    assert ds.default_beta > 0 and ds.description and ds.info.get("source")
    prob = ds.problem()
    assert prob.beta == ds.default_beta and prob.n == ds.n_train
    if ds.task == "classification":
        assert set(np.unique(ds.y_train)) <= {-1.0, 1.0}
        assert prob.loss == "logistic"
    # the mean-scaled default describes the same minimizers
    assert ds.problem(scale="mean").beta_sum == pytest.approx(ds.default_beta)


def test_ecg_file_is_the_given_record():
    data = resources.files("cvxlens").joinpath("data/ecg.npz").read_bytes()
    assert hashlib.sha256(data).hexdigest() == ECG_SHA256
    assert resources.files("cvxlens").joinpath("data/README.md").is_file()


def test_ecg_windows_and_chronological_split():
    sig = ecg_signal()
    assert sig.shape == (108000,)
    ds = load_dataset("ecg")
    assert ds.X_train.shape == (ECG_N_TRAIN, 3) and ds.n_train == 2393
    assert ds.X_test.shape == (1000, 3)
    # inputs are 3 consecutive samples, target the next (mV conversion of the raw record)
    raw = np.load(resources.files("cvxlens").joinpath("data/ecg.npz"))["ecg"]
    mv = (raw.astype(float) - 1024) / 200
    for t in (0, 17, 2392):
        np.testing.assert_array_equal(ds.X_train[t], mv[t:t + 3])
        assert ds.y_train[t] == mv[t + 3]
    # test windows come right after the training ones
    np.testing.assert_array_equal(ds.X_test[0], mv[2393:2396])
    assert ds.y_test[0] == mv[2396] and ds.y_test[-1] == mv[2396 + 999]
    np.testing.assert_array_equal(ds.X_train[1:, :2], ds.X_train[:-1, 1:])
    # other excerpts
    other = load_dataset("ecg", start=5000, n_train=100, n_test=10)
    np.testing.assert_array_equal(other.X_train[0], mv[5000:5003])
    with pytest.raises(DatasetError, match="leaves the record"):
        load_dataset("ecg", start=107990)


def test_ecg1d():
    ds = load_dataset("ecg1d")
    assert ds.d == 1 and ds.n_train == 300 and ds.n_test == 300
    np.testing.assert_array_equal(ds.X_train[1:, 0], ds.y_train[:-1])
    assert ds.X_test[0, 0] == ds.y_train[-1]


def test_synthetic_planted_network_reproduces_noise_free_targets():
    ds = load_dataset("synthetic", n=50, d=3, width=4, noise=0.0, seed=3, n_test=7)
    assert ds.X_train.shape == (50, 3) and ds.X_test.shape == (7, 3)
    p = ds.info["planted"]
    net = cvxlens.ReLUNetwork(np.array(p["W"]), np.array(p["b"]), np.array(p["alpha"]), p["c"])
    np.testing.assert_allclose(net.predict(ds.X_train), ds.y_train, atol=1e-12)
    np.testing.assert_allclose(net.predict(ds.X_test), ds.y_test, atol=1e-12)
    again = load_dataset("synthetic", n=50, d=3, width=4, noise=0.0, seed=3, n_test=7)
    np.testing.assert_array_equal(again.X_train, ds.X_train)
    different = load_dataset("synthetic", n=50, d=3, width=4, noise=0.0, seed=4, n_test=7)
    assert not np.array_equal(different.X_train, ds.X_train)
    noisy = load_dataset("synthetic", n=2000, d=3, width=4, noise=0.5, seed=3)
    resid = noisy.y_train - cvxlens.ReLUNetwork(
        np.array(noisy.info["planted"]["W"]), np.array(noisy.info["planted"]["b"]),
        np.array(noisy.info["planted"]["alpha"])).predict(noisy.X_train)
    assert 0.45 < resid.std() < 0.55
    with pytest.raises(DatasetError, match="noise"):
        load_dataset("synthetic", noise=-1.0)
    with pytest.raises(DatasetError, match="n must be"):
        load_dataset("synthetic", n=0)


def test_survey_example_has_three_patterns():
    ds = load_dataset("survey-example")
    np.testing.assert_array_equal(ds.X_train, [[2, 2], [3, 3], [1, 0]])
    np.testing.assert_array_equal(ds.y_train, [1, 2, -1])
    assert ds.n_test == 0 and ds.X_test.shape == (0, 2)
    assert cvxlens.enumerate_patterns(ds.X_train).shape[1] == 3


@pytest.mark.parametrize("name", ["diabetes", "breast-cancer"])
def test_standardization_uses_training_rows_only(name):
    ds = load_dataset(name)
    np.testing.assert_allclose(ds.X_train.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(ds.X_train.std(axis=0), 1, atol=1e-12)
    # the test part is NOT re-centred with its own statistics
    assert np.abs(ds.X_test.mean(axis=0)).max() > 1e-3
    assert ds.n_train + ds.n_test in (442, 569)
    a, b = load_dataset(name, seed=1), load_dataset(name, seed=1)
    np.testing.assert_array_equal(a.X_train, b.X_train)


def test_unknown_name_and_argument():
    with pytest.raises(DatasetError, match="available: .*ecg"):
        load_dataset("mnist")
    with pytest.raises(DatasetError, match="valid arguments: .*n_train"):
        load_dataset("ecg", n_trian=5)
    assert load_dataset("survey_example").name == "survey-example"


@pytest.mark.skipif(not HAS_ISLP, reason="ISLP not installed (pip install --no-deps ISLP)")
def test_nyse_matches_islp_lab():
    ds = load_dataset("nyse")
    assert ds.X_train.shape == (4276, 15) and ds.X_test.shape == (1770, 15)
    assert ds.feature_names[:3] == ["DJ_return_1", "log_volume_1", "log_volatility_1"]
    assert ds.feature_names[-1] == "log_volatility_5"
    assert ds.info["test_dates"][0] == "1980-01-02"
    # lag structure: log_volume_1 of row t+1 is the target of row t
    np.testing.assert_allclose(ds.X_train[1:, 1], ds.y_train[:-1])
    # sanity check of the ISLP lab: linear regression validation R^2 = 0.413
    A = np.hstack([ds.X_train, np.ones((ds.n_train, 1))])
    coef = np.linalg.lstsq(A, ds.y_train, rcond=None)[0]
    pred = np.hstack([ds.X_test, np.ones((ds.n_test, 1))]) @ coef
    r2 = 1 - np.sum((ds.y_test - pred) ** 2) / np.sum((ds.y_test - ds.y_test.mean()) ** 2)
    assert r2 == pytest.approx(0.413, abs=5e-4)
    lab = load_dataset("nyse", scaler="all")
    assert lab.X_train.shape == (4276, 15)
    with pytest.raises(DatasetError, match="scaler"):
        load_dataset("nyse", scaler="none")


def test_nyse_missing_islp_says_the_install_command(monkeypatch):
    import cvxlens.datasets as dsm

    real = importlib.util.find_spec
    monkeypatch.setattr(dsm.importlib.util, "find_spec",
                        lambda name, *a: None if name == "ISLP" else real(name, *a))
    with pytest.raises(DatasetError) as exc:
        load_dataset("nyse")
    assert NYSE_INSTALL_HINT in str(exc.value) and NYSE_INSTALL_HINT == "pip install --no-deps ISLP"
    info = {i.name: i for i in list_datasets()}["nyse"]
    assert not info.available and NYSE_INSTALL_HINT in info.note


# ------------------------------------------------------------------------- from_csv
def _write(tmp_path, text, name="d.csv"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_from_csv_regression(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 2))
    y = X @ [1.0, -2.0] + 3
    lines = ["a,b,target"] + [f"{u},{v},{t}" for (u, v), t in zip(X, y)]
    p = _write(tmp_path, "\n".join(lines) + "\n")
    ds = Dataset.from_csv(p, "target", test_fraction=0.25, seed=0)
    assert ds.n_train == 30 and ds.n_test == 10 and ds.feature_names == ["a", "b"]
    assert ds.task == "regression" and ds.name == "d"
    np.testing.assert_allclose(ds.X_train.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(ds.y_train.mean(), 0, atol=1e-12)
    raw = Dataset.from_csv(p, "target", test_fraction=0.25, shuffle=False, standardize=False)
    np.testing.assert_allclose(raw.X_train, X[:30])
    np.testing.assert_allclose(raw.y_test, y[30:])
    only_a = Dataset.from_csv(p, "target", features=["a"], test_fraction=0.0)
    assert only_a.d == 1 and only_a.n_test == 0


def test_from_csv_classification_maps_labels(tmp_path):
    p = _write(tmp_path, "x,label\n1,0\n2,1\n3,1\n4,0\n5,1\n")
    ds = Dataset.from_csv(p, "label", test_fraction=0.0)
    assert ds.task == "classification"
    assert set(ds.y_train) == {-1.0, 1.0}
    assert ds.problem().loss == "logistic"


def test_from_csv_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        Dataset.from_csv(tmp_path / "nope.csv", "y")
    p = _write(tmp_path, "a,b,y\n1,2,3\n4,5,6\n")
    with pytest.raises(DatasetError, match="target column 'z' not in .*columns are: a, b, y"):
        Dataset.from_csv(p, "z")
    with pytest.raises(DatasetError, match="feature column"):
        Dataset.from_csv(p, "y", features=["a", "q"])
    bad = _write(tmp_path, "a,b,y\n1,2,3\n4,cat,6\n", "bad.csv")
    with pytest.raises(DatasetError, match="non-numeric value 'cat' in column 'b', row 3"):
        Dataset.from_csv(bad, "y")
    missing = _write(tmp_path, "a,y\n1,2\n,3\n", "missing.csv")
    with pytest.raises(DatasetError, match="column 'a', row 3"):
        Dataset.from_csv(missing, "y")
    empty = _write(tmp_path, "", "empty.csv")
    with pytest.raises(DatasetError, match="empty"):
        Dataset.from_csv(empty, "y")
    header_only = _write(tmp_path, "a,y\n", "h.csv")
    with pytest.raises(DatasetError, match="no data rows"):
        Dataset.from_csv(header_only, "y")
    ragged = _write(tmp_path, "a,y\n1,2\n3\n", "r.csv")
    with pytest.raises(DatasetError, match="row 3 has 1 fields"):
        Dataset.from_csv(ragged, "y")
    with pytest.raises(DatasetError, match="test_fraction"):
        Dataset.from_csv(p, "y", test_fraction=1.5)
    three = _write(tmp_path, "a,y\n1,0\n2,1\n3,2\n", "three.csv")
    with pytest.raises(DatasetError, match="exactly two values"):
        Dataset.from_csv(three, "y", task="classification")


def test_dataset_validation():
    with pytest.raises(ValueError, match="X_test must have shape"):
        Dataset(np.zeros((3, 2)), np.zeros(3), np.zeros((2, 3)), np.zeros(2))
    with pytest.raises(ValueError, match="task"):
        Dataset(np.zeros((3, 2)), np.zeros(3), np.zeros((0, 2)), np.zeros(0), task="ranking")
