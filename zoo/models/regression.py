"""`mlp_regressor`: standardized inputs, an MLP, outputs in the targets' units."""

import keras

from zoo.models import blocks
from zoo.models.base import ZooModel
from zoo.registry import register_architecture


@keras.saving.register_keras_serializable(package="zoo")
@register_architecture(
    "mlp_regressor",
    family="regression",
    description="MLP regressor with input standardization and target de-standardization",
    tiny={"input_dim": 5, "outputs": 1, "units": 16, "depth": 2},
)
class MLPRegressor(ZooModel):
    """MLP regressor for tabular data.

    Call `adapt(x_train, y_train)` once before training so the inputs are
    standardized and the outputs come back in the targets' units.

    Example:
        >>> import numpy as np, zoo
        >>> model = zoo.MLPRegressor(input_dim=3, units=16)
        >>> x, y = np.random.rand(64, 3), np.random.rand(64)
        >>> model.adapt(x, y).compile()
        >>> model.predict(x[:2], verbose=0).shape
        (2, 1)
    """

    default_loss = "mse"
    default_metrics = ("mae",)

    def __init__(self, input_dim, outputs=1, units=64, depth=2, dropout=0.0,
                 activation="relu", name="mlp_regressor", **kwargs):
        blocks.check_positive_ints("MLPRegressor", input_dim=input_dim, outputs=outputs,
                                   units=units, depth=depth)
        inputs = keras.Input((input_dim,), name="features")
        x = blocks.input_normalization(inputs)
        x = blocks.dense_stack(x, units, depth, dropout, activation)
        x = keras.layers.Dense(outputs, name="head")(x)
        outputs_ = blocks.target_denormalization(x)
        super().__init__(
            inputs=inputs, outputs=outputs_, name=name,
            config=dict(input_dim=input_dim, outputs=outputs, units=units, depth=depth,
                        dropout=dropout, activation=activation),
            **kwargs,
        )
