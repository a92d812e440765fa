"""Keras' LSTM computed by torch's native fused LSTM kernel (torch backend only).

`torch._VF.lstm` is the kernel behind `torch.nn.LSTM`: a fused C++ loop on CPU and
cuDNN on CUDA. Keras' torch backend only calls it on CUDA and without masks; on CPU
it runs a Python loop over time steps. `lstm` below computes exactly what
`keras.layers.LSTM` computes (tanh/sigmoid, gate order i, f, c, o) from Keras'
weights, masks included, or returns None where it cannot (the caller then runs
Keras' own implementation).

Weight layout: Keras keeps `kernel` (input_dim, 4u), `recurrent_kernel` (u, 4u) and
one `bias` (4u,); torch wants (4u, input_dim), (4u, u) and two biases. The kernels
are passed transposed (views, no copy) and Keras' bias as `b_ih` with zeros as `b_hh`,
so gradients flow through the kernel to the Keras variables. `FusedLSTM` stores its
kernels column-major on torch (`zoo.backend.torch_storage`), so those views are the
contiguous matrices the kernel reads; a `keras.layers.LSTM`'s row-major kernels work
too, copied by the kernel (on CUDA here: cuDNN takes contiguous weights).
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


def _tensor(value):
    """`value` as a torch tensor (Keras' conversion only for what is not one already:
    a Keras variable, a numpy array)."""
    return value if isinstance(value, torch.Tensor) else keras.ops.convert_to_tensor(value)


def _padded_lengths(mask):
    """(lengths on the CPU, padding): padding is "right" when every row is 1...1 0...0,
    "left" when every row is 0...0 1...1 (a row of ones is both: "right"), None
    otherwise or when a row has no 1. One device-to-host transfer for all answers.
    """
    steps = mask.shape[1]
    lengths = mask.sum(dim=1)
    time = torch.arange(steps, device=mask.device)
    some = torch.all(lengths > 0)
    right = torch.all(mask == (time < lengths[:, None])) & some
    left = torch.all(mask == (time >= steps - lengths[:, None])) & some
    host = torch.cat([right.reshape(1).long(), left.reshape(1).long(), lengths.long()]).cpu()
    padding = "right" if host[0] else "left" if host[1] else None
    return host[2:], padding


def _gather_steps(x, index):
    """x[b, index[b, t]] for x of shape (batch, time, ...) (features, or token ids).

    Advanced indexing: on CPU several times faster than `torch.gather` with an index
    expanded over the features, and it reads a non-contiguous `x` (the kernel's
    batch-first output) without copying it whole.
    """
    return x[torch.arange(x.shape[0], device=x.device)[:, None], index]


def lstm(inputs, initial_state_h, initial_state_c, mask, kernel, recurrent_kernel, bias,
         return_sequences=False, go_backwards=False, zero_output_for_mask=False,
         return_state=True, embeddings=None):
    """One LSTM layer over `inputs` (batch, time, features), batch first.

    Returns `(last_output, outputs, states)` as Keras' `backend.lstm` does (`outputs`
    is `last_output[:, None]` unless `return_sequences`; `states` is `[h, c]`), or
    None when this call is not handled: a mask that is neither right- nor left-padded
    or that masks a whole sequence. With a mask and `return_state=False`, `states` is
    `[]` (the final cell state is not computed; see below).

    Masks follow Keras' RNN semantics: a masked step carries the previous state and
    output forward (or outputs zeros with `zero_output_for_mask`; before the first
    valid step the previous output is zeros); with `go_backwards` the outputs come in
    processing order (reversed), as in Keras.

    A right-padded mask runs the kernel over the whole padded batch (up to the longest
    sequence) and gathers each sequence's outputs up to its length: the padding steps
    are computed and thrown away, which leaves outputs and gradients exact. Only the
    final cell state needs the kernel to stop at each length, so `return_state=True`
    packs the sequences instead (torch's packed CPU kernel is several times slower in
    the backward pass, so it is used only then).

    A left-padded mask (`keras.utils.pad_sequences`' default): the masked steps come
    first, keep the initial state and output zeros, so each sequence's valid steps are
    shifted to the front (a gather), run as a right-padded batch, and their outputs
    shifted back. With `go_backwards` Keras flips inputs and mask, which makes the
    mask right-padded: the flipped inputs take the right-padded path.

    With `embeddings` (a (vocab, features) table) `inputs` are token ids (batch, time)
    and the LSTM reads `embeddings[inputs]`, what an `Embedding` layer feeds it: the
    shifts and reversals then move the ids rather than the embedded features, and the
    ids are embedded straight into the kernel's time-major layout (the pairing
    `TorchGraph` makes of an `Embedding` that only feeds a FusedLSTM).
    """
    kernel = _tensor(kernel)
    recurrent_kernel = _tensor(recurrent_kernel)
    bias = _tensor(bias)
    dtype = kernel.dtype
    x = _tensor(inputs)
    if embeddings is None:
        x = x.to(dtype)
    else:
        embeddings = _tensor(embeddings)
    h0 = _tensor(initial_state_h).to(dtype)[None]
    c0 = _tensor(initial_state_c).to(dtype)[None]
    steps = x.shape[1]

    lengths = None
    padding = "right"
    if mask is not None:
        mask = _tensor(mask)
        if mask.ndim != 2:
            return None
        if mask.device.type != "meta":  # meta: shape inference, the mask changes no shape
            lengths, padding = _padded_lengths(mask.to(torch.bool))
            if padding is None:
                return None
            if int(lengths.min()) == steps:
                lengths = None  # nothing is masked

    # torch: gates = x @ W_ih.T + b_ih + h @ W_hh.T + b_hh, W of shape (4u, in).
    params = [kernel.T, recurrent_kernel.T, bias, torch.zeros_like(bias)]
    if x.is_cuda:  # cuDNN takes contiguous weights (Keras' own CUDA path copies them too)
        params = [p.contiguous() for p in params]
    train = torch.is_grad_enabled()  # cuDNN keeps its backward workspace only then

    if lengths is None:
        if go_backwards:
            x = torch.flip(x, dims=[1])
        y, h, c = _VF.lstm(_time_major(x.transpose(0, 1), embeddings), (h0, c0), params,
                           True, 1, 0.0, train, False, False)
        h, c = h[0], c[0]
        last_output = y[-1]
        outputs = y.transpose(0, 1) if return_sequences else last_output[:, None]
        return last_output, outputs, [h, c]

    lengths_dev = lengths.to(x.device)
    time = torch.arange(steps, device=x.device)
    if padding == "left":
        if go_backwards:
            # Flipped, the mask is right-padded and the processing order is forward.
            x, go_backwards = torch.flip(x, dims=[1]), False
        else:
            return _left_padded(x, h0, c0, lengths, lengths_dev, time, params, train,
                                return_sequences, return_state, embeddings)

    # Every step after the longest sequence is masked everywhere: leave it out.
    longest = int(lengths.max())
    x = x[:, :longest]
    if go_backwards:
        # Keras flips the whole sequence, so the padding comes first and is skipped
        # (state carried from the initial state, output zeros). Equivalent: reverse
        # each sequence within its length, then shift its outputs (below).
        reverse = lengths_dev[:, None] - 1 - time[:longest]
        x = _gather_steps(x, torch.where(reverse >= 0, reverse, time[:longest]))
    y, h, states = _run_right_padded(_time_major(x.transpose(0, 1), embeddings), h0, c0,
                                     lengths, lengths_dev, params, train, return_state)
    y = y.transpose(0, 1)
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


def _time_major(steps, embeddings):
    """The kernel's input from `steps` (time, batch, ...): the inputs themselves, or with
    an embedding table the embedded token ids (a gather that lays them out time-major)."""
    return steps if embeddings is None else torch.nn.functional.embedding(steps, embeddings)


def _run_right_padded(x, h0, c0, lengths, lengths_dev, params, train, return_state):
    """(y, h, states) of the kernel over the sequences x[:lengths[b], b] of a right-padded
    batch, x and y time-major: (time, batch, features).

    y[t, b] is sequence b's output after step t for t < lengths[b] (garbage after);
    h the output at each sequence's last step; states `[h, c]` there, or `[]` without
    `return_state` (then the whole padded batch runs, and h is gathered).
    """
    if not return_state:
        y, _, _ = _VF.lstm(x, (h0, c0), params, True, 1, 0.0, train, False, False)
        h = y[lengths_dev - 1, torch.arange(y.shape[1], device=y.device)]
        return y, h, []
    packed = rnn_utils.pack_padded_sequence(x, lengths, enforce_sorted=False)
    hx = (h0.index_select(1, packed.sorted_indices),
          c0.index_select(1, packed.sorted_indices))
    data, h, c = _VF.lstm(packed.data, packed.batch_sizes, hx, params, True, 1, 0.0,
                          train, False)
    h = h.index_select(1, packed.unsorted_indices)[0]
    c = c.index_select(1, packed.unsorted_indices)[0]
    y, _ = rnn_utils.pad_packed_sequence(
        rnn_utils.PackedSequence(data, packed.batch_sizes, packed.sorted_indices,
                                 packed.unsorted_indices),
        total_length=x.shape[0],
    )
    return y, h, [h, c]


def _left_padded(x, h0, c0, lengths, lengths_dev, time, params, train, return_sequences,
                 return_state, embeddings):
    """The forward direction over a left-padded batch (masked steps first, 0 < length)."""
    steps = x.shape[1]
    longest = int(lengths.max())
    pad = steps - lengths_dev[:, None]
    rows = torch.arange(x.shape[0], device=x.device)
    # Sequence b's valid steps x[b, pad_b:] moved to the front: right-padded, and
    # every step after the longest sequence is padding everywhere. Gathered straight
    # into the kernel's own time-major layout, (time, batch, features): the kernel
    # would otherwise copy a batch-first input into it.
    shifted = x[rows[None, :], ((time[:longest] + pad) % steps).T]
    y, h, states = _run_right_padded(_time_major(shifted, embeddings), h0, c0, lengths,
                                     lengths_dev, params, train, return_state)
    # The last step is valid in every row: the last output is h, zero_output_for_mask
    # or not (the masked steps output zeros either way: they come first).
    if not return_sequences:
        return h, h[:, None], states
    if longest < steps:
        y = torch.nn.functional.pad(y, (0, 0, 0, 0, 0, steps - longest))
    outputs = y[(time - pad) % steps, rows[:, None]]  # back to batch-first, shifted back
    outputs = torch.where((time >= pad)[..., None], outputs, 0.0)
    return h, outputs, states
