"""Checks that turn wrong GAN data into a ValueError saying what was expected.

Example:
    >>> import numpy as np
    >>> from zoo.models.gan_checks import check_labels
    >>> check_labels("generate", [0, 2], n=2, num_classes=3)
    array([0, 2], dtype=int32)
    >>> check_labels("generate", [[0, 2]], n=2, num_classes=3)
    Traceback (most recent call last):
    ...
    ValueError: generate expects int class ids of shape (2,) in 0..2 (num_classes=3), got ...
"""

import numpy as np

from zoo.models import validation


def check_labels(where, labels, n, num_classes):
    """Class ids as int32 of shape (n,) (any length when n is None) in [0, num_classes).

    `num_classes` None (an unconditional GAN) wants labels None and returns None.
    """
    if num_classes is None:
        if labels is not None:
            raise ValueError(f"{where}: the model is unconditional (a DCGAN) and takes no "
                             "labels; pass labels=None or use conditional_gan.")
        return None
    expected = (f"int class ids of shape ({'n' if n is None else n},) in "
                f"0..{num_classes - 1} (num_classes={num_classes})")
    if labels is None:
        raise ValueError(f"{where} needs labels: {expected}.")
    labels = np.asarray(labels)
    if labels.ndim != 1 or (n is not None and len(labels) != n):
        raise ValueError(f"{where} expects {expected}, got shape {labels.shape}.")
    if labels.size and labels.dtype.kind not in "iu":
        raise ValueError(f"{where} expects {expected}, got dtype {labels.dtype}; "
                         "cast with labels.astype('int32').")
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"{where} expects {expected}, got ids "
                         f"{int(labels.min())}..{int(labels.max())}.")
    return labels.astype("int32")


def check_images(name, x, image_shape, data_range):
    """Images of `image_shape` (batch first) with values inside `data_range`."""
    validation.check_inputs(name, x, (None, *image_shape), "float32")
    if not validation.is_array_like(x) or not np.size(x):
        return
    low, high = float(np.min(x)), float(np.max(x))
    margin = 1e-3 * (data_range[1] - data_range[0])
    if low < data_range[0] - margin or high > data_range[1] + margin:
        raise ValueError(
            f"{name} expects images in data_range={data_range}, but they range over "
            f"{low:g}..{high:g}. Build the model with the data's range, e.g. "
            "data_range=(0.0, 255.0) for 8-bit pixels."
        )


def check_generator_inputs(name, inputs, latent_dim, num_classes):
    """What `call`/`predict` take: noise (n, latent_dim), or [noise, labels (n,)]."""
    noise = inputs
    if num_classes is not None:
        if not isinstance(inputs, (list, tuple)) or len(inputs) != 2:
            raise ValueError(f"{name} expects [noise (batch, {latent_dim}), labels (batch,)], "
                             f"got {type(inputs).__name__}.")
        noise = inputs[0]
    validation.check_inputs(name, noise, (None, latent_dim), "float32")
    if num_classes is not None and validation.is_array_like(noise):
        check_labels(f"{name}.predict", inputs[1], len(noise), num_classes)


def check_config(name, image_shape, latent_dim, generator_filters, discriminator_filters,
                 kernel_size, dropout, data_range, ema_momentum=None):
    """Constructor arguments of a GAN: shapes and widths positive ints, a valid range."""
    if len(image_shape) != 3:
        raise ValueError(f"{name} image_shape is (height, width, channels), got {image_shape}.")
    for key, value in dict(image_shape=image_shape, latent_dim=latent_dim,
                           generator_filters=generator_filters,
                           discriminator_filters=discriminator_filters,
                           kernel_size=kernel_size).items():
        items = value if isinstance(value, tuple) else (value,)
        if not items or not all(isinstance(v, int) and v > 0 for v in items):
            raise ValueError(f"{name}: {key} must be positive integers, got {value!r}.")
    if not 0 <= dropout < 1:
        raise ValueError(f"{name}: dropout must be in [0, 1), got {dropout!r}.")
    if ema_momentum is not None and not (isinstance(ema_momentum, (int, float))
                                         and 0 <= ema_momentum < 1):
        raise ValueError(f"{name}: ema_momentum is None (sample from the trained generator) "
                         f"or a float in [0, 1), e.g. 0.99, got {ema_momentum!r}.")
    if len(data_range) != 2 or not data_range[0] < data_range[1]:
        raise ValueError(
            f"{name}: data_range is (low, high) with low < high, e.g. (0.0, 255.0) for "
            f"MNIST pixels, got {data_range!r}."
        )
