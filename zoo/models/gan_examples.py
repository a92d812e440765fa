"""Example images for the GANs: a blob whose position depends on its class.

Learnable in a few steps and class-dependent (so conditioning matters), for any
image shape and data range. Used by `GAN.example_batch` and the registry-wide tests.

Example:
    >>> from zoo.models.gan_examples import blob_images
    >>> images, labels = blob_images(5, (8, 8, 1), (0.0, 16.0), num_classes=4, seed=0)
    >>> images.shape, labels.shape, float(images.max()) <= 16.0
    ((5, 8, 8, 1), (5,), True)
"""

import numpy as np


def blob_images(n, image_shape, data_range, num_classes, seed=0):
    """(images float32 (n, H, W, C) in data_range, labels int32 (n,)).

    Class c is a Gaussian blob centred on a circle around the image centre at angle
    2*pi*c/num_classes, jittered by up to a pixel, on a dark background with a little noise.
    """
    height, width, channels = image_shape
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, num_classes, size=n).astype("int32")
    angle = 2 * np.pi * labels / num_classes
    radius = 0.3 * min(height, width)
    cy = (height - 1) / 2 + radius * np.sin(angle) + rng.uniform(-1, 1, n)
    cx = (width - 1) / 2 + radius * np.cos(angle) + rng.uniform(-1, 1, n)
    rows, cols = np.mgrid[0:height, 0:width]
    sigma = max(1.0, min(height, width) / 8)
    blob = np.exp(-((rows - cy[:, None, None]) ** 2 + (cols - cx[:, None, None]) ** 2)
                  / (2 * sigma**2))
    images = np.repeat(blob[..., None], channels, axis=-1)
    images = np.clip(images + rng.normal(0, 0.03, images.shape), 0, 1)
    low, high = data_range
    return (low + (high - low) * images).astype("float32"), labels
