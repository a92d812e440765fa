"""GAN half-steps on TensorFlow: `tf.GradientTape` on the half-step's own network."""

import tensorflow as tf


def _half_step(model, part, images, labels):
    network, optimizer = model.network_and_optimizer(part)
    variables = network.trainable_variables
    with tf.GradientTape() as tape:
        loss = model.half_step_loss(part, images, labels)
    optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
    return loss


def eager_step(model, images, labels, parts):
    losses = {part: _half_step(model, part, images, labels) for part in parts}
    if "generator" in parts:
        model.update_generator_ema()
    return losses


def fit_step(model, data):
    images, labels = model.unpack_batch(data)
    return model.track_losses(eager_step(model, images, labels, model.half_steps))
