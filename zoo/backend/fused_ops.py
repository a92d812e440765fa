"""Dispatch for the zoo's fused convolutions and batch normalization (zoo.layers).

`zoo.layers.Conv2D`, `Conv2DTranspose` and `BatchNormalization` call these functions
and never look at the backend name themselves. Only torch has paths here: Keras' torch
backend adds a convolution's bias as a separate operation, slices a transposed
convolution's output out of a larger one and computes batch normalization from
elementwise operations, whereas TensorFlow and JAX (XLA) fuse all of it themselves.

keras is imported inside the functions: `zoo.backend` is imported before keras (to
choose the default backend), see `zoo.backend.select`.
"""

from zoo.backend import keras_internals


def _on_torch():
    import keras

    return keras.backend.backend() == "torch"


def fused_conv_available(layer):
    """Whether the current backend runs this Keras convolution (or transposed
    convolution) layer's configuration with the bias fused into its kernel (False: run
    Keras' own `call`)."""
    if not _on_torch():
        return False
    spec = keras_internals.missing("conv")
    if spec is not None:  # a Keras without the helper torch_conv imports: Keras' own call
        keras_internals.reason(spec)  # said once, as a RuntimeWarning
        return False
    from zoo.backend import torch_conv

    return torch_conv.supports(layer)


def fused_conv(layer, inputs, relu=False):
    """`layer`'s convolution of `inputs` plus its bias (then a ReLU with `relu=True`),
    before its activation. Only where `fused_conv_available` said so."""
    from zoo.backend import torch_conv

    return torch_conv.conv(layer, inputs, relu=relu)


def fused_batch_norm_available(layer, inputs, mask):
    """Whether the current backend normalizes this call of a Keras BatchNormalization
    layer in one kernel (False: run Keras' own `call`)."""
    if not _on_torch():
        return False
    from zoo.backend import torch_norm

    return torch_norm.supports(layer, inputs, mask)


def fused_batch_norm(inputs, **options):
    """`(outputs, batch mean, batch variance)`; options as
    `zoo.backend.torch_norm.batch_norm`. Only where `fused_batch_norm_available` said so."""
    from zoo.backend import torch_norm

    return torch_norm.batch_norm(inputs, **options)
