"""`NaiveForecast`: the naive forecast a residual forecaster corrects."""

import keras


def target_columns(window, features):
    """`window[..., features]`: a slice when the features are consecutive (the usual
    case: one target), which on torch costs a fraction of `keras.ops.take`."""
    first = features[0]
    if tuple(features) == tuple(range(first, first + len(features))):
        return window[:, :, first:first + len(features)]
    return keras.ops.take(window, list(features), axis=-1)


@keras.saving.register_keras_serializable(package="zoo")
class NaiveForecast(keras.layers.Layer):
    """From a window (batch, window, features), the naive forecast of the target features
    over `horizon` steps: "last" repeats the last observed value; "seasonal" repeats the
    values one `season` earlier (e.g. the same hour yesterday for hourly data, season 24).

    Output shape (batch, horizon, len(target_features)). No weights.

    Example:
        >>> import numpy as np
        >>> layer = NaiveForecast("seasonal", horizon=2, season=3, target_features=(0,))
        >>> layer(np.arange(5.0).reshape(1, 5, 1)).shape
        (1, 2, 1)
    """

    def __init__(self, kind, horizon, season=1, target_features=(0,), **kwargs):
        super().__init__(**kwargs)
        if kind not in ("last", "seasonal"):
            raise ValueError(f"NaiveForecast kind is 'last' or 'seasonal', got {kind!r}.")
        self.kind = kind
        self.horizon = int(horizon)
        self.season = int(season)
        self.target_features = tuple(int(i) for i in target_features)

    def build(self, input_shape):
        window = input_shape[1]
        if self.kind == "seasonal" and window is not None and window < self.season:
            raise ValueError(
                f"a seasonal forecast needs a window of at least season={self.season} "
                f"steps, got window={window}."
            )

    def call(self, window):
        targets = target_columns(window, self.target_features)
        if self.kind == "last":
            last = targets[:, -1:, :]
            return keras.ops.repeat(last, self.horizon, axis=1)
        season = targets[:, -self.season:, :]
        repeats = -(-self.horizon // self.season)
        tiled = keras.ops.tile(season, (1, repeats, 1)) if repeats > 1 else season
        return tiled[:, : self.horizon, :]

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.horizon, len(self.target_features))

    def get_config(self):
        return {**super().get_config(), "kind": self.kind, "horizon": self.horizon,
                "season": self.season, "target_features": list(self.target_features)}


@keras.saving.register_keras_serializable(package="zoo")
class TargetHistory(keras.layers.Layer):
    """The last `steps` values of the target features of a window, relative to the last
    observed value, as (batch, len(target_features), steps): the input of a linear
    autoregressive path (centred on the current level, so its inputs stay small and
    its weights need not cancel a large level).

    Example:
        >>> import numpy as np
        >>> TargetHistory(3, (0,))(np.zeros((2, 5, 4))).shape
        (2, 1, 3)
    """

    def __init__(self, steps, target_features=(0,), **kwargs):
        super().__init__(**kwargs)
        self.steps = int(steps)
        self.target_features = tuple(int(i) for i in target_features)

    def call(self, window):
        targets = target_columns(window, self.target_features)
        recent = targets[:, -self.steps:, :] - targets[:, -1:, :]
        return keras.ops.transpose(recent, (0, 2, 1))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], len(self.target_features), self.steps)

    def get_config(self):
        return {**super().get_config(), "steps": self.steps,
                "target_features": list(self.target_features)}
