import ast
import dataclasses
import hashlib
from pathlib import Path

import numpy as np
import pytest

import zoo.data
from zoo import data

OFFLINE = data.list_datasets(online=False)
OFFLINE_SCHEMES = [(n, s) for n in OFFLINE for s in data.info(n).schemes]


def test_catalogue_lists_offline_and_online_datasets():
    assert OFFLINE == ["breast_cancer", "diabetes", "digits", "digits_rows", "sf_temps", "wine"]
    assert data.list_datasets(online=True) == [
        "california_housing", "cifar10", "fashion_mnist", "imdb", "mnist"]
    assert data.list_datasets() == sorted(OFFLINE + data.list_datasets(online=True))


@pytest.mark.parametrize("name", data.list_datasets())
def test_info_is_complete_and_frozen(name):
    info = data.info(name)
    assert info.name == name
    assert info.description and info.source and info.license
    assert info.metric == ("accuracy" if info.task == "classification" else "mae")
    assert (info.num_classes is None) == (info.task != "classification")
    assert info.online == bool(info.files)
    for scheme, sizes in info.schemes.items():
        assert "train" in sizes and "test" in sizes and all(v > 0 for v in sizes.values())
    with pytest.raises(dataclasses.FrozenInstanceError):
        info.name = "other"


@pytest.mark.parametrize("name,scheme", OFFLINE_SCHEMES)
def test_offline_splits_match_info_in_size_shape_and_dtype(name, scheme):
    info = data.info(name)
    parts = data.load_splits(name, scheme)
    assert {s: len(y) for s, (x, y) in parts.items()} == dict(info.schemes[scheme])
    for x, y in parts.values():
        assert len(x) == len(y)
        assert x.shape[1:] == info.input_shape and x.dtype == np.float32
        assert y.shape[1:] == info.target_shape and y.dtype == info.target_dtype
        assert np.isfinite(x).all() and np.isfinite(y).all()
        if info.num_classes:
            assert set(np.unique(y)) <= set(range(info.num_classes))


def _row_hashes(x):
    return {hashlib.sha1(row.tobytes()).hexdigest() for row in x.reshape(len(x), -1)}


@pytest.mark.parametrize("name,scheme", [p for p in OFFLINE_SCHEMES if p[0] != "sf_temps"])
def test_offline_splits_are_disjoint_and_cover_the_dataset(name, scheme):
    parts = data.load_splits(name, scheme)
    hashes = [_row_hashes(x) for x, _ in parts.values()]
    total = sum(len(x) for x, _ in parts.values())
    assert sum(len(h) for h in hashes) == total  # no duplicate rows in these datasets
    assert len(set().union(*hashes)) == total  # hence no row in two splits


@pytest.mark.parametrize("name,scheme", OFFLINE_SCHEMES)
def test_loading_twice_gives_identical_arrays(name, scheme):
    split = list(data.info(name).schemes[scheme])[-1]
    x1, y1 = data.load(name, split, scheme)
    x2, y2 = data.load(name, split, scheme)
    np.testing.assert_array_equal(x1, x2)
    np.testing.assert_array_equal(y1, y2)


@pytest.mark.parametrize("name", ["digits", "breast_cancer", "wine"])
def test_stratified_splits_keep_class_proportions(name):
    parts = data.load_splits(name, "stratified")
    all_y = np.concatenate([y for _, y in parts.values()])
    k = data.info(name).num_classes
    overall = np.bincount(all_y, minlength=k) / len(all_y)
    for _, y in parts.values():
        counts = np.bincount(y, minlength=k)
        # each of the two carvings (test, then val) rounds every class once, so the
        # held-out splits are within one example of the exact share and train within two
        assert np.all(np.abs(counts - overall * len(y)) <= 2.0), counts
        assert np.abs(counts - overall * len(y)).sum() <= 2 * k


def test_load_defaults_to_the_train_split_of_the_default_scheme():
    x, y = data.load("wine")
    x_train, y_train = data.load_splits("wine", "stratified")["train"]
    np.testing.assert_array_equal(x, x_train)
    assert data.info("wine").splits == ("train", "val", "test")


def test_unknown_dataset_suggests_close_names():
    with pytest.raises(ValueError, match=r"unknown dataset 'digit'.*Did you mean 'digits'"):
        data.load("digit")
    with pytest.raises(ValueError, match="Available: .*breast_cancer.*wine"):
        data.info("iris")


def test_unknown_split_scheme_and_option_name_what_exists():
    with pytest.raises(ValueError, match=r"split .*'valid'.*Did you mean 'val'"):
        data.load("wine", "valid")
    with pytest.raises(ValueError, match=r"split .*'val'.*Available: test, train"):
        data.load("digits", "val", scheme="half")
    with pytest.raises(ValueError, match=r"scheme .*'stratify'.*Did you mean 'stratified'"):
        data.load("digits", scheme="stratify")
    with pytest.raises(ValueError, match=r"option .*'windows'.*Did you mean 'window'"):
        data.load("sf_temps", windows=10)
    with pytest.raises(ValueError, match=r"option .*Available: none"):
        data.load("wine", maxlen=3)


DATA_DIR = Path(zoo.data.__file__).parent
HEAVY = {"keras", "sklearn", "tensorflow", "torch", "jax", "pandas", "vega_datasets"}


@pytest.mark.parametrize("path", sorted(DATA_DIR.glob("*.py")), ids=lambda p: p.name)
def test_data_modules_import_no_heavy_library_at_import_time_nor_branch_on_backend(path):
    tree = ast.parse(path.read_text())
    for node in tree.body:  # module level only: function bodies import lazily
        if isinstance(node, ast.Import):
            roots = {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            roots = {(node.module or "").split(".")[0]}
        else:
            continue
        assert not roots & HEAVY, f"{path.name}:{node.lineno} imports {roots & HEAVY}"
    assert "backend" not in path.read_text(), f"{path.name} mentions the Keras backend"
