"""Online loaders, offline: tiny files in the real formats, written to a tmp ZOO_DATA_DIR
(or Keras' cache), read back; and the fast, clear failure when they are missing.

The parity tests hand the same tiny files to `keras.datasets` (its `get_file`
monkeypatched to return them) and check that the zoo's splits are Keras' arrays
(in the zoo's dtypes: float32 inputs, int32 labels).
"""

import gzip
import io
import pickle
import socket
import struct
import tarfile
import time

import numpy as np
import pytest

from zoo import data
from zoo.data import fetch, online, splits

REAL_CAN_REACH = fetch.can_reach  # conftest replaces it in every test


# -- writers of the keras.datasets formats ---------------------------------------------
def _labels(n, k, seed):
    return (np.arange(n) % k)[np.random.default_rng(seed).permutation(n)].astype("uint8")


def _images(n, shape, seed):
    return np.random.default_rng(seed).integers(0, 256, (n, *shape), dtype=np.uint8)


def write_mnist(directory, n_train=200, n_test=50):
    np.savez(directory / "mnist.npz", x_train=_images(n_train, (28, 28), 0),
             y_train=_labels(n_train, 10, 1), x_test=_images(n_test, (28, 28), 2),
             y_test=_labels(n_test, 10, 3))


def _idx(path, array):
    header = struct.pack(">I", 0x800 + array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.tobytes())


def write_fashion_mnist(directory, n_train=200, n_test=50):
    folder = directory / "fashion-mnist"
    folder.mkdir(parents=True, exist_ok=True)
    _idx(folder / "train-images-idx3-ubyte.gz", _images(n_train, (28, 28), 4))
    _idx(folder / "train-labels-idx1-ubyte.gz", _labels(n_train, 10, 5))
    _idx(folder / "t10k-images-idx3-ubyte.gz", _images(n_test, (28, 28), 6))
    _idx(folder / "t10k-labels-idx1-ubyte.gz", _labels(n_test, 10, 7))


def _cifar_batch(n, seed):
    batch = {b"batch_label": b"fixture", b"labels": _labels(n, 10, seed).tolist(),
             b"data": _images(n, (3072,), seed + 1)}
    return pickle.dumps(batch, protocol=4)  # bytes natively, as the py2 file has them


def write_cifar10(directory, per_batch=40, as_archive=False):
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    contents = {name: _cifar_batch(per_batch, 10 + i) for i, name in enumerate(names)}
    if as_archive:
        with tarfile.open(directory / "cifar-10-python.tar.gz", "w:gz") as archive:
            for name, blob in contents.items():
                member = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
                member.size = len(blob)
                archive.addfile(member, io.BytesIO(blob))
    else:
        folder = directory / "cifar-10-batches-py"
        folder.mkdir(parents=True)
        for name, blob in contents.items():
            (folder / name).write_bytes(blob)


def _reviews(n, seed):
    rng = np.random.default_rng(seed)
    reviews = np.empty(n, dtype=object)
    for i in range(n):  # word ranks from 1, lengths around maxlen
        reviews[i] = rng.integers(1, 60, rng.integers(3, 25)).tolist()
    return reviews


def write_imdb(directory, n_train=60, n_test=40):
    np.savez(directory / "imdb.npz", x_train=_reviews(n_train, 20),
             y_train=_labels(n_train, 2, 21).astype("int64"), x_test=_reviews(n_test, 22),
             y_test=_labels(n_test, 2, 23).astype("int64"))


def write_california(directory, n=300):
    rng = np.random.default_rng(30)
    np.savez(directory / "california_housing.npz", x=rng.normal(size=(n, 8)) * 10,
             y=rng.uniform(15000, 500000, n))


WRITERS = {"mnist": write_mnist, "fashion_mnist": write_fashion_mnist,
           "cifar10": write_cifar10, "imdb": write_imdb,
           "california_housing": write_california}


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("ZOO_DATA_DIR", str(tmp_path))
    return tmp_path


# -- reading ----------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(WRITERS))
def test_reads_the_keras_format_from_zoo_data_dir(name, data_dir, offline):
    WRITERS[name](data_dir)
    info = data.info(name)
    options = {"maxlen": 12, "vocab_size": 30} if name == "imdb" else {}
    parts = data.load_splits(name, **options)
    assert list(parts) == ["train", "val", "test"]
    n_train = len(parts["train"][1]) + len(parts["val"][1])
    assert len(parts["val"][1]) == round(0.1 * n_train)
    input_shape = (12,) if name == "imdb" else info.input_shape
    for x, y in parts.values():
        assert x.shape[1:] == input_shape and x.dtype == info.input_dtype
        assert y.shape == (len(x),) and y.dtype == info.target_dtype
    if info.input_shape[-1] in (1, 3):  # images in raw 0..255
        x = parts["train"][0]
        assert x.min() >= 0 and x.max() > 200 and x.max() <= 255
    x1, y1 = data.load(name, "val", **options)
    np.testing.assert_array_equal(x1, parts["val"][0])
    np.testing.assert_array_equal(y1, parts["val"][1])
    assert offline == []  # no connectivity check was needed


def test_val_is_stratified_and_disjoint_from_train(data_dir):
    write_mnist(data_dir, n_train=400)
    parts = data.load_splits("mnist")
    assert np.bincount(parts["val"][1]).tolist() == [4] * 10
    train = {r.tobytes() for r in parts["train"][0]}
    assert not any(r.tobytes() in train for r in parts["val"][0])


def test_cifar10_reads_the_downloaded_archive_too(data_dir):
    write_cifar10(data_dir, as_archive=True)
    x, y = data.load("cifar10", "test")
    assert x.shape == (40, 32, 32, 3) and y.shape == (40,)


def test_keras_cache_is_used_when_zoo_data_dir_lacks_the_file(monkeypatch, tmp_path):
    cache = fetch.keras_cache_dirs()[0]
    cache.mkdir(parents=True)
    write_mnist(cache, n_train=100)
    monkeypatch.setenv("ZOO_DATA_DIR", str(tmp_path / "empty"))
    assert data.load_splits("mnist")["train"][0].shape[0] == 90


def test_zoo_data_dir_comes_before_keras_cache(data_dir):
    cache = fetch.keras_cache_dirs()[0]
    cache.mkdir(parents=True)
    write_mnist(cache, n_train=100)
    write_mnist(data_dir, n_train=300)
    assert len(data.load("mnist", "train")[1]) == 270


# -- parity with keras.datasets ----------------------------------------------------------
def _serve(monkeypatch, module, path_for):
    monkeypatch.setattr(module, "get_file", lambda fname=None, *a, **k: str(path_for(fname)))


def _assert_keras_split(parts, keras_train, keras_test, stratify=True):
    (xk, yk), (xk_test, yk_test) = keras_train, keras_test
    xk, xk_test = xk.astype(parts["test"][0].dtype), xk_test.astype(parts["test"][0].dtype)
    yk, yk_test = yk.astype(parts["test"][1].dtype), yk_test.astype(parts["test"][1].dtype)
    chosen = splits.shuffled(yk, online.VAL_FRACTIONS, stratify=stratify)
    for split in ("train", "val"):
        np.testing.assert_array_equal(parts[split][0], xk[chosen[split]])
        np.testing.assert_array_equal(parts[split][1], yk[chosen[split]])
    np.testing.assert_array_equal(parts["test"][0], xk_test)
    np.testing.assert_array_equal(parts["test"][1], yk_test)


def test_mnist_and_fashion_mnist_match_keras(data_dir, monkeypatch):
    from keras.src.datasets import fashion_mnist, mnist

    write_mnist(data_dir)
    write_fashion_mnist(data_dir)
    _serve(monkeypatch, mnist, lambda f: data_dir / "mnist.npz")
    _serve(monkeypatch, fashion_mnist, lambda f: data_dir / "fashion-mnist" / f)
    for name, module in (("mnist", mnist), ("fashion_mnist", fashion_mnist)):
        (x, y), (xt, yt) = module.load_data()
        _assert_keras_split(data.load_splits(name), (x[..., None], y), (xt[..., None], yt))


def test_cifar10_rows_become_channels_last_images(data_dir):
    # keras' loader insists on 10,000 images per batch, too big for a unit test, so the
    # layout is checked against the format itself: each row is 1024 red, 1024 green,
    # then 1024 blue values, each plane row-major over 32x32.
    write_cifar10(data_dir)
    raw = pickle.loads((data_dir / "cifar-10-batches-py" / "test_batch").read_bytes())
    x, y = data.load("cifar10", "test")
    i, r, c = 7, 3, 30
    for channel in range(3):
        assert x[i, r, c, channel] == raw[b"data"][i, channel * 1024 + r * 32 + c]
    np.testing.assert_array_equal(y, raw[b"labels"])
    np.testing.assert_array_equal(x, raw[b"data"].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))


def test_imdb_matches_keras_load_data_then_pad_sequences(data_dir, monkeypatch):
    import keras
    from keras.src.datasets import imdb

    write_imdb(data_dir)
    _serve(monkeypatch, imdb, lambda f: data_dir / "imdb.npz")
    (x, y), (xt, yt) = imdb.load_data(num_words=30)
    pad = keras.utils.pad_sequences
    parts = data.load_splits("imdb", maxlen=12, vocab_size=30)
    _assert_keras_split(parts, (pad(x, maxlen=12), y), (pad(xt, maxlen=12), yt))
    assert parts["train"][0].max() == 29 and (parts["train"][0] == 2).any()  # OOV used
    with pytest.raises(ValueError, match="maxlen"):
        data.load("imdb", maxlen=0)


def test_california_housing_matches_keras_large_version(data_dir, monkeypatch):
    from keras.src.datasets import california_housing

    write_california(data_dir)
    _serve(monkeypatch, california_housing, lambda f: data_dir / "california_housing.npz")
    (x, y), (xt, yt) = california_housing.load_data(version="large")
    _assert_keras_split(data.load_splits("california_housing"), (x, y), (xt, yt),
                        stratify=False)


def test_pad_sequences_matches_keras():
    import keras

    seqs = [[], [5], list(range(1, 9)), list(range(1, 4))]
    np.testing.assert_array_equal(online.pad_sequences(seqs, 5),
                                  keras.utils.pad_sequences(seqs, maxlen=5))


def test_pickled_code_in_a_dataset_file_is_refused(data_dir):
    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    folder = data_dir / "cifar-10-batches-py"
    folder.mkdir()
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        (folder / name).write_bytes(pickle.dumps({b"data": Evil(), b"labels": [0]}))
    with pytest.raises(pickle.UnpicklingError, match="refusing"):
        data.load("cifar10")


# -- missing files: fail fast, say what to do -------------------------------------------
@pytest.mark.parametrize("name", sorted(WRITERS))
def test_missing_files_without_network_fail_fast_with_instructions(name, offline):
    start = time.perf_counter()
    with pytest.raises(data.DatasetUnavailableError) as raised:
        data.load(name)
    assert time.perf_counter() - start < 1.0
    message = str(raised.value)
    assert isinstance(raised.value, OSError)
    for file in data.info(name).files:
        assert file in message
    assert "ZOO_DATA_DIR" in message and "https://" in message
    assert offline  # the connectivity check ran (and said no)


def test_only_the_missing_files_are_named(data_dir):
    write_fashion_mnist(data_dir)
    (data_dir / "fashion-mnist" / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(data.DatasetUnavailableError) as raised:
        data.load("fashion_mnist")
    assert "t10k-labels-idx1-ubyte.gz" in str(raised.value)
    assert "train-images" not in str(raised.value)
    assert f"ZOO_DATA_DIR={data_dir}" in str(raised.value)


def test_download_happens_only_when_the_host_answers(monkeypatch, tmp_path):
    downloaded = []

    def fake_download(file):
        downloaded.append(file.name)
        write_mnist(tmp_path)
        return tmp_path / "mnist.npz"

    monkeypatch.setattr(fetch, "can_reach", lambda url, timeout=3.0: True)
    monkeypatch.setattr(fetch, "_download", fake_download)
    assert data.load("mnist", "test")[0].shape == (50, 28, 28, 1)
    assert downloaded == ["mnist.npz"]


def test_a_failed_download_becomes_dataset_unavailable(monkeypatch):
    def broken(file):
        raise Exception(f"URL fetch failure on {file.url}: None -- timed out")

    monkeypatch.setattr(fetch, "can_reach", lambda url, timeout=3.0: True)
    monkeypatch.setattr(fetch, "_download", broken)
    with pytest.raises(data.DatasetUnavailableError, match="downloading failed.*timed out"):
        data.load("california_housing")


def test_connectivity_check_on_local_sockets_only(monkeypatch):
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        port = server.getsockname()[1]
        assert REAL_CAN_REACH(f"http://127.0.0.1:{port}/x", timeout=1.0)
    assert not REAL_CAN_REACH(f"http://127.0.0.1:{port}/x", timeout=1.0)  # now closed


def test_zoo_offline_skips_the_connectivity_check(monkeypatch):
    def no_socket(*args, **kwargs):
        raise AssertionError("ZOO_OFFLINE must not open sockets")

    monkeypatch.setattr(socket, "create_connection", no_socket)
    monkeypatch.setenv("ZOO_OFFLINE", "1")
    assert REAL_CAN_REACH("https://storage.googleapis.com/x") is False
