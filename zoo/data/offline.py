"""Offline tabular and image datasets bundled with scikit-learn.

Features are returned in their raw units (digits: pixel intensities 0..16; diabetes:
`load_diabetes(scaled=False)`, i.e. years, mmHg, ...): the zoo models standardize
inside, adapted on the training split only.

Example:
    >>> from zoo import data
    >>> x, y = data.load("digits_rows", "train")
    >>> x.shape
    (1257, 8, 8)
"""

from __future__ import annotations

import numpy as np

from zoo.data import splits
from zoo.data.catalogue import DatasetInfo, register_dataset

_SKLEARN = "scikit-learn `sklearn.datasets`, bundled with the package (no network)"


def _sklearn(loader_name, **kwargs):
    import sklearn.datasets

    bunch = getattr(sklearn.datasets, loader_name)(**kwargs)
    return np.asarray(bunch.data, "float32"), np.asarray(bunch.target)


def _digits(scheme, shape):
    x, y = _sklearn("load_digits")
    if scheme == "half":
        parts = splits.head(len(y), {"train": 0.5, "test": 0.5})
    else:
        parts = splits.shuffled(y, splits.TRAIN_VAL_TEST, stratify=True)
    return splits.take((x.reshape(-1, *shape), y), parts)


def _table(loader_name, stratify, **kwargs):
    def load(scheme):
        x, y = _sklearn(loader_name, **kwargs)
        return splits.take((x, y), splits.shuffled(y, splits.TRAIN_VAL_TEST, stratify=stratify))

    return load


_DIGITS_SCHEMES = {
    "stratified": {"train": 1257, "val": 270, "test": 270},
    "half": {"train": 898, "test": 899},
}
_DIGITS_TEXT = (
    "scikit-learn's 1,797 8x8 hand-written digits (UCI optical recognition of digits, "
    "test set), pixel values 0..16. Scheme 'half' is scikit-learn's 'Recognizing "
    "hand-written digits' example split (first 50% train, last 50% test, unshuffled); "
    "'stratified' is a stratified 70/15/15 split with seed 0."
)
_DIGITS_COMMON = dict(
    task="classification", source=_SKLEARN + "; Alpaydin & Kaynak, UCI ML repository (1998)",
    license="CC-BY-4.0", target_shape=(), num_classes=10, metric="accuracy",
    schemes=_DIGITS_SCHEMES, default_scheme="stratified", online=False,
)

register_dataset(
    DatasetInfo(name="digits", description=_DIGITS_TEXT + " Images (8, 8, 1).",
                input_shape=(8, 8, 1), **_DIGITS_COMMON),
    lambda scheme: _digits(scheme, (8, 8, 1)),
)
register_dataset(
    DatasetInfo(name="digits_rows", description=_DIGITS_TEXT
                + " As sequences: 8 time steps (rows) of 8 features (pixels).",
                input_shape=(8, 8), **_DIGITS_COMMON),
    lambda scheme: _digits(scheme, (8, 8)),
)
register_dataset(
    DatasetInfo(
        name="breast_cancer", task="classification",
        description="Wisconsin diagnostic breast cancer: 569 tumours, 30 real-valued "
        "features; 0 = malignant, 1 = benign. Stratified 70/15/15 split, seed 0.",
        source=_SKLEARN + "; Street, Wolberg & Mangasarian, UCI ML repository (1995)",
        license="CC-BY-4.0", input_shape=(30,), target_shape=(), num_classes=2,
        metric="accuracy", schemes={"stratified": {"train": 399, "val": 85, "test": 85}},
        default_scheme="stratified", online=False,
    ),
    _table("load_breast_cancer", stratify=True),
)
register_dataset(
    DatasetInfo(
        name="wine", task="classification",
        description="Wine recognition: 178 wines from three cultivars, 13 chemical "
        "measurements. Stratified 70/15/15 split, seed 0.",
        source=_SKLEARN + "; Aeberhard & Forina, UCI ML repository (1991)",
        license="CC-BY-4.0", input_shape=(13,), target_shape=(), num_classes=3,
        metric="accuracy", schemes={"stratified": {"train": 124, "val": 27, "test": 27}},
        default_scheme="stratified", online=False,
    ),
    _table("load_wine", stratify=True),
)
register_dataset(
    DatasetInfo(
        name="diabetes", task="regression",
        description="Diabetes progression one year after baseline for 442 patients from "
        "10 raw-unit baseline variables (age, sex, bmi, blood pressure, six serum "
        "measurements; scikit-learn's scaled=False). Random 70/15/15 split, seed 0.",
        source=_SKLEARN + "; Efron, Hastie, Johnstone & Tibshirani, 'Least Angle "
        "Regression', Annals of Statistics (2004)",
        license="unspecified (distributed with scikit-learn)", input_shape=(10,),
        target_shape=(), num_classes=None, metric="mae",
        schemes={"random": {"train": 310, "val": 66, "test": 66}},
        default_scheme="random", online=False,
    ),
    _table("load_diabetes", stratify=False, scaled=False),
)
