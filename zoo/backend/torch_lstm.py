"""Keras' LSTM computed by torch's native fused LSTM kernel (torch backend only).

`torch._VF.lstm` is the kernel behind `torch.nn.LSTM`: a fused C++ loop on CPU and
cuDNN on CUDA. Keras' torch backend only calls it on CUDA and without masks; on CPU
it runs a Python loop over time steps. `lstm` below computes exactly what
`keras.layers.LSTM` computes (tanh/sigmoid, gate order i, f, c, o) from Keras'
weights, masks included, or returns None where it cannot (the caller then runs
Keras' own implementation).

Weight layout: Keras keeps `kernel` (input_dim, 4u), `recurrent_kernel` (u, 4u) and
one `bias` (4u,); torch wants (4u, input_dim), (4u, u) and two biases. The kernels
are passed transposed (views, no copy) and Keras' bias as `b_ih` with zeros as
`b_hh`, so gradients flow through the kernel to the Keras variables.
"""

import keras
import torch
from torch import _VF
from torch.nn.utils import rnn as rnn_utils

_TANH = (keras.activations.tanh, keras.ops.tanh, torch.tanh)
_SIGMOID = (keras.activations.sigmoid, keras.ops.sigmoid, torch.sigmoid)


def supports(layer):
    """Whether the kernel computes what this `keras.layers.LSTM` layer computes.

    Data-independent checks only (the configuration); `lstm` may still decline a
    call (e.g. a mask that is not right-padded).
    """
    cell = layer.cell
    return (
        cell.activation in _TANH
        and cell.recurrent_activation in _SIGMOID
        and cell.use_bias
        and not cell.recurrent_dropout
        and not layer.unroll
        # Stateful layers assign the final state into the variables that fed the
        # kernel; Keras' loop copies the states for autograd, so leave them to it.
        and not layer.stateful
        and getattr(layer, "use_cudnn", "auto") in ("auto", True)
    )


def _right_padded_lengths(mask):
    """(lengths on the CPU, ok): ok when every row is 1...1 0...0 with at least one 1.

    One device-to-host transfer for both answers.
    """
    steps = mask.shape[1]
    lengths = mask.sum(dim=1)
    right_padded = torch.arange(steps, device=mask.device) < lengths[:, None]
    ok = torch.all(mask == right_padded) & torch.all(lengths > 0)
    host = torch.cat([ok.reshape(1).long(), lengths.long()]).cpu()
    return host[1:], bool(host[0])


def _gather_steps(x, index):
    """x[b, index[b, t]] for x of shape (batch, time, features)."""
    return torch.gather(x, 1, index[..., None].expand(-1, -1, x.shape[-1]))


def lstm(inputs, initial_state_h, initial_state_c, mask, kernel, recurrent_kernel, bias,
         return_sequences=False, go_backwards=False, zero_output_for_mask=False,
         return_state=True):
    """One LSTM layer over `inputs` (batch, time, features), batch first.

    Returns `(last_output, outputs, states)` as Keras' `backend.lstm` does (`outputs`
    is `last_output[:, None]` unless `return_sequences`; `states` is `[h, c]`), or
    None when this call is not handled: a mask that is not right-padded or that
    masks a whole sequence. With a mask and `return_state=False`, `states` is `[]`
    (the final cell state is not computed; see below).

    Masks follow Keras' RNN semantics: a masked step carries the previous state and
    output forward (or outputs zeros with `zero_output_for_mask`); with
    `go_backwards` the outputs come in processing order (reversed), as in Keras.

    A right-padded mask runs the kernel over the whole padded batch (up to the longest
    sequence) and gathers each sequence's outputs up to its length: the padding steps
    are computed and thrown away, which leaves outputs and gradients exact. Only the
    final cell state needs the kernel to stop at each length, so `return_state=True`
    packs the sequences instead (torch's packed CPU kernel is several times slower in
    the backward pass, so it is used only then).
    """
    kernel = keras.ops.convert_to_tensor(kernel)
    recurrent_kernel = keras.ops.convert_to_tensor(recurrent_kernel)
    bias = keras.ops.convert_to_tensor(bias)
    dtype = kernel.dtype
    x = keras.ops.convert_to_tensor(inputs).to(dtype)
    h0 = keras.ops.convert_to_tensor(initial_state_h).to(dtype)[None]
    c0 = keras.ops.convert_to_tensor(initial_state_c).to(dtype)[None]
    steps = x.shape[1]

    lengths = None
    if mask is not None:
        mask = keras.ops.convert_to_tensor(mask)
        if mask.ndim != 2:
            return None
        if mask.device.type != "meta":  # meta: shape inference, the mask changes no shape
            mask = mask.to(torch.bool)
            lengths, ok = _right_padded_lengths(mask)
            if not ok:
                return None
            if int(lengths.min()) == steps:
                lengths = None  # nothing is masked

    # torch: gates = x @ W_ih.T + b_ih + h @ W_hh.T + b_hh, W of shape (4u, in).
    params = [kernel.T, recurrent_kernel.T, bias, torch.zeros_like(bias)]
    train = torch.is_grad_enabled()  # cuDNN keeps its backward workspace only then

    if lengths is None:
        if go_backwards:
            x = torch.flip(x, dims=[1])
        outputs, h, c = _VF.lstm(x, (h0, c0), params, True, 1, 0.0, train, False, True)
        h, c = h[0], c[0]
        last_output = outputs[:, -1]
        if not return_sequences:
            outputs = last_output[:, None]
        return last_output, outputs, [h, c]

    # Every step after the longest sequence is masked everywhere: leave it out.
    longest = int(lengths.max())
    x = x[:, :longest]
    lengths_dev = lengths.to(x.device)
    time = torch.arange(steps, device=x.device)
    if go_backwards:
        # Keras flips the whole sequence, so the padding comes first and is skipped
        # (state carried from the initial state, output zeros). Equivalent: reverse
        # each sequence within its length, then shift its outputs (below).
        reverse = lengths_dev[:, None] - 1 - time[:longest]
        x = _gather_steps(x, torch.where(reverse >= 0, reverse, time[:longest]))

    if return_state:
        packed = rnn_utils.pack_padded_sequence(x, lengths, batch_first=True,
                                                enforce_sorted=False)
        hx = (h0.index_select(1, packed.sorted_indices),
              c0.index_select(1, packed.sorted_indices))
        data, h, c = _VF.lstm(packed.data, packed.batch_sizes, hx, params, True, 1, 0.0,
                              train, False)
        h = h.index_select(1, packed.unsorted_indices)[0]
        c = c.index_select(1, packed.unsorted_indices)[0]
        y, _ = rnn_utils.pad_packed_sequence(
            rnn_utils.PackedSequence(data, packed.batch_sizes, packed.sorted_indices,
                                     packed.unsorted_indices),
            batch_first=True, total_length=longest,
        )
        states = [h, c]
    else:
        y, _, _ = _VF.lstm(x, (h0, c0), params, True, 1, 0.0, train, False, True)
        h = _gather_steps(y, (lengths_dev - 1)[:, None])[:, 0]
        states = []
    # y[b, t] (t < longest) is sequence b's output after its step t, for t < length.

    # The state at each sequence's last valid step is the final output, except where
    # Keras zeroes the output of a masked last step.
    if zero_output_for_mask and not go_backwards:
        last_output = h * (lengths_dev == steps).to(dtype)[:, None]
    else:
        last_output = h
    if not return_sequences:
        return last_output, last_output[:, None], states

    if longest < steps:
        y = torch.nn.functional.pad(y, (0, 0, 0, steps - longest))
    if go_backwards:
        # Processing order: steps - length zeros, then the reversed sequence's outputs.
        outputs = _gather_steps(y, (time + lengths_dev[:, None]) % steps)
        outputs = torch.where((time >= steps - lengths_dev[:, None])[..., None], outputs, 0.0)
    else:
        valid = time < lengths_dev[:, None]
        outputs = torch.where(valid[..., None], y, 0.0 if zero_output_for_mask else h[:, None])
    return last_output, outputs, states
