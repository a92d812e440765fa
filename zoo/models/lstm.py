"""`lstm_classifier` (token ids or float sequences) and `lstm_forecaster` (multi-step)."""

import keras
import numpy as np

from zoo import layers as zoo_layers
from zoo.layers.forecast_baseline import NaiveForecast, TargetHistory
from zoo.models import blocks
from zoo.models.base import ZooClassifier, ZooModel
from zoo.registry import register_architecture


def lstm_stack(x, units, bidirectional=False, dropout=0.0):
    """Stacked LSTMs; every layer but the last returns sequences."""
    for i, width in enumerate(units):
        last = i == len(units) - 1
        layer = zoo_layers.LSTM(width, return_sequences=not last, name=f"lstm_{i}")
        if bidirectional:
            layer = keras.layers.Bidirectional(layer, name=f"bidirectional_{i}")
        x = layer(x)
        if dropout:
            x = keras.layers.Dropout(dropout, name=f"lstm_dropout_{i}")(x)
    return x


@keras.saving.register_keras_serializable(package="zoo")
@register_architecture(
    "lstm_classifier",
    family="lstm",
    description="Stacked (optionally bidirectional) LSTM sequence classifier; token ids "
    "with masked padding, or float feature sequences",
    tiny={"sequence_length": 8, "num_features": 8, "num_classes": 3, "units": (16,)},
)
class LSTMClassifier(ZooClassifier):
    """LSTM sequence classifier.

    With `vocab_size`, inputs are int token ids (0 is padding, masked); otherwise
    they are float sequences of shape (sequence_length, num_features), standardized
    by `adapt`.

    Example:
        >>> import numpy as np, zoo
        >>> model = zoo.LSTMClassifier(vocab_size=100, sequence_length=12, num_classes=2,
        ...                            units=(8,), bidirectional=True)
        >>> model.predict(np.ones((2, 12), "int32"), verbose=0).shape
        (2, 1)
    """

    def __init__(self, num_classes, sequence_length=None, num_features=None, vocab_size=None,
                 embedding_dim=64, units=(64,), bidirectional=False, dropout=0.0,
                 name="lstm_classifier", **kwargs):
        blocks.check_num_classes("LSTMClassifier", num_classes)
        units = tuple(units)
        blocks.check_positive_ints("LSTMClassifier", units=units)
        if (vocab_size is None) == (num_features is None):
            raise ValueError(
                "LSTMClassifier needs exactly one of vocab_size (token-id inputs) or "
                f"num_features (float sequences); got vocab_size={vocab_size!r}, "
                f"num_features={num_features!r}."
            )
        if vocab_size is not None:
            inputs = keras.Input((sequence_length,), dtype="int32", name="tokens")
            x = keras.layers.Embedding(vocab_size, embedding_dim, mask_zero=True,
                                       name="embedding")(inputs)
        else:
            inputs = keras.Input((sequence_length, num_features), name="sequence")
            x = blocks.input_normalization(inputs)
        x = lstm_stack(x, units, bidirectional, dropout)
        outputs = blocks.classification_head(x, num_classes)
        super().__init__(
            inputs=inputs, outputs=outputs, name=name,
            config=dict(num_classes=num_classes, sequence_length=sequence_length,
                        num_features=num_features, vocab_size=vocab_size,
                        embedding_dim=embedding_dim, units=units,
                        bidirectional=bidirectional, dropout=dropout),
            **kwargs,
        )


@keras.saving.register_keras_serializable(package="zoo")
@register_architecture(
    "lstm_forecaster",
    family="lstm",
    description="LSTM forecaster: a window of a multivariate series in, a multi-step "
    "horizon of target series out",
    tiny={"window": 12, "num_features": 3, "horizon": 4, "num_targets": 1, "units": (16,),
          "residual": "seasonal", "season": 4, "autoregressive": 8},
)
class LSTMForecaster(ZooModel):
    """Multi-step time-series forecaster.

    Input (window, num_features); output (horizon, num_targets) in the targets' units
    once `adapt(x_train, y_train)` has been called.

    With `residual="last"` or `"seasonal"` the network learns a correction to a naive
    forecast (the last observed value, or the value one `season` earlier) of the input
    features `target_features`; it starts out as exactly that naive forecast.
    `autoregressive=k` adds a linear path from the last k raw target values to the
    forecast, in parallel with the LSTM (the "autoregressive component" of LSTNet,
    Lai et al. 2018): it captures level and trend, which a network reading
    standardized inputs resolves poorly.

    Example:
        >>> import numpy as np, zoo
        >>> model = zoo.LSTMForecaster(window=24, num_features=2, horizon=6, units=(8,))
        >>> model.predict(np.zeros((1, 24, 2)), verbose=0).shape
        (1, 6, 1)
    """

    default_loss = "mse"
    default_metrics = ("mae",)

    def __init__(self, window, num_features, horizon=24, num_targets=1, units=(64,),
                 dropout=0.0, residual=None, season=24, target_features=None,
                 autoregressive=0, name="lstm_forecaster", **kwargs):
        units = tuple(units)
        blocks.check_positive_ints("LSTMForecaster", window=window, num_features=num_features,
                                   horizon=horizon, num_targets=num_targets, units=units,
                                   season=season)
        if residual not in (None, "last", "seasonal"):
            raise ValueError(
                f"LSTMForecaster residual is None, 'last' or 'seasonal', got {residual!r}."
            )
        if target_features is None:
            target_features = tuple(range(num_targets))
        target_features = tuple(target_features)
        if len(target_features) != num_targets or not all(
                0 <= i < num_features for i in target_features):
            raise ValueError(
                f"LSTMForecaster target_features are {num_targets} input feature indices "
                f"in 0..{num_features - 1}, got {target_features}."
            )
        inputs = keras.Input((window, num_features), name="window")
        x = blocks.input_normalization(inputs)
        x = lstm_stack(x, units, dropout=dropout)
        x = keras.layers.Dense(horizon * num_targets, name="head",
                               kernel_initializer="zeros" if residual else "glorot_uniform")(x)
        x = keras.layers.Reshape((horizon, num_targets), name="horizon")(x)
        outputs = blocks.target_denormalization(x)
        if autoregressive:
            if not isinstance(autoregressive, int) or not 0 < autoregressive <= window:
                raise ValueError(
                    f"LSTMForecaster autoregressive is a number of steps in 1..{window} "
                    f"(0 for none), got {autoregressive!r}."
                )
            history = TargetHistory(autoregressive, target_features, name="target_history")(inputs)
            ar = keras.layers.Dense(horizon, use_bias=False, kernel_initializer="zeros",
                                    name="autoregressive")(history)
            ar = keras.layers.Permute((2, 1), name="autoregressive_horizon")(ar)
            outputs = keras.layers.Add(name="with_autoregressive")([outputs, ar])
        if residual:
            naive = NaiveForecast(residual, horizon, season, target_features,
                                  name="naive_forecast")(inputs)
            outputs = keras.layers.Add(name="forecast")([naive, outputs])
        super().__init__(
            inputs=inputs, outputs=outputs, name=name,
            config=dict(window=window, num_features=num_features, horizon=horizon,
                        num_targets=num_targets, units=units, dropout=dropout,
                        residual=residual, season=season, target_features=target_features,
                        autoregressive=autoregressive),
            **kwargs,
        )

    def adapt(self, x, y=None):
        """Standardize inputs; scale outputs to the targets (or, for a residual model, to
        the targets' differences from the naive forecast)."""
        if y is not None and self._zoo_config["residual"]:
            naive = self.get_layer("naive_forecast")(np.asarray(x, dtype="float32"))
            y = np.asarray(y, dtype="float32") - keras.ops.convert_to_numpy(naive)
        return super().adapt(x, y)
