import numpy as np
import pytest
from sklearn.model_selection import train_test_split

from zoo.data import splits


@pytest.mark.parametrize("n", [10, 178, 442, 569, 1797])
def test_sizes_add_up_and_round_the_held_out_splits(n):
    counts = splits.sizes(n, splits.TRAIN_VAL_TEST)
    assert sum(counts.values()) == n
    assert counts["val"] == counts["test"] == round(n * 0.15)


def test_sizes_reject_bad_fractions():
    with pytest.raises(ValueError, match="add up to 1"):
        splits.sizes(100, {"train": 0.7, "test": 0.2})
    with pytest.raises(ValueError, match="too few"):
        splits.sizes(3, splits.TRAIN_VAL_TEST)


def test_shuffled_is_a_deterministic_partition():
    y = np.arange(500) % 7
    first = splits.shuffled(y, splits.TRAIN_VAL_TEST, stratify=True)
    again = splits.shuffled(y, splits.TRAIN_VAL_TEST, stratify=True)
    other_seed = splits.shuffled(y, splits.TRAIN_VAL_TEST, stratify=True, seed=1)
    for name in first:
        np.testing.assert_array_equal(first[name], again[name])
    assert not np.array_equal(first["test"], other_seed["test"])
    joined = np.concatenate(list(first.values()))
    np.testing.assert_array_equal(np.sort(joined), np.arange(500))
    assert {k: len(v) for k, v in first.items()} == splits.sizes(500, splits.TRAIN_VAL_TEST)


def test_stratified_keeps_class_proportions():
    y = np.array([0] * 900 + [1] * 100)
    parts = splits.shuffled(y, splits.TRAIN_VAL_TEST, stratify=True)
    for idx in parts.values():
        assert abs(np.mean(y[idx]) - 0.1) < 0.01


def test_chronological_blocks_are_consecutive_and_ordered():
    parts = splits.chronological(100, splits.TRAIN_VAL_TEST)
    np.testing.assert_array_equal(parts["train"], np.arange(70))
    np.testing.assert_array_equal(parts["val"], np.arange(70, 85))
    np.testing.assert_array_equal(parts["test"], np.arange(85, 100))


@pytest.mark.parametrize("n", [9, 10, 1797])
def test_head_sizes_like_sklearn_unshuffled(n):
    parts = splits.head(n, {"train": 0.5, "test": 0.5})
    train, test = train_test_split(np.arange(n), test_size=0.5, shuffle=False)
    np.testing.assert_array_equal(parts["train"], train)
    np.testing.assert_array_equal(parts["test"], test)
