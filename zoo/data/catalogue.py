"""The dataset catalogue: `DatasetInfo` records, their loaders, and `load` / `info`.

Loaders live next to their data (`offline.py`, `timeseries.py`, `online.py`) and
register here with `register_dataset`; `zoo.data` imports them all.

Example:
    >>> from zoo import data
    >>> dict(data.info("wine").schemes["stratified"])
    {'train': 124, 'val': 27, 'test': 27}
    >>> x, y = data.load("wine", "val")
    >>> x.shape, y.dtype.name
    ((27, 13), 'int32')
"""

from __future__ import annotations

import difflib
import types
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import numpy as np

TASKS = ("classification", "regression", "forecast")


@dataclass(frozen=True)
class DatasetInfo:
    """What a dataset is and how `load` splits it.

    `schemes` maps each split scheme to its splits and their sizes (at the default
    `options`); `default_scheme` is the one `scheme=None` picks. `options` are the extra
    keyword arguments `load` accepts, with their defaults. `online=True` means the data
    come from the network unless its `files` are in `$ZOO_DATA_DIR` or Keras' cache
    (`~/.keras/datasets`); offline datasets ship with installed packages.
    `metric` names the primary test metric ("accuracy" or "mae").
    """

    name: str
    task: str
    description: str
    source: str
    license: str
    input_shape: tuple
    target_shape: tuple
    num_classes: int | None
    metric: str
    schemes: Mapping[str, Mapping[str, int]]
    default_scheme: str
    online: bool
    input_dtype: str = "float32"
    options: Mapping[str, Any] = field(default_factory=dict)
    files: tuple = ()

    def __post_init__(self):
        if self.task not in TASKS:
            raise ValueError(f"task is one of {TASKS}, got {self.task!r}.")
        if self.default_scheme not in self.schemes:
            raise ValueError(f"default_scheme {self.default_scheme!r} is not among "
                             f"{sorted(self.schemes)}.")
        if (self.task == "classification") != (self.num_classes is not None):
            raise ValueError("num_classes is set for classification datasets only.")
        freeze = types.MappingProxyType  # read-only views: the record is shared
        object.__setattr__(self, "schemes", freeze(
            {scheme: freeze(dict(sizes)) for scheme, sizes in self.schemes.items()}))
        object.__setattr__(self, "options", freeze(dict(self.options)))
        object.__setattr__(self, "input_shape", tuple(self.input_shape))
        object.__setattr__(self, "target_shape", tuple(self.target_shape))
        object.__setattr__(self, "files", tuple(self.files))

    @property
    def target_dtype(self) -> str:
        return "int32" if self.task == "classification" else "float32"

    @property
    def splits(self) -> tuple:
        """The split names of the default scheme."""
        return tuple(self.schemes[self.default_scheme])


@dataclass(frozen=True)
class _Entry:
    info: DatasetInfo
    loader: Callable  # loader(scheme, **options) -> {split: (x, y)}


_DATASETS: dict[str, _Entry] = {}


def register_dataset(info: DatasetInfo, loader: Callable) -> DatasetInfo:
    """Add a dataset; `loader(scheme, **options)` returns `{split: (x, y)}` for every
    split of `scheme`."""
    if info.name in _DATASETS:
        raise ValueError(f"dataset {info.name!r} is already registered.")
    _DATASETS[info.name] = _Entry(info, loader)
    return info


def unknown(what: str, value, available) -> ValueError:
    """A ValueError naming what is available, with difflib's closest matches."""
    available = sorted(available)
    close = difflib.get_close_matches(str(value), available, n=3, cutoff=0.5)
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    return ValueError(f"unknown {what} {value!r}.{hint} "
                      f"Available: {', '.join(available) or 'none'}.")


def list_datasets(*, online: bool | None = None) -> list[str]:
    """Sorted dataset names; `online=False` lists only those that need no network.

    Example:
        >>> from zoo import data
        >>> data.list_datasets(online=False)
        ['breast_cancer', 'diabetes', 'digits', 'digits_rows', 'sf_temps', 'wine']
    """
    return sorted(n for n, e in _DATASETS.items() if online is None or e.info.online == online)


def info(name: str) -> DatasetInfo:
    """The `DatasetInfo` of dataset `name`.

    Example:
        >>> from zoo import data
        >>> data.info("digits").input_shape
        (8, 8, 1)
    """
    try:
        return _DATASETS[name].info
    except KeyError:
        raise unknown("dataset", name, _DATASETS) from None


def _resolve(name, scheme, options):
    dataset = info(name)
    scheme = dataset.default_scheme if scheme is None else scheme
    if scheme not in dataset.schemes:
        raise unknown(f"scheme for {name!r}", scheme, dataset.schemes)
    for key in options:
        if key not in dataset.options:
            raise unknown(f"option for {name!r}", key, dataset.options)
    return dataset, scheme, {**dataset.options, **options}


def load_splits(name: str, scheme: str | None = None, **options) -> dict[str, tuple]:
    """Every split of `scheme` at once: `{split: (x, y)}` (one read of the source).

    Example:
        >>> from zoo import data
        >>> parts = data.load_splits("digits", scheme="half")
        >>> {split: len(y) for split, (x, y) in parts.items()}
        {'train': 898, 'test': 899}
    """
    dataset, scheme, options = _resolve(name, scheme, options)
    parts = _DATASETS[name].loader(scheme, **options)
    return {split: (np.ascontiguousarray(x, dtype=dataset.input_dtype),
                    np.ascontiguousarray(y, dtype=dataset.target_dtype))
            for split, (x, y) in parts.items()}


def load(name: str, split: str = "train", scheme: str | None = None, **options):
    """One split of a dataset as numpy arrays `(x, y)`.

    `x` is float32 in raw units (token ids are int32); `y` holds int32 class ids or
    float32 targets. Unknown names, splits, schemes or options raise ValueError.

    Example:
        >>> from zoo import data
        >>> x, y = data.load("digits", "test", scheme="half")
        >>> x.shape, y.shape
        ((899, 8, 8, 1), (899,))
    """
    dataset, scheme, _ = _resolve(name, scheme, options)
    if split not in dataset.schemes[scheme]:
        raise unknown(f"split for {name!r} (scheme {scheme!r})", split, dataset.schemes[scheme])
    return load_splits(name, scheme, **options)[split]
