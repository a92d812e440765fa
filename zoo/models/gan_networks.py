"""DCGAN generator and discriminator builders (functional Keras models), any image shape.

Upsampling plan: the generator projects the noise to a base grid of
``(ceil(H / 2**k), ceil(W / 2**k))`` cells, where ``k = len(generator_filters)``, doubles
it at each of the k transposed-convolution stages, and crops the excess rows and
columns (bottom/right) when H or W is not a multiple of ``2**k``. So any (H, W, C) works;
sizes that are multiples of ``2**k`` (8x8 with k <= 3, 28x28 with k <= 2) need no crop.
The generator ends in ``tanh``: its images are in [-1, 1].

The discriminator is strided 4x4 convolutions (LeakyReLU 0.2) on the image, flattened
(layer ``"features"``), dropout, and one logit (layer ``"logit"``). Dropout sits on the
flat features rather than after every convolution: same regularization role, and XLA
(the JAX backend) compiles the training step about twice as fast.

Conditioning on class ids (``num_classes``) is one-hot: concatenated to the noise in
the generator, broadcast to extra image channels in the discriminator.

The convolutions and batch normalizations are `zoo.layers`' (Keras' layers and
weights; on torch the bias inside the convolution kernel, torch's own transposed
convolution window and batch-norm kernel). The networks stay channels-last on every
backend: with those layers channels_first measured no faster on torch
(docs/performance.md).

Example:
    >>> from zoo.models import gan_networks
    >>> g = gan_networks.build_generator((28, 28, 1), latent_dim=32, filters=(16, 8))
    >>> g.output_shape
    (None, 28, 28, 1)
    >>> gan_networks.upsampling_plan((7, 9, 3), stages=2)
    ((2, 3), (1, 3))
"""

import math

import keras

from zoo import layers as zoo_layers

BN_MOMENTUM = 0.9  # PyTorch's 0.1: the moving statistics follow a GAN's fast-moving generator


def upsampling_plan(image_shape, stages):
    """Base grid (h0, w0) and the (rows, cols) to crop after `stages` 2x upsamplings."""
    height, width = image_shape[:2]
    factor = 2**stages
    base = (math.ceil(height / factor), math.ceil(width / factor))
    return base, (base[0] * factor - height, base[1] * factor - width)


def _one_hot(labels, num_classes, name):
    return keras.layers.CategoryEncoding(num_classes, output_mode="one_hot", name=name)(labels)


def _leaky(x, name):
    return keras.layers.LeakyReLU(0.2, name=name)(x)


def build_generator(image_shape, latent_dim, filters, num_classes=None, kernel_size=4,
                    name="generator"):
    """Noise (and class ids) -> images in [-1, 1] of `image_shape`."""
    (h0, w0), (crop_h, crop_w) = upsampling_plan(image_shape, len(filters))
    noise = keras.Input((latent_dim,), name="noise")
    inputs = [noise]
    x = noise
    if num_classes:
        labels = keras.Input((), dtype="int32", name="labels")
        inputs.append(labels)
        x = keras.layers.Concatenate(name="noise_and_label")(
            [noise, _one_hot(labels, num_classes, "label_one_hot")]
        )
    x = keras.layers.Dense(h0 * w0 * filters[0], use_bias=False, name="project")(x)
    x = zoo_layers.BatchNormalization(momentum=BN_MOMENTUM, name="project_bn")(x)
    x = _leaky(x, "project_act")
    x = keras.layers.Reshape((h0, w0, filters[0]), name="to_grid")(x)
    for i, width in enumerate(filters):
        x = zoo_layers.Conv2DTranspose(width, kernel_size, strides=2, padding="same",
                                       use_bias=False, name=f"up{i}")(x)
        x = zoo_layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"up{i}_bn")(x)
        x = _leaky(x, f"up{i}_act")
    x = zoo_layers.Conv2D(image_shape[-1], 3, padding="same", activation="tanh",
                          name="to_image")(x)
    if crop_h or crop_w:
        x = keras.layers.Cropping2D(((0, crop_h), (0, crop_w)), name="crop")(x)
    return keras.Model(inputs if num_classes else noise, x, name=name)


def build_discriminator(image_shape, filters, num_classes=None, kernel_size=4, dropout=0.3,
                        name="discriminator"):
    """Images in [-1, 1] (and class ids) -> one real/fake logit per image."""
    images = keras.Input(image_shape, name="images")
    x = images
    if num_classes:
        labels = keras.Input((), dtype="int32", name="labels")
        planes = keras.layers.Reshape((1, 1, num_classes), name="label_cell")(
            _one_hot(labels, num_classes, "label_one_hot")
        )
        planes = keras.layers.UpSampling2D(image_shape[:2], name="label_planes")(planes)
        x = keras.layers.Concatenate(name="image_and_label")([images, planes])
    for i, width in enumerate(filters):
        x = zoo_layers.Conv2D(width, kernel_size, strides=2, padding="same",
                              name=f"down{i}")(x)
        x = _leaky(x, f"down{i}_act")
    x = keras.layers.Flatten(name="features")(x)
    if dropout:
        x = keras.layers.Dropout(dropout, name="dropout")(x)
    logit = keras.layers.Dense(1, name="logit")(x)
    return keras.Model([images, labels] if num_classes else images, logit, name=name)
