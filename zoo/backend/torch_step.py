"""One training step of a compiled zoo model on torch, without Keras' per-step layers.

What Keras' `TorchTrainer.train_step` computes, from the same objects: the forward pass
through `TorchGraph`, the compiled loss (direct torch code for Keras' common losses,
`zoo/backend/torch_losses.py`, else the loss object), `torch.autograd.grad`, and the
compiled optimizer and metrics, whose variables are updated in place. Adam (the zoo's
default) is applied with Keras' own update rule and state (`m`, `v`, `iterations`) by
torch's fused kernel, so a checkpoint written after a zoo step resumes anywhere; every
other optimizer goes through its own `apply`. Only configurations whose result is
Keras' own are taken: `TorchStep.blocker(model)` names the first thing that is not.
"""

import math

import keras
import torch
from keras.src.backend.torch.optimizers.torch_adam import Adam as TorchAdam
from keras.src.losses.losses import LossFunctionWrapper
from keras.src.metrics.reduction_metrics import MeanMetricWrapper

from zoo.backend import torch_losses, torch_storage
from zoo.backend.torch_graph import TorchGraph


class TorchStep:
    """Callable `(inputs, y) -> loss tensor`: one optimizer step on one batch;
    `test(inputs, y)`: the same loss and metrics in inference mode, no step."""

    def __init__(self, model, graph, training=True):
        self.model = model
        self.graph = graph
        loss = model._compile_loss._flat_losses[0].loss
        self.loss = torch_losses.loss_function(loss) or loss
        self.metrics = [(m, torch_losses.metric_function(m) or _keras_metric_fn(m))
                        for m in _compiled_metrics(model)]
        if training:
            self.variables = list(model.trainable_variables)
            self.params = [v.value for v in self.variables]
            self.optimizer = model.optimizer
            self.adam = _AdamState(self.optimizer, self.variables) if _plain_adam(
                self.optimizer, self.variables) else None

    @staticmethod
    def blocker(model, training=True):
        """Why `TorchStep` cannot train (or with `training=False`, evaluate) `model` as
        Keras would, or None when it can."""
        from keras.src.backend.torch.trainer import TorchTrainer

        step = "train_step" if training else "test_step"
        if getattr(type(model), step) is not getattr(TorchTrainer, step) or step in vars(model):
            return f"the model has its own {step}"
        reason = compiled_blocker(model)
        if reason:
            return reason
        if model._compile_loss is None or (training and getattr(model, "optimizer", None) is None):
            return "the model is not compiled with an optimizer and a loss"
        flat = model._compile_loss._flat_losses
        if len(flat) != 1 or flat[0].loss_weights is not None or \
                not isinstance(flat[0].loss, LossFunctionWrapper):
            return "the compiled loss is not one Keras loss"
        if len(model.outputs) != 1:
            return "the model has several outputs"
        if model.losses:
            return "the model adds losses (regularizers)"
        if model._compile_metrics is not None:
            if model._compile_metrics._flat_weighted_metrics and any(
                    _metrics_of(g) for g in model._compile_metrics._flat_weighted_metrics):
                return "the model has weighted metrics"
            for metric in _compiled_metrics(model):
                if not isinstance(metric, MeanMetricWrapper):
                    return f"metric {metric.name!r} is not a mean of a metric function"
        if training and not model.trainable_variables:
            return "the model has no trainable weights"
        _reads_internals(model)
        return None

    @staticmethod
    def blocker_on(model, x, y, training=True):
        """`blocker`, after building what Keras' `fit` / `evaluate` build first from a
        batch of (x, y) (the compiled loss and metrics), with the graph's own blocker."""
        reason = TorchGraph.blocker(model)
        if reason is None and model._compile_loss is not None and not _built(model):
            model._symbolic_build(data_batch=(x[:1], y[:1]))
        return reason or TorchStep.blocker(model, training=training)

    def __call__(self, inputs, y):
        y_pred = self.graph(inputs, training=True)[0]
        loss = self.loss(y, y_pred)
        grads = torch.autograd.grad(loss, self.params)
        with torch.no_grad():
            if self.adam is not None:
                self.adam.apply(grads)
            else:
                self.optimizer.apply(list(grads), self.variables)
            self._measure(y, y_pred, loss, inputs[0].shape[0])
        return loss

    def test(self, inputs, y):
        with torch.no_grad():
            y_pred = self.graph(inputs, training=False)[0]
            loss = self.loss(y, y_pred)
            self._measure(y, y_pred, loss, inputs[0].shape[0])
        return loss

    def _measure(self, y, y_pred, loss, batch):
        """The loss tracker's and the compiled metrics' `update_state`."""
        tracker = self.model._loss_tracker
        tracker.total.value.add_(loss.detach() * batch)
        tracker.count.value.add_(batch)
        for metric, fn in self.metrics:
            _update_mean(metric, fn(y, y_pred))


def _built(model):
    """Whether Keras' `_symbolic_build` would build nothing: the layers, the compiled loss
    and metrics and the optimizer are built, and the model's torch parameters tracked.
    (It would still re-make the model's torch `ParameterDict`, which holds the same
    parameters: a fraction of a millisecond of every `fit` call.)"""
    return (all(layer.built for layer in model._flatten_layers())
            and model._compile_loss.built
            and (model._compile_metrics is None or model._compile_metrics.built)
            and (model.optimizer is None or model.optimizer.built)
            and hasattr(model, "_torch_params"))


def _reads_internals(model):
    """Touch the private attributes of the compiled loss, metrics and loss tracker that
    `TorchStep` reads: a Keras without one raises `AttributeError` here, in the blocker
    (which routes to Keras' `fit`), rather than in the training loop."""
    model._compile_loss._flat_losses[0].loss._fn_kwargs  # noqa: B018
    model._loss_tracker.total, model._loss_tracker.count  # noqa: B018
    for metric in _compiled_metrics(model):
        metric._fn, metric._fn_kwargs  # noqa: B018


def compiled_blocker(model):
    """The `compile()` settings whose steps only Keras' trainer runs, or None."""
    if getattr(model, "jit_compile", False) is True:
        return "jit_compile=True (Keras compiles its own step)"
    if getattr(model, "steps_per_execution", 1) != 1:
        return "steps_per_execution is not 1"
    return None


def _compiled_metrics(model):
    """The compiled (unweighted) metric objects, flat."""
    if model._compile_metrics is None:
        return []
    return [m for group in model._compile_metrics._flat_metrics for m in _metrics_of(group)]


def _metrics_of(group):
    return list(getattr(group, "metrics", [])) if group is not None else []


def _keras_metric_fn(metric):
    return lambda y_true, y_pred: metric._fn(y_true, y_pred, **metric._fn_kwargs)


def _update_mean(metric, values):
    """`keras.metrics.Mean.update_state(values)` without sample weights."""
    values = values.to(torch.float32)
    if values.ndim > 1:
        values = values.mean(dim=tuple(range(1, values.ndim)))
    metric.total.value.add_(values.sum())
    metric.count.value.add_(values.shape[0] if values.ndim else 1)


def _plain_adam(optimizer, variables):
    return (type(optimizer) is TorchAdam and not optimizer.amsgrad
            and hasattr(optimizer, "_momentums") and hasattr(optimizer, "_velocities")
            and optimizer.clipnorm is None and optimizer.clipvalue is None
            and optimizer.global_clipnorm is None and not optimizer.weight_decay
            and not optimizer.use_ema and optimizer.loss_scale_factor is None
            and not optimizer.gradient_accumulation_steps
            and all(v.constraint is None for v in variables))


class _AdamState:
    """Keras' Adam update on the optimizer's own slots (`m`, `v`, `iterations`), for one
    fixed list of variables, in one call of torch's fused Adam kernel.

    Keras' rule (keras/src/backend/torch/optimizers/torch_adam.py) is
    `p -= lr * sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps)`; torch's kernel computes
    `p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps')`, which is Keras' rule
    for `eps' = eps / sqrt(1 - b2^t)`: the same arithmetic up to float rounding (measured:
    7e-7 apart after 50 steps), about ten times faster than Keras' `apply` on CPU. The
    step count `t` is read from `optimizer.iterations` once, when the fit starts.
    """

    def __init__(self, optimizer, variables):
        if not optimizer.built:
            optimizer.build(variables)
        self.optimizer = optimizer
        index = optimizer._get_variable_index
        self.params = [v.value for v in variables]
        slots = [(optimizer._momentums[index(v)], optimizer._velocities[index(v)])
                 for v in variables]
        for (m, v), p in zip(slots, self.params):
            # the fused kernel walks a slot's memory as its weight's (a FusedLSTM's
            # kernels are column-major on torch): same strides
            torch_storage.match_layout(m, p)
            torch_storage.match_layout(v, p)
        self.m = [m.value for m, _ in slots]
        self.v = [v.value for _, v in slots]
        self.beta_1, self.beta_2 = float(optimizer.beta_1), float(optimizer.beta_2)
        self.epsilon = float(optimizer.epsilon)
        self.iterations = optimizer.iterations.value
        self.t = int(self.iterations)

    def apply(self, grads):
        self.t += 1
        lr = self.optimizer._get_current_learning_rate()
        lr = lr.value if isinstance(lr, keras.Variable) else torch.as_tensor(
            lr, device=self.params[0].device)  # the fused kernel reads it where the weights are
        step = torch.tensor(float(self.t), device=self.params[0].device)
        # the kernel walks each gradient's memory as its parameter's: make them match
        grads = [g if g.stride() == p.stride() else g.contiguous()
                 for g, p in zip(grads, self.params)]
        torch._fused_adam_(
            self.params, grads, self.m, self.v, [], [step] * len(self.params),
            amsgrad=False, lr=lr.to(torch.float32), beta1=self.beta_1, beta2=self.beta_2,
            weight_decay=0.0, eps=self.epsilon / math.sqrt(1.0 - self.beta_2 ** self.t),
            maximize=False, grad_scale=None, found_inf=None)
        self.iterations.add_(1)
