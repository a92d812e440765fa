import numpy as np
import pytest

from zoo import data
from zoo.data import timeseries


@pytest.fixture(scope="module")
def series():
    return timeseries.sf_temps_series()


def test_series_is_a_regular_hourly_year(series):
    timestamps, temps = series
    assert len(temps) == 8760 and not np.isnan(temps).any()
    assert (np.diff(timestamps.values) == np.timedelta64(1, "h")).all()
    assert str(timestamps[0]) == "2010-01-01 00:00:00"


@pytest.mark.parametrize("window,horizon", [(72, 24), (30, 7)])
def test_windows_stay_inside_their_split_and_align_with_the_series(series, window, horizon):
    _, temps = series
    ranges = timeseries.split_ranges(len(temps))
    assert [len(r) for r in ranges.values()] == [6132, 1314, 1314]
    parts = data.load_splits("sf_temps", window=window, horizon=horizon)
    for split, (x, y) in parts.items():
        idx = ranges[split]
        n = len(idx) - window - horizon + 1  # every window that fits, and no more
        assert x.shape == (n, window, 5) and y.shape == (n, horizon, 1)
        segment = temps[idx]
        for i in (0, n // 2, n - 1):
            np.testing.assert_array_equal(x[i, :, 0], segment[i:i + window])
            np.testing.assert_array_equal(y[i, :, 0], segment[i + window:i + window + horizon])
        # the last target is the last hour of the split: nothing reaches past it
        assert y[-1, -1, 0] == temps[idx[-1]]
        assert x[0, 0, 0] == temps[idx[0]]


def test_calendar_features_follow_the_clock(series):
    x, _ = data.load("sf_temps", "train")
    hour_angle = np.arctan2(x[:, :, 1], x[:, :, 2])  # (sin, cos) of the hour
    steps = np.diff(np.unwrap(hour_angle, axis=1), axis=1)
    np.testing.assert_allclose(steps, 2 * np.pi / 24, atol=1e-4)
    np.testing.assert_allclose(x[0, 0, 1:], [0.0, 1.0, 0.0, 1.0], atol=1e-6)  # Jan 1, 00:00
    np.testing.assert_allclose(x[..., 1] ** 2 + x[..., 2] ** 2, 1.0, atol=1e-5)


def test_windows_helper_and_its_errors():
    x, y = timeseries.windows(np.arange(10.0)[:, None], np.arange(10.0), 3, 2)
    assert x[:, :, 0].tolist()[0] == [0, 1, 2] and y[:, :, 0].tolist()[-1] == [8, 9]
    with pytest.raises(ValueError, match="window is a positive"):
        timeseries.windows(np.zeros((10, 1)), np.zeros(10), 0, 2)
    with pytest.raises(ValueError, match="horizon is a positive"):
        data.load("sf_temps", horizon=2.5)
    with pytest.raises(ValueError, match="too short"):
        data.load("sf_temps", "val", window=1300, horizon=24)
