"""Keras' convolutions with the bias (and a ReLU) fused into torch's kernels (torch only).

Keras' convolution layers on the torch backend run the convolution without its bias,
then add the bias and apply the activation as separate operations: two more passes
over the largest tensors of a convnet (about 20% of a forward pass at batch 256 on CPU,
docs/performance.md). Its transposed convolution also computes the largest "natural"
output and slices Keras' window out of it, which leaves a strided view that every
later layer reads slowly. `conv` below passes the bias to torch's convolution (oneDNN
adds it inside the kernel, as `torch.nn.Conv2d` does), can apply a ReLU in place on
the convolution's fresh output, and gives a transposed convolution torch's own
`padding`/`output_padding` where they express Keras' window. It computes what Keras
computes: same kernel layouts, same "valid"/"same" padding (the extra row or column of
an odd total padding at the end), either data format.
"""

import keras
import torch
import torch.nn.functional as F
from keras.src.backend.common.backend_utils import (
    compute_conv_transpose_output_crops_for_torch,
)

_CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
_CONV_TRANSPOSE = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}


def _is_transpose(layer):
    return hasattr(layer, "output_padding")


def _transpose_padding(layer):
    """torch's (padding, output_padding) giving Keras' output window of a transposed
    convolution layer, or None where they cannot (a window reaching past the kernel's
    natural output on the left, or cropped more on the right than on the left)."""
    crops = compute_conv_transpose_output_crops_for_torch(
        input_shape=(None, None) + (None,) * layer.rank,
        kernel_shape=tuple(layer.kernel_size) + (None, None),
        strides=layer.strides, padding=layer.padding, output_padding=layer.output_padding,
        dilation_rate=layer.dilation_rate,
    )
    padding = [left for left, _ in crops]
    extra = [left - right for left, right in crops]  # torch pads output_padding on the right
    limits = [max(s, d) for s, d in zip(layer.strides, layer.dilation_rate)]
    if all(p >= 0 and 0 <= e < limit for p, e, limit in zip(padding, extra, limits)):
        return padding, extra
    return None


def supports(layer):
    """Whether `conv` computes this Keras `Conv{1,2,3}D`/`Conv{1,2,3}DTranspose` layer."""
    if layer.rank not in _CONV or getattr(layer, "quantization_mode", None):
        return False
    if _is_transpose(layer):
        return _transpose_padding(layer) is not None
    return layer.padding in ("valid", "same")


def _same_padding(spatial, kernel_size, strides, dilation_rate):
    """Keras' torch "same" padding: (left, right) per spatial dimension."""
    padding = []
    for size, k, s, d in zip(spatial, kernel_size, strides, dilation_rate):
        effective = (k - 1) * d + 1
        if s == 1:
            total = effective - 1
        else:
            total = max(0, ((size + s - 1) // s - 1) * s + effective - size)
        padding.append((total // 2, total - total // 2))
    return padding


def conv(layer, inputs, relu=False):
    """`layer`'s convolution of `inputs` plus its bias, then a ReLU if `relu`; inputs
    and outputs in the layer's data format, as the layer's Keras `call` computes
    before its activation."""
    bias = keras.ops.convert_to_tensor(layer.bias) if layer.use_bias else None
    return convolution(layer, relu)(keras.ops.convert_to_tensor(inputs),
                                    keras.ops.convert_to_tensor(layer.kernel), bias)


def convolution(layer, relu=False):
    """`fn(x, kernel, bias)`: what `conv(layer, x, relu)` computes, from torch tensors
    (`kernel` in Keras' layout, `bias` None without one), with the layer's fixed
    options worked out once (the zoo's torch graph keeps it per layer)."""
    rank = layer.rank
    channels_last = layer.data_format == "channels_last"
    to_torch_layout = (0, rank + 1, *range(1, rank + 1))
    to_keras_layout = (0, *range(2, rank + 2), 1)
    options = dict(stride=layer.strides, dilation=layer.dilation_rate)
    if _is_transpose(layer):
        padding, extra = _transpose_padding(layer)
        transposed = _CONV_TRANSPOSE[rank]

        def run(x, weight, bias):
            return transposed(x, weight, bias, padding=padding, output_padding=extra,
                              **options)
    else:
        forward, same = _CONV[rank], layer.padding == "same"
        strides, dilation, groups = layer.strides, layer.dilation_rate, layer.groups

        def run(x, weight, bias):
            pad = 0
            if same:
                sides = _same_padding(x.shape[2:], weight.shape[2:], strides, dilation)
                if all(left == right for left, right in sides):
                    pad = [left for left, _ in sides]
                else:
                    x = F.pad(x, [p for side in reversed(sides) for p in side])
            return forward(x, weight, bias, padding=pad, groups=groups, **options)

    def fn(x, kernel, bias):
        # Keras (spatial..., a, b) -> torch (b, a, spatial...): a view, no copy.
        weight = kernel.permute(rank + 1, rank, *range(rank))
        if channels_last:
            x = x.permute(to_torch_layout)
        y = run(x, weight, bias)
        if relu:
            # The convolution's output is a fresh tensor that its backward does not read.
            y = torch.relu_(y)
        return y.permute(to_keras_layout) if channels_last else y

    return fn
