"""GAN half-steps on torch: `torch.autograd.grad` on the half-step's own network."""

import torch


def _half_step(model, part, images, labels):
    network, optimizer = model.network_and_optimizer(part)
    variables = network.trainable_variables
    loss = model.half_step_loss(part, images, labels)
    gradients = torch.autograd.grad(loss, [v.value for v in variables])
    with torch.no_grad():
        optimizer.apply(list(gradients), variables)
    return loss.detach()


def eager_step(model, images, labels, parts):
    losses = {part: _half_step(model, part, images, labels) for part in parts}
    if "generator" in parts:
        with torch.no_grad():
            model.update_generator_ema()
    return losses


def fit_step(model, data):
    images, labels = model.unpack_batch(data)
    return model.track_losses(eager_step(model, images, labels, model.half_steps))
