"""A GAN's training step: one signature, one module per backend.

The losses are the model's (`GAN.half_step_loss`, written once with keras.ops); what
differs per backend is only how gradients are taken and applied:

- torch (`gan_step_torch`): `torch.autograd.grad`, `optimizer.apply` under no_grad;
- tensorflow (`gan_step_tensorflow`): `tf.GradientTape`, `optimizer.apply_gradients`;
- jax (`gan_step_jax`): `jax.value_and_grad` over variable values in a `StatelessScope`,
  `optimizer.stateless_apply`, and the updated state returned as Keras' JAX trainer wants.

After a generator half-step each backend module calls `GAN.update_generator_ema` (the
moving average of the generator's weights, written once with variable assignments).
Each backend module defines `fit_step(model, *args)` (Keras' `train_step` hook: `(data)`
-> logs on torch and TensorFlow, `(state, data)` -> `(logs, state)` on JAX) and
`eager_step(model, real_images, labels, parts)`.

Example (one discriminator half-step, then one generator half-step):
    >>> import zoo
    >>> from zoo.backend.gan_step import gan_train_step
    >>> gan = zoo.build("dcgan", **zoo.get_architecture("dcgan").tiny)
    >>> gan.compile()
    >>> x, _ = gan.example_batch(16)
    >>> sorted(gan_train_step(gan, x, parts=("discriminator",)))
    ['d_loss']
    >>> sorted(gan_train_step(gan, x, parts=("generator",)))
    ['g_loss']
"""

import importlib

_MODULES = {"torch": "gan_step_torch", "tensorflow": "gan_step_tensorflow", "jax": "gan_step_jax"}
LOG_NAMES = {"discriminator": "d_loss", "generator": "g_loss"}


def _backend_module():
    import keras

    name = keras.backend.backend()
    if name not in _MODULES:
        raise NotImplementedError(
            f"GAN training needs a backend with gradients ({', '.join(_MODULES)}); "
            f"keras runs on {name!r}. Set KERAS_BACKEND before importing keras."
        )
    return importlib.import_module(f"zoo.backend.{_MODULES[name]}")


def fit_step(model, *args):
    """Keras' `train_step` for a GAN model: both half-steps on one batch."""
    return _backend_module().fit_step(model, *args)


def gan_train_step(model, real_images, labels=None, parts=("discriminator", "generator")):
    """Run the half-steps `parts` once on a batch, updating the model in place.

    real_images: a batch in the model's data range; labels: int class ids (n,) for a
    conditional GAN. Returns {"d_loss": float, "g_loss": float} for the parts that ran.
    """
    model.validate_inputs(real_images)
    labels = model.check_labels(labels, len(real_images), "gan_train_step")
    for part in parts:
        model.network_and_optimizer(part)
    import keras

    images = keras.ops.convert_to_tensor(real_images, "float32")
    labels = None if labels is None else keras.ops.convert_to_tensor(labels, "int32")
    losses = _backend_module().eager_step(model, images, labels, tuple(parts))
    return {LOG_NAMES[part]: float(loss) for part, loss in losses.items()}
