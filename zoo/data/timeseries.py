"""Forecasting windows over an hourly series, and the offline `sf_temps` dataset.

The series is cut chronologically into train/val/test first; windows are then built
inside each part, so no window (inputs or targets) crosses a split boundary. The
features are the raw temperature plus calendar terms computed from the timestamp
alone, so nothing is fitted on any split.

Example:
    >>> from zoo import data
    >>> x, y = data.load("sf_temps", "test")
    >>> x.shape, y.shape
    ((1219, 72, 5), (1219, 24, 1))
    >>> x, y = data.load("sf_temps", "train", window=48, horizon=12)
    >>> x.shape, y.shape
    ((6073, 48, 5), (6073, 12, 1))
"""

from __future__ import annotations

import numpy as np

from zoo.data import splits
from zoo.data.catalogue import DatasetInfo, register_dataset

FEATURES = ("temp", "hour_sin", "hour_cos", "day_sin", "day_cos")


def windows(features, target, window: int, horizon: int):
    """All windows of `window` consecutive rows of `features` (2-D) and the following
    `horizon` values of `target` (1-D): x (n, window, F), y (n, horizon, 1), stride 1.

    Example:
        >>> import numpy as np
        >>> from zoo.data.timeseries import windows
        >>> x, y = windows(np.arange(10.0)[:, None], np.arange(10.0), 4, 2)
        >>> x.shape, y[0, :, 0].tolist()
        ((5, 4, 1), [4.0, 5.0])
    """
    for key, value in (("window", window), ("horizon", horizon)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{key} is a positive number of steps, got {value!r}.")
    n = len(target) - window - horizon + 1
    if n < 1:
        raise ValueError(f"a series of {len(target)} steps is too short for window={window} "
                         f"plus horizon={horizon}.")
    view = np.lib.stride_tricks.sliding_window_view
    x = view(features, window, axis=0)[:n].transpose(0, 2, 1)
    y = view(target, horizon)[window:window + n]
    return np.array(x, "float32"), np.array(y[..., None], "float32")


def sf_temps_series():
    """The hourly series on a regular wall-clock grid: (timestamps, temperatures in F).

    vega_datasets' file (8,759 rows, 2010) lacks the hour 2010-03-14 03:00 (daylight
    saving); it is filled by linear interpolation of its two neighbours, giving 8,760.
    """
    import pandas as pd
    from vega_datasets import local_data

    frame = local_data.sf_temps().set_index("date").sort_index()
    grid = pd.date_range(frame.index[0], frame.index[-1], freq="h")
    temps = frame["temp"].reindex(grid).interpolate(limit=1, limit_area="inside")
    return grid, temps.to_numpy("float32")


def calendar_features(timestamps):
    """Hour-of-day and day-of-year as (sin, cos) pairs: shape (n, 4)."""
    hour = 2 * np.pi * np.asarray(timestamps.hour) / 24
    day = 2 * np.pi * (np.asarray(timestamps.dayofyear) - 1) / 365.25
    return np.stack([np.sin(hour), np.cos(hour), np.sin(day), np.cos(day)], axis=1)


def split_ranges(n: int) -> dict[str, np.ndarray]:
    """The time indices of each split of a series of `n` steps (70/15/15 in order)."""
    return splits.chronological(n, splits.TRAIN_VAL_TEST)


def _load_sf_temps(scheme, window, horizon):
    timestamps, temps = sf_temps_series()
    features = np.concatenate([temps[:, None], calendar_features(timestamps)], axis=1)
    return {name: windows(features[idx], temps[idx], window, horizon)
            for name, idx in split_ranges(len(temps)).items()}


register_dataset(
    DatasetInfo(
        name="sf_temps", task="forecast",
        description="Hourly San Francisco temperatures (F) through 2010. The series is "
        "very smooth (it looks like NOAA hourly climate normals: each hour is within "
        "0.4 F of the same hour a day earlier), so the seasonal-naive baseline is "
        "hard to beat. Inputs: the "
        "preceding `window` hours (default 72) of temperature plus hour-of-day and "
        "day-of-year sin/cos; target: the next `horizon` hours (default 24) of "
        "temperature. Chronological 70/15/15 split of the 8,760 hours (6,132 / 1,314 / "
        "1,314); windows are built within each split, stride 1.",
        source="vega_datasets local data 'sf-temps' (bundled, no network), from NOAA",
        license="public domain (NOAA)", input_shape=(72, len(FEATURES)),
        target_shape=(24, 1), num_classes=None, metric="mae",
        schemes={"chronological": {"train": 6037, "val": 1219, "test": 1219}},
        default_scheme="chronological", online=False,
        options={"window": 72, "horizon": 24},
    ),
    _load_sf_temps,
)
