"""What the zoo's torch `fit`, `evaluate` and `predict` share: arrays converted to
tensors once, batches as index ranges, Keras' `CallbackList`, and batch hooks called
only when some callback defines them (Keras' torch trainer dispatches every batch hook,
to a thread pool, even when no callback has one)."""

import math

import numpy as np
import torch
from keras.src.backend.torch.core import get_device
from keras.src.callbacks import Callback, CallbackList

from zoo.backend.torch_graph import TorchGraph


def is_array(a):
    """A numpy array or a torch tensor (what the zoo's loops take)."""
    return isinstance(a, (np.ndarray, torch.Tensor))


def unsupported(kwargs, supported, what):
    """Why Keras' `what` must run for these keyword arguments (one the zoo's loop does not
    take was given), or None."""
    if kwargs.keys() <= supported:
        return None
    extra = sorted(k for k, v in kwargs.items() if k not in supported and v is not None)
    return f"{what} argument(s) {extra} go to Keras' {what}" if extra else None


def as_array_list(x):
    """`x` (an array, or a list / tuple of arrays of one length) as a list, or None."""
    arrays = list(x) if isinstance(x, (list, tuple)) else [x]
    if not arrays or not all(is_array(a) for a in arrays) or not len(arrays[0]) \
            or any(len(a) != len(arrays[0]) for a in arrays):
        return None
    return arrays


def graph_of(model):
    """The model's `TorchGraph`, built once and kept on the model."""
    return TorchGraph.of(model)


def network_of(model):
    """(functional network, post-processing or None) that compute `model`'s call
    (`NativePaths.native_call_parts`: the model itself for a zoo model; a GAN names its
    sampler and output scaling)."""
    return model.native_call_parts()


def forward_blocker(model, num_inputs):
    """Why `model`'s call on `num_inputs` tensors cannot run through a `TorchGraph`, or
    None."""
    network, _ = network_of(model)
    reason = TorchGraph.blocker(network)
    if reason is None and len(network.outputs) != 1:
        return "the model has several outputs"
    if reason is None and num_inputs != len(network.inputs):
        return f"x has {num_inputs} arrays for {len(network.inputs)} inputs"
    return reason


def forward_of(model):
    """`(inputs, training) -> [output]`: the model's call through its network's graph."""
    network, post = network_of(model)
    graph = graph_of(network)
    if post is None:
        return graph
    return lambda inputs, training=False: [post(graph(inputs, training=training)[0])]


def set_plain(model, name, value):
    """Set a bookkeeping attribute without Keras' and torch's `__setattr__` (tracking,
    module registration: about 15 microseconds each, for a string or a flag)."""
    model.__dict__[name] = value


def inference_mode(model):
    """`model.eval()` (torch's module mode, for wrapped torch modules) when needed."""
    if model.training:
        model.eval()


# Arrays up to this many bytes in all move to an accelerator once, whole, and batches are
# cut there; larger ones stay in host memory and move batch by batch.
WHOLE_ON_DEVICE_BYTES = 1 << 30


class Batches:
    """Tensors made once from arrays, served as batches on Keras' device.

    On an accelerator the tensors are moved there once when they are at most
    `WHOLE_ON_DEVICE_BYTES` together (the zoo's datasets are), so a batch is an index
    on the device rather than a host-to-device copy per batch (what Keras' DataLoader
    does); larger arrays move batch by batch."""

    def __init__(self, arrays, batch_size, device=None):
        tensors = [torch.as_tensor(a) for a in arrays]
        self.size = tensors[0].shape[0]
        self.batch_size = batch_size or 32
        self.count = math.ceil(self.size / self.batch_size)
        self.device = get_device() if device is None else device
        self.on_device = self.device != "cpu" and \
            sum(t.nbytes for t in tensors) <= WHOLE_ON_DEVICE_BYTES
        self.tensors = [t.to(self.device) for t in tensors] if self.on_device else tensors

    def shuffled(self):
        """A random order of the rows, where the tensors are (drawn from torch's CPU
        generator: the same order on every device for the same seed)."""
        order = torch.randperm(self.size)
        return order.to(self.device) if self.on_device else order

    def __call__(self, index, order=None):
        """Batch number `index` (of the rows in `order`, when given) of every tensor."""
        if self.count == 1 and order is None and (self.on_device or self.device == "cpu"):
            return self.tensors  # the whole arrays: no slicing
        rows = slice(index * self.batch_size, (index + 1) * self.batch_size)
        if order is not None:
            rows = order[rows]
        batch = [t[rows] for t in self.tensors]
        if self.device != "cpu" and not self.on_device:
            batch = [t.to(self.device, non_blocking=True) for t in batch]
        return batch


class _NoCallbacks:
    """What a `CallbackList` without callbacks does: nothing (Keras' would still start
    a thread pool for its asynchronous dispatch, per call)."""

    callbacks = ()

    def __getattr__(self, hook):
        return _nothing


def _nothing(*args, **kwargs):
    return None


def callback_list(model, callbacks, verbose, epochs, steps, history=False):
    """Keras' `CallbackList`, made as Keras' torch trainer makes it (nothing at all when
    there would be no callback in it)."""
    if isinstance(callbacks, CallbackList):
        return callbacks
    if not callbacks and verbose == 0 and not history:
        return _NoCallbacks()
    return CallbackList(callbacks, add_history=history, add_progbar=verbose != 0,
                        verbose=verbose, epochs=epochs, steps=steps, model=model)


def defines_hooks(callbacks, *names):
    """Whether any callback in the list overrides one of the hooks `names`."""
    return any(getattr(type(cb), name) is not getattr(Callback, name)
               for cb in callbacks.callbacks for name in names)
