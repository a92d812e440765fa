"""Run a Keras functional model's graph on torch without Keras' per-call machinery.

`Layer.__call__` costs tens of microseconds per layer on torch (input conversion,
call-context and name scopes, input specs, mask metadata), often more than the layer's
arithmetic. `TorchGraph` walks the model's nodes once, in Keras' own order, and
afterwards runs each layer's computation directly: the common layers through the
torch functions in `zoo.backend.torch_lowering`, every other layer through its own
`call` (an `Embedding` read only by a FusedLSTM, or by a `Bidirectional` over two, is
computed inside the LSTM's step, from the token ids). Masks travel beside the tensors exactly as `__call__` propagates
them.
Weights are the model's own variables, so nothing is copied and training through the
graph trains the model.

Only models whose layers all compute in float32, with no activity regularizers and no
distribution set, run here; `TorchGraph.blocker(model)` says why another does not.

Example:
    >>> import os; os.environ.setdefault("KERAS_BACKEND", "torch")  # doctest: +SKIP
    >>> graph = TorchGraph(model)                                   # doctest: +SKIP
    >>> probabilities = graph([torch.ones(2, 30)], training=False)[0] # doctest: +SKIP
"""

import collections

import keras
from keras import KerasTensor

from zoo.backend import torch_lowering


class NotNative(Exception):
    """The model cannot run through `TorchGraph`; the message says why."""


_SINGLE, _LIST, _FLAT, _GENERAL = "single", "list", "flat", "general"


class _Step:
    __slots__ = ("layer", "node", "run", "wants_mask", "wants_training", "mask_fn",
                 "inputs", "outputs", "plan", "kwargs", "flat_args", "flat_kwargs")

    def __init__(self, node):
        layer = node.operation
        self.layer = layer
        self.node = node
        self.run = torch_lowering.lower(layer)
        is_layer = isinstance(layer, keras.layers.Layer)  # else a keras.ops operation
        params = layer.call_signature_parameters if is_layer else ()
        self.wants_mask = "mask" in params
        self.wants_training = "training" in params
        # as Layer.__call__: only layers that support masking give their outputs one
        self.mask_fn = layer.compute_mask if is_layer and layer.supports_masking else None
        self.inputs = [id(t) for t in node.input_tensors]
        self.outputs = [id(t) for t in node.outputs]
        # how to fill in the call's arguments: one tensor, one list of tensors, tensors
        # and constants as arguments of their own (flat: an op on a tensor and a number,
        # a layer called with `mask=`), or Keras' general SymbolicArguments.fill_in;
        # constant keyword arguments kept as recorded. `training` recorded when the
        # graph was built is replaced by the call's, as Keras' Functional.call does for
        # every call-context argument.
        args, kwargs = node.arguments.args, node.arguments.kwargs
        kwargs = {k: v for k, v in kwargs.items()
                  if not (k == "training" and self.wants_training)}
        constant = not any(_has_tensor(v) for v in kwargs.values())
        if constant and len(args) == 1 and isinstance(args[0], KerasTensor):
            self.plan = _SINGLE
        elif constant and len(args) == 1 and isinstance(args[0], (list, tuple)) and \
                all(isinstance(a, KerasTensor) for a in args[0]):
            self.plan = _LIST
        elif all(_flat_argument(v) for v in (*args, *kwargs.values())):
            self.plan = _FLAT
            self.flat_args = [_keyed(a) for a in args]
            self.flat_kwargs = {k: _keyed(v) for k, v in kwargs.items()}
        else:
            self.plan = _GENERAL
        self.kwargs = kwargs if constant else {}


class TorchGraph:
    """A functional model's forward pass as a sequence of direct layer computations."""

    def __init__(self, model):
        reason = self.blocker(model)
        if reason:
            raise NotNative(reason)
        self._build(model)

    def _build(self, model):
        self.model = model
        self.input_ids = [id(t) for t in model.inputs]
        self.input_dtypes = [torch_lowering.torch_dtype(t.dtype) for t in model.inputs]
        self.output_ids = [id(t) for t in model.outputs]
        self.steps = []
        for depth in sorted(model._nodes_by_depth, reverse=True):
            for node in model._nodes_by_depth[depth]:
                if node.operation is None or node.is_input:
                    continue
                self.steps.append(_Step(node))
        _embed_in_reader(self.steps, set(self.output_ids))

    @staticmethod
    def blocker(model):
        """Why `model` cannot run through a `TorchGraph`, or None when it can."""
        if keras.backend.backend() != "torch":
            return "the Keras backend is not torch"
        if keras.distribution.distribution() is not None:
            return "a keras.distribution is set"
        if "_zoo_graph_blocker" not in model.__dict__:  # the layers: checked once
            model.__dict__["_zoo_graph_blocker"] = _layers_blocker(model) or \
                _internals_blocker(model)
        return model.__dict__["_zoo_graph_blocker"]

    @staticmethod
    def of(model):
        """The model's graph, built once and kept on the model (`blocker` first)."""
        graph = model.__dict__.get(_GRAPH)
        if graph is None:
            reason = TorchGraph.blocker(model)
            if reason:
                raise NotNative(reason)
            graph = model.__dict__[_GRAPH]  # built, once, by the blocker's first check
        return graph

    def __call__(self, inputs, training=False):
        """Outputs (a list, in `model.outputs` order) for `inputs` (a list of tensors)."""
        values, masks = {}, {}
        for key, dtype, x in zip(self.input_ids, self.input_dtypes, inputs):
            values[key] = x if x.dtype == dtype else x.to(dtype)
        for step in self.steps:
            if step.plan is _SINGLE:
                args, kwargs = (values[step.inputs[0]],), dict(step.kwargs)
            elif step.plan is _LIST:
                args, kwargs = ([values[i] for i in step.inputs],), dict(step.kwargs)
            elif step.plan is _FLAT:
                args = [values[key] if key else value for key, value in step.flat_args]
                kwargs = {name: values[key] if key else value
                          for name, (key, value) in step.flat_kwargs.items()}
            else:
                args, kwargs = step.node.arguments.fill_in(values)
            mask = masks.get(step.inputs[0]) if len(step.inputs) == 1 else (
                [masks.get(i) for i in step.inputs] if masks else None)
            if mask is not None and not any(m is not None for m in _flat(mask)):
                mask = None
            if step.wants_mask and mask is not None and "mask" not in kwargs:
                kwargs["mask"] = mask
            if step.wants_training:
                kwargs["training"] = training
            out = step.run(*args, **kwargs)
            outs = out if isinstance(out, (list, tuple)) else (out,)
            for key, value in zip(step.outputs, outs):
                values[key] = value
            if step.mask_fn is not None:
                out_mask = step.mask_fn(args[0], kwargs.get("mask", mask))
                if out_mask is not None:
                    for key, m in zip(step.outputs, _flat(out_mask)):
                        masks[key] = m
        return [values[key] for key in self.output_ids]


def _embed_in_reader(steps, output_ids):
    """Where an `Embedding`'s output is read by one step only, as its first argument,
    and that step's layer can embed token ids itself (`torch_lowering.
    lower_with_embedding`: a FusedLSTM or a `Bidirectional` over two, which then shift
    the ids of a padded batch,
    not the embedded features), that step takes the ids and the `Embedding`'s step
    passes them on. The mask is computed from the ids, as before (Keras records it as
    an op on the ids, or `compute_mask` gives it); nothing else reads the embedded batch."""
    readers = collections.Counter(key for step in steps for key in step.inputs)
    by_output = {step.outputs[0]: step for step in steps if len(step.outputs) == 1}
    for step in steps:
        args = step.node.arguments.args
        key = id(args[0]) if args and isinstance(args[0], KerasTensor) else None
        source = by_output.get(key)
        if source is None or source.plan is not _SINGLE or readers[key] != 1 \
                or key in output_ids:
            continue
        run = torch_lowering.lower_with_embedding(step.layer, source.layer)
        if run is not None:
            source.run, step.run = torch_lowering.token_ids, run


def _layers_blocker(model):
    if not hasattr(model, "_nodes_by_depth"):
        return f"{type(model).__name__} is not a functional model"
    for layer in model._flatten_layers(include_self=False):
        if layer.dtype_policy.name != "float32":
            return f"layer {layer.name!r} computes in {layer.dtype_policy.name}, not float32"
        if getattr(layer, "activity_regularizer", None) is not None:
            return f"layer {layer.name!r} has an activity regularizer"
        if isinstance(layer, keras.Model):
            return f"layer {layer.name!r} is a nested model"
    return None


def _internals_blocker(model):
    """Build the graph once (kept for `TorchGraph.of`): a Keras whose nodes or layers
    lack an internal the graph reads (an `AttributeError`) makes it Keras' call."""
    from zoo.backend import keras_internals

    graph = TorchGraph.__new__(TorchGraph)
    try:
        graph._build(model)
    except AttributeError as error:
        return keras_internals.reason(error)
    model.__dict__[_GRAPH] = graph
    return None


_GRAPH = "_zoo_torch_graph"


def _flat_argument(value):
    """A tensor, or a constant with no tensor inside."""
    return isinstance(value, KerasTensor) or not _has_tensor(value)


def _keyed(value):
    """(the tensor's key, None) for a tensor, (None, value) for a constant."""
    return (id(value), None) if isinstance(value, KerasTensor) else (None, value)


def _has_tensor(value):
    return any(isinstance(v, KerasTensor) for v in keras.tree.flatten(value))


def _flat(mask):
    return mask if isinstance(mask, (list, tuple)) else (mask,)

