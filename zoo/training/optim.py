"""Optimizer and learning-rate schedule from a recipe's `train.optimizer` section."""

import keras


def make_optimizer(section, steps_per_epoch, epochs):
    """A Keras optimizer: `name` (any keras.optimizers name), `learning_rate`,
    optional `weight_decay` and `beta_1` (Adam family), `schedule` "constant" or "cosine" (with linear warm-up)."""
    lr = section.learning_rate
    if section.schedule == "cosine":
        total = max(1, steps_per_epoch * epochs)
        warmup = steps_per_epoch * section.warmup_epochs
        lr = keras.optimizers.schedules.CosineDecay(
            initial_learning_rate=lr if not warmup else 0.0,
            decay_steps=max(1, total - warmup),
            warmup_target=lr if warmup else None,
            warmup_steps=warmup,
        )
    kwargs = {"learning_rate": lr}
    if section.weight_decay is not None:
        kwargs["weight_decay"] = section.weight_decay
    if section.beta_1 is not None:
        kwargs["beta_1"] = section.beta_1
    try:
        return keras.optimizers.get({"class_name": section.name, "config": kwargs})
    except ValueError as err:
        raise ValueError(
            f"train.optimizer.name {section.name!r} is not a Keras optimizer: {err}"
        ) from None
