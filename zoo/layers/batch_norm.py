"""`BatchNormalization`: Keras' layer, normalized by the backend's fused kernel."""

import keras

from zoo.backend import fused_ops


@keras.saving.register_keras_serializable(package="zoo", name="BatchNormalization")
class BatchNormalization(keras.layers.BatchNormalization):
    """`keras.layers.BatchNormalization`, computed by a fused kernel where Keras does not.

    Same arguments, weights (`gamma`, `beta`, `moving_mean`, `moving_variance`),
    outputs, gradients and moving-average updates as `keras.layers.BatchNormalization`.
    On the torch backend the normalization runs in torch's batch-norm kernel (one pass
    each way instead of Keras' elementwise operations); the moving averages follow
    Keras' rule (momentum on the old value, the batch's biased variance). Everything
    else (TensorFlow, JAX, masks, `renorm`, `synchronized`, other dtypes) runs Keras'
    own `call`.

    Its class name is Keras' ("BatchNormalization"), so weight files load into and from
    `keras.layers.BatchNormalization`. It serializes as "zoo>BatchNormalization"
    (loading a model that uses it needs `import zoo`).

    Example:
        >>> import numpy as np, zoo
        >>> layer = zoo.layers.BatchNormalization()
        >>> tuple(layer(np.ones((4, 3), "float32"), training=True).shape)
        (4, 3)
    """

    def call(self, inputs, training=None, mask=None):
        if not fused_ops.fused_batch_norm_available(self, inputs, mask):
            return super().call(inputs, training=training, mask=mask)
        update = bool(training and self.trainable)
        outputs, mean, variance = fused_ops.fused_batch_norm(
            inputs, gamma=self.gamma if self.scale else None,
            beta=self.beta if self.center else None, moving_mean=self.moving_mean,
            moving_variance=self.moving_variance, axis=self.axis, epsilon=self.epsilon,
            training=update,
        )
        if update:
            momentum = self.momentum
            self.moving_mean.assign(self.moving_mean * momentum + mean * (1.0 - momentum))
            self.moving_variance.assign(
                self.moving_variance * momentum + variance * (1.0 - momentum))
        return outputs
