"""`mlp_classifier`: standardized tabular features, an MLP, a class head."""

import keras

from zoo.models import blocks
from zoo.models.base import ZooClassifier
from zoo.registry import register_architecture


@keras.saving.register_keras_serializable(package="zoo")
@register_architecture(
    "mlp_classifier",
    family="classifier",
    description="MLP classifier for tabular data (binary or multi-class)",
    tiny={"input_dim": 6, "num_classes": 3, "units": 16, "depth": 2},
)
class MLPClassifier(ZooClassifier):
    """MLP classifier: one sigmoid output for two classes, softmax otherwise.

    Example:
        >>> import numpy as np, zoo
        >>> model = zoo.MLPClassifier(input_dim=4, num_classes=3, units=16)
        >>> x = np.random.rand(30, 4)
        >>> model.adapt(x).compile()
        >>> model.predict(x[:2], verbose=0).shape
        (2, 3)
    """

    def __init__(self, input_dim, num_classes, units=64, depth=2, dropout=0.0,
                 activation="relu", name="mlp_classifier", **kwargs):
        blocks.check_num_classes("MLPClassifier", num_classes)
        blocks.check_positive_ints("MLPClassifier", input_dim=input_dim, units=units,
                                   depth=depth)
        inputs = keras.Input((input_dim,), name="features")
        x = blocks.input_normalization(inputs)
        x = blocks.dense_stack(x, units, depth, dropout, activation)
        outputs = blocks.classification_head(x, num_classes)
        super().__init__(
            inputs=inputs, outputs=outputs, name=name,
            config=dict(input_dim=input_dim, num_classes=num_classes, units=units,
                        depth=depth, dropout=dropout, activation=activation),
            **kwargs,
        )
