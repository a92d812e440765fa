"""Dispatch for the fused LSTM: which backends have one, its weights' layout, and the call
into it.

`zoo.layers.FusedLSTM` calls these three functions and never looks at the backend
name itself. Only torch has a path here: Keras' torch backend runs LSTM on CPU as a
Python loop, whereas TensorFlow and JAX already choose their fused kernels (cuDNN)
inside `keras.layers.LSTM` where they have one.

keras is imported inside the functions: `zoo.backend` is imported before keras
(to choose the default backend), see `zoo.backend.select`.
"""


def fused_lstm_available(layer):
    """Whether the current backend has a fused kernel for this LSTM layer's config.

    `layer` is a `keras.layers.LSTM` (its cell's activations, bias, dropouts and
    the layer's unroll/stateful/use_cudnn settings are read). False means: run
    Keras' own implementation.
    """
    import keras

    if keras.backend.backend() != "torch":
        return False
    from zoo.backend import torch_lstm

    return torch_lstm.supports(layer)


def lay_out_fused_lstm_weights(layer):
    """Store a built LSTM layer's kernels the way the backend's fused kernel reads them
    (on torch column-major, `zoo.backend.torch_storage`); values, shapes and saved files
    unchanged. Nothing elsewhere."""
    import keras

    if keras.backend.backend() != "torch":
        return
    from zoo.backend import torch_storage

    torch_storage.column_major(layer.cell.kernel)
    torch_storage.column_major(layer.cell.recurrent_kernel)


def fused_lstm(inputs, initial_state_h, initial_state_c, mask, *, kernel, recurrent_kernel,
               bias, return_sequences=False, go_backwards=False, zero_output_for_mask=False,
               return_state=True):
    """Run the fused kernel; `(last_output, outputs, states)`, or None if not handled.

    Same contract as Keras' `backend.lstm` (`inputs` batch first, `outputs` of shape
    (batch, 1, units) unless `return_sequences`, `states` `[h, c]`), except that with
    `return_state=False` `states` may be `[]` (not computed). None means this call
    (e.g. its mask) has no fused path and the caller must use Keras' implementation.
    """
    import keras

    if keras.backend.backend() != "torch":
        return None
    from zoo.backend import torch_lstm

    return torch_lstm.lstm(
        inputs, initial_state_h, initial_state_c, mask, kernel, recurrent_kernel, bias,
        return_sequences=return_sequences, go_backwards=go_backwards,
        zero_output_for_mask=zero_output_for_mask, return_state=return_state,
    )
