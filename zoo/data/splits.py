"""Deterministic split rules shared by every loader: sizes, random/stratified, chronological.

Every rule returns a dict mapping split name to the integer row indices of that split
(sorted ascending, so rows keep their source order), and the same call always returns
the same indices.

Example:
    >>> import numpy as np
    >>> from zoo.data import splits
    >>> splits.sizes(100, splits.TRAIN_VAL_TEST)
    {'train': 70, 'val': 15, 'test': 15}
    >>> parts = splits.shuffled(np.arange(100) % 2, splits.TRAIN_VAL_TEST, stratify=True)
    >>> [len(parts[s]) for s in ("train", "val", "test")]
    [70, 15, 15]
"""

from __future__ import annotations

import numpy as np

SEED = 0
"""The one seed every random split uses."""

TRAIN_VAL_TEST = {"train": 0.70, "val": 0.15, "test": 0.15}
"""The offline datasets' split fractions."""


def sizes(n: int, fractions: dict[str, float]) -> dict[str, int]:
    """Rows per split: every split but the first gets round(n * fraction), the first
    gets the rest, so the sizes always add up to `n`."""
    if abs(sum(fractions.values()) - 1.0) > 1e-9:
        raise ValueError(f"split fractions must add up to 1, got {fractions}.")
    names = list(fractions)
    counts = {name: int(round(n * fractions[name])) for name in names[1:]}
    counts = {names[0]: n - sum(counts.values()), **counts}
    if min(counts.values()) <= 0:
        raise ValueError(f"{n} rows are too few for the splits {fractions}: sizes {counts}.")
    return counts


def shuffled(y, fractions: dict[str, float], *, stratify: bool, seed: int = SEED):
    """Random split of the rows of `y` with exact `sizes(len(y), fractions)`.

    With `stratify=True` each split keeps the class proportions of `y` (scikit-learn's
    stratified shuffle split, carving the splits after the first one off in turn with
    `random_state=seed`).
    """
    from sklearn.model_selection import train_test_split

    y = np.asarray(y)
    counts = sizes(len(y), fractions)
    names = list(fractions)
    remaining = np.arange(len(y))
    parts = {}
    for name in names[:0:-1]:
        remaining, taken = train_test_split(
            remaining, test_size=counts[name], random_state=seed,
            stratify=y[remaining] if stratify else None,
        )
        parts[name] = np.sort(taken)
    parts[names[0]] = np.sort(remaining)
    return {name: parts[name] for name in names}


def chronological(n: int, fractions: dict[str, float]) -> dict[str, np.ndarray]:
    """Consecutive blocks in order: the first split is the earliest rows."""
    bounds = np.cumsum([0, *sizes(n, fractions).values()])
    return {name: np.arange(bounds[i], bounds[i + 1]) for i, name in enumerate(fractions)}


def head(n: int, fractions: dict[str, float]) -> dict[str, np.ndarray]:
    """Consecutive blocks without shuffling, sized as scikit-learn's
    `train_test_split(..., shuffle=False)` sizes them (the test share rounded up)."""
    import math

    if set(fractions) != {"train", "test"}:
        raise ValueError(f"head splits are 'train' and 'test', got {sorted(fractions)}.")
    n_test = math.ceil(n * fractions["test"])
    return {"train": np.arange(n - n_test), "test": np.arange(n - n_test, n)}


def take(arrays, parts):
    """Apply split indices to aligned arrays: {split: tuple(a[idx] for a in arrays)}."""
    return {name: tuple(a[idx] for a in arrays) for name, idx in parts.items()}
