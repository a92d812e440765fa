import numpy as np
from sklearn import datasets
from sklearn.model_selection import train_test_split

from zoo import data


def test_digits_half_is_sklearns_example_split_exactly():
    digits = datasets.load_digits()
    flat = digits.images.reshape((len(digits.images), -1))
    x_train, x_test, y_train, y_test = train_test_split(
        flat, digits.target, test_size=0.5, shuffle=False)
    for split, x_ref, y_ref in (("train", x_train, y_train), ("test", x_test, y_test)):
        x, y = data.load("digits", split, scheme="half")
        assert x.shape == (len(y_ref), 8, 8, 1)
        np.testing.assert_array_equal(x.reshape(len(x), -1), x_ref)
        np.testing.assert_array_equal(y, y_ref)
    assert x.min() == 0 and x.max() == 16  # raw units, not rescaled


def test_digits_rows_are_the_same_images_as_row_sequences():
    for scheme in ("half", "stratified"):
        images = data.load_splits("digits", scheme)
        rows = data.load_splits("digits_rows", scheme)
        for split in images:
            np.testing.assert_array_equal(rows[split][0], images[split][0][..., 0])
            np.testing.assert_array_equal(rows[split][1], images[split][1])


def test_stratified_is_the_default_digits_scheme_and_differs_from_half():
    assert data.info("digits").default_scheme == "stratified"
    x, _ = data.load("digits", "test")
    x_half, _ = data.load("digits", "test", scheme="half")
    assert x.shape[0] == 270 and not np.array_equal(x, x_half[:270])


def test_diabetes_is_in_raw_units_with_float_targets():
    x, y = data.load("diabetes", "train")
    age, sex = x[:, 0], x[:, 1]
    assert 18 <= age.min() and age.max() <= 80  # years, not sklearn's scaled columns
    assert set(np.unique(sex)) == {1.0, 2.0}
    assert y.dtype == np.float32 and y.shape == (310,) and 25 <= y.min() and y.max() <= 346


def test_tabular_rows_are_sklearns_rows():
    for name, loader in (("wine", datasets.load_wine), ("breast_cancer",
                                                        datasets.load_breast_cancer)):
        bunch = loader()
        x, y = data.load(name, "val")
        ref = {row.tobytes(): t for row, t in zip(bunch.data.astype("float32"), bunch.target)}
        assert all(ref[row.tobytes()] == label for row, label in zip(x, y))
