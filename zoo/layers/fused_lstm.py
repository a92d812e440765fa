"""`FusedLSTM`: `keras.layers.LSTM` that runs a backend's fused LSTM kernel where Keras does not."""

import keras

from zoo import backend as zoo_backend


@keras.saving.register_keras_serializable(package="zoo", name="FusedLSTM")
class FusedLSTM(keras.layers.LSTM):
    """`keras.layers.LSTM`, computed by a fused kernel where the backend has one.

    Same arguments, weights (`kernel` (input_dim, 4u), `recurrent_kernel` (u, 4u),
    `bias` (4u,), gates i, f, c, o), outputs and gradients as `keras.layers.LSTM`.
    On the torch backend the sequence loop runs in torch's native LSTM kernel (fused
    C++ on CPU, cuDNN on CUDA) instead of Keras' Python loop over time steps; masks
    that are right- or left-padded (`Embedding(mask_zero=True)` on sequences padded at
    the end, or in front as `keras.utils.pad_sequences` pads by default) stay on that
    path. Everything else (TensorFlow, JAX, `recurrent_dropout`, other activations,
    `stateful`, `unroll`, other masks) runs Keras' own implementation.

    Its class `__name__` is "LSTM": Keras addresses a layer's weights in
    `.weights.h5` and `.keras` files by the snake_case of that name, so files saved
    with this layer and with `keras.layers.LSTM` load into each other. It serializes
    as the registered class "zoo>FusedLSTM" (loading a model that uses it needs
    `import zoo`).

    Example:
        >>> import numpy as np, zoo
        >>> layer = zoo.layers.FusedLSTM(4, return_sequences=True)
        >>> tuple(layer(np.zeros((2, 5, 3), "float32")).shape)
        (2, 5, 4)
    """

    def __repr__(self):
        return f"<{type(self).__qualname__} name={self.name}, built={self.built}>"

    def build(self, sequences_shape, initial_state_shape=None):
        super().build(sequences_shape, initial_state_shape)
        # On torch the kernels are stored column-major: `kernel.T` is then the row-major
        # matrix torch's kernel reads, with no copy (the shape and values are Keras').
        zoo_backend.lay_out_fused_lstm_weights(self)

    def inner_loop(self, sequences, initial_state, mask, training=False):
        if keras.tree.is_nested(mask):
            mask = mask[0]
        if zoo_backend.fused_lstm_available(self):
            inputs = sequences
            if training and self.dropout:
                # As keras.layers.LSTM: one input dropout mask for all time steps.
                dp_mask = self.cell.get_dropout_mask(sequences[:, 0, :])
                inputs = sequences * keras.ops.expand_dims(dp_mask, axis=1)
            out = zoo_backend.fused_lstm(
                inputs,
                initial_state[0],
                initial_state[1],
                mask,
                kernel=self.cell.kernel,
                recurrent_kernel=self.cell.recurrent_kernel,
                bias=self.cell.bias,
                return_sequences=self.return_sequences,
                go_backwards=self.go_backwards,
                zero_output_for_mask=self.zero_output_for_mask,
                # Without return_state (and stateful, which stays on Keras' loop)
                # keras.layers.RNN.call never reads the final states.
                return_state=self.return_state,
            )
            if out is not None:
                return out
        return super().inner_loop(sequences, initial_state, mask=mask, training=training)


# Keras names a layer's weights in saved files (and its default name) after the
# class __name__; "LSTM" keeps both identical to keras.layers.LSTM's. __qualname__
# stays "FusedLSTM" (pickling, tracebacks); the registered name is "zoo>FusedLSTM".
FusedLSTM.__name__ = "LSTM"
