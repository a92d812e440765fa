"""Dataset catalogue: offline datasets (scikit-learn, vega_datasets) and online ones
(keras.datasets files), with deterministic documented splits and baselines.

Loaders return raw-unit numpy arrays; the zoo models standardize inside, adapted on the
training split (`model.adapt(x_train, y_train)`). Nothing here imports Keras until an
online dataset must be downloaded.

Example:
    >>> from zoo import data
    >>> "digits" in data.list_datasets()
    True
    >>> x_train, y_train = data.load("digits", "train", scheme="half")
    >>> x_train.shape, x_train.dtype.name, y_train.dtype.name
    ((898, 8, 8, 1), 'float32', 'int32')
    >>> round(data.baselines("digits", scheme="half")["svc_accuracy"], 3)
    0.969
"""

from zoo.data import offline, online, timeseries  # noqa: F401  (register the datasets)
from zoo.data.baselines import baselines, has_baselines
from zoo.data.catalogue import DatasetInfo, info, list_datasets, load, load_splits
from zoo.data.fetch import DatasetUnavailableError

__all__ = [
    "DatasetInfo",
    "DatasetUnavailableError",
    "baselines",
    "has_baselines",
    "info",
    "list_datasets",
    "load",
    "load_splits",
]
