"""The memory layout of Keras variables on torch: the same values and shape, other strides.

torch's LSTM kernel reads its weights as row-major (4u, input_dim) and (4u, u) matrices;
Keras keeps `kernel` (input_dim, 4u) and `recurrent_kernel` (u, 4u). Handed `kernel.T`
of a row-major Keras variable, mkldnn copies the transposed view to a contiguous matrix
in the forward pass and again in the backward pass, and the gradient comes back
transposed, so the fused Adam step copied it too (docs/performance.md, FusedLSTM, has
what removing the copies measured). A variable stored column-major has the same values,
shape, `get_weights()`, saved files and gradients, and its `.T` is the row-major matrix
the kernel reads: no copies.

These functions swap the storage of the variable's `torch.nn.Parameter` in place
(`Parameter.data`), so every holder of that parameter (the layer's and the model's
torch `ParameterDict`, an optimizer) sees the new layout. Variables that hold no torch
tensor yet (not built, or inside a stateless scope) are left as they are: the layout
only changes speed.

Example:
    >>> import keras
    >>> from zoo.backend import torch_storage
    >>> v = keras.Variable(keras.ops.ones((3, 8)))
    >>> torch_storage.column_major(v)
    >>> v.value.stride(), tuple(v.shape)
    ((1, 3), (3, 8))
"""

import torch


def _parameter(variable):
    value = getattr(variable, "_value", None)  # Keras' torch Variable: its Parameter
    if isinstance(value, torch.Tensor) and value.device.type != "meta":
        return value
    return None


def column_major(variable):
    """Store a 2-D Keras variable column-major (its transpose row-major), in place."""
    value = _parameter(variable)
    if value is None or value.ndim != 2 or value.stride() == (1, value.shape[0]):
        return
    with torch.no_grad():
        value.data = value.detach().t().contiguous().t()


def row_major(variable):
    """Store a Keras variable row-major (contiguous, as Keras creates it), in place: what
    `column_major` undoes (scripts/benchmark.py measures one against the other)."""
    value = _parameter(variable)
    if value is None or value.is_contiguous():
        return
    with torch.no_grad():
        value.data = value.detach().contiguous()


def match_layout(variable, like):
    """Store `variable` (an optimizer slot) with the strides of the tensor `like` (its
    weight), in place: fused elementwise kernels walk both memories in one order."""
    value = _parameter(variable)
    if value is None or value.stride() == like.stride() or value.shape != like.shape:
        return
    with torch.no_grad():
        value.data = torch.empty_like(like, dtype=value.dtype).copy_(value.detach())
