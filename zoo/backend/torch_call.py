"""`ZooModel.__call__` on torch for an eager tensor at top level: the model's
`TorchGraph`, which computes what `keras.Model.__call__` computes without Keras'
per-layer machinery. Calls inside another layer's call, inside Keras' stateless or
symbolic scopes, with masks or other arguments, or with symbolic inputs go to Keras."""

import numpy as np
import torch
from keras.src.backend.common import global_state
from keras.src.backend.common.stateless_scope import in_stateless_scope
from keras.src.backend.common.symbolic_scope import in_symbolic_scope
from keras.src.backend.torch.core import get_device

from zoo.backend.torch_loop import forward_blocker, forward_of


def call(model, args, kwargs):
    """The model's output for `args[0]` (a tensor or array, or a list of them), or None
    when Keras' `__call__` must run."""
    if len(args) != 1 or (kwargs and set(kwargs) != {"training"}):
        return None
    inputs = list(args[0]) if isinstance(args[0], (list, tuple)) else [args[0]]
    device = get_device()
    for i, x in enumerate(inputs):
        if isinstance(x, np.ndarray):
            inputs[i] = torch.as_tensor(x, device=device)
        elif not isinstance(x, torch.Tensor) or x.device.type == "meta":
            return None
        elif x.device != device:  # as Keras' convert_to_tensor: onto Keras' device
            inputs[i] = x.to(device)
    if global_state.get_global_attribute("current_call_ctx") is not None \
            or in_stateless_scope() or in_symbolic_scope():
        return None
    if forward_blocker(model, len(inputs)):
        return None
    return forward_of(model)(inputs, training=bool(kwargs.get("training")))[0]
