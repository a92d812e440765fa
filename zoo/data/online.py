"""Online datasets, read from the same files `keras.datasets` uses.

Files are found by `zoo.data.fetch` ($ZOO_DATA_DIR, then Keras' cache, then a
download). The test split is the dataset's standard one (California housing: Keras'
own 80/20 shuffle with seed 113); the validation split is carved from the training
split with `splits.shuffled` (10%, seed 0, stratified for classes). Images are
(height, width, channels) float32 in raw 0..255; IMDB reviews are int32 token ids,
processed as `keras.datasets.imdb.load_data(num_words=vocab_size)` followed by
`keras.utils.pad_sequences(maxlen=maxlen)` (the keras-io bidirectional LSTM example).

Example:
    >>> from zoo import data
    >>> x, y = data.load("mnist", "val")  # doctest: +SKIP
    >>> x.shape, y.shape  # doctest: +SKIP
    ((6000, 28, 28, 1), (6000,))
"""

from __future__ import annotations

import gzip
import io
import pickle
import struct
import tarfile
import zipfile

import numpy as np

from zoo.data import splits
from zoo.data.catalogue import DatasetInfo, register_dataset
from zoo.data.fetch import RemoteFile, locate

KERAS_ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
VAL_FRACTIONS = {"train": 0.9, "val": 0.1}
IMDB_SEED = 113  # keras.datasets.imdb's shuffle seed (start 1, OOV 2, ids from 3)

MNIST = RemoteFile("mnist.npz", KERAS_ORIGIN + "mnist.npz",
                   "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1")
FASHION_MNIST = tuple(
    RemoteFile(f"fashion-mnist/{name}", KERAS_ORIGIN + name)
    for name in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                 "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")
)
CIFAR10 = RemoteFile(
    "cifar-10-python.tar.gz", "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
    "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce",
    aliases=("cifar-10-batches-py",  # the extracted archive
             "cifar-10-batches-py-target/cifar-10-batches-py",  # keras' extracted copy
             "cifar-10-batches-py-target_archive"),  # keras' downloaded archive
)
IMDB = RemoteFile("imdb.npz", KERAS_ORIGIN + "imdb.npz",
                  "69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f")
CALIFORNIA = RemoteFile("california_housing.npz", KERAS_ORIGIN + "california_housing.npz",
                        "1a2e3a52e0398de6463aebe6f4a8da34fb21fbb6b934cf88c3425e766f2a1a6f")


# -- safe readers -------------------------------------------------------------------------
class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Unpickles numpy arrays and plain Python containers, nothing that runs code."""

    _ALLOWED = {("numpy", "ndarray"), ("numpy", "dtype"),
                ("numpy.core.multiarray", "_reconstruct"),
                ("numpy._core.multiarray", "_reconstruct")}

    def find_class(self, module, name):
        if (module, name) in self._ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a dataset file")


def _read_npz(path) -> dict:
    """An .npz archive as {key: array}; object arrays via the restricted unpickler."""
    arrays = {}
    with zipfile.ZipFile(path) as archive:
        for member in archive.namelist():
            with archive.open(member) as raw:
                buffer = io.BytesIO(raw.read())
            try:
                array = np.lib.format.read_array(buffer, allow_pickle=False)
            except ValueError:  # an object array: a pickle after the .npy header
                buffer.seek(0)
                major, _ = np.lib.format.read_magic(buffer)
                read_header = (np.lib.format.read_array_header_1_0 if major == 1
                               else np.lib.format.read_array_header_2_0)
                read_header(buffer)
                array = _NumpyOnlyUnpickler(buffer).load()
            arrays[member.removesuffix(".npy")] = array
    return arrays


def _read_idx(path) -> np.ndarray:
    """A gzipped IDX file (the MNIST format): big-endian header, then uint8 data."""
    with gzip.open(path, "rb") as f:
        content = f.read()
    ndim = content[3]
    shape = struct.unpack(f">{ndim}I", content[4:4 + 4 * ndim])
    return np.frombuffer(content, np.uint8, offset=4 + 4 * ndim).reshape(shape)


def _cifar_batches(path, names) -> list[dict]:
    """The CIFAR python batches `names`, from the extracted folder or the .tar.gz."""
    def parse(fileobj):
        batch = _NumpyOnlyUnpickler(fileobj, encoding="bytes").load()
        return {k.decode() if isinstance(k, bytes) else k: v for k, v in batch.items()}

    if path.is_dir():
        batches = {}
        for name in names:
            with open(path / name, "rb") as f:
                batches[name] = parse(f)
    else:
        with tarfile.open(path, "r:*") as archive:
            batches = {m.name.rsplit("/", 1)[-1]: parse(archive.extractfile(m))
                       for m in archive.getmembers()
                       if m.isfile() and m.name.rsplit("/", 1)[-1] in names}
    return [batches[name] for name in names]


# -- loaders --------------------------------------------------------------------------------
def _with_val(train, test, *, stratify):
    (x, y) = train
    parts = splits.take((x, y), splits.shuffled(y, VAL_FRACTIONS, stratify=stratify))
    return {**parts, "test": test}


def _images(x):
    x = np.asarray(x, "float32")
    return x[..., None] if x.ndim == 3 else x


def _load_mnist(scheme):
    (path,) = locate("mnist", [MNIST])
    f = _read_npz(path)
    return _with_val((_images(f["x_train"]), f["y_train"]),
                     (_images(f["x_test"]), f["y_test"]), stratify=True)


def _load_fashion_mnist(scheme):
    x_train, y_train, x_test, y_test = (
        _read_idx(p) for p in locate("fashion_mnist", FASHION_MNIST))
    return _with_val((_images(x_train), y_train), (_images(x_test), y_test), stratify=True)


def _load_cifar10(scheme):
    (path,) = locate("cifar10", [CIFAR10])
    if path.is_dir() and not (path / "test_batch").exists():
        path = path / "cifar-10-batches-py"
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    batches = _cifar_batches(path, names)

    def join(parts):
        x = np.concatenate([np.asarray(b["data"], np.uint8) for b in parts])
        y = np.concatenate([np.asarray(b["labels"]) for b in parts])
        return _images(x.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)), y

    return _with_val(join(batches[:5]), join(batches[5:]), stratify=True)


def pad_sequences(sequences, maxlen):
    """Keras' `pad_sequences` defaults: zeros in front, long sequences keep their end."""
    out = np.zeros((len(sequences), maxlen), "int32")
    for row, seq in zip(out, sequences):
        seq = list(seq)[-maxlen:]
        if seq:
            row[-len(seq):] = seq
    return out


def _load_imdb(scheme, maxlen, vocab_size):
    for key, value in (("maxlen", maxlen), ("vocab_size", vocab_size)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 4:
            raise ValueError(f"imdb {key} is an integer of at least 4, got {value!r}.")
    (path,) = locate("imdb", [IMDB])
    f = _read_npz(path)
    rng = np.random.RandomState(IMDB_SEED)
    out = []
    for x_key, y_key in (("x_train", "y_train"), ("x_test", "y_test")):
        order = np.arange(len(f[x_key]))
        rng.shuffle(order)
        tokens = [[1] + [w + 3 if w + 3 < vocab_size else 2 for w in f[x_key][i]]
                  for i in order]
        out.append((pad_sequences(tokens, maxlen), np.asarray(f[y_key])[order]))
    return _with_val(out[0], out[1], stratify=True)


def _load_california_housing(scheme):
    (path,) = locate("california_housing", [CALIFORNIA])
    f = _read_npz(path)
    x, y = f["x"], f["y"]
    order = np.arange(len(x))
    np.random.RandomState(113).shuffle(order)  # keras' test_split=0.2, seed=113
    n_train = int(len(x) * 0.8)
    train, test = order[:n_train], order[n_train:]
    return _with_val((x[train], y[train]), (x[test], y[test]), stratify=False)


# -- catalogue entries ----------------------------------------------------------------------
def _sizes(n_train, n_test):
    return {"standard": {**splits.sizes(n_train, VAL_FRACTIONS), "test": n_test}}


_STANDARD = ("Standard test split; validation = 10% of the training split "
             "(stratified, seed 0).")
_CLASSES = dict(task="classification", target_shape=(), num_classes=10, metric="accuracy",
                default_scheme="standard", online=True)

register_dataset(
    DatasetInfo(
        name="mnist", description="MNIST hand-written digits, 28x28 grayscale, raw 0..255. "
        + _STANDARD, source="LeCun, Cortes & Burges, http://yann.lecun.com/exdb/mnist/ "
        "(via keras.datasets)", license="CC-BY-SA-3.0", input_shape=(28, 28, 1),
        schemes=_sizes(60000, 10000), files=(MNIST.name,), **_CLASSES,
    ),
    _load_mnist,
)
register_dataset(
    DatasetInfo(
        name="fashion_mnist", description="Fashion-MNIST: 10 kinds of clothing, 28x28 "
        "grayscale, raw 0..255. " + _STANDARD,
        source="Xiao, Rasul & Vollgraf (2017), Zalando Research (via keras.datasets)",
        license="MIT", input_shape=(28, 28, 1), schemes=_sizes(60000, 10000),
        files=tuple(f.name for f in FASHION_MNIST), **_CLASSES,
    ),
    _load_fashion_mnist,
)
register_dataset(
    DatasetInfo(
        name="cifar10", description="CIFAR-10: 32x32 colour images in 10 classes, raw "
        "0..255, channels last. " + _STANDARD,
        source="Krizhevsky, 'Learning Multiple Layers of Features from Tiny Images' "
        "(2009), https://www.cs.toronto.edu/~kriz/cifar.html",
        license="unspecified (free for research; see the CIFAR page)",
        input_shape=(32, 32, 3), schemes=_sizes(50000, 10000),
        files=(CIFAR10.name,), **_CLASSES,
    ),
    _load_cifar10,
)
register_dataset(
    DatasetInfo(
        name="imdb", task="classification",
        description="IMDB movie reviews, positive (1) or negative (0), as int32 token "
        "ids: the `vocab_size` most frequent words (default 20,000; 0 pad, 1 start, 2 "
        "out-of-vocabulary), padded/truncated at the front to `maxlen` (default 200). "
        + _STANDARD, source="Maas et al., 'Learning Word Vectors for Sentiment "
        "Analysis', ACL 2011 (via keras.datasets)", license="unspecified (research use)",
        input_shape=(200,), input_dtype="int32", target_shape=(), num_classes=2,
        metric="accuracy", schemes=_sizes(25000, 25000), default_scheme="standard",
        online=True, options={"maxlen": 200, "vocab_size": 20000}, files=(IMDB.name,),
    ),
    _load_imdb,
)
register_dataset(
    DatasetInfo(
        name="california_housing", task="regression",
        description="California housing (1990 census block groups, 20,640 rows, 8 "
        "raw features); target: median house value in dollars. Keras' 'large' version "
        "and test split (20%, shuffled with seed 113); validation = 10% of the rest "
        "(seed 0).", source="Pace & Barry, 'Sparse Spatial Autoregressions' (1997), "
        "StatLib (via keras.datasets)", license="unspecified (StatLib)",
        input_shape=(8,), target_shape=(), num_classes=None, metric="mae",
        schemes=_sizes(16512, 4128), default_scheme="standard", online=True,
        files=(CALIFORNIA.name,),
    ),
    _load_california_housing,
)
