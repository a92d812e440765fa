"""Torch functions for the layers `TorchGraph` runs most: the same arithmetic as the
layer's own `call`, without Keras' op dispatch around each step.

`lower(layer)` returns a callable taking what the layer's `call` takes. Layers of an
exact known class with a plain configuration get a direct torch function; every other
layer (zoo layers included, which already call torch kernels) gets its bound `call`.
`tests/backend/test_torch_lowering.py` checks each lowering against Keras.

Weights are read as `variable._value`, the torch Parameter itself: `variable.value` adds
Keras' stateless-scope, meta-device and autocast checks (several microseconds per
read), none of which applies to an eager float32 model (`TorchGraph.blocker`).
"""

import keras
import torch
import torch.nn.functional as F
from keras.src.backend.torch.core import to_torch_dtype
from keras.src.ops.numpy import NotEqual

from zoo.backend import fused_ops, torch_lstm
from zoo.layers.conv import Conv2D, Conv2DTranspose
from zoo.layers.fused_lstm import FusedLSTM

_ACTIVATIONS = {
    keras.activations.linear: None,
    keras.activations.relu: torch.relu,
    keras.activations.sigmoid: torch.sigmoid,
    keras.activations.tanh: torch.tanh,
    keras.activations.softmax: lambda x: torch.softmax(x, -1),
}


def torch_dtype(dtype):
    """The torch dtype for a Keras dtype name."""
    return to_torch_dtype(keras.backend.standardize_dtype(dtype))


def lower(layer):
    """A callable computing `layer.call(*args, **kwargs)`, directly in torch when known."""
    make = _LOWERINGS.get(type(layer))
    fn = make(layer) if make is not None else None
    return fn if fn is not None else layer.call


def _read_directly(*variables):
    """Touch each variable's `_value` (the lowerings read it on every call) while the
    graph is built: a Keras without it fails here, where `TorchGraph` turns the
    `AttributeError` into Keras' call, rather than mid-training."""
    for variable in variables:
        if variable is not None:
            variable._value  # noqa: B018


def _plain(layer):
    return not getattr(layer, "lora_enabled", False) and \
        getattr(layer, "quantization_mode", None) is None


def _dense(layer):
    if not _plain(layer) or layer.activation not in _ACTIVATIONS:
        return None
    kernel, bias, act = layer._kernel, layer.bias, _ACTIVATIONS[layer.activation]
    _read_directly(kernel, bias)

    def dense(x, training=None):
        y = F.linear(x, kernel._value.T, None if bias is None else bias._value)
        return y if act is None else act(y)

    return dense


def _zoo_conv(layer):
    """zoo.layers' Conv2D / Conv2DTranspose: their fused torch convolution, prepared once."""
    if not _plain(layer) or not fused_ops.fused_conv_available(layer):
        return None
    kernel = getattr(layer, "_kernel", None)  # Conv2D's variable behind `kernel`
    kernel = kernel if isinstance(kernel, keras.Variable) else layer.kernel
    if not isinstance(kernel, keras.Variable):
        return None
    bias = layer.bias
    _read_directly(kernel, bias)
    from zoo.backend import torch_conv  # needs Keras' "conv" internals (checked above)

    relu = layer.activation is keras.activations.relu
    act = None if relu else _ACTIVATIONS.get(layer.activation, layer.activation)
    fn = torch_conv.convolution(layer, relu=relu)

    def conv(x):
        y = fn(x, kernel._value, None if bias is None else bias._value)
        return y if act is None else act(y)

    return conv


def _dropout(layer):
    seed = layer.seed_generator
    if layer.noise_shape is not None or seed._initial_seed is not None:
        return None  # seeded or shaped noise: Keras draws it with its own generator
    rate = float(layer.rate)

    def dropout(x, training=False):
        return F.dropout(x, rate, True) if training and rate > 0 else x

    return dropout


def _normalization(layer):
    eps = keras.backend.epsilon()
    invert = bool(layer.invert)
    cache = {}  # the scale, while `layer.variance` is the same tensor (adapt replaces it)

    def normalization(x):
        if not x.is_floating_point():
            x = x.to(torch.float32)
        variance = layer.variance
        if cache.get("variance") is not variance:
            cache.update(variance=variance, scale=torch.clamp_min(torch.sqrt(variance), eps))
        if invert:
            return layer.mean + x * cache["scale"]
        return (x - layer.mean) / cache["scale"]

    return normalization


def _embedding(layer):
    if not _plain(layer):
        return None
    table = layer._embeddings
    _read_directly(table)

    def embedding(x):
        return F.embedding(token_ids(x), table._value)

    return embedding


def _fused_lstm(layer, embedding=None):
    """The FusedLSTM's `RNN.call`; with `embedding` (a plain `Embedding` layer) the
    callable takes that layer's token ids and embeds them inside the kernel call
    (`torch_lstm.lstm(embeddings=...)`: ids shifted, not embedded features)."""
    if not torch_lstm.supports(layer) or layer.return_state:
        return None
    if embedding is not None and (type(embedding) is not keras.layers.Embedding
                                  or not _plain(embedding)):
        return None
    cell, units = layer.cell, layer.units
    table = None if embedding is None else embedding._embeddings
    _read_directly(cell.kernel, cell.recurrent_kernel, cell.bias, table)

    def keras_call(x, mask, training):  # the layer's own call, on embedded inputs
        return layer.call(_embedded(x, table), mask=mask, training=training)

    def fused_lstm(x, mask=None, training=False):
        """`RNN.call` of the FusedLSTM without Keras' set-up around the kernel."""
        if training and layer.dropout:  # input dropout masks: Keras' RNN set-up
            return keras_call(x, mask, training)
        zeros = cell.kernel._value.new_zeros((x.shape[0], units))
        out = torch_lstm.lstm(
            x if table is None else token_ids(x), zeros, zeros,
            mask[0] if isinstance(mask, (list, tuple)) else mask,
            cell.kernel._value, cell.recurrent_kernel._value, cell.bias._value,
            return_sequences=layer.return_sequences, go_backwards=layer.go_backwards,
            zero_output_for_mask=layer.zero_output_for_mask, return_state=False,
            embeddings=None if table is None else table._value)
        if out is None:  # a mask the kernel does not take: Keras' loop
            return keras_call(x, mask, training)
        last_output, outputs, _ = out
        return outputs if layer.return_sequences else last_output

    return fused_lstm


_MERGES = {
    "concat": lambda y, y_rev: torch.cat([y, y_rev], -1),
    "sum": torch.add,
    "ave": lambda y, y_rev: (y + y_rev) / 2,
    "mul": torch.mul,
}


def _bidirectional(layer, embedding=None):
    """Keras' `Bidirectional` over two FusedLSTMs: each direction through `_fused_lstm`
    (so with `embedding` both embed the token ids themselves), merged as
    `Bidirectional.call` merges them. Initial states: the layer's own call."""
    if layer.return_state or layer.merge_mode not in _MERGES:
        return None
    directions = (layer.forward_layer, layer.backward_layer)
    if any(type(direction) is not FusedLSTM for direction in directions):
        return None
    forward, backward = (_fused_lstm(direction, embedding) for direction in directions)
    if forward is None or backward is None:
        return None
    merge, flip = _MERGES[layer.merge_mode], layer.return_sequences
    table = None if embedding is None else embedding._embeddings

    def bidirectional(x, initial_state=None, mask=None, training=False):
        if initial_state is not None:
            return layer.call(_embedded(x, table), initial_state=initial_state, mask=mask,
                              training=training)
        y, y_rev = forward(x, mask, training), backward(x, mask, training)
        # the backward layer's outputs come in its processing order: back to the input's
        return merge(y, torch.flip(y_rev, [1]) if flip else y_rev)

    return bidirectional


def lower_with_embedding(layer, embedding):
    """A callable computing `layer.call(embedding.call(ids), mask=..., training=...)`
    from the token ids `ids`, where `layer` can embed them itself, cheaper than taking
    the embedded batch (a FusedLSTM, or a `Bidirectional` over two: it shifts and
    reverses the ids, not the embedded features); None otherwise. `TorchGraph` pairs an
    `Embedding` whose output only `layer` reads this way, and runs `token_ids` for the
    `Embedding` itself."""
    if type(layer) is keras.layers.Bidirectional:
        return _bidirectional(layer, embedding)
    if type(layer) is not FusedLSTM:
        return None
    return _fused_lstm(layer, embedding)


def _embedded(x, table):
    """`x` itself, or with an `Embedding`'s table (a paired step's token ids) the embedded
    batch a layer's own `call` takes."""
    return x if table is None else F.embedding(token_ids(x), table._value)


def token_ids(x):
    """What `Embedding.call` looks its input up as: integer ids (int32 unless int64)."""
    return x if x.dtype in (torch.int32, torch.int64) else x.to(torch.int32)


def _flatten(layer):
    if layer.data_format == "channels_last":
        return lambda x: x.reshape(x.shape[0], -1)
    # channels_first: Keras flattens in channels-last order (weights stay portable)
    return lambda x: x.permute(0, *range(2, x.ndim), 1).reshape(x.shape[0], -1)


def _rescaling(layer):
    if not all(isinstance(v, (int, float)) for v in (layer.scale, layer.offset)):
        return None  # per-channel scales: Keras' broadcasting rules
    scale, offset = float(layer.scale), float(layer.offset)
    return lambda x: x.to(torch.float32) * scale + offset


def _max_pooling_2d(layer):
    if layer.padding != "valid" or layer.data_format != "channels_first":
        return None
    size, strides = tuple(layer.pool_size), tuple(layer.strides)
    return lambda x: F.max_pool2d(x, size, strides)


def _reshape(layer):
    shape = tuple(layer.target_shape)
    return lambda x: x.reshape(x.shape[0], *shape)


def _permute(layer):
    dims = (0, *layer.dims)
    return lambda x: x.permute(dims)


def _add(layer):
    def add(inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = out + x
        return out

    return add


def _not_equal(op):
    # the mask of `Embedding(mask_zero=True)`, recorded in the graph as `ids != 0`
    return torch.ne


_LOWERINGS = {
    keras.layers.Dense: _dense,
    keras.layers.Dropout: _dropout,
    keras.layers.Normalization: _normalization,
    keras.layers.Embedding: _embedding,
    keras.layers.Flatten: _flatten,
    keras.layers.Rescaling: _rescaling,
    keras.layers.MaxPooling2D: _max_pooling_2d,
    keras.layers.Reshape: _reshape,
    keras.layers.Permute: _permute,
    keras.layers.Add: _add,
    FusedLSTM: _fused_lstm,
    keras.layers.Bidirectional: _bidirectional,
    Conv2D: _zoo_conv,
    Conv2DTranspose: _zoo_conv,
    NotEqual: _not_equal,  # a Keras op (keras.ops.not_equal), recorded as a graph node
}
