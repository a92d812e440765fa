"""`Conv2D` and `Conv2DTranspose`: Keras' layers, with the bias (and a ReLU) fused into
the backend's convolution kernel where Keras runs them separately."""

import keras

from zoo.backend import fused_ops


class _FusedConv:
    """The `call` of both layers: the backend's fused kernel where it has one."""

    def call(self, inputs):
        if not fused_ops.fused_conv_available(self):
            return super().call(inputs)
        relu = self.activation is keras.activations.relu
        outputs = fused_ops.fused_conv(self, inputs, relu=relu)
        if relu or self.activation is None:
            return outputs
        return self.activation(outputs)


@keras.saving.register_keras_serializable(package="zoo", name="Conv2D")
class Conv2D(_FusedConv, keras.layers.Conv2D):
    """`keras.layers.Conv2D`, with the bias added inside the convolution where Keras
    adds it separately.

    Same arguments, weights (`kernel` (kh, kw, in // groups, filters), `bias`),
    outputs and gradients as `keras.layers.Conv2D`. On the torch backend the bias goes
    into torch's convolution kernel (as `torch.nn.Conv2d` does) and `activation="relu"`
    is applied in place on the convolution's output, which spares two passes over the
    output per layer; everything else (TensorFlow, JAX, other paddings, quantized
    layers) runs Keras' own `call`.

    Its class name is Keras' ("Conv2D"), so weight files (which address a layer's
    weights by the snake_case of that name) load into and from `keras.layers.Conv2D`.
    It serializes as "zoo>Conv2D" (loading a model that uses it needs `import zoo`).

    Example:
        >>> import numpy as np, zoo
        >>> layer = zoo.layers.Conv2D(4, 3, activation="relu")
        >>> tuple(layer(np.zeros((2, 8, 8, 3), "float32")).shape)
        (2, 6, 6, 4)
    """


@keras.saving.register_keras_serializable(package="zoo", name="Conv2DTranspose")
class Conv2DTranspose(_FusedConv, keras.layers.Conv2DTranspose):
    """`keras.layers.Conv2DTranspose`, run as torch's transposed convolution does it.

    Same arguments, weights (`kernel` (kh, kw, filters, in), `bias`), outputs and
    gradients as `keras.layers.Conv2DTranspose`. On the torch backend Keras computes
    the largest output of the transposed convolution and slices its window out (a
    strided view that the next layers read slowly) and adds the bias separately; this
    layer gives torch's kernel the `padding`/`output_padding` that produce that window
    directly, with the bias inside (and `activation="relu"` in place). Windows torch
    cannot express, TensorFlow and JAX run Keras' own `call`.

    Its class name is Keras' ("Conv2DTranspose"): weight files load into and from
    `keras.layers.Conv2DTranspose`. It serializes as "zoo>Conv2DTranspose".

    Example:
        >>> import numpy as np, zoo
        >>> layer = zoo.layers.Conv2DTranspose(4, 4, strides=2, padding="same")
        >>> tuple(layer(np.zeros((2, 7, 7, 3), "float32")).shape)
        (2, 14, 14, 4)
    """
