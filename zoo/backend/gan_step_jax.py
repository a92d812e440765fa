"""GAN half-steps on JAX: pure functions of the training state, as Keras' JAX trainer runs.

Keras' JAX trainer calls `train_step(state, data)` under `jax.jit` with the state
`(trainable, non_trainable, optimizer, metrics)` as lists of arrays, the model's own
variables emptied, and expects `(logs, state)` back (see keras/src/backend/jax/trainer.py).
Here each half-step differentiates the model's loss (`GAN.half_step_loss`) with
`jax.value_and_grad` with respect to its own network's values only, running it in a
`keras.StatelessScope` that maps every model variable to its value in the state (what
`Layer.stateless_call` does for `call`), so batch-norm statistics and seed-generator
updates come back as new non-trainable values. `optimizer.stateless_apply` returns the
new weights and optimizer variables. `model.optimizer.variables` (see
`zoo.models.gan_base._OptimizerPair`) are the discriminator's optimizer's then the generator's.
"""

import weakref

import jax
import keras

# eager_step's compiled steps, per model and per (parts, optimizers, loss) it was traced with.
_COMPILED = weakref.WeakKeyDictionary()


def _positions(variables, subset):
    index = {id(v): i for i, v in enumerate(variables)}
    return [index[id(v)] for v in subset]


def _in_scope(model, fn, trainable, non_trainable):
    """fn() with the model's variables mapped to values; (result, new non-trainable values)."""
    mapping = list(zip(model.trainable_variables, trainable))
    mapping += list(zip(model.non_trainable_variables, non_trainable))
    with keras.StatelessScope(state_mapping=mapping) as scope:
        result = fn()
    return result, [scope.get_current_value(v) for v in model.non_trainable_variables]


def _split_optimizer_values(model, optimizer_values):
    cut = len(model.d_optimizer.variables)
    return {"discriminator": list(optimizer_values[:cut]),
            "generator": list(optimizer_values[cut:])}


def _half_step(model, part, images, labels, trainable, non_trainable, optimizer_values):
    network, optimizer = model.network_and_optimizer(part)
    own = _positions(model.trainable_variables, network.trainable_variables)

    def loss_fn(own_values):
        values = list(trainable)
        for i, value in zip(own, own_values):
            values[i] = value
        return _in_scope(model, lambda: model.half_step_loss(part, images, labels),
                         values, non_trainable)

    own_values = [trainable[i] for i in own]
    (loss, non_trainable), grads = jax.value_and_grad(loss_fn, has_aux=True)(own_values)
    own_values, optimizer_values[part] = optimizer.stateless_apply(
        optimizer_values[part], grads, own_values)
    trainable = list(trainable)
    for i, value in zip(own, own_values):
        trainable[i] = value
    return loss, trainable, non_trainable


def _train(model, images, labels, parts, trainable, non_trainable, optimizer_values):
    by_part = _split_optimizer_values(model, optimizer_values)
    losses = {}
    for part in parts:
        losses[part], trainable, non_trainable = _half_step(
            model, part, images, labels, trainable, non_trainable, by_part)
    if "generator" in parts:
        _, non_trainable = _in_scope(model, model.update_generator_ema, trainable, non_trainable)
    return losses, trainable, non_trainable, by_part["discriminator"] + by_part["generator"]


def fit_step(model, state, data):
    trainable, non_trainable, optimizer_values, metrics_values = state
    images, labels = model.unpack_batch(data)
    losses, trainable, non_trainable, optimizer_values = _train(
        model, images, labels, model.half_steps, trainable, non_trainable, optimizer_values)
    mapping = list(zip(model.metrics_variables, metrics_values))
    with keras.StatelessScope(state_mapping=mapping) as scope:
        logs = model.track_losses(losses)
    metrics_values = [scope.get_current_value(v) for v in model.metrics_variables]
    return logs, (trainable, non_trainable, optimizer_values, metrics_values)


def _compiled_train(model, parts):
    """`_train` for `parts`, jit-compiled once per model and compile() (traced op by op,
    a step would compile every operation separately: far slower even for one call)."""
    key = (parts, id(model.d_optimizer), id(model.g_optimizer), id(model.loss_fn))
    cache = _COMPILED.setdefault(model, {})
    if key not in cache:
        cache.clear()
        model_ref = weakref.ref(model)
        cache[key] = jax.jit(lambda images, labels, *state: _train(
            model_ref(), images, labels, parts, *state))
    return cache[key]


def eager_step(model, images, labels, parts):
    """One step outside `fit`: run the compiled pure step, then write the state back."""
    values = lambda variables: [v.value for v in variables]  # noqa: E731
    losses, trainable, non_trainable, optimizer_values = _compiled_train(model, parts)(
        images, labels, values(model.trainable_variables),
        values(model.non_trainable_variables), values(model.optimizer.variables))
    for variables, new in ((model.trainable_variables, trainable),
                           (model.non_trainable_variables, non_trainable),
                           (model.optimizer.variables, optimizer_values)):
        for variable, value in zip(variables, new):
            variable.assign(value)
    return losses
