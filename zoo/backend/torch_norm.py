"""Keras' batch normalization computed by torch's native kernel (torch backend only).

Keras' `BatchNormalization` on the torch backend computes the batch moments and the
normalization from about ten elementwise operations and reductions, each a pass over
the activations, forward and backward; `torch.nn.functional.batch_norm` is one fused
kernel each way (about a quarter of the DCGAN's training step on CPU,
docs/performance.md). `batch_norm` below gives what Keras' layer computes: outputs
normalized by the batch's mean and biased variance in training (the moving averages
by the caller, Keras' update rule), by the moving statistics otherwise.
"""

import math

import keras
import torch
import torch.nn.functional as F


def supports(layer, inputs, mask):
    """Whether `batch_norm` computes this call of a `keras.layers.BatchNormalization`."""
    shape = tuple(inputs.shape)
    return (
        mask is None
        and not getattr(layer, "renorm", False)
        and not layer.synchronized
        and layer.compute_dtype == "float32"
        and keras.backend.standardize_dtype(inputs.dtype) == "float32"
        and len(shape) >= 2
        and None not in shape
        # torch refuses a batch variance of a single value per channel in training.
        and math.prod(shape) // shape[layer.axis] >= 2
    )


def batch_norm(inputs, *, gamma, beta, moving_mean, moving_variance, axis, epsilon,
               training):
    """`(outputs, mean, variance)`: with `training`, the batch's mean and biased variance
    (what Keras' moving averages take); otherwise the moving statistics are used and
    mean and variance are None. `gamma`/`beta` None: no scale/offset."""
    x = keras.ops.convert_to_tensor(inputs)
    axis = axis % x.ndim
    # torch normalizes over dimension 1; a view moves the channels there (no copy; a
    # channels-last image is then torch's channels_last memory format).
    x = x.movedim(axis, 1)
    if not (x.is_contiguous() or (x.ndim == 4 and x.is_contiguous(
            memory_format=torch.channels_last))):
        # A strided view (e.g. Keras' transposed convolution crops its output): the
        # kernel is slow on it, and slower still backward when its gradient comes in
        # another memory format.
        x = x.contiguous()
    weight = None if gamma is None else keras.ops.convert_to_tensor(gamma)
    bias = None if beta is None else keras.ops.convert_to_tensor(beta)
    if not training:
        outputs = F.batch_norm(x, keras.ops.convert_to_tensor(moving_mean),
                               keras.ops.convert_to_tensor(moving_variance), weight, bias,
                               training=False, eps=epsilon)
        return outputs.movedim(1, axis), None, None
    count = x.numel() // x.shape[1]
    # With momentum 1 torch's running statistics become the batch's mean and unbiased
    # variance (computed by the kernel's own pass); Keras' moving variance takes the
    # biased one.
    mean = torch.zeros(x.shape[1], dtype=x.dtype, device=x.device)
    variance = torch.zeros_like(mean)
    outputs = F.batch_norm(x, mean, variance, weight, bias, training=True, momentum=1.0,
                           eps=epsilon)
    return outputs.movedim(1, axis), mean, variance * ((count - 1) / count)
